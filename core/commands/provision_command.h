// Provision (MS-ASPROV, CMD §2.2.1.14; protocol.md §3.2): the two-phase
// policy download (temporary key, acknowledgement, final key), the device's
// DeviceInformation, remote wipe and account-only wipe. Policy values come
// from the store's four-level resolution; the key names are the
// EASProvisionDoc element names (kPolicyDocSettings) plus the few server-side
// keys below. The policy key gate (policies/) shares the fingerprint helpers
// so a policy change since the device's final key is seen as "refresh".
#pragma once

#include <initializer_list>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "core/commands/command.h"
#include "core/wbxml/codepages.h"
#include "storage/metadata_store.h"

namespace eas::commands {

// Server-side policy keys (not sent in the EASProvisionDoc).
inline constexpr char kPolicyEnforce[] = "Enforce";  // "1": policy enforced
// "1": accept a device that acknowledges with partial/not applied (Status 2/3).
inline constexpr char kPolicyAllowNonProvisionable[] = "AllowNonProvisionableDevices";
inline constexpr char kPolicyMaxDevices[] = "MaxDevicesPerUser";  // 0/absent: no limit
// The highest protocol version offered and accepted ("14.0"; absent: the
// server's). OPTIONS of iOS carries no DeviceId, so for iOS it must be set
// at user level or above (seed, "Device Level Policies").
inline constexpr char kPolicyMaxProtocolVersion[] = "MaxProtocolVersion";
// The device setting holding the fingerprint of the policy its final key was issued for.
inline constexpr char kDevicePolicyHashSetting[] = "policy.hash";
// When the last "policy not accepted" notice was queued for the device (unix seconds).
inline constexpr char kDevicePolicyNoticeSetting[] = "notice.policy_rejected";

// Notice kinds (storage::Notice::kind) queued for the notice mailer
// (policies/notices); the payload is noticePayload() lines.
inline constexpr char kNoticeQuarantined[] = "quarantined";
inline constexpr char kNoticePolicyRejected[] = "policy_rejected";
inline constexpr char kNoticeWipeConfirmation[] = "wipe_confirmation";
inline constexpr char kNoticeFolderPushRequest[] = "folder_push_request";
// "key=value" lines, one per field (CR/LF in values become spaces): the
// placeholders the notice templates may use besides the device's own fields.
std::string noticePayload(
    std::initializer_list<std::pair<std::string_view, std::string_view>> fields);

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
// Whether version `v`'s policy document can carry every enforced setting
// (2.5's WAP document knows five, 12.0 lacks the 12.1 additions); a setting
// left at its neutral value needs no carrying. Not enforced: true.
bool policyFitsVersion(const EffectivePolicies& policies, protocol::ProtocolVersion v);
// Stable fingerprint of what the device gets (neutral when not enforced).
std::string policyFingerprint(const EffectivePolicies& policies);
// "user@domain" -> "domain" ("" when there is no '@').
std::string domainOf(const std::string& login);

std::unique_ptr<Command> makeProvisionCommand();

}  // namespace eas::commands
