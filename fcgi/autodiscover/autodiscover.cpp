// Autodiscover for mobile devices (MS-ASCMD §2.2.1.1, §4.2; schemas §6.2, §6.4).
//
// The request is parsed with Expat. Any DOCTYPE stops the parser at once
// (XML_SetStartDoctypeDeclHandler + XML_StopParser): an Autodiscover request
// never has one, and refusing it refuses internal entity declarations
// ("billion laughs") and external entities/DTDs before either is read. As a
// second fence, entity declarations also stop the parser, external entity
// references fail, and parameter entities are never parsed.
//
// Reply shapes:
// - success: Autodiscover/Response(mobilesync ns)/Culture, User, Action/Settings/Server;
// - address problems: the same Response with Action/Error/Status 2 (§4.2.2);
// - framework errors (bad request 600, schema not served 601, internal 603):
//   Autodiscover/Response/Error(Time, Id)/ErrorCode, Message, DebugData in the
//   outer responseschema namespace (AutodiscoverResponse.xsd, §6.4).
#include "fcgi/autodiscover/autodiscover.h"

#include <expat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <functional>
#include <string>

namespace eas::autodiscover {
namespace {

constexpr std::string_view kResponseNs =
    "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";
constexpr char kNsSeparator = ' ';  // cannot occur in a namespace URI or a name
constexpr int kMaxDepth = 16;
constexpr std::size_t kMaxValueBytes = 1024;
constexpr std::size_t kMaxParseBytes = 1u << 30;  // XML_Parse takes an int length

std::string_view trim(std::string_view s) {
  constexpr std::string_view ws = " \t\r\n";
  const auto first = s.find_first_not_of(ws);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(ws) - first + 1);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

void appendEscaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
}

void element(std::string& out, std::string_view indent, std::string_view name,
             std::string_view text) {
  out.append(indent).append("<").append(name).append(">");
  appendEscaped(out, text);
  out.append("</").append(name).append(">\n");
}

// What the parser found.
struct Request {
  bool root_ok = false;
  int requests = 0;  // Request elements under the root
  bool saw_email = false;
  bool saw_schema = false;
  std::string email;
  std::string schema;
};

class RequestParser {
 public:
  // Returns "" when the document was well-formed and allowed, else a reason.
  std::string parse(std::string_view body, Request* out) {
    XML_Parser p = XML_ParserCreateNS(nullptr, kNsSeparator);
    if (p == nullptr) return "autodiscover.internal";
    parser_ = p;
    req_ = out;
    XML_SetUserData(p, this);
    XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
    XML_SetElementHandler(p, &RequestParser::onStart, &RequestParser::onEnd);
    XML_SetCharacterDataHandler(p, &RequestParser::onText);
    XML_SetStartDoctypeDeclHandler(p, &RequestParser::onDoctype);
    XML_SetEntityDeclHandler(p, &RequestParser::onEntityDecl);
    XML_SetExternalEntityRefHandler(p, &RequestParser::onExternalEntity);
    const XML_Status st = XML_Parse(p, body.data(), static_cast<int>(body.size()), XML_TRUE);
    std::string reason;
    if (!refused_.empty()) {
      reason = refused_;
    } else if (st != XML_STATUS_OK) {
      reason = "autodiscover.malformed";
    }
    XML_ParserFree(p);
    return reason;
  }

 private:
  static std::string_view localName(const XML_Char* name) {
    std::string_view n(name);
    const auto sep = n.rfind(kNsSeparator);
    return sep == std::string_view::npos ? n : n.substr(sep + 1);
  }

  void refuse(std::string reason) {
    if (refused_.empty()) refused_ = std::move(reason);
    XML_StopParser(parser_, XML_FALSE);
  }

  static void XMLCALL onStart(void* ud, const XML_Char* name, const XML_Char** /*attrs*/) {
    auto* self = static_cast<RequestParser*>(ud);
    ++self->depth_;
    if (self->depth_ > kMaxDepth) return self->refuse("autodiscover.invalid_request");
    const std::string_view local = localName(name);
    Request& r = *self->req_;
    if (self->depth_ == 1) {
      r.root_ok = local == "Autodiscover";
    } else if (self->depth_ == 2 && r.root_ok && local == "Request") {
      self->in_request_ = ++r.requests == 1;
    } else if (self->depth_ == 3 && self->in_request_) {
      if (local == "EMailAddress" && !r.saw_email) {
        r.saw_email = true;
        self->capture_ = &r.email;
      } else if (local == "AcceptableResponseSchema" && !r.saw_schema) {
        r.saw_schema = true;
        self->capture_ = &r.schema;
      }
    }
  }

