// 2.5's MS-WAP-Provisioning-XML document and Status 141 (a version that
// cannot carry the enforced policy), through the request path; the notices
// Provision queues (policy not accepted, wipe confirmation).
#include "test/unit/policies/policy_stack.h"

namespace {

constexpr char kWap[] = "MS-WAP-Provisioning-XML";

// The value of <parm name="NAME" value="..."/> in a wap-provisioningdoc.
std::string parm(const std::string& doc, const std::string& name) {
  const std::string needle = "<parm name=\"" + name + "\" value=\"";
  const size_t at = doc.find(needle);
  if (at == std::string::npos) return "<absent>";
  const size_t from = at + needle.size();
  return doc.substr(from, doc.find('"', from) - from);
}

std::map<std::string, std::string> fields(const std::string& payload) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos < payload.size()) {
    size_t nl = payload.find('\n', pos);
    if (nl == std::string::npos) nl = payload.size();
    const std::string line = payload.substr(pos, nl - pos);
    const size_t eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
    pos = nl + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("2.5 device provisions with the WAP document", "[policies][provision][wap]") {
  Stack s;
  s.policy(PolicyLevel::kGlobal, "", eas::commands::kPolicyEnforce, "1");
  s.policy(PolicyLevel::kGlobal, "", "DevicePasswordEnabled", "1");
  s.policy(PolicyLevel::kGlobal, "", "AlphanumericDevicePasswordRequired", "1");
  s.policy(PolicyLevel::kGlobal, "", "MinDevicePasswordLength", "6");
  s.policy(PolicyLevel::kGlobal, "", "MaxInactivityTimeDeviceLock", "90");  // seconds
  s.policy(PolicyLevel::kGlobal, "", "MaxDevicePasswordFailedAttempts", "8");

  Reply r = s.post("FolderSync", "2.5", folderSync());
  CHECK(r.http == 449);  // 2.5 has no WBXML common status

  // 2.5 asks for the WAP type; the WBXML type is not for 2.5, nor WAP for 12.0+.
  CHECK(s.post("Provision", "2.5", provisionRequest(nullptr)).policy_status == 3);
  CHECK(s.post("Provision", "12.0", provisionRequest(nullptr, kWap)).policy_status == 3);

  Reply one = s.post("Provision", "2.5", provisionRequest(nullptr, kWap));
  REQUIRE(one.status == 1);
  REQUIRE(one.policy_status == 1);
  REQUIRE(one.key != 0);
  REQUIRE(one.has_doc);
  CHECK(one.doc.empty());  // no EASProvisionDoc
  const std::string& doc = one.data_text;
  CHECK(doc.rfind("<wap-provisioningdoc>", 0) == 0);
  CHECK(doc.find("<characteristic type=\"SecurityPolicy\">") != std::string::npos);
  CHECK(doc.find("<characteristic type=\"Registry\">") != std::string::npos);
  CHECK(parm(doc, "4131") == "0");  // password required
  CHECK(parm(doc, "AEFrequencyType") == "1");
  CHECK(parm(doc, "AEFrequencyValue") == "2");  // 90 s -> 2 min
  CHECK(parm(doc, "DeviceWipeThreshold") == "8");
  CHECK(parm(doc, "CodewordFrequency") == "4");
  CHECK(parm(doc, "MinimumPasswordLength") == "6");
  CHECK(parm(doc, "PasswordComplexity") == "0");

  Reply two = s.post("Provision", "2.5", ackRequest(one.key, 1, kWap), one.key);
  REQUIRE(two.policy_status == 1);
  REQUIRE(two.key != 0);
  CHECK_FALSE(two.has_doc);
  CHECK(s.works("2.5", two.key));
}

TEST_CASE("2.5 neutral WAP document and hostile policy values", "[policies][provision][wap]") {
  Stack s;
  Reply neutral = s.post("Provision", "2.5", provisionRequest(nullptr, kWap));
  REQUIRE(neutral.has_doc);
  CHECK(parm(neutral.data_text, "4131") == "1");
  CHECK(parm(neutral.data_text, "AEFrequencyType") == "0");
  CHECK(parm(neutral.data_text, "DeviceWipeThreshold") == "-1");
  CHECK(parm(neutral.data_text, "PasswordComplexity") == "2");

  s.policy(PolicyLevel::kGlobal, "", eas::commands::kPolicyEnforce, "1");
  s.policy(PolicyLevel::kGlobal, "", "MinDevicePasswordLength", "4\"/><x a=\"");
  Reply r = s.post("Provision", "2.5", provisionRequest(nullptr, kWap), std::nullopt, "DEV2");
  REQUIRE(r.has_doc);
  CHECK(parm(r.data_text, "MinimumPasswordLength") == "1");  // not a number: the default
  CHECK(r.data_text.find("<x") == std::string::npos);
}

TEST_CASE("Status 141: a legacy version cannot carry the enforced policy",
          "[policies][provision][141]") {
  Stack s;
  s.policy(PolicyLevel::kGlobal, "", eas::commands::kPolicyEnforce, "1");
  s.policy(PolicyLevel::kGlobal, "", "DevicePasswordEnabled", "1");
  s.policy(PolicyLevel::kGlobal, "", "DevicePasswordHistory", "5");  // 12.0 has it, 2.5 not
  s.policy(PolicyLevel::kGlobal, "", "AllowCamera", "0");            // 12.1 and later only

  Reply wap = s.post("Provision", "2.5", provisionRequest(nullptr, kWap));
  CHECK(wap.status == 141);
  CHECK(wap.policy_status == -1);
  Reply twelve = s.post("Provision", "12.0", provisionRequest(nullptr), std::nullopt, "DEV2");
  CHECK(twelve.status == 141);
  // 12.1 carries everything: provisions normally.
  CHECK(s.provision("12.1", "DEV3") != 0);

  // One "could not connect" notice per device, whatever the retries.
  for (int i = 0; i < 3; ++i) s.post("Provision", "2.5", provisionRequest(nullptr, kWap));
  std::vector<Notice> notices = s.notices();
  int dev1 = 0, dev2 = 0;
  for (const Notice& n : notices) {
    CHECK(n.kind == "policy_rejected");
    if (n.ref.device_id == "DEV1") ++dev1;
    if (n.ref.device_id == "DEV2") ++dev2;
    CHECK(fields(n.payload)["reason"].rfind("legacy_device", 0) == 0);
  }
  CHECK(dev1 == 1);
  CHECK(dev2 == 1);
  // A day later the device may be told again.
  s.clock.advanceMs(24LL * 3600 * 1000 + 1000);
  s.post("Provision", "2.5", provisionRequest(nullptr, kWap));
  CHECK(s.notices().size() == notices.size() + 1);

  // Allowing non-provisionable devices: the 2.5 device gets what WAP can say.
  s.policy(PolicyLevel::kUser, kUser, eas::commands::kPolicyAllowNonProvisionable, "1");
  Reply one = s.post("Provision", "2.5", provisionRequest(nullptr, kWap));
  REQUIRE(one.policy_status == 1);
  CHECK(parm(one.data_text, "4131") == "0");
  Reply two = s.post("Provision", "2.5", ackRequest(one.key, 1, kWap), one.key);
  CHECK(s.works("2.5", two.key));
}

TEST_CASE("settings left neutral need no carrying: no 141", "[policies][provision][141]") {
  Stack s;
  s.policy(PolicyLevel::kGlobal, "", eas::commands::kPolicyEnforce, "1");
  s.policy(PolicyLevel::kGlobal, "", "AllowCamera", "1");  // the neutral value
  s.policy(PolicyLevel::kGlobal, "", "MinDevicePasswordLength", "4");
  CHECK(s.post("Provision", "12.0", provisionRequest(nullptr)).policy_status == 1);
  CHECK(s.post("Provision", "2.5", provisionRequest(nullptr, kWap), std::nullopt, "DEV2")
            .policy_status == 1);
}

TEST_CASE("policy not accepted (139/145) queues one notice", "[policies][provision][notices]") {
  Stack s;
  enforce(s);
  DeviceInfo info;
  Reply one = s.post("Provision", "14.1", provisionRequest(&info));
  REQUIRE(one.key != 0);
  CHECK(s.post("Provision", "14.1", ackRequest(one.key, 3), one.key).status == 139);
  auto notices = s.notices();
  REQUIRE(notices.size() == 1);
  CHECK(notices[0].kind == "policy_rejected");
  CHECK(notices[0].ref.device_id == "DEV1");
  CHECK(fields(notices[0].payload)["reason"] == "not_applied: the device reported status 3");
  Reply again = s.post("Provision", "14.1", provisionRequest(&info));
  CHECK(s.post("Provision", "14.1", ackRequest(again.key, 4), again.key).status == 145);
  CHECK(s.notices().size() == 1);  // same device, same day
}

TEST_CASE("wipe acknowledgement queues the confirmation notice", "[policies][wipe][notices]") {
  Stack s;
  CHECK(s.works("14.1", std::nullopt));
  REQUIRE(s.store->setWipeState({kUser, "DEV1"}, WipeState::kPendingHard).ok());
  CHECK(s.post("Provision", "14.1", emptyProvision()).remote_wipe);
  CHECK(s.notices().empty());  // nothing before the device answers
  CHECK(s.post("Provision", "14.1", wipeAck(1)).status == 1);
  auto notices = s.notices();
  REQUIRE(notices.size() == 1);
  CHECK(notices[0].kind == "wipe_confirmation");
  CHECK(notices[0].ref == DeviceRef{kUser, "DEV1"});
  auto f = fields(notices[0].payload);
  CHECK(f["wipe"] == "hard");
  CHECK(f["result"] == "succeeded");
  CHECK(f["device_status"] == "1");
}

TEST_CASE("Status 141: an acknowledgement without the policy key", "[policies][provision][141]") {
  Stack s;
  enforce(s);
  Reply one = s.post("Provision", "12.1", provisionRequest(nullptr));
  REQUIRE(one.key != 0);
  std::string no_key;
  {
    eas::wbxml::Writer w(&no_key);
    w.start(p::Provision).start(p::Policies).start(p::Policy);
    w.element(p::PolicyType, "MS-EAS-Provisioning-WBXML").element(p::Status, 1);
    w.end().end().end();
  }
  CHECK(s.post("Provision", "12.1", no_key, one.key).status == 141);
  CHECK(s.device().provisioning == ProvisioningStatus::kPending);  // nothing granted
  // Allowed non-provisionable devices: treated as a fresh request.
  s.policy(PolicyLevel::kGlobal, "", eas::commands::kPolicyAllowNonProvisionable, "1");
  Reply fresh = s.post("Provision", "12.1", no_key, one.key);
  CHECK(fresh.status == 1);
  CHECK(fresh.policy_status == 1);
  CHECK(fresh.has_doc);
}
