#include "policies/gates.h"

#include <charconv>
#include <string>

#include "core/base/log.h"
#include "core/commands/provision_command.h"
#include "policies/abq.h"
#include "policies/version_cap.h"

namespace eas::policies {
namespace {

using commands::DeviceIdentity;
using storage::AccessState;
using storage::AuditEvent;
using storage::WipeState;

// What the last ABQ decision was based on; a change (DeviceInformation
// arrived with Provision) re-runs the rules for a rule-decided device.
std::string abqBasis(const storage::Device& d) {
  return d.os + '\x1f' + d.model + '\x1f' + d.device_type;
}
constexpr char kAbqBasisSetting[] = "abq.basis";
constexpr int64_t kTouchIntervalSeconds = 60;

AuditEvent eventFor(AccessState s) {
  switch (s) {
    case AccessState::kBlock: return AuditEvent::kBlocked;
    case AccessState::kQuarantine: return AuditEvent::kQuarantined;
    case AccessState::kAllow: break;
  }
  return AuditEvent::kAllowed;
}

class StoreDeviceGate final : public commands::DeviceGate {
 public:
  StoreDeviceGate(storage::MetadataStore& store, Clock& clock) : store_(store), clock_(clock) {}

  Status admit(const DeviceIdentity& id) override {
    const storage::DeviceRef ref{id.login, id.device_id};
    auto found = store_.findDevice(ref);
    if (!found.ok() && !found.status().isNotFound()) return found.status();
    if (!found.ok()) return firstSeen(id, ref);
    storage::Device& d = found.value();
    if (d.wipe_state == WipeState::kWiped || d.wipe_state == WipeState::kAcknowledged)
      return Status::PermissionDenied("device.blocked", "device was wiped");
    if (d.access_reason.rfind("abq:", 0) == 0) {
      auto it = d.settings.find(kAbqBasisSetting);
      if (it == d.settings.end() || it->second != abqBasis(d)) {
        EAS_RETURN_IF_ERROR(decide(d, /*first=*/false));
      }
    }
    // last_sync at minute resolution: one write a minute, not one per request.
    const int64_t now = clock_.unixSeconds();
    if (now - d.last_sync >= kTouchIntervalSeconds) {
      if (Status st = store_.touchDevice(ref, now); !st.ok()) return st;
    }
    if (d.access_state == AccessState::kBlock)
      return Status::PermissionDenied("device.blocked", d.access_reason);
    return Status::Ok();
  }

 private:
  Status firstSeen(const DeviceIdentity& id, const storage::DeviceRef& ref) {
    const std::string domain = commands::domainOf(id.login);
    auto policies = store_.effectivePolicies(domain, id.login, id.device_id);
    if (!policies.ok()) return policies.status();
    auto max = policies->find(commands::kPolicyMaxDevices);
    if (max != policies->end()) {
      int limit = 0;
      const std::string& v = max->second.value;
      std::from_chars(v.data(), v.data() + v.size(), limit);
      if (limit > 0) {
        auto devices = store_.listDevices(id.login);
        if (!devices.ok()) return devices.status();
        if (devices->size() >= static_cast<size_t>(limit))
          return Status::PermissionDenied("device.blocked",
                                          "maximum of " + v + " devices per user reached");
      }
    }
    storage::Device d;
    d.ref = ref;
    d.device_type = id.device_type;
    d.user_agent = id.user_agent;
    d.protocol_version = std::string(protocol::toString(id.version));
    d.first_sync = d.last_sync = clock_.unixSeconds();
    EAS_RETURN_IF_ERROR(decide(d, /*first=*/true));
    if (d.access_state == AccessState::kBlock)
      return Status::PermissionDenied("device.blocked", d.access_reason);
    return Status::Ok();
  }

  // Runs the ABQ rules for `d` and records the result (a new record when first).
  Status decide(storage::Device& d, bool first) {
    auto rules = store_.listAbqRules();
    if (!rules.ok()) return rules.status();
    AbqSubject subject{d.ref.user, commands::domainOf(d.ref.user), d.os, d.model, d.device_type};
    const AbqDecision decision = decideAccess(*rules, subject);
    const bool changed = first || decision.state != d.access_state;
    d.access_state = decision.state;
    d.access_reason = decision.reason;
    d.settings[kAbqBasisSetting] = abqBasis(d);
    if (first) {
      NewDeviceSettings extra;
      EAS_RETURN_IF_ERROR(newDeviceSettings(decision.rule_id, &extra));
      for (const auto& [k, v] : extra.device_settings) d.settings.emplace(k, v);
      EAS_RETURN_IF_ERROR(store_.putDevice(d));
      for (const auto& [k, v] : extra.policies)
        EAS_RETURN_IF_ERROR(
            store_.setPolicy({storage::PolicyLevel::kDevice, d.ref.device_id, k, v}));
      EAS_RETURN_IF_ERROR(audit(d.ref, AuditEvent::kFirstSeen,
                                "type " + d.device_type + ", agent " + d.user_agent +
                                    (extra.empty() ? "" : ", new-device settings applied")));
    } else {
      EAS_RETURN_IF_ERROR(store_.setAccessState(d.ref, d.access_state, d.access_reason));
      EAS_RETURN_IF_ERROR(store_.setDeviceSetting(d.ref, kAbqBasisSetting, abqBasis(d)));
    }
    if (changed) {
      EAS_RETURN_IF_ERROR(audit(d.ref, eventFor(d.access_state), decision.reason));
      if (d.access_state == AccessState::kQuarantine) queueQuarantineNotice(d, decision.reason);
    }
    return Status::Ok();
  }

