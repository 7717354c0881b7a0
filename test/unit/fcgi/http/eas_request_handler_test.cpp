// The HTTP layer end to end without sockets: HttpRequest objects into the
// RequestHandler, a capturing Responder, a fake Authenticator and gates.
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/log.h"
#include "core/protocol/query.h"
#include "core/wbxml/wbxml.h"
#include "fcgi/http/eas_request_handler.h"

using eas::Status;
using eas::http::HttpRequest;
using eas::http::HttpResponse;

namespace {

namespace t = eas::wbxml::tags;

std::string basic(const std::string& user, const std::string& pass) {
  return "Basic " + eas::protocol::base64Encode(user + ":" + pass);
}

const std::string kGoodAuth = basic("alice@example.test", "secret");

class FakeAuthenticator final : public eas::auth::Authenticator {
 public:
  eas::Result<eas::auth::AuthenticatedUser> authenticate(std::string_view header,
                                                         std::string_view addr) override {
    ++calls;
    {
      std::lock_guard<std::mutex> lock(mu);
      last_addr = std::string(addr);
    }
    if (header.empty()) return Status::Unauthenticated("auth.missing");
    if (header == basic("down@example.test", "x"))
      return Status::Unavailable("auth.backend_unavailable");
    if (header == basic("locked@example.test", "secret"))
      return Status::Unauthenticated("auth.locked_out");
    if (header.rfind("Bearer", 0) == 0) return Status::InvalidArgument("auth.not_basic");
    if (header != kGoodAuth) return Status::Unauthenticated("auth.bad_credentials");
    return eas::auth::AuthenticatedUser{"alice@example.test", "alice"};
  }
  std::atomic<int> calls{0};
  std::mutex mu;
  std::string last_addr;  // guarded by mu
};

class RecordingDeviceGate final : public eas::commands::DeviceGate {
 public:
  Status admit(const eas::commands::DeviceIdentity& d) override {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(d);
    if (d.device_id == "BLOCKED1") return Status::PermissionDenied("device.blocked");
    return Status::Ok();
  }
  std::mutex mu;
  std::vector<eas::commands::DeviceIdentity> seen;  // guarded by mu
};

class RecordingPolicyGate final : public eas::commands::PolicyKeyGate {
 public:
  Status check(const eas::commands::DeviceIdentity&, const eas::commands::CommandSpec& c,
               std::optional<std::uint32_t> key) override {
    std::lock_guard<std::mutex> lock(mu);
    commands.emplace_back(c.name);
    keys.push_back(key);
    if (require_key && !key) return Status::PermissionDenied("policy.not_provisioned");
    return Status::Ok();
  }
  bool require_key = false;
  std::mutex mu;
  std::vector<std::string> commands;  // guarded by mu
  std::vector<std::optional<std::uint32_t>> keys;
};

struct Captured {
  int responses = 0;
  HttpResponse response;
};

class CapturingResponder final : public eas::http::Responder {
 public:
  explicit CapturingResponder(Captured* out) : out_(out) {}
  void respond(HttpResponse&& r) override {
    ++out_->responses;
    out_->response = std::move(r);
  }
 private:
  Captured* out_;
};

std::string header(const HttpResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "<absent>";
}

std::string folderSync(const std::string& key = "0") {
  std::string out;
  eas::wbxml::StringSink sink(&out);
  eas::wbxml::Writer w(sink);
  w.start(t::FolderHierarchy::FolderSync).element(t::FolderHierarchy::SyncKey, key).end();
  return out;
}

std::string syncBody() {
  std::string out;
  eas::wbxml::StringSink sink(&out);
  eas::wbxml::Writer w(sink);
  w.start(t::AirSync::Sync).start(t::AirSync::Collections).start(t::AirSync::Collection);
  w.element(t::AirSync::SyncKey, "0").element(t::AirSync::CollectionId, "1").end().end().end();
  return out;
}

// The top-level Status of a WBXML reply body, or -1.
int topStatus(const std::string& body) {
  auto doc = eas::wbxml::decode(body);
  if (!doc.ok()) return -1;
  for (const auto& c : doc->root().children())
    if (eas::wbxml::tagName(c.tag()) == "Status") return std::stoi(std::string(c.text()));
  return -1;
}

eas::wbxml::Tag rootTag(const std::string& body) {
  auto doc = eas::wbxml::decode(body);
  return doc.ok() ? doc->root().tag() : eas::wbxml::Tag{};
}

class Harness {
 public:
  explicit Harness(eas::http::HttpLayerConfig config = {}) {
    eas::autodiscover::AutodiscoverConfig ad;
    ad.mobilesync_url = "https://mail.example.test/Microsoft-Server-ActiveSync";
    eas::http::HttpLayerGates gates{&device_gate, &policy_gate};
    // These stand for "a command whose handler is missing" here: the real
    // ones (core/commands/*_command) are tested on their own.
    table.assign(eas::commands::commandTable().begin(), eas::commands::commandTable().end());
    for (auto& spec : table)
      if (std::string_view(spec.name) == "FolderSync" || std::string_view(spec.name) == "Ping" ||
          std::string_view(spec.name) == "GetAttachment" || std::string_view(spec.name) == "Sync" ||
          std::string_view(spec.name) == "SmartReply")
        spec.factory = nullptr;
    gates.command_table = table;
    handler = eas::http::makeEasRequestHandler(config, auth, ad, gates);
  }

