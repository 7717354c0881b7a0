// Any body, any outcome: handleAutodiscover must not crash, leak or hang, and
// must always answer with a reason and (except 413) a well-formed-looking reply.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fcgi/autodiscover/autodiscover.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const eas::autodiscover::AutodiscoverConfig config = [] {
    eas::autodiscover::AutodiscoverConfig c;
    c.mobilesync_url = "https://mail.example.test/Microsoft-Server-ActiveSync";
    c.domains = {"example.test"};
    c.extra_protocols = {{"IMAP", "imap.example.test", 993, "%u", true}};
    return c;
  }();
  static const eas::auth::AuthenticatedUser user{"alice@example.test", "alice"};
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const eas::autodiscover::HttpReply reply =
      eas::autodiscover::handleAutodiscover(body, user, config);
  if (reply.reason.empty() || reply.body.find("<Autodiscover") == std::string::npos) std::abort();
  // Nothing from a DTD may ever reach the reply.
  if (reply.reason == "autodiscover.ok" && body.find("<!DOCTYPE") != std::string_view::npos)
    std::abort();
  return 0;
}
