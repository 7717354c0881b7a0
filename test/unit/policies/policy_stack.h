// The request path of the policies tests: makeEasRequestHandler with a fake
// Authenticator, the store-backed gates of policies/ and a real SQLite store
// in a temporary directory. FolderSync is a stand-in (answers Status 1) unless
// the stack is built with real_folder_sync, which runs the real command over
// a fake mail backend (FakeFolders). Shared by the tests in this folder.
#pragma once

#include <catch2/catch.hpp>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/backends/mail_backend.h"
#include "core/base/clock.h"
#include "core/commands/provision_command.h"
#include "core/protocol/query.h"
#include "core/wbxml/wbxml.h"
#include "fcgi/http/eas_request_handler.h"
#include "policies/gates.h"
#include "storage/metadata_store.h"
#include "storage/store_admin.h"
#include "test/unit/core/testing/unsupported_mail_backend.h"

namespace {

namespace t = eas::wbxml::tags;
namespace p = eas::wbxml::tags::Provision;
using eas::Status;
using eas::http::HttpRequest;
using eas::http::HttpResponse;
using namespace eas::storage;

constexpr char kUser[] = "alice@example.test";

class FakeAuthenticator final : public eas::auth::Authenticator {
 public:
  eas::Result<eas::auth::AuthenticatedUser> authenticate(std::string_view header,
                                                         std::string_view) override {
    const std::string prefix = "Basic ";
    if (header.rfind(prefix, 0) != 0) return Status::Unauthenticated("auth.missing");
    // "Basic <login>" is enough for the fake: the login is taken verbatim.
    std::string login(header.substr(prefix.size()));
    return eas::auth::AuthenticatedUser{login, login.substr(0, login.find('@'))};
  }
};

// FolderSync stand-in: reaching it means both gates let the request through.
class OkCommand final : public eas::commands::Command {
 public:
  std::optional<eas::commands::CommandReply> handle(eas::commands::CommandContext&) override {
    eas::commands::CommandReply r;
    eas::wbxml::Writer w(&r.body);
    w.start(t::FolderHierarchy::FolderSync).element(t::FolderHierarchy::Status, 1).end();
    r.eas_status = 1;
    return r;
  }
};
inline std::unique_ptr<eas::commands::Command> makeOk() { return std::make_unique<OkCommand>(); }

// A mail server with a fixed folder list, for the real FolderSync.
class FakeFolders final : public eas::testing::UnsupportedMailBackend {
 public:
  explicit FakeFolders(std::vector<eas::backend::FolderInfo> folders) : folders_(std::move(folders)) {}
  eas::Result<std::vector<eas::backend::FolderInfo>> listFolders() override { return folders_; }