  HttpResponse run(HttpRequest req, int* responses = nullptr) {
    Captured c;
    handler->handle(std::make_unique<HttpRequest>(std::move(req)),
                    std::make_unique<CapturingResponder>(&c));
    REQUIRE(c.responses == 1);  // exactly once, synchronously (nothing parks yet)
    if (responses) *responses = c.responses;
    return std::move(c.response);
  }

  // A plain-form EAS POST.
  HttpResponse post(const std::string& query, const std::string& version,
                    const std::string& body = {},
                    const std::string& content_type = "application/vnd.ms-sync.wbxml",
                    const std::string& auth_header = kGoodAuth) {
    HttpRequest r;
    r.method = "POST";
    r.path = "/Microsoft-Server-ActiveSync";
    r.query = query;
    r.remote_addr = "192.0.2.7";
    if (!auth_header.empty()) r.headers.emplace_back("authorization", auth_header);
    if (!version.empty()) r.headers.emplace_back("ms-asprotocolversion", version);
    if (!content_type.empty() && !body.empty()) r.headers.emplace_back("content-type", content_type);
    r.headers.emplace_back("user-agent", "TestAgent/1.0");
    r.body = body;
    return run(std::move(r));
  }

  FakeAuthenticator auth;
  RecordingDeviceGate device_gate;
  RecordingPolicyGate policy_gate;
  std::vector<eas::commands::CommandSpec> table;  // outlives the handler
  std::unique_ptr<eas::http::RequestHandler> handler;
};

std::string plain(const std::string& cmd, const std::string& device_id = "DEV1",
                  const std::string& device_type = "TestDevice") {
  return "Cmd=" + cmd + "&User=alice&DeviceId=" + device_id + "&DeviceType=" + device_type;
}

HttpRequest options(const std::string& auth_header) {
  HttpRequest r;
  r.method = "OPTIONS";
  r.path = "/Microsoft-Server-ActiveSync";
  if (!auth_header.empty()) r.headers.emplace_back("authorization", auth_header);
  return r;
}

// Captures log lines for the duration of a test.
class LogCapture {
 public:
  LogCapture() {
    eas::log::setSink([this](eas::log::Level, std::string_view line) {
      std::lock_guard<std::mutex> lock(mu_);
      lines_.emplace_back(line);
    });
  }
  ~LogCapture() {
    eas::log::setLevel(eas::log::Level::kInfo);
    eas::log::setSink([](eas::log::Level, std::string_view) {});
  }
  bool contains(std::string_view needle) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& l : lines_)
      if (l.find(needle) != std::string::npos) return true;
    return false;
  }
 private:
  std::mutex mu_;
  std::vector<std::string> lines_;
};

}  // namespace

