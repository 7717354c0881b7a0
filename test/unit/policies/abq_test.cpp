// ABQ rule precedence and value matching, table-driven.
#include <catch2/catch.hpp>

#include "policies/abq.h"

using eas::policies::AbqSubject;
using eas::policies::abqValueMatches;
using eas::policies::decideAccess;
using eas::storage::AbqKind;
using eas::storage::AbqRule;
using eas::storage::AccessState;

namespace {

AbqRule rule(int64_t id, AbqKind kind, std::string value, AccessState action, bool enabled = true) {
  AbqRule r;
  r.id = id;
  r.kind = kind;
  r.value = std::move(value);
  r.action = action;
  r.enabled = enabled;
  r.order = id;
  return r;
}

const AbqSubject kSubject{"alice@example.test", "example.test", "Android 14", "Pixel 8 Pro",
                          "Android"};

}  // namespace

TEST_CASE("abq value is a case-insensitive prefix of the characteristic", "[policies][abq]") {
  struct Case {
    const char* value;
    const char* characteristic;
    bool match;
  };
  const Case cases[] = {
      {"Android", "android 14", true}, {"ANDROID", "Android", true}, {"a", "Android", true},
      {"Android 15", "Android 14", false}, {"Androids", "Android", false}, {"", "Android", false},
      {"iPhone", "", false},           {"ndroid", "Android", false},
  };
  for (const Case& c : cases) {
    INFO(c.value << " vs " << c.characteristic);
    CHECK(abqValueMatches(c.value, c.characteristic) == c.match);
  }
}

TEST_CASE("abq precedence: user, domain, OS, model, type, global", "[policies][abq]") {
  using K = AbqKind;
  const auto A = AccessState::kAllow, B = AccessState::kBlock, Q = AccessState::kQuarantine;
  struct Case {
    const char* name;
    std::vector<AbqRule> rules;
    AccessState want;
    int64_t want_rule;
  };
  const std::vector<Case> cases = {
      {"no rules: allow", {}, A, 0},
      {"global only", {rule(1, K::kGlobal, "", Q)}, Q, 1},
      {"type beats global", {rule(1, K::kGlobal, "", B), rule(2, K::kType, "android", A)}, A, 2},
      {"model beats type",
       {rule(1, K::kType, "Android", B), rule(2, K::kModel, "pixel", Q), rule(3, K::kGlobal, "", A)},
       Q, 2},
      {"os beats model",
       {rule(1, K::kModel, "Pixel", B), rule(2, K::kOs, "android", Q), rule(3, K::kType, "A", A)},
       Q, 2},
      {"domain beats os",
       {rule(1, K::kOs, "Android", B), rule(2, K::kDomain, "EXAMPLE.test", A)}, A, 2},
      {"user beats domain",
       {rule(1, K::kDomain, "example.test", B), rule(2, K::kUser, "Alice@Example.Test", Q)}, Q, 2},
      {"domain rule of another domain is ignored",
       {rule(1, K::kDomain, "other.test", B), rule(2, K::kGlobal, "", A)}, A, 2},
      {"user rule of another user is ignored",
       {rule(1, K::kUser, "bob@example.test", B)}, A, 0},
      {"disabled rule is skipped",
       {rule(1, K::kOs, "Android", B, false), rule(2, K::kGlobal, "", Q)}, Q, 2},
      {"longest matching value wins",
       {rule(1, K::kModel, "Pixel", B), rule(2, K::kModel, "pixel 8 pro", A),
        rule(3, K::kModel, "Pixel 8", Q)},
       A, 2},
      {"longest among matching only",
       {rule(1, K::kModel, "Pixel 9 Pro XL", A), rule(2, K::kModel, "Pix", B)}, B, 2},
      {"non-matching server rule falls through",
       {rule(1, K::kOs, "iOS", B), rule(2, K::kGlobal, "", Q)}, Q, 2},
      {"equal length: first listed",
       {rule(1, K::kType, "Andr", Q), rule(2, K::kType, "ANDR", B)}, Q, 1},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    const auto d = decideAccess(c.rules, kSubject);
    CHECK(d.state == c.want);
    CHECK(d.rule_id == c.want_rule);
    CHECK(d.reason.rfind("abq:", 0) == 0);
  }
}
