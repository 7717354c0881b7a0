#include "core/commands/provision_command.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>

#include "core/base/log.h"
#include "core/commands/command_table.h"
#include "storage/metadata_store.h"

namespace eas::commands {
namespace {

namespace p = wbxml::tags::Provision;
namespace s = wbxml::tags::Settings;
using protocol::ProtocolVersion;
using storage::WipeState;

constexpr std::string_view kWbxmlPolicyType = "MS-EAS-Provisioning-WBXML";
constexpr std::string_view kWapPolicyType = "MS-WAP-Provisioning-XML";  // 2.5 (PROV §2.2.2.24.2)

// EASProvisionDoc in schema order (PROV §2.2.2.27). Neutral values: the
// factory defaults a "neutral provision" puts back (seed, "Default Policies").
constexpr PolicyDocSetting kDoc[] = {
    {"DevicePasswordEnabled", p::DevicePasswordEnabled, "0", false},
    {"AlphanumericDevicePasswordRequired", p::AlphanumericDevicePasswordRequired, "0", false},
    {"PasswordRecoveryEnabled", p::PasswordRecoveryEnabled, "0", false},
    {"RequireStorageCardEncryption", p::RequireStorageCardEncryption, "0", false},
    {"AttachmentsEnabled", p::AttachmentsEnabled, "1", false},
    {"MinDevicePasswordLength", p::MinDevicePasswordLength, "", false},
    {"MaxInactivityTimeDeviceLock", p::MaxInactivityTimeDeviceLock, "", false},
    {"MaxDevicePasswordFailedAttempts", p::MaxDevicePasswordFailedAttempts, "", false},
    {"MaxAttachmentSize", p::MaxAttachmentSize, "", false},
    {"AllowSimpleDevicePassword", p::AllowSimpleDevicePassword, "1", false},
    {"DevicePasswordExpiration", p::DevicePasswordExpiration, "", false},
    {"DevicePasswordHistory", p::DevicePasswordHistory, "0", false},
    {"AllowStorageCard", p::AllowStorageCard, "1", true},
    {"AllowCamera", p::AllowCamera, "1", true},
    {"RequireDeviceEncryption", p::RequireDeviceEncryption, "0", true},
    {"AllowUnsignedApplications", p::AllowUnsignedApplications, "1", true},
    {"AllowUnsignedInstallationPackages", p::AllowUnsignedInstallationPackages, "1", true},
    {"MinDevicePasswordComplexCharacters", p::MinDevicePasswordComplexCharacters, "1", true},
    {"AllowWiFi", p::AllowWiFi, "1", true},
    {"AllowTextMessaging", p::AllowTextMessaging, "1", true},
    {"AllowPOPIMAPEmail", p::AllowPOPIMAPEmail, "1", true},
    {"AllowBluetooth", p::AllowBluetooth, "2", true},
    {"AllowIrDA", p::AllowIrDA, "1", true},
    {"RequireManualSyncWhenRoaming", p::RequireManualSyncWhenRoaming, "0", true},
    {"AllowDesktopSync", p::AllowDesktopSync, "1", true},
    {"MaxCalendarAgeFilter", p::MaxCalendarAgeFilter, "0", true},
    {"AllowHTMLEmail", p::AllowHTMLEmail, "1", true},
    {"MaxEmailAgeFilter", p::MaxEmailAgeFilter, "0", true},
    {"MaxEmailBodyTruncationSize", p::MaxEmailBodyTruncationSize, "-1", true},
    {"MaxEmailHTMLBodyTruncationSize", p::MaxEmailHTMLBodyTruncationSize, "-1", true},
    {"RequireSignedSMIMEMessages", p::RequireSignedSMIMEMessages, "0", true},
    {"RequireEncryptedSMIMEMessages", p::RequireEncryptedSMIMEMessages, "0", true},
    {"RequireSignedSMIMEAlgorithm", p::RequireSignedSMIMEAlgorithm, "0", true},
    {"RequireEncryptionSMIMEAlgorithm", p::RequireEncryptionSMIMEAlgorithm, "0", true},
    {"AllowSMIMEEncryptionAlgorithmNegotiation", p::AllowSMIMEEncryptionAlgorithmNegotiation, "2",
     true},
    {"AllowSMIMESoftCerts", p::AllowSMIMESoftCerts, "1", true},
    {"AllowBrowser", p::AllowBrowser, "1", true},
    {"AllowConsumerEmail", p::AllowConsumerEmail, "1", true},
    {"AllowRemoteDesktop", p::AllowRemoteDesktop, "1", true},
    {"AllowInternetSharing", p::AllowInternetSharing, "1", true},
    {"UnapprovedInROMApplicationList", p::UnapprovedInROMApplicationList, "", true, true},
    {"ApprovedApplicationList", p::ApprovedApplicationList, "", true, true},
};

std::string valueOf(const EffectivePolicies& policies, std::string_view key,
                    std::string_view fallback = {}) {
  auto it = policies.find(std::string(key));
  return it == policies.end() ? std::string(fallback) : it->second.value;
}

// What a 2.5 device can be told: the wap-provisioningdoc knows only these.
constexpr std::string_view kWapSettings[] = {
    "DevicePasswordEnabled", "AlphanumericDevicePasswordRequired", "MinDevicePasswordLength",
    "MaxInactivityTimeDeviceLock", "MaxDevicePasswordFailedAttempts"};

bool carriedIn(const PolicyDocSetting& d, ProtocolVersion v) {
  if (v >= ProtocolVersion::k121) return true;
  if (v >= ProtocolVersion::k120) return !d.since_121;
  for (std::string_view k : kWapSettings)
    if (k == d.key) return true;
  return false;
}

// What the device is sent for one setting: the policy's value when enforced,
// else the neutral value.
std::string sentValue(const EffectivePolicies& policies, bool enforced, const PolicyDocSetting& d) {
  return enforced ? valueOf(policies, d.key, d.neutral) : std::string(d.neutral);
}

// A number for the WAP document, whatever the administrator typed: the
// document is XML text, so nothing but digits (and a sign) may reach it.
long wapNumber(const EffectivePolicies& policies, std::string_view key, long fallback) {
  const std::string text = valueOf(policies, key);
  long v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  return (!text.empty() && ec == std::errc() && ptr == text.data() + text.size()) ? v : fallback;
}

// The 2.5 policy document (PROV §2.2.2.24.2: a wap-provisioningdoc with the
// SecurityPolicy and Registry characteristics, as text inside Data).
// Neutral when the policy is not enforced.
std::string wapDoc(const EffectivePolicies& policies) {
  const bool enforced = policyEnforced(policies);
  auto on = [&](std::string_view key) { return enforced && valueOf(policies, key) == "1"; };
  auto num = [&](std::string_view key, long fallback) {
    return enforced ? wapNumber(policies, key, fallback) : fallback;
  };
  const long inactivity_s = num("MaxInactivityTimeDeviceLock", 0);
  const long inactivity_min = inactivity_s > 0 ? (inactivity_s + 59) / 60 : 0;  // EAS: seconds
  const long wipe_after = num("MaxDevicePasswordFailedAttempts", 0);
  const long min_length = num("MinDevicePasswordLength", 1);
  auto parm = [](std::string& out, std::string_view name, long value) {
    out += "<parm name=\"";
    out += name;
    out += "\" value=\"" + std::to_string(value) + "\"/>";
  };
  std::string x = "<wap-provisioningdoc><characteristic type=\"SecurityPolicy\">";
  parm(x, "4131", on("DevicePasswordEnabled") ? 0 : 1);  // 0: a password is required
  parm(x, "4133", 1);  // desktop unlock allowed (what Exchange 2007 sends)
  x += "</characteristic><characteristic type=\"Registry\">";
  x += "<characteristic type=\"HKLM\\Comm\\Security\\Policy\\LASSD\\AE\\"
       "{50C13377-C66D-400C-889E-C316FC4AB374}\">";
  parm(x, "AEFrequencyType", inactivity_min > 0 ? 1 : 0);  // 1: lock after AEFrequencyValue min
  parm(x, "AEFrequencyValue", inactivity_min);
  x += "</characteristic><characteristic type=\"HKLM\\Comm\\Security\\Policy\\LASSD\">";
  // -1: no local wipe; the "a1b2c3" prompt comes at half the threshold.
  parm(x, "DeviceWipeThreshold", wipe_after > 0 ? wipe_after : -1);
  parm(x, "CodewordFrequency", wipe_after > 0 ? std::max(1L, wipe_after / 2) : -1);
  x += "</characteristic><characteristic "
       "type=\"HKLM\\Comm\\Security\\Policy\\LASSD\\LAP\\lap_pw\">";
  parm(x, "MinimumPasswordLength", min_length > 0 ? min_length : 1);
  // 0: letters and digits required, 2: anything.
  parm(x, "PasswordComplexity", on("AlphanumericDevicePasswordRequired") ? 0 : 2);
  x += "</characteristic></characteristic></wap-provisioningdoc>";
  return x;
}

uint32_t newPolicyKey() {
  // Random and non-zero (protocol.md §3.2); one generator per thread.
  thread_local std::mt19937 gen{std::random_device{}()};
  std::uniform_int_distribution<uint32_t> dist(1, UINT32_MAX);
  return dist(gen);
}

bool parseKey(std::string_view text, uint32_t* out) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

int parseInt(std::string_view text, int fallback) {
  int v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  return (ec == std::errc() && ptr == text.data() + text.size()) ? v : fallback;
}

void writeDoc(wbxml::Writer& w, const EffectivePolicies& policies, ProtocolVersion v) {
  const bool enforced = policyEnforced(policies);
  w.start(p::EASProvisionDoc);
  for (const PolicyDocSetting& d : kDoc) {
    if (d.since_121 && v < ProtocolVersion::k121) continue;
    const std::string value = sentValue(policies, enforced, d);
    if (!d.app_list) {
      if (value.empty())
        w.empty(d.tag);
      else
        w.element(d.tag, value);
      continue;
    }
    w.start(d.tag);
    const wbxml::Tag child = d.tag == p::ApprovedApplicationList ? p::Hash : p::ApplicationName;
    size_t pos = 0;
    while (pos < value.size()) {
      size_t comma = value.find(',', pos);
      if (comma == std::string::npos) comma = value.size();
      if (comma > pos) w.element(child, std::string_view(value).substr(pos, comma - pos));
      pos = comma + 1;
    }
    w.end();
  }
  w.end();
}

class ProvisionCommand final : public Command {
 public:
  std::optional<CommandReply> handle(CommandContext& ctx) override {
    const CommandRequest& req = ctx.request();
    CommandReply reply;
    storage::MetadataStore* store = req.services ? req.services->store : nullptr;
    if (!store) {
      reply.status = Status::Internal("provision.no_store", "no metadata store configured");
      return reply;
    }
    if (!req.document) return statusOnly(2);  // Provision always has a body
    const wbxml::Element& root = req.document->root();
    const protocol::ProtocolVersion v = req.capabilities.version;
    storage::DeviceRef ref{req.login, req.query ? req.query->device_id : std::string()};

    auto found = store->findDevice(ref);
    storage::Device device;
    if (found.ok()) {
      device = std::move(found.value());
    } else if (found.status().isNotFound()) {
      // Normally the device gate created it; without one, Provision does.
      device.ref = ref;
      device.device_type = req.query ? req.query->device_type : std::string();
      device.user_agent = std::string(req.user_agent);
      device.protocol_version = std::string(protocol::toString(v));
      device.first_sync = device.last_sync = req.services->clock->unixSeconds();
      if (Status st = store->putDevice(device); !st.ok()) return storeError(st);
    } else {
      return storeError(found.status());
    }

    // A wipe acknowledgement (PROV §3.2.5.1.2.2/3).
    for (wbxml::Tag wipe_tag : {p::RemoteWipe, p::AccountOnlyRemoteWipe}) {
      const wbxml::Element* ack = root.child(wipe_tag);
      if (!ack || !ack->hasChild(p::Status)) continue;
      const bool account_only = wipe_tag == p::AccountOnlyRemoteWipe;
      const WipeState pending = account_only ? WipeState::kPendingAccountOnly : WipeState::kPendingHard;
      if (device.wipe_state != pending) return statusOnly(1);  // nothing pending: just accept
      const int client = parseInt(ack->childText(p::Status), 0);
      storage::AuditEntry audit;
      audit.at = req.services->clock->unixSeconds();
      audit.ref = ref;
      audit.event = storage::AuditEvent::kWipeAcknowledged;
      audit.detail = std::string(account_only ? "account-only" : "hard") +
                     " wipe acknowledged, device status " + std::to_string(client);
      if (auto a = store->appendAudit(audit); !a.ok()) return storeError(a.status());
      // The confirmation mail to the user, administrator in Cc (seed, "E-mail
      // Confirmation"), for a success and for a failure alike.
      queueNotice(*store, req, ref, kNoticeWipeConfirmation,
                  noticePayload({{"wipe", account_only ? "account-only" : "hard"},
                                 {"result", client == 1 ? "succeeded" : "failed"},
                                 {"device_status", std::to_string(client)}}));
      if (client != 1) return wipeDirective(2, account_only);  // failed: say it again
      if (Status st = store->setWipeState(ref, WipeState::kWiped); !st.ok()) return storeError(st);
      return statusOnly(1);
    }

    // A pending wipe is the answer to any Provision (PROV §3.2.5.1.1).
    if (device.wipe_state == WipeState::kPendingHard) return wipeDirective(1, false);
    if (device.wipe_state == WipeState::kPendingAccountOnly && v >= ProtocolVersion::k161)
      return wipeDirective(1, true);

    const wbxml::Element* policies_el = root.child(p::Policies);
    const wbxml::Element* policy = policies_el ? policies_el->child(p::Policy) : nullptr;
    if (!policy || !policy->hasChild(p::PolicyType)) return statusOnly(2);
    const std::string_view type = policy->childText(p::PolicyType);
    const bool acknowledging = policy->hasChild(p::PolicyKey);

    // DeviceInformation: required with the initial request from 14.1 on.
    const wbxml::Element* info = root.child(s::DeviceInformation);
    if (!acknowledging && v >= ProtocolVersion::k141 && !info) return statusOnly(165);
    if (info) {
      if (const wbxml::Element* set = info->child(s::Set)) {
        auto take = [&](wbxml::Tag t, std::string* field) {
          if (set->hasChild(t)) *field = std::string(set->childText(t));
        };
        take(s::Model, &device.model);
        take(s::IMEI, &device.imei);
        take(s::FriendlyName, &device.friendly_name);
        take(s::OS, &device.os);
        take(s::OSLanguage, &device.os_language);
        take(s::PhoneNumber, &device.phone_number);
        take(s::MobileOperator, &device.mobile_operator);
        take(s::UserAgent, &device.user_agent);
      }
      device.protocol_version = std::string(protocol::toString(v));
      if (Status st = store->putDevice(device); !st.ok()) return storeError(st);
    }

    // Each version has its one document type: WBXML from 12.0, WAP XML in 2.5.
    const bool wap = type == kWapPolicyType;
    if (wap ? v != ProtocolVersion::k25 : (type != kWbxmlPolicyType || v < ProtocolVersion::k120))
      return policyReply(info != nullptr, type, 3, 0, nullptr, v);  // unknown policy type

    auto effective = store->effectivePolicies(domainOf(req.login), req.login, ref.device_id);
    if (!effective.ok()) return storeError(effective.status());
    const bool lenient = valueOf(effective.value(), kPolicyAllowNonProvisionable) == "1";
    // A version that cannot carry every enforced setting (2.5, 12.0):
    // 141 LegacyDeviceOnStrictPolicy, unless such devices are allowed, when
    // they get what their document can say.
    if (!lenient && !policyFitsVersion(effective.value(), v)) {
      queuePolicyNotice(*store, req, ref, "legacy_device: protocol " +
                                              std::string(protocol::toString(v)) +
                                              " cannot enforce the policy");
      return statusOnly(141);
    }
    // An acknowledgement (the client's Policy Status) without the policy key:
    // 141 when the policy does not allow clients without a key (PROV
    // §3.1.5.2); otherwise it is taken as a fresh request.
    if (!acknowledging && policy->hasChild(p::Status) && !lenient &&
        policyEnforced(effective.value()))
      return statusOnly(141);

    if (!acknowledging) {
      // Phase 1: the policy and a temporary key, valid for the acknowledgement only.
      const uint32_t temp = newPolicyKey();
      if (Status st = store->setProvisioning(ref, temp, storage::ProvisioningStatus::kPending);
          !st.ok())
        return storeError(st);
      return policyReply(info != nullptr, type, 1, temp, &effective.value(), v, wap);
    }

    // Phase 2: the acknowledgement with the temporary key.
    uint32_t key = 0;
    if (!parseKey(policy->childText(p::PolicyKey), &key) || key != device.policy_key ||
        device.provisioning != storage::ProvisioningStatus::kPending)
      return policyReply(info != nullptr, type, 5, 0, nullptr, v);  // wrong policy key
    const int client = parseInt(policy->childText(p::Status), 0);
    if (client != 1 && !lenient && policyEnforced(effective.value())) {
      queuePolicyNotice(*store, req, ref,
                        client == 4 ? "externally_managed: the device is managed by another server"
                                    : "not_applied: the device reported status " +
                                          std::to_string(client));
      return statusOnly(client == 4 ? 145 : 139);
    }
    const uint32_t final_key = newPolicyKey();
    if (Status st = store->setProvisioning(ref, final_key, storage::ProvisioningStatus::kProvisioned);
        !st.ok())
      return storeError(st);
    if (Status st = store->setDeviceSetting(ref, kDevicePolicyHashSetting,
                                            policyFingerprint(effective.value()));
        !st.ok())
      return storeError(st);
    storage::AuditEntry audit;
    audit.at = req.services->clock->unixSeconds();
    audit.ref = ref;
    audit.event = storage::AuditEvent::kProvisioned;
    audit.detail = policyEnforced(effective.value()) ? "policy acknowledged, device status " +
                                                           std::to_string(client)
                                                     : "neutral provision acknowledged";
    if (auto a = store->appendAudit(audit); !a.ok()) return storeError(a.status());
    return policyReply(info != nullptr, type, 1, final_key, nullptr, v);
  }