TEST_CASE("OPTIONS: 200, no body, versions, commands, Allow/Public", "[http][options]") {
  Harness h;
  HttpResponse r = h.run(options(kGoodAuth));
  CHECK(r.status == 200);
  CHECK(r.body.empty());
  CHECK(r.reason.empty());
  CHECK(header(r, "MS-Server-ActiveSync") == "14.1");
  CHECK(header(r, "MS-ASProtocolVersions") == "2.5,12.0,12.1,14.0,14.1,16.0,16.1");
  CHECK(header(r, "MS-ASProtocolCommands") ==
        "Sync,SendMail,SmartForward,SmartReply,GetAttachment,GetHierarchy,CreateCollection,"
        "DeleteCollection,MoveCollection,FolderSync,FolderCreate,FolderDelete,FolderUpdate,"
        "MoveItems,GetItemEstimate,MeetingResponse,Search,Settings,Ping,ItemOperations,"
        "Provision,ResolveRecipients,ValidateCert,Find");
  CHECK(header(r, "Allow") == "OPTIONS,POST");
  CHECK(header(r, "Public") == "OPTIONS,POST");
}

TEST_CASE("OPTIONS: versions capped by max_protocol_version", "[http][options]") {
  eas::http::HttpLayerConfig config;
  config.max_protocol_version = "14.1";
  config.server_version = "14.0";
  Harness h(config);
  HttpResponse r = h.run(options(kGoodAuth));
  CHECK(r.status == 200);
  CHECK(header(r, "MS-ASProtocolVersions") == "2.5,12.0,12.1,14.0,14.1");
  CHECK(header(r, "MS-ASProtocolCommands").find("Find") == std::string::npos);
  CHECK(header(r, "MS-Server-ActiveSync") == "14.0");
  // A 16.1 request is then an unsupported version.
  CHECK(h.post(plain("FolderSync"), "16.1", folderSync()).reason == "http.unsupported_version");
}

TEST_CASE("401 with a Basic challenge on every authentication failure", "[http][auth]") {
  eas::http::HttpLayerConfig config;
  config.auth_realm = "Test Realm";
  Harness h(config);
  struct Row {
    std::string auth, reason;
  };
  const Row rows[] = {
      {"", "auth.missing"},
      {basic("alice@example.test", "wrong"), "auth.bad_credentials"},
      {basic("locked@example.test", "secret"), "auth.locked_out"},
      {"Bearer abc", "auth.not_basic"},
  };
  for (const Row& row : rows) {
    INFO(row.reason);
    for (const char* method : {"OPTIONS", "POST", "GET"}) {
      INFO(method);
      HttpRequest req = options(row.auth);
      req.method = method;
      req.query = plain("FolderSync");
      HttpResponse r = h.run(std::move(req));
      CHECK(r.status == 401);
      CHECK(r.reason == row.reason);
      CHECK(header(r, "WWW-Authenticate") == "Basic realm=\"Test Realm\"");
      CHECK(r.body.empty());
    }
  }
  // The client address nginx passed reaches the authenticator (throttling).
  h.post(plain("FolderSync"), "14.1", folderSync());
  CHECK(h.auth.last_addr == "192.0.2.7");
}

TEST_CASE("IMAP down while authenticating: 503 with Retry-After, not 401", "[http][auth]") {
  Harness h;
  HttpResponse r = h.post(plain("FolderSync"), "14.1", folderSync(), "application/vnd.ms-sync.wbxml",
                          basic("down@example.test", "x"));
  CHECK(r.status == 503);
  CHECK(r.reason == "auth.backend_unavailable");
  CHECK(header(r, "Retry-After") == "30");
  CHECK(header(r, "WWW-Authenticate") == "<absent>");
}

