// The dispatch and reply stages with fake commands in a copy of the command
// table: a reply, a command-level failure, a parked command answered later
// from another thread, and a parked reply dropped without an answer.
#include <catch2/catch.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/base/log.h"
#include "core/commands/command_table.h"
#include "core/protocol/query.h"
#include "core/wbxml/wbxml.h"
#include "fcgi/http/eas_request_handler.h"

using eas::Status;
using eas::commands::Command;
using eas::commands::CommandContext;
using eas::commands::CommandReply;
using eas::http::HttpRequest;
using eas::http::HttpResponse;

namespace {

namespace t = eas::wbxml::tags;

const std::string kAuth = "Basic " + eas::protocol::base64Encode("bob@example.test:pw");

class AcceptAll final : public eas::auth::Authenticator {
 public:
  eas::Result<eas::auth::AuthenticatedUser> authenticate(std::string_view h,
                                                         std::string_view) override {
    if (h != kAuth) return Status::Unauthenticated("auth.bad_credentials");
    return eas::auth::AuthenticatedUser{"bob@example.test", "bob"};
  }
};

// What the fake commands saw, and the parked replies they hold.
std::mutex g_mu;
std::vector<std::unique_ptr<eas::commands::DeferredReply>> g_parked;
std::string g_seen_login, g_seen_sync_key, g_seen_device;
std::optional<std::uint32_t> g_seen_policy_key;

class FolderSyncOk final : public Command {
 public:
  std::optional<CommandReply> handle(CommandContext& ctx) override {
    const auto& req = ctx.request();
    {
      std::lock_guard<std::mutex> lock(g_mu);
      g_seen_login = req.login;
      g_seen_device = req.query->device_id;
      g_seen_policy_key = req.policy_key;
      g_seen_sync_key = req.document
                            ? std::string(req.document->root().childText(t::FolderHierarchy::SyncKey))
                            : "<no document>";
    }
    CommandReply reply;
    eas::wbxml::StringSink sink(&reply.body);
    eas::wbxml::Writer w(sink);
    w.start(t::FolderHierarchy::FolderSync)
        .element(t::FolderHierarchy::Status, std::int64_t{1})
        .element(t::FolderHierarchy::SyncKey, "1")
        .end();
    reply.eas_status = 1;
    reply.headers.emplace_back("X-Test", "yes");
    return reply;
  }
};

class SettingsOffline final : public Command {
 public:
  std::optional<CommandReply> handle(CommandContext&) override {
    CommandReply reply;
    reply.status = Status::Unavailable("mailbox.offline", "IMAP down");
    return reply;
  }
};

class PingParks final : public Command {
 public:
  std::optional<CommandReply> handle(CommandContext& ctx) override {
    auto deferred = ctx.park();
    REQUIRE(deferred != nullptr);
    std::lock_guard<std::mutex> lock(g_mu);
    g_parked.push_back(std::move(deferred));
    return std::nullopt;
  }
};

std::unique_ptr<Command> makeFolderSyncOk() { return std::make_unique<FolderSyncOk>(); }
std::unique_ptr<Command> makeSettingsOffline() { return std::make_unique<SettingsOffline>(); }
std::unique_ptr<Command> makePingParks() { return std::make_unique<PingParks>(); }

std::vector<eas::commands::CommandSpec> fakeTable() {
  std::vector<eas::commands::CommandSpec> table(eas::commands::commandTable().begin(),
                                                eas::commands::commandTable().end());
  for (auto& c : table) {
    if (c.name == "FolderSync") c.factory = &makeFolderSyncOk;
    if (c.name == "Settings") c.factory = &makeSettingsOffline;
    if (c.name == "Ping") c.factory = &makePingParks;
  }
  return table;
}

struct Captured {
  std::mutex mu;
  int responses = 0;
  HttpResponse response;
};

class CapturingResponder final : public eas::http::Responder {
 public:
  explicit CapturingResponder(std::shared_ptr<Captured> out) : out_(std::move(out)) {}
  void respond(HttpResponse&& r) override {
    std::lock_guard<std::mutex> lock(out_->mu);
    ++out_->responses;
    out_->response = std::move(r);
  }
 private:
  std::shared_ptr<Captured> out_;
};

std::string header(const HttpResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "<absent>";
}

int topStatus(const std::string& body) {
  auto doc = eas::wbxml::decode(body);
  if (!doc.ok()) return -1;
  for (const auto& c : doc->root().children())
    if (eas::wbxml::tagName(c.tag()) == "Status") return std::stoi(std::string(c.text()));
  return -1;
}

struct Fixture {
  Fixture(bool debug = false) {
    eas::http::HttpLayerConfig config;
    config.debug_log_documents = debug;
    eas::http::HttpLayerGates gates;
    gates.command_table = table;
    handler = eas::http::makeEasRequestHandler(config, auth, {}, gates);
  }
  std::shared_ptr<Captured> send(const std::string& cmd, const std::string& version,
                                 const std::string& body) {
    auto req = std::make_unique<HttpRequest>();
    req->method = "POST";
    req->path = "/Microsoft-Server-ActiveSync";
    req->query = "Cmd=" + cmd + "&User=bob&DeviceId=PHONE1&DeviceType=iPhone";
    req->headers = {{"authorization", kAuth},
                    {"ms-asprotocolversion", version},
                    {"x-ms-policykey", "777"}};
    if (!body.empty()) req->headers.emplace_back("content-type", "application/vnd.ms-sync.wbxml");
    req->body = body;
    auto out = std::make_shared<Captured>();
    handler->handle(std::move(req), std::make_unique<CapturingResponder>(out));
    return out;
  }
  std::vector<eas::commands::CommandSpec> table = fakeTable();
  AcceptAll auth;
  std::unique_ptr<eas::http::RequestHandler> handler;
};

std::string folderSyncBody() {
  std::string out;
  eas::wbxml::StringSink sink(&out);
  eas::wbxml::Writer w(sink);
  w.start(t::FolderHierarchy::FolderSync).element(t::FolderHierarchy::SyncKey, "0").end();
  return out;
}

}  // namespace