 private:
  static CommandReply storeError(const Status& st) {
    CommandReply r;
    r.status = st;
    return r;
  }

  static CommandReply statusOnly(int status) {
    CommandReply r;
    wbxml::Writer w(&r.body);
    w.start(p::Provision).element(p::Status, status).end();
    r.eas_status = status;
    return r;
  }

  static CommandReply wipeDirective(int status, bool account_only) {
    CommandReply r;
    wbxml::Writer w(&r.body);
    w.start(p::Provision).element(p::Status, status);
    w.empty(account_only ? p::AccountOnlyRemoteWipe : p::RemoteWipe).end();
    r.eas_status = status;
    return r;
  }

  // Best effort: a notice that cannot be queued must not fail the command.
  static void queueNotice(storage::MetadataStore& store, const CommandRequest& req,
                          const storage::DeviceRef& ref, std::string_view kind,
                          std::string payload) {
    storage::Notice n;
    n.ref = ref;
    n.kind = std::string(kind);
    n.payload = std::move(payload);
    n.created_at = req.services->clock->unixSeconds();
    if (auto q = store.queueNotice(n); !q.ok())
      log::warn("provision: notice " + n.kind + " not queued: " + q.status().toString());
  }

  // "Policy not accepted / cannot be enforced": at most one mail a day per
  // device, however often it retries.
  static void queuePolicyNotice(storage::MetadataStore& store, const CommandRequest& req,
                                const storage::DeviceRef& ref, const std::string& reason) {
    const int64_t now = req.services->clock->unixSeconds();
    auto d = store.findDevice(ref);
    if (!d.ok()) return;
    auto it = d->settings.find(kDevicePolicyNoticeSetting);
    if (it != d->settings.end() && now - parseInt(it->second, 0) < 24 * 3600) return;
    if (!store.setDeviceSetting(ref, kDevicePolicyNoticeSetting, std::to_string(now)).ok()) return;
    queueNotice(store, req, ref, kNoticePolicyRejected, noticePayload({{"reason", reason}}));
  }

