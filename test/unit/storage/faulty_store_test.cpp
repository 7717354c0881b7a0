// The FaultyMetadataStore decorator: a failed commit changes nothing and the
// previous key stays answerable; the next attempt succeeds.
#include <catch2/catch.hpp>

#include "storage/testing/faulty_metadata_store.h"
#include "test/unit/storage/store_harness.h"

using namespace eas;
using namespace eas::storage;

TEST_CASE("a failed commit leaves key n and its replay intact", "[storage][faults]") {
  auto h = testing::makeHarness("faulty");
  auto inner = openMetadataStore(h->url());
  REQUIRE(inner.ok());
  testing::FaultyMetadataStore store(std::move(inner).value());
  const DeviceRef ref{"f@example.test", "F1"};
  REQUIRE(store.commitSyncState(ref, "1", {0, 1, {}, {}, "r1"}).ok());
  REQUIRE(store
              .commitSyncState(ref, "1",
                               {1, 2, {}, {{ItemChange::Kind::kPut, {"1:1", "1", "", ""}}}, "r2"})
              .ok());

  store.failNthCommit(1);
  Status s = store.commitSyncState(
      ref, "1", {2, 3, {}, {{ItemChange::Kind::kDelete, {"1:1", "", "", ""}}}, "r3"});
  CHECK(s.reason() == "store.unavailable");
  CHECK(store.failedCommits() == 1);
  auto cur = store.lookupSyncKey(ref, "1", 2);
  REQUIRE(cur.ok());
  CHECK(cur->match == SyncLookup::Match::kCurrent);
  CHECK(cur->state.items.size() == 1);
  auto prev = store.lookupSyncKey(ref, "1", 1);
  REQUIRE(prev.ok());
  CHECK(prev->replay_response == "r2");
  CHECK(store.lookupSyncKey(ref, "1", 3).status().reason() == "store.unknown_synckey");

  // The retry goes through.
  REQUIRE(store
              .commitSyncState(ref, "1",
                               {2, 3, {}, {{ItemChange::Kind::kDelete, {"1:1", "", "", ""}}}, "r3"})
              .ok());
  CHECK(store.lookupSyncKey(ref, "1", 3)->state.items.empty());
  store.failAllCommits(true);
  CHECK(store.commitFolderSync(ref, 0, 1, {}, "f").reason() == "store.unavailable");
  CHECK(store.lookupFolderSyncKey(ref, 1).status().reason() == "store.unknown_synckey");
}
