// Device access rules (ABQ), pure logic: which rule decides a device's
// access state. The order is the seed's ("Determining Access State of NEW
// Devices"): user rule, domain rule, server rules by Operating System, then
// Device Model, then Device Type, then the global rule. Values compare
// case-insensitively; a server rule's value matches a characteristic that
// begins with it, and among several matching rules of one characteristic the
// longest value wins (ties: the rule listed first).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "storage/metadata_store.h"

namespace eas::policies {

struct AbqSubject {
  std::string user;    // "user@domain"
  std::string domain;  // "domain"
  std::string os;
  std::string model;
  std::string type;
};

struct AbqDecision {
  storage::AccessState state = storage::AccessState::kAllow;
  int64_t rule_id = 0;   // 0: no rule matched (default allow)
  std::string reason;    // "abq:<kind>[:<value>]", always starting with "abq:"
};

// True when `value` is a case-insensitive prefix of `characteristic`
// (an empty value matches nothing: only the global rule has no value).
bool abqValueMatches(std::string_view value, std::string_view characteristic);

// Rules in store order (`order`, then id); disabled rules are skipped.
AbqDecision decideAccess(const std::vector<storage::AbqRule>& rules, const AbqSubject& subject);

// New-device settings ("New Device Settings" of a rule, or the global ones
// for devices no rule with settings admits), applied once, when a device is
// first seen. Stored as ABQ settings (MetadataStore::setAbqSetting) under
// abqRuleSettingsKey(rule id) or kAbqNewDeviceSettingsKey, as text:
// "key=value" items separated by ';' or newlines. A key "policy:<Key>" is a
// device-level policy (e.g. policy:MaxProtocolVersion=14.0), any other key a
// device setting (e.g. folder_mode=default).
inline constexpr char kAbqNewDeviceSettingsKey[] = "new_device.settings";
std::string abqRuleSettingsKey(int64_t rule_id);  // "rule.<id>.settings"

struct NewDeviceSettings {
  std::map<std::string, std::string> device_settings;
  std::map<std::string, std::string> policies;
  bool empty() const { return device_settings.empty() && policies.empty(); }
};
// Failure: abq.bad_settings (an item without '=' or with an empty key).
Result<NewDeviceSettings> parseNewDeviceSettings(std::string_view text);

// Access state names for tools and logs: "allow", "block", "quarantine".
std::string_view accessStateName(storage::AccessState s);

}  // namespace eas::policies
