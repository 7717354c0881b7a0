// Provision (MS-ASPROV, CMD §2.2.1.14; protocol.md §3.2): the two-phase
// policy download (temporary key, acknowledgement, final key), the device's
// DeviceInformation, remote wipe and account-only wipe. Policy values come
// from the store's four-level resolution; the key names are the
// EASProvisionDoc element names (kPolicyDocSettings) plus the few server-side
// keys below. The policy key gate (policies/) shares the fingerprint helpers
// so a policy change since the device's final key is seen as "refresh".
#pragma once

#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/commands/command.h"
#include "core/wbxml/codepages.h"
#include "storage/metadata_store.h"

namespace eas::commands {

// Server-side policy keys (not sent in the EASProvisionDoc).
inline constexpr char kPolicyEnforce[] = "Enforce";  // "1": policy enforced
// "1": accept a device that acknowledges with partial/not applied (Status 2/3).
inline constexpr char kPolicyAllowNonProvisionable[] = "AllowNonProvisionableDevices";
inline constexpr char kPolicyMaxDevices[] = "MaxDevicesPerUser";  // 0/absent: no limit
// The device setting holding the fingerprint of the policy its final key was issued for.
inline constexpr char kDevicePolicyHashSetting[] = "policy.hash";

// One EASProvisionDoc element: the policy key (= element name), its tag, the
// neutral value ("" = empty tag, i.e. not set), and the first version that has it.
struct PolicyDocSetting {
  std::string_view key;
  wbxml::Tag tag;
  std::string_view neutral;
  bool since_121;  // false: in 12.0 already
  bool app_list = false;  // comma-separated list -> ApplicationName / Hash children
};
std::span<const PolicyDocSetting> policyDocSettings();

using EffectivePolicies = std::map<std::string, storage::EffectivePolicy>;

// Whether a policy is enforced for this device (Enforce = 1 at its level).
bool policyEnforced(const EffectivePolicies& policies);
// Stable fingerprint of what the device gets (neutral when not enforced).
std::string policyFingerprint(const EffectivePolicies& policies);
// "user@domain" -> "domain" ("" when there is no '@').
std::string domainOf(const std::string& login);

std::unique_ptr<Command> makeProvisionCommand();

}  // namespace eas::commands
