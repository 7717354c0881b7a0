// Provisioning, policies, ABQ and remote wipe through the real request path:
// makeEasRequestHandler with a fake Authenticator, the store-backed gates of
// policies/ and a real SQLite store in a temporary directory. FolderSync is
// given a fake handler (answers Status 1) so "the device works" is visible.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/base/clock.h"
#include "core/commands/provision_command.h"
#include "core/protocol/query.h"
#include "core/wbxml/wbxml.h"
#include "fcgi/http/eas_request_handler.h"
#include "policies/gates.h"
#include "storage/metadata_store.h"
#include "storage/store_admin.h"

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
std::unique_ptr<eas::commands::Command> makeOk() { return std::make_unique<OkCommand>(); }

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
  eas::wbxml::Tag root{};
};

Reply parse(const HttpResponse& r) {
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
      const auto* d = data->child(p::EASProvisionDoc);
      REQUIRE(d != nullptr);
      out.has_doc = true;
      for (const auto& c : d->children())
        out.doc[std::string(eas::wbxml::tagName(c.tag()))] = std::string(c.text());
    }
  }
  return out;
}

struct DeviceInfo {
  std::string model = "Pixel 8";
  std::string os = "Android 14";
  std::string imei = "356938035643809";
  std::string friendly = "Alice's phone";
};