  // The deciding rule's new-device settings, else the global ones (seed:
  // "devices that either do not match any rule or match a rule that has not
  // set New Device Settings"). Settings that do not parse are logged and
  // skipped: a typo of the administrator must not lock devices out.
  Status newDeviceSettings(int64_t rule_id, NewDeviceSettings* out) {
    for (const std::string& key :
         {rule_id != 0 ? abqRuleSettingsKey(rule_id) : std::string(), std::string(kAbqNewDeviceSettingsKey)}) {
      if (key.empty()) continue;
      auto text = store_.getAbqSetting(key);
      if (!text.ok() && text.status().isNotFound()) continue;
      if (!text.ok()) return text.status();
      auto parsed = parseNewDeviceSettings(*text);
      if (!parsed.ok()) {
        log::warn("abq: ignoring " + key + ": " + parsed.status().toString());
        continue;
      }
      if (parsed->empty()) continue;
      *out = std::move(parsed.value());
      return Status::Ok();
    }
    return Status::Ok();
  }

  // Best effort: the information mail must not decide the request.
  void queueQuarantineNotice(const storage::Device& d, const std::string& reason) {
    storage::Notice n;
    n.ref = d.ref;
    n.kind = commands::kNoticeQuarantined;
    n.payload = commands::noticePayload({{"reason", reason}});
    n.created_at = clock_.unixSeconds();
    if (auto q = store_.queueNotice(n); !q.ok())
      log::warn("abq: quarantine notice not queued: " + q.status().toString());
  }

  Status audit(const storage::DeviceRef& ref, AuditEvent event, std::string detail) {
    storage::AuditEntry e;
    e.at = clock_.unixSeconds();
    e.ref = ref;
    e.event = event;
    e.detail = std::move(detail);
    auto r = store_.appendAudit(e);
    return r.ok() ? Status::Ok() : r.status();
  }

  storage::MetadataStore& store_;
  Clock& clock_;
};

class StorePolicyKeyGate final : public commands::PolicyKeyGate {
 public:
  explicit StorePolicyKeyGate(storage::MetadataStore& store) : store_(store) {}

  Status check(const DeviceIdentity& id, const commands::CommandSpec&,
               std::optional<std::uint32_t> key) override {
    auto found = store_.findDevice({id.login, id.device_id});
    if (!found.ok() && !found.status().isNotFound()) return found.status();
    if (found.ok()) {
      const WipeState w = found->wipe_state;
      // Account-only wipe exists from 16.1 only (PROV §2.2.2.1).
      if (w == WipeState::kPendingHard ||
          (w == WipeState::kPendingAccountOnly && id.version >= protocol::ProtocolVersion::k161))
        return Status::PermissionDenied("policy.remote_wipe", "a wipe is pending");
    }
    auto policies = store_.effectivePolicies(commands::domainOf(id.login), id.login, id.device_id);
    if (!policies.ok()) return policies.status();
    const bool enforced = commands::policyEnforced(*policies);
    const bool provisioned =
        found.ok() && found->provisioning == storage::ProvisioningStatus::kProvisioned;
    if (!enforced) {
      // Nothing to enforce; a device still holding an enforced policy gets
      // the neutral provision once (seed, "Cancelling the Security Policy").
      if (provisioned && hashOf(*found) != commands::policyFingerprint(*policies))
        return Status::PermissionDenied("policy.refresh", "policy no longer enforced");
      return Status::Ok();
    }
    if (!key) return Status::PermissionDenied("policy.not_provisioned", "no policy key sent");
    if (!provisioned || *key != found->policy_key)
      return Status::PermissionDenied("policy.invalid_key", "not the device's current policy key");
    if (hashOf(*found) != commands::policyFingerprint(*policies))
      return Status::PermissionDenied("policy.refresh", "policy changed since the key was issued");
    return Status::Ok();
  }

 private:
  static std::string hashOf(const storage::Device& d) {
    auto it = d.settings.find(commands::kDevicePolicyHashSetting);
    return it == d.settings.end() ? std::string() : it->second;
  }
  storage::MetadataStore& store_;
};

}  // namespace

Gates makeGates(storage::MetadataStore& store, Clock& clock) {
  Gates g;
  g.device_gate = std::make_unique<StoreDeviceGate>(store, clock);
  g.policy_key_gate = std::make_unique<StorePolicyKeyGate>(store);
  g.version_cap = makeStoreVersionCap(store);
  return g;
}

}  // namespace eas::policies
