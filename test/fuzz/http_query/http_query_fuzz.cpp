// Fuzzes parseQuery/validateQuery: never crash, never read out of bounds,
// and a query that parses re-encodes (base64) to one that parses the same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/protocol/query.h"

namespace {

void check(std::string_view input) {
  using namespace eas::protocol;
  auto q = parseQuery(input);
  if (!q.ok()) {
    if (q.status().reason().rfind("http.", 0) != 0) std::abort();  // every failure has a token
    return;
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
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check(input);                                 // as a query string
  check(eas::protocol::base64Encode(input));    // as the bytes of a base64 blob
  return 0;
}