TEST_CASE("a command's reply: 200, WBXML, its headers; the command saw the request", "[http][dispatch]") {
  Fixture f;
  auto out = f.send("FolderSync", "14.1", folderSyncBody());
  REQUIRE(out->responses == 1);
  const HttpResponse& r = out->response;
  CHECK(r.status == 200);
  CHECK(r.reason.empty());
  CHECK(r.eas_status == "1");
  CHECK(header(r, "Content-Type") == "application/vnd.ms-sync.wbxml");
  CHECK(header(r, "X-Test") == "yes");
  CHECK(header(r, "MS-Server-ActiveSync") == "14.1");
  CHECK(topStatus(r.body) == 1);
  std::lock_guard<std::mutex> lock(g_mu);
  CHECK(g_seen_login == "bob@example.test");
  CHECK(g_seen_device == "PHONE1");
  CHECK(g_seen_sync_key == "0");
  CHECK(g_seen_policy_key == 777u);
}

TEST_CASE("a command-level failure goes through the status map", "[http][dispatch]") {
  Fixture f;
  std::string body;
  {
    eas::wbxml::StringSink sink(&body);
    eas::wbxml::Writer w(sink);
    w.start(t::Settings::Settings).start(t::Settings::UserInformation).empty(t::Settings::Get);
    w.end().end();
  }
  auto r14 = f.send("Settings", "14.1", body);
  CHECK(r14->response.status == 200);
  CHECK(r14->response.reason == "mailbox.offline");
  CHECK(topStatus(r14->response.body) == 114);
  auto r12 = f.send("Settings", "12.1", body);
  CHECK(r12->response.status == 503);
  CHECK(header(r12->response, "Retry-After") == "30");
}

TEST_CASE("a parked command answers later from another thread", "[http][dispatch][park]") {
  Fixture f;
  auto out = f.send("Ping", "14.1", "");
  {
    std::lock_guard<std::mutex> lock(out->mu);
    CHECK(out->responses == 0);  // parked: nothing sent yet, no thread held
  }
  std::unique_ptr<eas::commands::DeferredReply> parked;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    REQUIRE(g_parked.size() == 1);
    parked = std::move(g_parked.back());
    g_parked.clear();
  }
  CHECK_FALSE(parked->clientGone());
  std::thread waker([&] {
    CommandReply reply;
    eas::wbxml::StringSink sink(&reply.body);
    eas::wbxml::Writer w(sink);
    w.start(t::Ping::Ping).element(t::Ping::Status, std::int64_t{1}).end();
    reply.eas_status = 1;
    parked->send(std::move(reply));
  });
  waker.join();
  std::lock_guard<std::mutex> lock(out->mu);
  CHECK(out->responses == 1);
  CHECK(out->response.status == 200);
  CHECK(out->response.command == "Ping");
  CHECK(out->response.device_id == "PHONE1");
  CHECK(topStatus(out->response.body) == 1);
}

TEST_CASE("a parked reply dropped without an answer still answers (500 / 110)", "[http][park]") {
  Fixture f;
  auto out = f.send("Ping", "14.1", "");
  {
    std::lock_guard<std::mutex> lock(g_mu);
    REQUIRE(g_parked.size() == 1);
    g_parked.clear();  // destroys the DeferredReply
  }
  std::lock_guard<std::mutex> lock(out->mu);
  CHECK(out->responses == 1);
  CHECK(out->response.reason == "http.parked_without_reply");
  CHECK(topStatus(out->response.body) == 110);
}

TEST_CASE("debug level logs the response document too", "[http][log]") {
  std::mutex mu;
  std::vector<std::string> lines;
  eas::log::setSink([&](eas::log::Level, std::string_view l) {
    std::lock_guard<std::mutex> lock(mu);
    lines.emplace_back(l);
  });
  eas::log::setLevel(eas::log::Level::kDebug);
  {
    Fixture f(/*debug=*/true);
    f.send("FolderSync", "14.1", folderSyncBody());
  }
  eas::log::setLevel(eas::log::Level::kInfo);
  eas::log::setSink([](eas::log::Level, std::string_view) {});
  bool request = false, response = false;
  for (const auto& l : lines) {
    request = request || (l.rfind("request PHONE1 FolderSync", 0) == 0 && l.find("FolderSync") != std::string::npos);
    response = response || (l.rfind("response PHONE1 FolderSync", 0) == 0 && l.find("<Status>1</Status>") != std::string::npos);
  }
  CHECK(request);
  CHECK(response);
}