TEST_CASE("a browser GET: 401 without credentials, 501 with", "[http][method]") {
  Harness h;
  HttpRequest get;
  get.method = "GET";
  get.path = "/Microsoft-Server-ActiveSync";
  HttpResponse r = h.run(get);
  CHECK(r.status == 401);
  CHECK(header(r, "WWW-Authenticate").rfind("Basic realm=", 0) == 0);
  get.headers.emplace_back("authorization", kGoodAuth);
  r = h.run(get);
  CHECK(r.status == 501);
  CHECK(r.reason == "http.method_not_allowed");
  HttpRequest put = get;
  put.method = "PUT";
  CHECK(h.run(put).status == 501);
}

TEST_CASE("a wrong path is 404 before authentication", "[http][route]") {
  Harness h;
  HttpRequest r;
  r.method = "POST";
  r.path = "/NotSupport/Microsoft-Server-ActiveSync";
  r.query = plain("FolderSync");
  HttpResponse resp = h.run(r);
  CHECK(resp.status == 404);
  CHECK(resp.reason == "http.not_found");
  CHECK(h.auth.calls == 0);
  r.path = "/microsoft-server-activesync";  // any case is the endpoint
  r.headers.emplace_back("authorization", kGoodAuth);
  CHECK(h.run(r).reason != "http.not_found");
}

TEST_CASE("the spec's base64 vector through the whole path", "[http][base64]") {
  Harness h;
  // 14.0 Sync, DeviceId v140Device, no MS-ASProtocolVersion header (the blob
  // carries it), empty body (valid for Sync). No Sync handler yet: Status 137.
  HttpResponse r = h.post("jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l", "");
  CHECK(r.status == 200);
  CHECK(r.reason == "http.command_not_implemented");
  CHECK(r.device_id == "v140Device");
  CHECK(r.command == "Sync");
  CHECK(r.protocol_version == "14.0");
  CHECK(r.user == "alice@example.test");
  CHECK(r.eas_status == "137");
  CHECK(rootTag(r.body) == t::AirSync::Sync);
  CHECK(topStatus(r.body) == 137);
  CHECK(header(r, "Content-Type") == "application/vnd.ms-sync.wbxml");
  REQUIRE(h.device_gate.seen.size() == 1);
  CHECK(h.device_gate.seen[0].device_type == "SmartPhone");
  CHECK(h.device_gate.seen[0].user_agent == "TestAgent/1.0");
}

TEST_CASE("base64: PolicyKey from the blob, binary DeviceId, 12.1 answers with HTTP", "[http][base64]") {
  Harness h;
  // 14.1 FolderSync, GUID DeviceId, PolicyKey 0x12345678.
  HttpResponse r = h.post(
      "jQkHBBChssPU5fYHGCk6S1xtfo%2BQBHhWNBIGaVBob25lCBJhbGljZUBleGFtcGxlLnRlc3QHAQM%3D", "",
      folderSync());
  CHECK(r.command == "FolderSync");
  CHECK(r.device_id == "a1b2c3d4e5f60718293a4b5c6d7e8f90");
  CHECK(r.reason == "http.command_not_implemented");
  CHECK(topStatus(r.body) == 137);
  REQUIRE(h.policy_gate.keys.size() == 1);
  CHECK(h.policy_gate.keys[0] == 0x12345678u);
  // 12.1 SmartReply with a MIME body: not implemented -> 501.
  r = h.post("eQMJBAhBQkNEMTIzNAAHQW5kcm9pZAEBNQMENToxMgcBAQ==", "", "Subject: x\r\n\r\nhi",
             "message/rfc822");
  CHECK(r.status == 501);
  CHECK(r.reason == "http.command_not_implemented");
  CHECK(r.protocol_version == "12.1");
  CHECK(r.body.empty());
  // An unknown base64 command code is 501 like an unknown Cmd.
  eas::protocol::EasQuery q;
  q.version = eas::protocol::ProtocolVersion::k141;
  q.command_code = 99;
  q.device_id = "DEV1";
  q.device_type = "SP";
  r = h.post(eas::protocol::encodeBase64Query(q), "");
  CHECK(r.status == 501);
  CHECK(r.reason == "http.unknown_cmd");
}

