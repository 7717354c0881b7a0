// The maximum protocol version per policy (OPTIONS and refusals), quarantine
// (default folders only in the real FolderSync, the information notice) and
// the new-device settings of ABQ rules, through the request path.
#include "policies/abq.h"
#include "test/unit/policies/policy_stack.h"

namespace {

std::string headerOf(const HttpResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "<absent>";
}

AbqRule rule(AbqKind kind, const std::string& value, AccessState action) {
  AbqRule r;
  r.kind = kind;
  r.value = value;
  r.action = action;
  return r;
}

}  // namespace

TEST_CASE("MaxProtocolVersion caps OPTIONS and refuses versions above it",
          "[policies][version_cap]") {
  Stack s;
  const std::string all = "2.5,12.0,12.1,14.0,14.1,16.0,16.1";
  CHECK(headerOf(s.options(), "MS-ASProtocolVersions") == all);

  // User level: reaches an OPTIONS without DeviceId (iOS).
  s.policy(PolicyLevel::kUser, kUser, eas::commands::kPolicyMaxProtocolVersion, "14.0");
  HttpResponse o = s.options();
  CHECK(o.status == 200);
  CHECK(headerOf(o, "MS-ASProtocolVersions") == "2.5,12.0,12.1,14.0");
  CHECK(headerOf(o, "MS-ASProtocolCommands").find("Find") == std::string::npos);
  Reply above = s.post("FolderSync", "14.1", folderSync());
  CHECK(above.http == 400);
  CHECK(above.reason == "http.unsupported_version");
  CHECK(s.works("14.0", std::nullopt));
  // Another user is not capped.
  CHECK(headerOf(s.options("", "bob@example.test"), "MS-ASProtocolVersions") == all);

  // Device level: only where the request names the device.
  s.policy(PolicyLevel::kDevice, "DEV9", eas::commands::kPolicyMaxProtocolVersion, "12.1");
  CHECK(headerOf(s.options("DEV9"), "MS-ASProtocolVersions") == "2.5,12.0,12.1");
  CHECK(headerOf(s.options(), "MS-ASProtocolVersions") == "2.5,12.0,12.1,14.0");
  CHECK(s.post("FolderSync", "14.0", folderSync(), std::nullopt, "DEV9").http == 400);
  CHECK(s.works("12.1", std::nullopt, "DEV9"));
  // A cap above the server's maximum changes nothing; a bad value is ignored.
  s.policy(PolicyLevel::kUser, kUser, eas::commands::kPolicyMaxProtocolVersion, "16.1");
  CHECK(headerOf(s.options(), "MS-ASProtocolVersions") == all);
  s.policy(PolicyLevel::kUser, kUser, eas::commands::kPolicyMaxProtocolVersion, "13.0");
  CHECK(headerOf(s.options(), "MS-ASProtocolVersions") == all);
  // Inherit at user level: the domain's cap applies.
  REQUIRE(s.store->deletePolicy(PolicyLevel::kUser, kUser, eas::commands::kPolicyMaxProtocolVersion)
              .ok());
  s.policy(PolicyLevel::kDomain, "example.test", eas::commands::kPolicyMaxProtocolVersion, "12.0");
  CHECK(headerOf(s.options(), "MS-ASProtocolVersions") == "2.5,12.0");
}

TEST_CASE("a quarantined device syncs default folders only and is told by mail",
          "[policies][quarantine]") {
  Stack s(/*real_folder_sync=*/true);
  REQUIRE(s.store->addAbqRule(rule(AbqKind::kType, "Quar", AccessState::kQuarantine)).ok());
  Reply all = s.post("FolderSync", "14.1", folderSync(), std::nullopt, "ALLOWED1", kUser, "Phone");
  REQUIRE(all.status == 1);
  CHECK(all.folders.size() == 6);
  Reply q = s.post("FolderSync", "14.1", folderSync(), std::nullopt, "QUAR1", kUser, "QuarPhone");
  REQUIRE(q.status == 1);
  std::vector<std::string> names = q.folders;
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"Drafts", "INBOX", "Sent", "Trash"});
  CHECK(s.device("QUAR1").access_state == AccessState::kQuarantine);

  auto notices = s.notices();
  REQUIRE(notices.size() == 1);
  CHECK(notices[0].kind == "quarantined");
  CHECK(notices[0].ref == DeviceRef{kUser, "QUAR1"});
  CHECK(notices[0].payload.find("reason=abq:type:Quar") == 0);
  // Further requests queue nothing more.
  s.post("FolderSync", "14.1", folderSync(), std::nullopt, "QUAR1", kUser, "QuarPhone");
  CHECK(s.notices().size() == 1);

  // Allowed by the administrator: the next FolderSync brings the other folders.
  REQUIRE(s.store->setAccessState({kUser, "QUAR1"}, AccessState::kAllow, "admin").ok());
  Reply after = s.post("FolderSync", "14.1", folderSync(), std::nullopt, "QUAR1", kUser, "QuarPhone");
  CHECK(after.folders.size() == 6);
}