std::string provisionRequest(const DeviceInfo* info,
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

std::string ackRequest(uint32_t key, int status = 1) {
  std::string out;
  eas::wbxml::Writer w(&out);
  w.start(p::Provision).start(p::Policies).start(p::Policy);
  w.element(p::PolicyType, "MS-EAS-Provisioning-WBXML")
      .element(p::PolicyKey, std::to_string(key))
      .element(p::Status, status);
  w.end().end().end();
  return out;
}

std::string wipeAck(int status, bool account_only = false) {
  std::string out;
  eas::wbxml::Writer w(&out);
  w.start(p::Provision).start(account_only ? p::AccountOnlyRemoteWipe : p::RemoteWipe);
  w.element(p::Status, status).end().end();
  return out;
}

std::string emptyProvision() {
  std::string out;
  eas::wbxml::Writer w(&out);
  w.empty(p::Provision);
  return out;
}

std::string folderSync() {
  std::string out;
  eas::wbxml::Writer w(&out);
  w.start(t::FolderHierarchy::FolderSync).element(t::FolderHierarchy::SyncKey, "0").end();
  return out;
}

class Stack {
 public:
  Stack() {
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
    for (const auto& c : eas::commands::commandTable()) table.push_back(c);
    for (auto& c : table)
      if (c.name == "FolderSync") c.factory = &makeOk;
    eas::http::HttpLayerGates g;
    g.device_gate = gates.device_gate.get();
    g.policy_key_gate = gates.policy_key_gate.get();
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
    auto req = std::make_unique<HttpRequest>();
    req->method = "POST";
    req->path = "/Microsoft-Server-ActiveSync";
    req->query = "Cmd=" + cmd + "&User=u&DeviceId=" + device + "&DeviceType=" + type;
    req->remote_addr = "192.0.2.7";
    req->headers.emplace_back("authorization", "Basic " + login);
    req->headers.emplace_back("ms-asprotocolversion", version);
    req->headers.emplace_back("user-agent", "TestAgent/1.0");
    if (!body.empty()) req->headers.emplace_back("content-type", "application/vnd.ms-sync.wbxml");
    if (key) req->headers.emplace_back("x-ms-policykey", std::to_string(*key));
    req->body = body;
    Captured c;
    handler->handle(std::move(req), std::make_unique<Capture>(&c));
    REQUIRE(c.n == 1);
    return parse(c.r);
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
  FakeAuthenticator auth;
  eas::policies::Gates gates;
  eas::commands::Services services;
  std::vector<eas::commands::CommandSpec> table;
  std::unique_ptr<eas::http::RequestHandler> handler;
};

void enforce(Stack& s) {
  s.policy(PolicyLevel::kGlobal, "", eas::commands::kPolicyEnforce, "1");
  s.policy(PolicyLevel::kGlobal, "", "DevicePasswordEnabled", "1");
  s.policy(PolicyLevel::kGlobal, "", "MinDevicePasswordLength", "6");
}

}  // namespace

TEST_CASE("12.1 device: 449, provisions in two phases, then works", "[policies][provision]") {
  Stack s;
  enforce(s);
  Reply r = s.post("FolderSync", "12.1", folderSync());
  CHECK(r.http == 449);
  CHECK(r.reason == "policy.not_provisioned");

  Reply one = s.post("Provision", "12.1", provisionRequest(nullptr));
  REQUIRE(one.status == 1);
  REQUIRE(one.policy_status == 1);
  REQUIRE(one.has_doc);
  CHECK_FALSE(one.info_status);
  CHECK(one.doc["DevicePasswordEnabled"] == "1");
  CHECK(one.doc["MinDevicePasswordLength"] == "6");
  CHECK(one.doc["AllowCamera"] == "1");  // unset -> neutral value
  CHECK(one.doc.size() == eas::commands::policyDocSettings().size());
  // The temporary key only serves the acknowledgement.
  CHECK(s.post("FolderSync", "12.1", folderSync(), one.key).reason == "policy.invalid_key");
  CHECK(s.device().provisioning == ProvisioningStatus::kPending);

  Reply wrong = s.post("Provision", "12.1", ackRequest(one.key + 1), one.key + 1);
  CHECK(wrong.policy_status == 5);
  CHECK(wrong.key == 0);

  Reply two = s.post("Provision", "12.1", ackRequest(one.key), one.key);
  REQUIRE(two.policy_status == 1);
  CHECK(two.key != one.key);
  CHECK(s.works("12.1", two.key));
  CHECK_FALSE(s.works("12.1", std::nullopt));
  const Device d = s.device();
  CHECK(d.policy_key == two.key);
  CHECK(d.provisioning == ProvisioningStatus::kProvisioned);
  // The acknowledgement cannot be replayed with the old temporary key.
  CHECK(s.post("Provision", "12.1", ackRequest(one.key), one.key).policy_status == 5);
  const auto events = s.audit();
  REQUIRE(events.size() >= 2);
  CHECK(events.front() == AuditEvent::kFirstSeen);
  CHECK(events.back() == AuditEvent::kProvisioned);
}

TEST_CASE("12.0 gets the 12.0 document only", "[policies][provision]") {
  Stack s;
  enforce(s);
  Reply one = s.post("Provision", "12.0", provisionRequest(nullptr));
  REQUIRE(one.has_doc);
  CHECK(one.doc.count("DevicePasswordHistory") == 1);
  CHECK(one.doc.count("AllowCamera") == 0);
}

TEST_CASE("14.1 device: Status 142, DeviceInformation required and stored", "[policies][provision]") {
  Stack s;
  enforce(s);
  Reply r = s.post("FolderSync", "14.1", folderSync());
  CHECK(r.http == 200);
  CHECK(r.root == t::FolderHierarchy::FolderSync);
  CHECK(r.status == 142);

  CHECK(s.post("Provision", "14.1", provisionRequest(nullptr)).status == 165);
  DeviceInfo info;
  Reply one = s.post("Provision", "14.1", provisionRequest(&info));
  REQUIRE(one.policy_status == 1);
  CHECK(one.info_status);
  const Device d = s.device();
  CHECK(d.model == "Pixel 8");
  CHECK(d.os == "Android 14");
  CHECK(d.imei == "356938035643809");
  CHECK(d.friendly_name == "Alice's phone");
  CHECK(d.os_language == "en-US");
  CHECK(d.phone_number == "+15550100");
  CHECK(d.mobile_operator == "Op");
  CHECK(d.user_agent == "Agent/2");
  Reply two = s.post("Provision", "14.1", ackRequest(one.key), one.key);
  REQUIRE(two.key != 0);
  CHECK(s.works("14.1", two.key));
  // A wrong key: 144.
  r = s.post("FolderSync", "14.1", folderSync(), two.key ^ 0x5a5a);
  CHECK(r.status == 144);
}

TEST_CASE("Provision statuses: missing and unknown PolicyType", "[policies][provision]") {
  Stack s;
  DeviceInfo info;
  std::string no_type;
  {
    eas::wbxml::Writer w(&no_type);
    w.start(p::Provision).start(p::Policies).empty(p::Policy).end().end();
  }
  CHECK(s.post("Provision", "14.1", no_type).status == 2);
  CHECK(s.post("Provision", "14.1", emptyProvision()).status == 2);
  Reply r = s.post("Provision", "14.1", provisionRequest(&info, "MS-WAP-Provisioning-XML"));
  CHECK(r.status == 1);
  CHECK(r.policy_status == 3);
  CHECK_FALSE(r.has_doc);
}

TEST_CASE("a policy change forces re-provisioning", "[policies][provision]") {
  Stack s;
  enforce(s);
  const uint32_t key = s.provision("14.1");
  CHECK(s.works("14.1", key));
  s.policy(PolicyLevel::kUser, kUser, "MinDevicePasswordLength", "8");
  CHECK(s.post("FolderSync", "14.1", folderSync(), key).status == 143);
  Reply old = s.post("FolderSync", "12.1", folderSync(), key);
  CHECK(old.http == 449);
  CHECK(old.reason == "policy.refresh");
  DeviceInfo info;
  Reply one = s.post("Provision", "14.1", provisionRequest(&info), key);
  CHECK(one.doc["MinDevicePasswordLength"] == "8");
  Reply two = s.post("Provision", "14.1", ackRequest(one.key), one.key);
  CHECK(s.works("14.1", two.key));
  // A change that does not alter what the device gets asks for nothing.
  s.policy(PolicyLevel::kDomain, "example.test", "MinDevicePasswordLength", "5");
  CHECK(s.works("14.1", two.key));
}

TEST_CASE("no policy enforced: everything allowed, neutral provision", "[policies][provision]") {
  Stack s;
  s.policy(PolicyLevel::kGlobal, "", "DevicePasswordEnabled", "1");  // configured, not enforced
  CHECK(s.works("14.1", std::nullopt));
  CHECK(s.works("12.1", std::nullopt));
  DeviceInfo info;
  Reply one = s.post("Provision", "14.1", provisionRequest(&info));
  REQUIRE(one.has_doc);
  for (const auto& setting : eas::commands::policyDocSettings()) {
    INFO(setting.key);
    CHECK(one.doc[std::string(setting.key)] == std::string(setting.neutral));
  }
  // Enforced, provisioned, then no longer enforced: one refresh for the neutral provision.
  s.policy(PolicyLevel::kGlobal, "", eas::commands::kPolicyEnforce, "1");
  const uint32_t key = s.provision("14.1");
  s.policy(PolicyLevel::kGlobal, "", eas::commands::kPolicyEnforce, "0");
  CHECK(s.post("FolderSync", "14.1", folderSync(), key).status == 143);
  const uint32_t neutral = s.provision("14.1");
  CHECK(s.works("14.1", neutral));
  CHECK(s.works("14.1", std::nullopt));
}

TEST_CASE("four-level policy inheritance reaches the document", "[policies][provision]") {
  Stack s;
  enforce(s);
  s.policy(PolicyLevel::kGlobal, "", "MinDevicePasswordLength", "4");
  s.policy(PolicyLevel::kDomain, "example.test", "MinDevicePasswordLength", "5");
  s.policy(PolicyLevel::kUser, kUser, "MinDevicePasswordLength", "6");
  s.policy(PolicyLevel::kDevice, "DEV1", "MinDevicePasswordLength", "7");
  s.policy(PolicyLevel::kDomain, "other.test", "MaxAttachmentSize", "99");
  DeviceInfo info;
  auto minLen = [&](const std::string& device) {
    Reply r = s.post("Provision", "14.1", provisionRequest(&info), std::nullopt, device);
    REQUIRE(r.has_doc);
    CHECK(r.doc["MaxAttachmentSize"].empty());  // other domain's row ignored
    return r.doc["MinDevicePasswordLength"];
  };
  CHECK(minLen("DEV1") == "7");
  CHECK(minLen("DEV2") == "6");
  REQUIRE(s.store->deletePolicy(PolicyLevel::kDevice, "DEV1", "MinDevicePasswordLength").ok());
  CHECK(minLen("DEV1") == "6");
  REQUIRE(s.store->deletePolicy(PolicyLevel::kUser, kUser, "MinDevicePasswordLength").ok());
  CHECK(minLen("DEV1") == "5");
  REQUIRE(s.store->deletePolicy(PolicyLevel::kDomain, "example.test", "MinDevicePasswordLength").ok());
  CHECK(minLen("DEV1") == "4");
}

TEST_CASE("ABQ through the request path", "[policies][abq]") {
  Stack s;
  auto add = [&](AbqKind kind, const std::string& value, AccessState action) {
    AbqRule r;
    r.kind = kind;
    r.value = value;
    r.action = action;
    REQUIRE(s.store->addAbqRule(r).ok());
  };
  add(AbqKind::kGlobal, "", AccessState::kBlock);
  add(AbqKind::kType, "andr", AccessState::kQuarantine);
  add(AbqKind::kType, "ANDROIDX", AccessState::kAllow);
  // Global rule: blocked, 403 on every command, kept in the list.
  // (403 up to 12.1; Status 129 DeviceIsBlockedForThisUser in the root from 14.0.)
  Reply r = s.post("FolderSync", "12.1", folderSync(), std::nullopt, "IPH1", kUser, "iPhone");
  CHECK(r.http == 403);
  CHECK(r.reason == "device.blocked");
  r = s.post("Provision", "14.1", emptyProvision(), std::nullopt, "IPH1", kUser, "iPhone");
  CHECK(r.reason == "device.blocked");
  CHECK(r.root == p::Provision);
  CHECK(r.status == 129);
  CHECK(s.post("Provision", "12.1", emptyProvision(), std::nullopt, "IPH1", kUser, "iPhone").http ==
        403);
  CHECK(s.device("IPH1").access_state == AccessState::kBlock);
  // Type prefix rule: quarantined, admitted, recorded.
  CHECK(s.post("FolderSync", "14.1", folderSync(), std::nullopt, "AND1", kUser, "Android").http ==
        200);
  CHECK(s.device("AND1").access_state == AccessState::kQuarantine);
  // The longest matching value wins.
  CHECK(s.post("FolderSync", "14.1", folderSync(), std::nullopt, "AND2", kUser, "AndroidXL").http ==
        200);
  CHECK(s.device("AND2").access_state == AccessState::kAllow);
  const auto events = s.audit("AND1");
  REQUIRE(events.size() == 2);
  CHECK(events[0] == AuditEvent::kFirstSeen);
  CHECK(events[1] == AuditEvent::kQuarantined);
  // A model rule applies once Provision brought the model.
  add(AbqKind::kModel, "pixel", AccessState::kBlock);
  DeviceInfo info;
  CHECK(s.post("Provision", "14.1", provisionRequest(&info), std::nullopt, "AND2", kUser,
               "AndroidXL")
            .status == 1);
  CHECK(s.post("FolderSync", "12.1", folderSync(), std::nullopt, "AND2", kUser, "AndroidXL").http ==
        403);
  CHECK(s.device("AND2").access_state == AccessState::kBlock);
  // An administrator's decision is not overridden by the rules.
  REQUIRE(s.store->setAccessState({kUser, "AND2"}, AccessState::kAllow, "admin").ok());
  CHECK(s.post("FolderSync", "14.1", folderSync(), std::nullopt, "AND2", kUser, "AndroidXL").http ==
        200);
}

TEST_CASE("maximum devices per user", "[policies][abq]") {
  Stack s;
  s.policy(PolicyLevel::kUser, kUser, eas::commands::kPolicyMaxDevices, "1");
  CHECK(s.works("14.1", std::nullopt, "DEV1"));
  Reply r = s.post("FolderSync", "14.1", folderSync(), std::nullopt, "DEV2");
  CHECK(r.reason == "device.blocked");
  CHECK(r.status == 129);
  CHECK(s.post("FolderSync", "12.1", folderSync(), std::nullopt, "DEV3").http == 403);
  CHECK(s.works("14.1", std::nullopt, "DEV1"));  // the known device still works
}

TEST_CASE("hard remote wipe end to end", "[policies][wipe]") {
  Stack s;
  enforce(s);
  const uint32_t key = s.provision("14.1");
  REQUIRE(s.store->setWipeState({kUser, "DEV1"}, WipeState::kPendingHard).ok());
  CHECK(s.post("FolderSync", "14.1", folderSync(), key).status == 140);
  Reply old = s.post("FolderSync", "12.1", folderSync(), key);
  CHECK(old.http == 449);
  CHECK(old.reason == "policy.remote_wipe");
  // Whatever Provision asks, the answer is the wipe directive.
  DeviceInfo info;
  for (const std::string& body : {emptyProvision(), provisionRequest(&info)}) {
    Reply w = s.post("Provision", "14.1", body, key);
    CHECK(w.status == 1);
    CHECK(w.remote_wipe);
    CHECK_FALSE(w.account_wipe);
    CHECK(w.policy_status == -1);
  }
  // A failed wipe: directive repeated, still pending.
  Reply failed = s.post("Provision", "14.1", wipeAck(2), key);
  CHECK(failed.status == 2);
  CHECK(failed.remote_wipe);
  CHECK(s.device().wipe_state == WipeState::kPendingHard);
  Reply done = s.post("Provision", "14.1", wipeAck(1), key);
  CHECK(done.status == 1);
  CHECK_FALSE(done.remote_wipe);
  CHECK(s.device().wipe_state == WipeState::kWiped);
  const auto events = s.audit();
  CHECK(events.back() == AuditEvent::kWipeAcknowledged);
  // The wiped device stays blocked.
  CHECK(s.post("FolderSync", "14.1", folderSync(), key).reason == "device.blocked");
  CHECK(s.post("FolderSync", "12.1", folderSync(), key).http == 403);
}

TEST_CASE("account-only wipe on 16.1", "[policies][wipe]") {
  Stack s;
  CHECK(s.works("16.1", std::nullopt));
  REQUIRE(s.store->setWipeState({kUser, "DEV1"}, WipeState::kPendingAccountOnly).ok());
  CHECK(s.post("FolderSync", "16.1", folderSync()).status == 140);
  Reply w = s.post("Provision", "16.1", emptyProvision());
  CHECK(w.account_wipe);
  CHECK_FALSE(w.remote_wipe);
  CHECK(s.post("Provision", "16.1", wipeAck(1, true)).status == 1);
  CHECK(s.device().wipe_state == WipeState::kWiped);
}

TEST_CASE("a wipe can be cancelled before the device acknowledges", "[policies][wipe]") {
  Stack s;
  CHECK(s.works("14.1", std::nullopt));
  REQUIRE(s.store->setWipeState({kUser, "DEV1"}, WipeState::kPendingHard).ok());
  CHECK(s.post("FolderSync", "14.1", folderSync()).status == 140);
  REQUIRE(s.store->setWipeState({kUser, "DEV1"}, WipeState::kNone).ok());
  CHECK(s.works("14.1", std::nullopt));
}

TEST_CASE("first and last sync times, last sync written once a minute", "[policies][abq]") {
  Stack s;
  const int64_t t0 = s.clock.unixSeconds();
  CHECK(s.works("14.1", std::nullopt));
  CHECK(s.device().first_sync == t0);
  CHECK(s.device().last_sync == t0);
  s.clock.advanceMs(30'000);
  CHECK(s.works("14.1", std::nullopt));
  CHECK(s.device().last_sync == t0);
  s.clock.advanceMs(31'000);
  CHECK(s.works("14.1", std::nullopt));
  CHECK(s.device().last_sync == t0 + 61);
  CHECK(s.device().first_sync == t0);
}