  static void XMLCALL onEnd(void* ud, const XML_Char* /*name*/) {
    auto* self = static_cast<RequestParser*>(ud);
    if (self->depth_ == 3) self->capture_ = nullptr;
    if (self->depth_ == 2) self->in_request_ = false;
    --self->depth_;
  }

  static void XMLCALL onText(void* ud, const XML_Char* s, int len) {
    auto* self = static_cast<RequestParser*>(ud);
    if (self->capture_ == nullptr || self->depth_ != 3) return;
    if (self->capture_->size() + static_cast<std::size_t>(len) > kMaxValueBytes)
      return self->refuse("autodiscover.invalid_request");
    self->capture_->append(s, static_cast<std::size_t>(len));
  }

  static void XMLCALL onDoctype(void* ud, const XML_Char*, const XML_Char*, const XML_Char*, int) {
    static_cast<RequestParser*>(ud)->refuse("autodiscover.doctype");
  }

  static void XMLCALL onEntityDecl(void* ud, const XML_Char*, int, const XML_Char*, int,
                                   const XML_Char*, const XML_Char*, const XML_Char*,
                                   const XML_Char*) {
    static_cast<RequestParser*>(ud)->refuse("autodiscover.doctype");
  }

  static int XMLCALL onExternalEntity(XML_Parser, const XML_Char*, const XML_Char*, const XML_Char*,
                                      const XML_Char*) {
    return XML_STATUS_ERROR;  // never fetched
  }

  XML_Parser parser_ = nullptr;
  Request* req_ = nullptr;
  int depth_ = 0;
  bool in_request_ = false;
  std::string* capture_ = nullptr;
  std::string refused_;
};

std::string xmlHeader() { return "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"; }

// "HH:MM:SS.fffffff" (UTC) as Exchange writes Error/@Time.
std::string errorTime() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const std::time_t t = system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  const auto ticks =
      duration_cast<nanoseconds>(now.time_since_epoch()).count() % 1'000'000'000 / 100;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%07lld", tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(ticks));
  return buf;
}

// Error/@Id: Exchange sends a hash of the server name; so do we.
std::string errorId() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::to_string(static_cast<std::uint32_t>(std::hash<std::string_view>{}(host)));
}

HttpReply frameworkError(int http_status, int code, std::string_view message, std::string reason) {
  HttpReply reply;
  reply.status = http_status;
  reply.reason = std::move(reason);
  std::string& b = reply.body;
  b = xmlHeader();
  b.append("<Autodiscover xmlns=\"").append(kResponseNs).append("\">\n");
  b.append("  <Response>\n");
  b.append("    <Error Time=\"")
      .append(errorTime())
      .append("\" Id=\"")
      .append(errorId())
      .append("\">\n");
  element(b, "      ", "ErrorCode", std::to_string(code));
  element(b, "      ", "Message", message);
  b.append("      <DebugData />\n");
  b.append("    </Error>\n  </Response>\n</Autodiscover>\n");
  return reply;
}

void openMobileSyncResponse(std::string& b, const AutodiscoverConfig& config) {
  b = xmlHeader();
  b.append("<Autodiscover xmlns=\"").append(kResponseNs).append("\">\n");
  b.append("  <Response xmlns=\"").append(kMobileSyncResponseSchema).append("\">\n");
  element(b, "    ", "Culture", config.culture);
}

void closeMobileSyncResponse(std::string& b) { b.append("  </Response>\n</Autodiscover>\n"); }

HttpReply addressError(std::string_view email, const AutodiscoverConfig& config,
                       std::string reason) {
  HttpReply reply;
  reply.reason = std::move(reason);
  std::string& b = reply.body;
  openMobileSyncResponse(b, config);
  b.append("    <User>\n");
  element(b, "      ", "EMailAddress", email);
  b.append("    </User>\n    <Action>\n      <Error>\n");
  element(b, "        ", "Status", "2");
  element(b, "        ", "Message", "The e-mail address cannot be found.");
  element(b, "        ", "DebugData", "MailUser");
  b.append("      </Error>\n    </Action>\n");
  closeMobileSyncResponse(b);
  return reply;
}

