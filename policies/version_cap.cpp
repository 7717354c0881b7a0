#include "policies/version_cap.h"

#include "core/base/log.h"
#include "core/commands/provision_command.h"

namespace eas::policies {
namespace {

class StoreVersionCap final : public http::VersionCap {
 public:
  explicit StoreVersionCap(storage::MetadataStore& store) : store_(store) {}

  std::optional<protocol::ProtocolVersion> maxVersionFor(const std::string& login,
                                                          const std::string& device_id) override {
    auto policies = store_.effectivePolicies(commands::domainOf(login), login, device_id);
    if (!policies.ok()) {
      log::warn("version cap: " + policies.status().toString());
      return std::nullopt;
    }
    auto it = policies->find(commands::kPolicyMaxProtocolVersion);
    if (it == policies->end() || it->second.value.empty()) return std::nullopt;
    auto v = protocol::parseProtocolVersion(it->second.value);
    if (!v) log::warn("version cap: MaxProtocolVersion '" + it->second.value + "' ignored");
    return v;
  }

 private:
  storage::MetadataStore& store_;
};

}  // namespace

std::unique_ptr<http::VersionCap> makeStoreVersionCap(storage::MetadataStore& store) {
  return std::make_unique<StoreVersionCap>(store);
}

}  // namespace eas::policies
