// prepareOutgoing on device-sent MIME (and an original), and buildForward
// (the 16.x SmartForward Body form) on a note and an original: never
// crashes, leaks or hangs; a success always has a recipient and no Bcc
// header. Input: byte 0 with the high bit set picks buildForward (bit 6: an
// HTML note), else byte 0 % 3 picks none / reply / forward; the rest is
// "<mime or note>\0<original>".
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/items/compose_mime.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto use = static_cast<eas::items::OriginalUse>(data[0] % 3);
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string_view mime = rest, original;
  if (std::size_t nul = rest.find('\0'); nul != std::string_view::npos) {
    mime = rest.substr(0, nul);
    original = rest.substr(nul + 1);
  }
  eas::items::OutgoingOptions o;
  o.user_address = "alice@example.test";
  o.now = 1764547200;
  o.message_id_host = "example.test";
  eas::Result<eas::items::OutgoingMessage> out = eas::Status::Internal("unset");
  if (data[0] & 0x80) {
    eas::items::BodyForward f;
    f.to = {{"Carol", "carol@example.test"}};
    f.html = (data[0] & 0x40) != 0;
    f.note = std::string(mime);
    out = eas::items::buildForward(f, o, original);
  } else {
    out = eas::items::prepareOutgoing(mime, o, original, use);
  }
  if (out.ok()) {
    if (out->recipients.empty()) std::abort();
    const std::string_view headers =
        std::string_view(out->message).substr(0, out->message.find("\r\n\r\n"));
    if (headers.find("\r\nBcc:") != std::string_view::npos) std::abort();
  }
  return 0;
}
