#include "storage/metadata_store.h"

namespace eas::storage {

std::map<std::string, EffectivePolicy> resolvePolicies(const std::vector<PolicySetting>& rows,
                                                       const std::string& domain,
                                                       const std::string& user,
                                                       const std::string& device_id) {
  std::map<std::string, EffectivePolicy> out;
  // Walk from the broadest level to the narrowest; a narrower row overwrites.
  for (PolicyLevel level :
       {PolicyLevel::kGlobal, PolicyLevel::kDomain, PolicyLevel::kUser, PolicyLevel::kDevice}) {
    const std::string* subject = nullptr;
    switch (level) {
      case PolicyLevel::kGlobal:
        subject = nullptr;
        break;
      case PolicyLevel::kDomain:
        subject = &domain;
        break;
      case PolicyLevel::kUser:
        subject = &user;
        break;
      case PolicyLevel::kDevice:
        subject = &device_id;
        break;
    }
    for (const PolicySetting& row : rows) {
      if (row.level != level) continue;
      if (subject != nullptr && row.subject != *subject) continue;
      out[row.key] = EffectivePolicy{row.value, level};
    }
  }
  return out;
}

}  // namespace eas::storage