TEST_CASE("new-device settings of the deciding rule, else the global ones",
          "[policies][abq][new_device]") {
  Stack s;
  auto id = s.store->addAbqRule(rule(AbqKind::kType, "Tablet", AccessState::kAllow));
  REQUIRE(id.ok());
  REQUIRE(s.store->setAbqSetting(eas::policies::abqRuleSettingsKey(*id),
                                 "folder_mode=default; policy:MaxProtocolVersion=14.0")
              .ok());
  REQUIRE(s.store->addAbqRule(rule(AbqKind::kType, "Watch", AccessState::kAllow)).ok());
  REQUIRE(s.store->setAbqSetting(eas::policies::kAbqNewDeviceSettingsKey, "tasks_mode=events").ok());

  CHECK(s.works("14.0", std::nullopt, "TAB1"));  // the request's own type is "Android"...
  Reply t = s.post("FolderSync", "14.0", folderSync(), std::nullopt, "TAB2", kUser, "TabletX");
  CHECK(t.http == 200);
  const Device tab = s.device("TAB2");
  CHECK(tab.settings.at("folder_mode") == "default");
  CHECK(tab.settings.count("tasks_mode") == 0);
  auto eff = s.store->effectivePolicies("example.test", kUser, "TAB2");
  REQUIRE(eff.ok());
  CHECK(eff->at("MaxProtocolVersion").value == "14.0");
  CHECK(eff->at("MaxProtocolVersion").from == PolicyLevel::kDevice);
  // ...and the device-level policy it got is enforced on its next request.
  CHECK(s.post("FolderSync", "14.1", folderSync(), std::nullopt, "TAB2", kUser, "TabletX").http ==
        400);

  // A rule without settings and no rule at all: the global new-device settings.
  CHECK(s.post("FolderSync", "14.1", folderSync(), std::nullopt, "WAT1", kUser, "Watch2").http ==
        200);
  CHECK(s.device("WAT1").settings.at("tasks_mode") == "events");
  CHECK(s.device("TAB1").settings.at("tasks_mode") == "events");
  CHECK(s.device("TAB1").settings.count("folder_mode") == 0);

  // Only for new devices: changing the settings later leaves known devices alone.
  REQUIRE(s.store->setAbqSetting(eas::policies::kAbqNewDeviceSettingsKey, "tasks_mode=none").ok());
  CHECK(s.works("14.1", std::nullopt, "TAB1"));
  CHECK(s.device("TAB1").settings.at("tasks_mode") == "events");
  // Settings that do not parse are ignored, the device still gets in.
  REQUIRE(s.store->setAbqSetting(eas::policies::kAbqNewDeviceSettingsKey, "garbage").ok());
  CHECK(s.works("14.1", std::nullopt, "NEW1"));
  CHECK(s.device("NEW1").settings.count("tasks_mode") == 0);
}

TEST_CASE("parseNewDeviceSettings", "[policies][abq][new_device]") {
  using eas::policies::parseNewDeviceSettings;
  auto ok = parseNewDeviceSettings(" folder_mode = default ;\npolicy:MaxEmailAgeFilter=3;;");
  REQUIRE(ok.ok());
  CHECK(ok->device_settings == std::map<std::string, std::string>{{"folder_mode", "default"}});
  CHECK(ok->policies == std::map<std::string, std::string>{{"MaxEmailAgeFilter", "3"}});
  CHECK(parseNewDeviceSettings("").ok());
  CHECK(parseNewDeviceSettings("").value().empty());
  for (const char* bad : {"novalue", "=x", "policy:=1", " ; k"}) {
    INFO(bad);
    auto r = parseNewDeviceSettings(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().reason() == "abq.bad_settings");
  }
}