// A plausible address: local@domain, no whitespace or control characters.
bool plausibleAddress(std::string_view a) {
  const auto at = a.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == a.size()) return false;
  for (unsigned char c : a)
    if (c <= 0x20 || c == 0x7f) return false;
  return true;
}

std::string replaceUser(std::string_view pattern, std::string_view address) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '%' && i + 1 < pattern.size() && pattern[i + 1] == 'u') {
      out.append(address);
      ++i;
    } else {
      out.push_back(pattern[i]);
    }
  }
  return out;
}

}  // namespace

HttpReply handleAutodiscover(std::string_view request_body, const auth::AuthenticatedUser& user,
                             const AutodiscoverConfig& config, std::string_view display_name) {
  if (request_body.size() > config.max_request_bytes || request_body.size() > kMaxParseBytes)
    return frameworkError(413, 600, "Invalid Request", "autodiscover.too_large");

  Request req;
  RequestParser parser;
  if (std::string refused = parser.parse(request_body, &req); !refused.empty())
    return frameworkError(200, 600, "Invalid Request", std::move(refused));
  // More than one Request is an invalid request too (MS-ASCMD R3799, IT S01_TC03).
  if (!req.root_ok || req.requests != 1 || !req.saw_schema || !req.saw_email)
    return frameworkError(200, 600, "Invalid Request", "autodiscover.invalid_request");

  const std::string_view schema = trim(req.schema);
  if (lower(schema) != kMobileSyncResponseSchema)
    return frameworkError(200, 601, "Provider is not available", "autodiscover.unsupported_schema");

  const std::string_view requested = trim(req.email);
  if (requested.empty())
    return frameworkError(200, 600, "Invalid Request", "autodiscover.invalid_request");
  if (!plausibleAddress(requested))
    return addressError(requested, config, "autodiscover.unknown_address");

  const auto at = requested.rfind('@');
  const std::string address =
      std::string(requested.substr(0, at)) + "@" + lower(requested.substr(at + 1));
  const std::string domain = lower(requested.substr(at + 1));
  if (!config.domains.empty()) {
    bool served = false;
    for (const auto& d : config.domains) served = served || lower(trim(d)) == domain;
    if (!served) return addressError(address, config, "autodiscover.unknown_address");
  }
  // The address must be the authenticated user's own (a login without a
  // domain, when no default domain is configured, matches the local part).
  const std::string login = lower(user.login);
  const bool mine = login.find('@') == std::string::npos ? lower(requested.substr(0, at)) == login
                                                         : lower(address) == login;
  if (!mine) return addressError(address, config, "autodiscover.address_mismatch");

  if (config.mobilesync_url.empty())
    return frameworkError(200, 603, "Internal Server Error", "autodiscover.not_configured");

  HttpReply reply;
  reply.reason = "autodiscover.ok";
  std::string& b = reply.body;
  openMobileSyncResponse(b, config);
  b.append("    <User>\n");
  element(b, "      ", "DisplayName",
          display_name.empty() ? std::string_view(address) : display_name);
  element(b, "      ", "EMailAddress", address);
  b.append("    </User>\n    <Action>\n      <Settings>\n        <Server>\n");
  element(b, "          ", "Type", "MobileSync");
  element(b, "          ", "Url", config.mobilesync_url);
  element(b, "          ", "Name", config.mobilesync_url);
  b.append("        </Server>\n      </Settings>\n    </Action>\n");
  // SmartDiscover (the seed): further protocols as Account/Protocol after
  // Action, only when configured, so a plain response stays schema-exact.
  if (!config.extra_protocols.empty()) {
    b.append("    <Account>\n");
    for (const ExtraProtocol& p : config.extra_protocols) {
      b.append("      <Protocol>\n");
      element(b, "        ", "Type", p.type);
      element(b, "        ", "Server", p.server);
      if (p.port > 0) element(b, "        ", "Port", std::to_string(p.port));
      element(b, "        ", "LoginName",
              p.login_name.empty() ? address : replaceUser(p.login_name, address));
      element(b, "        ", "SSL", p.ssl ? "on" : "off");
      b.append("      </Protocol>\n");
    }
    b.append("    </Account>\n");
  }
  closeMobileSyncResponse(b);
  return reply;
}

}  // namespace eas::autodiscover
