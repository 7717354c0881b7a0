#include "policies/abq.h"

#include <cctype>

namespace eas::policies {
namespace {

using storage::AbqKind;
using storage::AbqRule;

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::string_view kindName(AbqKind k) {
  switch (k) {
    case AbqKind::kGlobal: return "global";
    case AbqKind::kDomain: return "domain";
    case AbqKind::kUser: return "user";
    case AbqKind::kOs: return "os";
    case AbqKind::kModel: return "model";
    case AbqKind::kType: return "type";
  }
  return "?";
}

AbqDecision from(const AbqRule& r) {
  AbqDecision d;
  d.state = r.action;
  d.rule_id = r.id;
  d.reason = "abq:" + std::string(kindName(r.kind));
  if (!r.value.empty()) d.reason += ":" + r.value;
  return d;
}

}  // namespace

bool abqValueMatches(std::string_view value, std::string_view characteristic) {
  if (value.empty() || value.size() > characteristic.size()) return false;
  return equalsIgnoreCase(value, characteristic.substr(0, value.size()));
}

AbqDecision decideAccess(const std::vector<AbqRule>& rules, const AbqSubject& subject) {
  // User and domain rules name their subject exactly.
  for (AbqKind kind : {AbqKind::kUser, AbqKind::kDomain}) {
    const std::string& who = kind == AbqKind::kUser ? subject.user : subject.domain;
    for (const AbqRule& r : rules)
      if (r.enabled && r.kind == kind && !who.empty() && equalsIgnoreCase(r.value, who))
        return from(r);
  }
  // Server rules by characteristic, longest matching value first.
  const std::pair<AbqKind, const std::string*> server[] = {
      {AbqKind::kOs, &subject.os}, {AbqKind::kModel, &subject.model}, {AbqKind::kType, &subject.type}};
  for (const auto& [kind, characteristic] : server) {
    const AbqRule* best = nullptr;
    for (const AbqRule& r : rules) {
      if (!r.enabled || r.kind != kind || !abqValueMatches(r.value, *characteristic)) continue;
      if (!best || r.value.size() > best->value.size()) best = &r;
    }
    if (best) return from(*best);
  }
  for (const AbqRule& r : rules)
    if (r.enabled && r.kind == AbqKind::kGlobal) return from(r);
  AbqDecision d;
  d.reason = "abq:default";
  return d;
}

std::string_view accessStateName(storage::AccessState s) {
  switch (s) {
    case storage::AccessState::kAllow: return "allow";
    case storage::AccessState::kBlock: return "block";
    case storage::AccessState::kQuarantine: return "quarantine";
  }
  return "?";
}

std::string abqRuleSettingsKey(int64_t rule_id) {
  return "rule." + std::to_string(rule_id) + ".settings";
}

Result<NewDeviceSettings> parseNewDeviceSettings(std::string_view text) {
  NewDeviceSettings out;
  auto trim = [](std::string_view v) {
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
    return v;
  };
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find_first_of(";\n", pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view item = trim(text.substr(pos, end - pos));
    pos = end + 1;
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    const std::string_view key = eq == std::string_view::npos ? item : trim(item.substr(0, eq));
    if (eq == std::string_view::npos || key.empty())
      return Status::InvalidArgument("abq.bad_settings",
                                     "'" + std::string(item) + "' is not key=value");
    const std::string value(trim(item.substr(eq + 1)));
    constexpr std::string_view kPolicyPrefix = "policy:";
    if (key.substr(0, kPolicyPrefix.size()) == kPolicyPrefix) {
      if (key.size() == kPolicyPrefix.size())
        return Status::InvalidArgument("abq.bad_settings", "'policy:' needs a policy key");
      out.policies[std::string(key.substr(kPolicyPrefix.size()))] = value;
    } else {
      out.device_settings[std::string(key)] = value;
    }
  }
  return out;
}

}  // namespace eas::policies
