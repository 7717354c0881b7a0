// Autodiscover (MS-OXDSCLI / MS-ASCMD §2.2.1.1) with the mobilesync schema.
// Pure logic: request body in, HTTP reply out; the runtime does the I/O and
// authentication. XML is parsed with Expat; entity declarations and
// external entities are refused.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fcgi/auth/authenticator.h"

namespace eas::autodiscover {

// An extra protocol to announce (the seed's SmartDiscover), e.g. IMAP.
struct ExtraProtocol {
  std::string type;  // "IMAP", "SMTP", "CalDAV", ...
  std::string server;
  int port = 0;
  std::string login_name;  // "%u" is replaced by the user's address
  bool ssl = false;
};

struct AutodiscoverConfig {
  std::string mobilesync_url;  // e.g. https://mail.example.test/Microsoft-Server-ActiveSync
  std::vector<ExtraProtocol> extra_protocols;
  std::vector<std::string> domains;       // addresses outside these are unknown; empty: any domain
  std::size_t max_request_bytes = 16384;  // larger bodies get 413 (a real request is ~400 bytes)
  std::string culture = "en:us";          // MS-ASCMD §2.2.3.38: "en:us" as Exchange 2010+ sends
};

struct HttpReply {
  int status = 200;
  std::string content_type = "text/xml; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string reason;  // stable token for the log line, e.g. "autodiscover.ok"
};

// REQUIRES: `user` is authenticated. `display_name` may be empty (the
// address is shown then).
//
// Outcomes (HttpReply::reason):
//   autodiscover.ok                  200, MobileSync settings (+ extra protocols)
//   autodiscover.unsupported_schema  200, Error/ErrorCode 601 (e.g. the Outlook schema)
//   autodiscover.invalid_request     200, Error/ErrorCode 600 (no or several Request, no
//                                    EMailAddress or AcceptableResponseSchema, wrong root)
//   autodiscover.malformed           200, ErrorCode 600 (not well-formed XML, bad encoding)
//   autodiscover.doctype             200, ErrorCode 600 (any DOCTYPE: no entities, internal or
//   external) autodiscover.too_large           413, ErrorCode 600 (body over max_request_bytes)
//   autodiscover.unknown_address     200, Action/Error/Status 2 (domain not served, bad address)
//   autodiscover.address_mismatch    200, Action/Error/Status 2 (another user's address)
//   autodiscover.not_configured      200, ErrorCode 603 (no mobilesync_url configured)
HttpReply handleAutodiscover(std::string_view request_body, const auth::AuthenticatedUser& user,
                             const AutodiscoverConfig& config, std::string_view display_name = {});

inline constexpr std::string_view kMobileSyncResponseSchema =
    "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006";

}  // namespace eas::autodiscover