 private:
  std::vector<eas::backend::FolderInfo> folders_;
};

inline eas::backend::FolderInfo mailbox(const std::string& name,
                                 eas::backend::FolderRole role = eas::backend::FolderRole::kNone) {
  eas::backend::FolderInfo f;
  f.name = name;
  f.delimiter = '/';
  f.displayName = name;
  f.role = role;
  return f;
}

class FakeFoldersProvider final : public eas::commands::MailBackendProvider {
 public:
  std::unique_ptr<eas::backend::MailBackend> open(const std::string&, const std::string&) override {
    using eas::backend::FolderRole;
    return std::make_unique<FakeFolders>(std::vector<eas::backend::FolderInfo>{
        mailbox("INBOX", FolderRole::kInbox), mailbox("Sent", FolderRole::kSent),
        mailbox("Drafts", FolderRole::kDrafts), mailbox("Trash", FolderRole::kTrash),
        mailbox("Projects"), mailbox("Receipts")});
  }
};

struct Reply {
  int http = 0;
  std::string reason;
  int status = -1;         // Provision (or root) Status
  int policy_status = -1;  // Policies/Policy/Status
  uint32_t key = 0;        // Policies/Policy/PolicyKey
  bool remote_wipe = false;
  bool account_wipe = false;
  bool has_doc = false;
  bool info_status = false;
  std::map<std::string, std::string> doc;  // EASProvisionDoc element -> text
  std::string data_text;                   // Data as text (the 2.5 wap-provisioningdoc)
  std::vector<std::string> folders;        // FolderSync Changes/Add DisplayNames
  eas::wbxml::Tag root{};
};

inline Reply parse(const HttpResponse& r) {
  Reply out;
  out.http = r.status;
  out.reason = r.reason;
  if (r.body.empty()) return out;
  auto doc = eas::wbxml::decode(r.body);
  REQUIRE(doc.ok());
  const auto& root = doc->root();
  out.root = root.tag();
  for (const auto& c : root.children())
    if (eas::wbxml::tagName(c.tag()) == "Status") out.status = std::stoi(std::string(c.text()));
  out.remote_wipe = root.hasChild(p::RemoteWipe);
  out.account_wipe = root.hasChild(p::AccountOnlyRemoteWipe);
  out.info_status = root.hasChild(t::Settings::DeviceInformation);
  if (const auto* pols = root.child(p::Policies)) {
    const auto* pol = pols->child(p::Policy);
    REQUIRE(pol != nullptr);
    out.policy_status = std::stoi(std::string(pol->childText(p::Status, "-1")));
    if (pol->hasChild(p::PolicyKey)) out.key = std::stoul(std::string(pol->childText(p::PolicyKey)));
    if (const auto* data = pol->child(p::Data)) {
      out.has_doc = true;
      if (const auto* d = data->child(p::EASProvisionDoc)) {
        for (const auto& c : d->children())
          out.doc[std::string(eas::wbxml::tagName(c.tag()))] = std::string(c.text());
      } else {
        out.data_text = std::string(data->text());
      }
    }
  }
  namespace fh = eas::wbxml::tags::FolderHierarchy;
  if (const auto* changes = root.child(fh::Changes))
    for (const auto& c : changes->children())
      if (c.tag() == fh::Add) out.folders.push_back(std::string(c.childText(fh::DisplayName)));
  return out;
}

struct DeviceInfo {
  std::string model = "Pixel 8";
  std::string os = "Android 14";
  std::string imei = "356938035643809";
  std::string friendly = "Alice's phone";
};

inline std::string provisionRequest(const DeviceInfo* info,
                             const std::string& type = "MS-EAS-Provisioning-WBXML") {
  std::string out;
  eas::wbxml::Writer w(&out);
  w.start(p::Provision);
  if (info) {
    w.start(t::Settings::DeviceInformation).start(t::Settings::Set);
    w.element(t::Settings::Model, info->model).element(t::Settings::IMEI, info->imei);
    w.element(t::Settings::FriendlyName, info->friendly).element(t::Settings::OS, info->os);
    w.element(t::Settings::OSLanguage, "en-US").element(t::Settings::PhoneNumber, "+15550100");
    w.element(t::Settings::UserAgent, "Agent/2").element(t::Settings::MobileOperator, "Op");
    w.end().end();
  }
  w.start(p::Policies).start(p::Policy).element(p::PolicyType, type).end().end().end();
  return out;
}

inline std::string ackRequest(uint32_t key, int status = 1,
                       const std::string& type = "MS-EAS-Provisioning-WBXML") {
  std::string out;
  eas::wbxml::Writer w(&out);
  w.start(p::Provision).start(p::Policies).start(p::Policy);
  w.element(p::PolicyType, type)
      .element(p::PolicyKey, std::to_string(key))
      .element(p::Status, status);
  w.end().end().end();
  return out;
}

inline std::string wipeAck(int status, bool account_only = false) {
  std::string out;
  eas::wbxml::Writer w(&out);
  w.start(p::Provision).start(account_only ? p::AccountOnlyRemoteWipe : p::RemoteWipe);
  w.element(p::Status, status).end().end();
  return out;
}

inline std::string emptyProvision() {
  std::string out;
  eas::wbxml::Writer w(&out);
  w.empty(p::Provision);
  return out;
}

inline std::string folderSync() {
  std::string out;
  eas::wbxml::Writer w(&out);
  w.start(t::FolderHierarchy::FolderSync).element(t::FolderHierarchy::SyncKey, "0").end();
  return out;
}

class Stack {
 public:
  explicit Stack(bool real_folder_sync = false) {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("eas-policies-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(dir_);
    const std::string url = "sqlite:" + (dir_ / "meta.db").string();
    auto admin = openStoreAdmin(url);
    REQUIRE(admin.ok());
    REQUIRE((*admin)->upgrade().ok());
    auto s = openMetadataStore(url);
    REQUIRE(s.ok());
    store = std::move(s.value());
    gates = eas::policies::makeGates(*store, clock);
    services.store = store.get();
    services.clock = &clock;
    services.mail = &folders_provider;
    for (const auto& c : eas::commands::commandTable()) table.push_back(c);
    for (auto& c : table)
      if (c.name == "FolderSync" && !real_folder_sync) c.factory = &makeOk;
    eas::http::HttpLayerGates g;
    g.device_gate = gates.device_gate.get();
    g.policy_key_gate = gates.policy_key_gate.get();
    g.version_cap = gates.version_cap.get();
    g.command_table = table;
    g.services = &services;
    eas::autodiscover::AutodiscoverConfig ad;
    ad.mobilesync_url = "https://mail.example.test/Microsoft-Server-ActiveSync";
    handler = eas::http::makeEasRequestHandler({}, auth, ad, g);
  }
  ~Stack() {
    handler.reset();
    gates = {};
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  Reply post(const std::string& cmd, const std::string& version, const std::string& body,
             std::optional<uint32_t> key = std::nullopt, const std::string& device = "DEV1",
             const std::string& login = kUser, const std::string& type = "Android") {
    return parse(raw("POST", cmd, version, body, key, device, login, type));
  }

  // OPTIONS with or without the device's query (iOS sends none).
  HttpResponse options(const std::string& device = "", const std::string& login = kUser) {
    return raw("OPTIONS", "", "", "", std::nullopt, device, login, "iPhone");
  }

  HttpResponse raw(const std::string& method, const std::string& cmd, const std::string& version,
                   const std::string& body, std::optional<uint32_t> key, const std::string& device,
                   const std::string& login, const std::string& type) {
    auto req = std::make_unique<HttpRequest>();
    req->method = method;
    req->path = "/Microsoft-Server-ActiveSync";
    if (method == "OPTIONS")
      req->query = device.empty() ? "" : "User=u&DeviceId=" + device + "&DeviceType=" + type;
    else
      req->query = "Cmd=" + cmd + "&User=u&DeviceId=" + device + "&DeviceType=" + type;
    req->remote_addr = "192.0.2.7";
    req->headers.emplace_back("authorization", "Basic " + login);
    if (!version.empty()) req->headers.emplace_back("ms-asprotocolversion", version);
    req->headers.emplace_back("user-agent", "TestAgent/1.0");
    if (!body.empty()) req->headers.emplace_back("content-type", "application/vnd.ms-sync.wbxml");
    if (key) req->headers.emplace_back("x-ms-policykey", std::to_string(*key));
    req->body = body;
    Captured c;
    handler->handle(std::move(req), std::make_unique<Capture>(&c));
    REQUIRE(c.n == 1);
    return c.r;
  }

  std::vector<Notice> notices() {
    auto n = store->pendingNotices(100);
    REQUIRE(n.ok());
    return *n;
  }

  // Both phases; returns the final key.
  uint32_t provision(const std::string& version, const std::string& device = "DEV1",
                     const DeviceInfo& info = {}, const std::string& login = kUser) {
    const bool need_info = version >= std::string("14.1");
    Reply one = post("Provision", version, provisionRequest(need_info ? &info : nullptr),
                     std::nullopt, device, login);
    REQUIRE(one.status == 1);
    REQUIRE(one.policy_status == 1);
    REQUIRE(one.key != 0);
    REQUIRE(one.has_doc);
    Reply two = post("Provision", version, ackRequest(one.key), one.key, device, login);
    REQUIRE(two.status == 1);
    REQUIRE(two.policy_status == 1);
    REQUIRE(two.key != 0);
    CHECK(two.key != one.key);
    CHECK_FALSE(two.has_doc);
    return two.key;
  }

  void policy(PolicyLevel level, const std::string& subject, const std::string& key,
              const std::string& value) {
    REQUIRE(store->setPolicy({level, subject, key, value}).ok());
  }

  bool works(const std::string& version, std::optional<uint32_t> key,
             const std::string& device = "DEV1") {
    Reply r = post("FolderSync", version, folderSync(), key, device);
    return r.http == 200 && r.status == 1 && r.reason.empty();
  }

  Device device(const std::string& id = "DEV1", const std::string& login = kUser) {
    auto d = store->findDevice({login, id});
    REQUIRE(d.ok());
    return *d;
  }

  std::vector<AuditEvent> audit(const std::string& id = "DEV1") {
    auto a = store->listAudit({kUser, id}, 100);
    REQUIRE(a.ok());
    std::vector<AuditEvent> out;
    for (auto it = a->rbegin(); it != a->rend(); ++it) out.push_back(it->event);  // oldest first
    return out;
  }

  std::unique_ptr<MetadataStore> store;
  eas::ManualClock clock;

 private:
  struct Captured {
    int n = 0;
    HttpResponse r;
  };
  class Capture final : public eas::http::Responder {
   public:
    explicit Capture(Captured* c) : c_(c) {}
    void respond(HttpResponse&& r) override {
      ++c_->n;
      c_->r = std::move(r);
    }

   private:
    Captured* c_;
  };
  std::filesystem::path dir_;
  FakeFoldersProvider folders_provider;
  FakeAuthenticator auth;
  eas::policies::Gates gates;
  eas::commands::Services services;
  std::vector<eas::commands::CommandSpec> table;
  std::unique_ptr<eas::http::RequestHandler> handler;
};

inline void enforce(Stack& s) {
  s.policy(PolicyLevel::kGlobal, "", eas::commands::kPolicyEnforce, "1");
  s.policy(PolicyLevel::kGlobal, "", "DevicePasswordEnabled", "1");
  s.policy(PolicyLevel::kGlobal, "", "MinDevicePasswordLength", "6");
}

}  // namespace
