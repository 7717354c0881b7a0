// Fuzzes parseQuery/validateQuery: never crash, never read out of bounds,
// and a query that parses re-encodes (base64) to one that parses the same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/protocol/query.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace eas::protocol;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto q = parseQuery(input);
  if (!q.ok()) {
    if (q.status().reason().rfind("http.", 0) != 0) std::abort();  // every failure has a token
    return 0;
  }
  (void)validateQuery(*q);
  if (q->form == EasQuery::Form::kBase64 && q->device_id.size() <= 255 &&
      q->device_type.size() <= 255) {
    auto again = parseQuery(encodeBase64Query(*q));
    if (!again.ok()) std::abort();
    if (again->device_type != q->device_type || again->command_code != q->command_code ||
        again->policy_key != q->policy_key || again->locale != q->locale)
      std::abort();
  }
  return 0;
}
