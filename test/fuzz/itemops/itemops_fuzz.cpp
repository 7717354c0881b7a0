// Fuzz target for core/commands/itemops_util: byte 0 selects the parser.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/commands/itemops_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {
      auto range = eas::commands::parseByteRange(in);
      if (!range.ok()) break;
      const std::uint64_t total = in.size() * 97u;
      auto slice = eas::commands::sliceFor(*range, total);
      if (slice.ok() && (slice->length == 0 || slice->offset + slice->length > total)) std::abort();
      break;
    }
    case 1:
      if (eas::commands::decodeTransferEncoding("base64", in).size() > in.size()) std::abort();
      break;
    case 2:
      if (eas::commands::decodeTransferEncoding("quoted-printable", in).size() > in.size())
        std::abort();
      break;
    case 3: {
      auto parts = eas::commands::parseMultipart(in);
      if (!parts.ok()) break;
      auto rebuilt = eas::commands::buildMultipart(*parts);
      if (!rebuilt.ok()) std::abort();
      auto again = eas::commands::parseMultipart(*rebuilt);
      if (!again.ok() || again->size() != parts->size()) std::abort();
      for (std::size_t i = 0; i < parts->size(); ++i)
        if ((*again)[i] != (*parts)[i]) std::abort();
      break;
    }
  }
  return 0;
}
