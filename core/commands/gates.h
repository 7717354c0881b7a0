// Seams for the two request stages that the policies issue fills in:
// the device gate (ABQ: allow / block / quarantine a device) and the policy
// key check (provisioning, remote wipe). The HTTP layer runs both on every
// EAS POST (the policy key check only for commands flagged
// kNeedsProvisioning). Until policies/ implements them, the defaults below
// admit every device and accept every policy key.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/base/status.h"
#include "core/commands/command_table.h"
#include "core/protocol/capabilities.h"

namespace eas::commands {

struct DeviceIdentity {
  std::string login;        // authenticated "user@domain"
  std::string device_id;
  std::string device_type;
  std::string user_agent;
  std::string remote_addr;
  protocol::ProtocolVersion version = protocol::ProtocolVersion::k141;
};

// Thread-safe: called from every request thread.
class DeviceGate {
 public:
  virtual ~DeviceGate() = default;
  // OK to go on, or PermissionDenied("device.blocked") and the like; the
  // status map turns the reason into 403 / Status 129.
  virtual Status admit(const DeviceIdentity& device) = 0;
};

// Thread-safe: called from every request thread.
class PolicyKeyGate {
 public:
  virtual ~PolicyKeyGate() = default;
  // OK, or PermissionDenied with "policy.not_provisioned" (449 / 142),
  // "policy.refresh" (143), "policy.invalid_key" (144), "policy.remote_wipe" (140).
  // `policy_key` is absent when the device sent none (or "0").
  virtual Status check(const DeviceIdentity& device, const CommandSpec& command,
                       std::optional<std::uint32_t> policy_key) = 0;
};

// The implementations used until the policies issue lands.
std::unique_ptr<DeviceGate> makeAllowAllDeviceGate();
std::unique_ptr<PolicyKeyGate> makeUnenforcedPolicyKeyGate();

}  // namespace eas::commands
