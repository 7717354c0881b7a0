// Device access rules (ABQ), pure logic: which rule decides a device's
// access state. The order is the seed's ("Determining Access State of NEW
// Devices"): user rule, domain rule, server rules by Operating System, then
// Device Model, then Device Type, then the global rule. Values compare
// case-insensitively; a server rule's value matches a characteristic that
// begins with it, and among several matching rules of one characteristic the
// longest value wins (ties: the rule listed first).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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

// Access state names for tools and logs: "allow", "block", "quarantine".
std::string_view accessStateName(storage::AccessState s);

}  // namespace eas::policies
