#include "core/commands/gates.h"

namespace eas::commands {
namespace {

class AllowAllDeviceGate final : public DeviceGate {
 public:
  Status admit(const DeviceIdentity&) override { return Status::Ok(); }
};

class UnenforcedPolicyKeyGate final : public PolicyKeyGate {
 public:
  Status check(const DeviceIdentity&, const CommandSpec&, std::optional<std::uint32_t>) override {
    return Status::Ok();
  }
};

}  // namespace

std::unique_ptr<DeviceGate> makeAllowAllDeviceGate() {
  return std::make_unique<AllowAllDeviceGate>();
}
std::unique_ptr<PolicyKeyGate> makeUnenforcedPolicyKeyGate() {
  return std::make_unique<UnenforcedPolicyKeyGate>();
}

}  // namespace eas::commands
