// What the shared contract suite needs from an engine: a fresh, upgraded,
// empty store per test case. One implementation per engine, chosen at link
// time (sqlite_harness.cpp or mariadb_harness.cpp), so the test bodies exist
// once and run against both.
#pragma once

#include <memory>
#include <string>

namespace eas::storage::testing {

class StoreHarness {
 public:
  virtual ~StoreHarness() = default;
  // URL of a store created for this harness, schema applied, no rows.
  virtual const std::string& url() const = 0;
  virtual const char* engine() const = 0;
};

// `tag` names the store (a file or a database); unique per test case.
// Fails the test (REQUIRE) when the engine is not reachable.
std::unique_ptr<StoreHarness> makeHarness(const std::string& tag);

}  // namespace eas::storage::testing