TEST_CASE("unknown Cmd: 501 in every version (IT MSASHTTP_S02_TC05)", "[http][command]") {
  Harness h;
  for (const char* v : {"12.1", "14.1", "16.1"}) {
    HttpResponse r = h.post(plain("NotExist"), v, folderSync());
    CHECK(r.status == 501);
    CHECK(r.reason == "http.unknown_cmd");
    CHECK(r.body.empty());
  }
}

TEST_CASE("known commands not yet implemented: 501 on 12.1, Status 137 on 14.1", "[http][command]") {
  Harness h;
  for (const auto& spec : eas::commands::commandTable()) {
    INFO(spec.name);
    if (spec.factory) continue;  // implemented (Provision, ...)
    const bool in121 = spec.min_version <= eas::protocol::ProtocolVersion::k121 &&
                       spec.max_version >= eas::protocol::ProtocolVersion::k121;
    const bool in141 = spec.min_version <= eas::protocol::ProtocolVersion::k141 &&
                       spec.max_version >= eas::protocol::ProtocolVersion::k141;
    // A body of the command's own root (or MIME on 12.x for the mail commands).
    std::string body;
    if (spec.has_root) {
      eas::wbxml::StringSink sink(&body);
      eas::wbxml::Writer w(sink);
      w.empty(spec.root);
    }
    const bool mime121 = (spec.flags & eas::commands::kMimeBodyBefore14) != 0;
    HttpResponse r12 = h.post(plain(std::string(spec.name)), "12.1",
                              mime121 ? "Subject: a\r\n\r\nb" : body,
                              mime121 ? "message/rfc822" : "application/vnd.ms-sync.wbxml");
    CHECK(r12.status == 501);
    CHECK(r12.reason == (in121 ? "http.command_not_implemented" : "http.command_not_supported"));
    CHECK(r12.body.empty());
    HttpResponse r14 = h.post(plain(std::string(spec.name)), "14.1", body);
    CHECK(r14.reason == (in141 ? "http.command_not_implemented" : "http.command_not_supported"));
    if (spec.has_root) {
      CHECK(r14.status == 200);
      CHECK(rootTag(r14.body) == spec.root);
      CHECK(topStatus(r14.body) == 137);
    } else {
      CHECK(r14.status == 501);  // no root element to carry a Status
    }
  }
}

TEST_CASE("GetAttachment <= 12.1, Find only on 16.1", "[http][command]") {
  Harness h;
  HttpResponse r = h.post(plain("GetAttachment") + "&AttachmentName=5%3A1%3A0", "14.1");
  CHECK(r.status == 501);
  CHECK(r.reason == "http.command_not_supported");
  r = h.post(plain("GetAttachment") + "&AttachmentName=5%3A1%3A0", "12.1");
  CHECK(r.reason == "http.command_not_implemented");  // allowed, body not needed
  std::string find;
  {
    eas::wbxml::StringSink sink(&find);
    eas::wbxml::Writer w(sink);
    w.start(t::Find::Find).element(t::Find::SearchId, "1").end();
  }
  r = h.post(plain("Find"), "16.0", find);
  CHECK(r.status == 200);
  CHECK(r.reason == "http.command_not_supported");
  CHECK(rootTag(r.body) == t::Find::Find);
  CHECK(topStatus(r.body) == 137);
  r = h.post(plain("Find"), "16.1", find);
  CHECK(r.reason == "http.command_not_implemented");
}

