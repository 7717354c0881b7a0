// buildDraft on an arbitrary previous draft: never crashes, leaks or hangs;
// a success reads back with the added attachment at the section returned.
// Input: byte 0 is a bit mask of the previous draft's attachments to drop
// (bit i: the i-th); the rest is "<previous>\0<attachment content>".
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/items/draft_mime.h"
#include "core/items/email_item.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mask = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string_view previous = rest, content;
  if (std::size_t nul = rest.find('\0'); nul != std::string_view::npos) {
    previous = rest.substr(0, nul);
    content = rest.substr(nul + 1);
  }
  std::vector<std::string> drop;
  if (!previous.empty()) {
    auto old = eas::items::parseEmail(previous, {});
    if (old.ok())
      for (std::size_t i = 0; i < old->attachments.size() && i < 8; ++i)
        if (mask & (1u << i)) drop.push_back(old->attachments[i].part);
  }
  eas::items::DraftFields f;
  f.from = "alice@example.test";
  f.to = "bob@example.test";
  f.subject = "fuzz";
  if (mask & 0x80) f.body = std::string("text");  // else the previous body is kept
  f.now = 1764547200;
  eas::items::DraftAttachment a;
  a.client_id = "c1";
  a.display_name = "x.bin";
  a.content = std::string(content);
  auto out = eas::items::buildDraft(f, previous, drop, {a});
  if (!out.ok()) return 0;
  if (out->added_sections.size() != 1) std::abort();
  auto back = eas::items::parseEmail(out->message, {});
  if (!back.ok()) std::abort();
  bool found = false;
  for (const eas::items::EmailAttachment& x : back->attachments)
    found = found || (x.part == out->added_sections[0] && x.estimated_size == content.size() &&
                      x.display_name == "x.bin");
  if (!found && back->attachments.size() < 500) std::abort();
  return 0;
}
