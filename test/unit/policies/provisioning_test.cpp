// Provisioning, policies, ABQ and remote wipe through the real request path
// (policy_stack.h: makeEasRequestHandler, the store-backed gates, SQLite).
#include "test/unit/policies/policy_stack.h"


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