TEST_CASE("MS-ASProtocolVersion: missing or unsupported -> 400 (IT S02_TC01)", "[http][version]") {
  Harness h;
  struct Row {
    std::string version, reason;
  };
  for (const Row& row : {Row{"", "http.missing_protocol_version"},
                         Row{"191", "http.unsupported_version"},
                         Row{"14", "http.unsupported_version"},
                         Row{"17.0", "http.unsupported_version"}}) {
    INFO(row.version);
    for (int i = 0; i < 2; ++i) {  // the same request gets the same 400
      HttpResponse r = h.post(plain("FolderSync"), row.version, folderSync());
      CHECK(r.status == 400);
      CHECK(r.reason == row.reason);
      CHECK(r.body.empty());
    }
  }
  // 2.5 and 12.0 are accepted (advertised) and answer with HTTP codes.
  CHECK(h.post(plain("FolderSync"), "2.5", folderSync()).status == 501);
  CHECK(h.post(plain("FolderSync"), "12.0", folderSync()).status == 501);
}

TEST_CASE("malformed queries: 400 with their reason token", "[http][query]") {
  Harness h;
  struct Row {
    std::string query, reason;
  };
  const Row rows[] = {
      {"", "http.missing_cmd"},
      {"User=a&DeviceId=A&DeviceType=SP", "http.missing_cmd"},
      {"Cmd=FolderSync&DeviceId=%zz&DeviceType=SP", "http.bad_percent_encoding"},
      {"Cmd=FolderSync&Cmd=Sync&DeviceId=A&DeviceType=SP", "http.duplicate_param"},
      {"Cmd=SendMail&SaveInSent=X&DeviceId=A&DeviceType=SP", "http.bad_param_value"},
      {"!!!!", "http.bad_base64"},
      {"jAAJBAp2MTQw", "http.truncated_base64"},
      {eas::protocol::base64Encode(std::string("\x78\x09\x09\x04\x01" "A\x00\x02SP", 10)),
       "http.unsupported_version"},
  };
  for (const Row& row : rows) {
    INFO(row.query);
    for (const char* v : {"12.1", "14.1"}) {
      HttpResponse r = h.post(row.query, v, folderSync());
      CHECK(r.status == 400);
      CHECK(r.reason == row.reason);
      CHECK(r.body.empty());
    }
  }
}

TEST_CASE("bad DeviceId / DeviceType: 400 on 12.1, Status 108 / 109 on 14.1", "[http][query]") {
  Harness h;
  struct Row {
    std::string query, reason;
    int eas;
  };
  const Row rows[] = {
      {plain("FolderSync", std::string(35, 'a')), "http.bad_device_id", 108},
      {plain("FolderSync", "dev-1"), "http.bad_device_id", 108},
      {"Cmd=FolderSync&User=a&DeviceType=SP", "http.missing_device_id", 108},
      {plain("FolderSync", "DEV1", std::string(35, 'x')), "http.bad_device_type", 109},
      {"Cmd=FolderSync&User=a&DeviceId=DEV1", "http.missing_device_type", 109},
      {plain("FolderSync") + "&CollectionId=" + std::string(65, '1'), "http.param_too_long", 103},
  };
  for (const Row& row : rows) {
    INFO(row.query);
    HttpResponse r12 = h.post(row.query, "12.1", folderSync());
    CHECK(r12.status == 400);
    CHECK(r12.reason == row.reason);
    HttpResponse r14 = h.post(row.query, "14.1", folderSync());
    CHECK(r14.status == 200);
    CHECK(r14.reason == row.reason);
    CHECK(rootTag(r14.body) == t::FolderHierarchy::FolderSync);
    CHECK(topStatus(r14.body) == row.eas);
    CHECK(r14.eas_status == std::to_string(row.eas));
  }
}

