// parseEmail() + writeEmailApplicationData() on arbitrary bytes: never a
// crash, a leak or an error for non-empty input, and the WBXML written for
// every version decodes again (all text valid UTF-8, structure balanced).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/base/log.h"
#include "core/items/email_item.h"
#include "core/wbxml/wbxml.h"

namespace tags = eas::wbxml::tags;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = [] {
    eas::log::setLevel(eas::log::Level::kError);  // repaired-message lines would flood
    return true;
  }();
  (void)quiet;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  eas::items::MessageMeta meta;
  meta.file_reference_prefix = "5:17";
  meta.seen = (size & 1) != 0;
  meta.flagged = (size & 2) != 0;
  meta.answered = (size & 4) != 0;
  meta.keywords = {"Work", "$Forwarded"};
  meta.user_addresses = {"bob@example.test"};
  auto r = eas::items::parseEmail(in, meta);
  if (!r.ok()) {
    if (size != 0) std::abort();  // only empty input may fail
    return 0;
  }
  const eas::items::EmailItem& item = r.value();
  const eas::items::ProtocolVersionView versions[] = {{2, 5}, {12, 1}, {14, 1}, {16, 1}};
  for (int round = 0; round < 2; ++round) {
    eas::items::BodyRequest req;
    eas::items::BodyPreference p;
    p.type = 1 + static_cast<int>((size + static_cast<std::size_t>(round)) % 4);
    p.truncation_size = static_cast<std::uint32_t>((size * 7 + 3) % 257);
    p.all_or_none = round == 1;
    p.preview = 40;
    req.preferences.push_back(p);
    req.mime_support = round == 0 ? 0 : 2;
    req.truncation_bytes = p.truncation_size;
    req.mime_truncation_bytes = p.truncation_size;
    for (const auto& v : versions) {
      std::string out;
      {
        eas::wbxml::Writer w(&out);
        w.start(tags::AirSync::Sync).start(tags::AirSync::ApplicationData);
        eas::items::writeEmailApplicationData(w, item, req, v);
        w.end().end();
      }
      if (!eas::wbxml::decode(out).ok()) std::abort();
    }
  }
  return 0;
}