  // Status 1 with one Policy; `doc` non-null adds Data (EASProvisionDoc, or
  // the wap-provisioningdoc text when `wap`).
  static CommandReply policyReply(bool with_info, std::string_view type, int policy_status,
                                  uint32_t key, const EffectivePolicies* doc,
                                  ProtocolVersion v, bool wap = false) {
    CommandReply r;
    {
      wbxml::Writer w(&r.body);
      w.start(p::Provision);
      if (with_info) w.start(s::DeviceInformation).element(s::Status, 1).end();
      w.element(p::Status, 1).start(p::Policies).start(p::Policy);
      w.element(p::PolicyType, type).element(p::Status, policy_status);
      if (key != 0) w.element(p::PolicyKey, std::to_string(key));
      if (doc && wap) {
        w.element(p::Data, wapDoc(*doc));
      } else if (doc) {
        w.start(p::Data);
        writeDoc(w, *doc, v);
        w.end();
      }
      w.end().end().end();
    }
    r.eas_status = 1;
    return r;
  }
};

}  // namespace

std::span<const PolicyDocSetting> policyDocSettings() { return kDoc; }

bool policyEnforced(const EffectivePolicies& policies) {
  return valueOf(policies, kPolicyEnforce) == "1";
}

bool policyFitsVersion(const EffectivePolicies& policies, ProtocolVersion v) {
  if (!policyEnforced(policies)) return true;
  for (const PolicyDocSetting& d : kDoc)
    if (!carriedIn(d, v) && sentValue(policies, true, d) != d.neutral) return false;
  return true;
}

std::string noticePayload(
    std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    out.append(k).push_back('=');
    for (char c : v) out.push_back(c == '\n' || c == '\r' ? ' ' : c);
    out.push_back('\n');
  }
  return out;
}

std::string policyFingerprint(const EffectivePolicies& policies) {
  // FNV-1a over what the device is sent, so a change at any level that
  // alters the document (and only such a change) asks for a new provision.
  const bool enforced = policyEnforced(policies);
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](std::string_view bytes) {
    for (unsigned char c : bytes) {
      h ^= c;
      h *= 1099511628211ull;
    }
    h ^= 0xff;  // separator
    h *= 1099511628211ull;
  };
  mix(enforced ? "1" : "0");
  mix(valueOf(policies, kPolicyAllowNonProvisionable));
  for (const PolicyDocSetting& d : kDoc) mix(sentValue(policies, enforced, d));
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string domainOf(const std::string& login) {
  const size_t at = login.rfind('@');
  return at == std::string::npos ? std::string() : login.substr(at + 1);
}

std::unique_ptr<Command> makeProvisionCommand() { return std::make_unique<ProvisionCommand>(); }

}  // namespace eas::commands