TEST_CASE("body: size 413, Content-Type 101, invalid WBXML 102, wrong root 103", "[http][body]") {
  eas::http::HttpLayerConfig config;
  config.max_body_bytes = 64;
  Harness h(config);
  struct Row {
    std::string body, content_type, reason;
    int http12, status14;  // status14: HTTP 200 + this Status, or 0 = same HTTP code
    int http14;
  };
  const Row rows[] = {
      {std::string(65, 'x'), "application/vnd.ms-sync.wbxml", "http.body_too_large", 413, 0, 413},
      {folderSync(), "text/plain", "http.bad_content_type", 400, 101, 200},
      {folderSync(), "", "http.bad_content_type", 400, 101, 200},
      {"", "application/vnd.ms-sync.wbxml", "http.missing_body", 400, 101, 200},
      {std::string("\x03\x01\x6a\x00\x00\x07\x56\x52\x03\x30", 10), "application/vnd.ms-sync.wbxml",
       "", 400, 102, 200},  // truncated: the codec's own token
      {std::string("\x07\x01\x6a\x00garbage", 11), "application/vnd.ms-sync", "", 400, 102, 200},
      {syncBody(), "application/vnd.ms-sync.wbxml", "http.wrong_root", 400, 103, 200},
  };
  for (const Row& row : rows) {
    INFO(row.reason << " / " << row.content_type);
    HttpRequest req;
    HttpResponse r12 = h.post(plain("FolderSync"), "12.1", row.body, row.content_type);
    CHECK(r12.status == row.http12);
    CHECK(r12.body.empty());
    HttpResponse r14 = h.post(plain("FolderSync"), "14.1", row.body, row.content_type);
    CHECK(r14.status == row.http14);
    if (row.reason.empty()) {
      CHECK(r12.reason.rfind("wbxml.", 0) == 0);
      CHECK(r14.reason == r12.reason);
    } else {
      CHECK(r12.reason == row.reason);
      CHECK(r14.reason == row.reason);
    }
    if (row.status14 != 0) {
      CHECK(rootTag(r14.body) == t::FolderHierarchy::FolderSync);
      CHECK(topStatus(r14.body) == row.status14);
    } else {
      CHECK(r14.body.empty());
    }
  }
  // A valid body passes every stage and reaches the (missing) handler.
  CHECK(h.post(plain("FolderSync"), "14.1", folderSync()).reason == "http.command_not_implemented");
  // Ping may have an empty body; Ping with text/plain is 101 (CMD §2.2.2).
  CHECK(h.post(plain("Ping"), "14.1").reason == "http.command_not_implemented");
  CHECK(topStatus(h.post(plain("Ping"), "14.1", "x", "text/plain").body) == 101);
}

TEST_CASE("X-MS-PolicyKey: parsed, 0 means none, garbage is 449 / 144", "[http][policy]") {
  Harness h;
  auto post_key = [&](const std::string& cmd, const std::string& key, const std::string& v) {
    HttpRequest r;
    r.method = "POST";
    r.path = "/Microsoft-Server-ActiveSync";
    r.query = plain(cmd);
    r.headers = {{"authorization", kGoodAuth},
                 {"ms-asprotocolversion", v},
                 {"x-ms-policykey", key},
                 {"content-type", "application/vnd.ms-sync.wbxml"}};
    r.body = folderSync();
    return h.run(std::move(r));
  };
  post_key("FolderSync", "3141592653", "14.1");
  post_key("FolderSync", "0", "14.1");
  REQUIRE(h.policy_gate.keys.size() == 2);
  CHECK(h.policy_gate.keys[0] == 3141592653u);
  CHECK_FALSE(h.policy_gate.keys[1].has_value());
  HttpResponse r = post_key("FolderSync", "12ab", "12.1");
  CHECK(r.status == 449);
  CHECK(r.reason == "http.bad_policy_key");
  r = post_key("FolderSync", "99999999999", "14.1");
  CHECK(topStatus(r.body) == 144);
}

