// Autodiscover (MS-OXDSCLI / MS-ASCMD §2.2.1.1) with the mobilesync schema.
// Pure logic: request body in, HTTP reply out; the runtime does the I/O and
// authentication. XML is parsed with Expat; entity declarations and
// external entities are refused.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fcgi/auth/authenticator.h"

namespace eas::autodiscover {

// An extra protocol to announce (the seed's SmartDiscover), e.g. IMAP.
struct ExtraProtocol {
  std::string type;    // "IMAP", "SMTP", "CalDAV", ...
  std::string server;
  int port = 0;
  std::string login_name;  // "%u" is replaced by the user's address
  bool ssl = false;
};

struct AutodiscoverConfig {
  std::string mobilesync_url;  // e.g. https://mail.example.test/Microsoft-Server-ActiveSync
  std::vector<ExtraProtocol> extra_protocols;
  std::vector<std::string> domains;  // addresses outside these are unknown; empty: any domain
};

struct HttpReply {
  int status = 200;
  std::string content_type = "text/xml; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string reason;  // stable token for the log line, e.g. "autodiscover.ok"
};

// REQUIRES: `user` is authenticated. `display_name` may be empty.
HttpReply handleAutodiscover(std::string_view request_body, const auth::AuthenticatedUser& user,
                             const AutodiscoverConfig& config);

}  // namespace eas::autodiscover