TEST_CASE("device gate and policy key stage are wired and ordered", "[http][gates]") {
  Harness h;
  HttpResponse r = h.post(plain("FolderSync", "BLOCKED1"), "12.1", folderSync());
  CHECK(r.status == 403);
  CHECK(r.reason == "device.blocked");
  r = h.post(plain("FolderSync", "BLOCKED1"), "14.1", folderSync());
  CHECK(r.status == 200);
  CHECK(topStatus(r.body) == 129);
  CHECK(h.policy_gate.commands.empty());  // blocked before the policy stage

  h.policy_gate.require_key = true;
  r = h.post(plain("FolderSync"), "12.1", folderSync());
  CHECK(r.status == 449);
  CHECK(r.reason == "policy.not_provisioned");
  r = h.post(plain("FolderSync"), "14.1", folderSync());
  CHECK(topStatus(r.body) == 142);
  // Provision and Ping are exempt from the policy key stage.
  h.policy_gate.commands.clear();
  CHECK(h.post(plain("Ping"), "14.1").reason == "http.command_not_implemented");
  std::string prov;
  {
    eas::wbxml::StringSink sink(&prov);
    eas::wbxml::Writer w(sink);
    w.empty(t::Provision::Provision);
  }
  // Provision is implemented now: without a store it answers a server error, not 449.
  CHECK(h.post(plain("Provision"), "14.1", prov).reason == "provision.no_store");
  CHECK(h.policy_gate.commands.empty());
}

TEST_CASE("every rejection logs one line with its reason", "[http][log]") {
  LogCapture logs;
  Harness h;
  h.post(plain("NotExist"), "14.1", folderSync());
  CHECK(logs.contains("eas reject http.unknown_cmd http=501"));
  h.post(plain("FolderSync", "dev-1"), "14.1", folderSync());
  CHECK(logs.contains("eas reject http.bad_device_id http=200 status=108 device=dev-1"));
}

TEST_CASE("debug level: decoded request as XML", "[http][log]") {
  LogCapture logs;
  eas::log::setLevel(eas::log::Level::kDebug);
  eas::http::HttpLayerConfig config;
  config.debug_log_documents = true;
  Harness h(config);
  h.post(plain("FolderSync"), "14.1", folderSync("12345"));
  CHECK(logs.contains("request DEV1 FolderSync"));
  CHECK(logs.contains("12345"));
  // Off by default.
  LogCapture quiet;
  eas::log::setLevel(eas::log::Level::kDebug);
  Harness plain_harness;
  plain_harness.post(plain("FolderSync"), "14.1", folderSync("67890"));
  CHECK_FALSE(quiet.contains("67890"));
}

TEST_CASE("Autodiscover: any case of the path, authenticated first", "[http][autodiscover]") {
  Harness h;
  HttpRequest r;
  r.method = "POST";
  r.path = "/AutoDiscover/AutoDiscover.xml";
  r.headers.emplace_back("content-type", "text/xml");
  r.body = "<Autodiscover/>";
  HttpResponse resp = h.run(r);
  CHECK(resp.status == 401);
  CHECK(header(resp, "WWW-Authenticate").rfind("Basic realm=", 0) == 0);
  r.headers.emplace_back("authorization", kGoodAuth);
  resp = h.run(r);
  CHECK(resp.status != 401);
  CHECK(resp.command == "Autodiscover");
  r.method = "GET";
  CHECK(h.run(r).status == 501);
}

TEST_CASE("the handler is safe to call from many threads at once", "[http][threads]") {
  LogCapture quiet;  // 400 rejection lines
  Harness h;
  constexpr int kThreads = 8, kPerThread = 100;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int j = 0; j < kPerThread; ++j) {
        Captured c;
        auto req = std::make_unique<HttpRequest>();
        req->method = (j % 2) ? "POST" : "OPTIONS";
        req->path = "/Microsoft-Server-ActiveSync";
        req->query = plain("FolderSync", "T" + std::to_string(i));
        req->headers = {{"authorization", kGoodAuth},
                        {"ms-asprotocolversion", "14.1"},
                        {"content-type", "application/vnd.ms-sync.wbxml"}};
        req->body = folderSync();
        h.handler->handle(std::move(req), std::make_unique<CapturingResponder>(&c));
        const bool good = c.responses == 1 && c.response.status == 200 &&
                          ((j % 2) ? topStatus(c.response.body) == 137 : c.response.body.empty());
        if (good) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok.load() == kThreads * kPerThread);
}
