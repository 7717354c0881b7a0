// Concurrency and crash safety, part of the shared contract suite: many
// threads and two processes on one store, and a process killed with SIGKILL
// half-way through a commit.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <set>
#include <thread>

#include "storage/metadata_store.h"
#include "storage/testing_hooks.h"
#include "test/unit/storage/store_harness.h"

using namespace eas;
using namespace eas::storage;
using eas::storage::testing::makeHarness;

namespace {

std::unique_ptr<MetadataStore> openOrNull(const std::string& url) {
  auto s = openMetadataStore(url);
  if (!s.ok()) return nullptr;
  return std::move(s).value();
}

// Adds item `sid` to the shared collection, racing other writers: look up
// the newest key, commit from it, start again on store.conflict.
// Returns the key committed, or 0 on an unexpected error.
uint64_t appendItem(MetadataStore& store, const DeviceRef& ref, const std::string& coll,
                    const std::string& sid, std::string* error) {
  for (int attempt = 0; attempt < 1000; ++attempt) {
    auto cur = store.lookupSyncKey(ref, coll, 0);
    if (!cur.ok()) {
      *error = cur.status().toString();
      return 0;
    }
    const uint64_t from = cur->current_key;
    if (from == 0) {
      // Key 0 would start the collection over: the test creates it up front.
      *error = "shared collection has no state";
      return 0;
    }
    SyncTransition t{from,
                     from + 1,
                     {1, int64_t(from), 0, ""},
                     {{ItemChange::Kind::kPut, {sid, "b-" + sid, "", ""}}},
                     "resp-" + sid};
    Status s = store.commitSyncState(ref, coll, t);
    if (s.ok()) return from + 1;
    if (s.reason() != "store.conflict") {
      *error = s.toString();
      return 0;
    }
  }
  *error = "gave up after 1000 conflicts";
  return 0;
}

// A writer's whole share: its own device (sequential transitions) and
// `n` items appended to the shared collection. Returns "" or an error.
std::string writerWork(MetadataStore& store, const std::string& who, int n) {
  const DeviceRef own{"user-" + who, "dev-" + who};
  const DeviceRef shared{"shared@example.test", "SHARED"};
  Device d;
  d.ref = own;
  d.friendly_name = who;
  if (Status s = store.putDevice(d); !s.ok()) return s.toString();
  if (Status s = store.commitSyncState(own, "1", {0, 1, {}, {}, "r"}); !s.ok()) return s.toString();
  for (int i = 0; i < n; ++i) {
    std::vector<ItemChange> changes;
    for (int j = 0; j < 10; ++j) {
      changes.push_back({ItemChange::Kind::kPut,
                         {"1:" + std::to_string(i * 10 + j), std::to_string(i * 10 + j), "", ""}});
    }
    Status s =
        store.commitSyncState(own, "1", {uint64_t(i + 1), uint64_t(i + 2), {}, changes, "r"});
    if (!s.ok()) return "own device: " + s.toString();
    std::string err;
    if (appendItem(store, shared, "9", who + ":" + std::to_string(i), &err) == 0) {
      return "shared collection: " + err;
    }
    // Everybody also rewrites the shared device record and its flags.
    Device sd;
    sd.ref = shared;
    sd.friendly_name = who;
    if (Status p = store.putDevice(sd); !p.ok()) return "shared device: " + p.toString();
    if (Status a = store.setAccessState(shared, AccessState::kQuarantine, who); !a.ok()) {
      return "shared device access: " + a.toString();
    }
    (void)store.reserveIds(shared, 1);
  }
  return {};
}

const DeviceRef kShared{"shared@example.test", "SHARED"};

void initShared(MetadataStore& store) {
  REQUIRE(store.commitSyncState(kShared, "9", {0, 1, {}, {}, "r1"}).ok());
}

void checkShared(MetadataStore& store, const std::set<std::string>& writers, int n) {
  const DeviceRef shared{"shared@example.test", "SHARED"};
  auto cur0 = store.lookupSyncKey(shared, "9", 0);
  REQUIRE(cur0.ok());
  // One initial commit, then exactly one commit per appended item.
  const uint64_t expected_key = 1 + writers.size() * n;
  CHECK(cur0->current_key == expected_key);
  auto cur = store.lookupSyncKey(shared, "9", cur0->current_key);
  REQUIRE(cur.ok());
  std::set<std::string> want;
  for (const std::string& w : writers) {
    for (int i = 0; i < n; ++i) want.insert(w + ":" + std::to_string(i));
  }
  std::set<std::string> got;
  for (const ItemEntry& e : cur->state.items) got.insert(e.server_id);
  CHECK(got == want);
  for (const std::string& w : writers) {
    auto own = store.lookupSyncKey({"user-" + w, "dev-" + w}, "1", n + 1);
    REQUIRE(own.ok());
    CHECK(own->state.items.size() == static_cast<size_t>(n * 10));
  }
  auto ids = store.reserveIds(shared, 1);
  REQUIRE(ids.ok());
  CHECK(*ids == 1 + writers.size() * n);  // no id handed out twice or lost
}

}  // namespace

TEST_CASE("many threads on different devices and on the same device", "[storage][concurrency]") {
  auto h = makeHarness("threads");
  auto store = openOrNull(h->url());
  REQUIRE(store);
  initShared(*store);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 8;
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  std::set<std::string> names;
  for (int t = 0; t < kThreads; ++t) {
    names.insert("t" + std::to_string(t));
    threads.emplace_back(
        [&, t] { errors[t] = writerWork(*store, "t" + std::to_string(t), kPerThread); });
  }
  for (auto& th : threads) th.join();
  for (const std::string& e : errors) CHECK(e == "");
  checkShared(*store, names, kPerThread);
}

TEST_CASE("two processes on the same store", "[storage][concurrency]") {
  auto h = makeHarness("procs");
  constexpr int kPer = 10;
  {
    auto setup = openOrNull(h->url());
    REQUIRE(setup);
    initShared(*setup);
  }
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // No Catch2 in the child: report by exit code, skip destructors.
    auto store = openOrNull(h->url());
    if (!store) _exit(2);
    std::string err = writerWork(*store, "child", kPer);
    if (!err.empty()) fprintf(stderr, "child: %s\n", err.c_str());
    _exit(err.empty() ? 0 : 1);
  }
  auto store = openOrNull(h->url());
  REQUIRE(store);
  std::string err = writerWork(*store, "parent", kPer);
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(err == "");
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  checkShared(*store, {"child", "parent"}, kPer);
}

namespace {

void killHere(size_t) { raise(SIGKILL); }
std::atomic<size_t> g_kill_at{0};
void killAt(size_t index) {
  if (index >= g_kill_at.load()) raise(SIGKILL);
}

std::vector<ItemChange> hundredChanges(int round) {
  std::vector<ItemChange> out;
  for (int i = 0; i < 100; ++i) {
    const std::string sid = "1:" + std::to_string(i % 70);  // 70 updates/deletes, 30 new
    if (i < 70 && i % 7 == 0) {
      out.push_back({ItemChange::Kind::kDelete, {sid, "", "", ""}});
    } else {
      out.push_back({ItemChange::Kind::kPut,
                     {i < 70 ? sid : "1:new" + std::to_string(i), std::to_string(i),
                      "round" + std::to_string(round), "e" + std::to_string(round)}});
    }
  }
  return out;
}

}  // namespace

TEST_CASE("a process killed inside a commit leaves key n or key n+1, never a mix",
          "[storage][crash]") {
  auto h = makeHarness("crash");
  const DeviceRef ref{"crash@example.test", "CRASH"};
  std::vector<ItemEntry> at1;
  {
    auto store = openOrNull(h->url());
    REQUIRE(store);
    std::vector<ItemChange> initial;
    for (int i = 0; i < 70; ++i) {
      initial.push_back(
          {ItemChange::Kind::kPut, {"1:" + std::to_string(i), std::to_string(i), "", ""}});
    }
    REQUIRE(store->commitSyncState(ref, "1", {0, 1, {7, 1, 71, ""}, initial, "r1"}).ok());
    at1 = store->lookupSyncKey(ref, "1", 1)->state.items;
    REQUIRE(at1.size() == 70);
  }
  for (size_t kill_at : {size_t{0}, size_t{37}, size_t{99}}) {
    INFO("SIGKILL after item write " << kill_at);
    g_kill_at = kill_at;
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      auto store = openOrNull(h->url());
      if (!store) _exit(2);
      eas::storage::testing::setItemWriteHookForTest(&killAt);
      (void)store->commitSyncState(ref, "1", {1, 2, {7, 2, 101, ""}, hundredChanges(2), "r2"});
      _exit(3);  // not reached: the hook kills us first
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);
    // Reopened: still exactly key 1.
    auto store = openOrNull(h->url());
    REQUIRE(store);
    CHECK(store->lookupSyncKey(ref, "1", 2).status().reason() == "store.unknown_synckey");
    auto l1 = store->lookupSyncKey(ref, "1", 1);
    REQUIRE(l1.ok());
    CHECK(l1->match == SyncLookup::Match::kCurrent);
    CHECK(l1->state.items == at1);
    CHECK(l1->state.watermark == Watermark{7, 1, 71, ""});
  }
  // Killed right after the commit returned: key 2 complete, key 1 replayable.
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    auto store = openOrNull(h->url());
    if (!store) _exit(2);
    Status s = store->commitSyncState(ref, "1", {1, 2, {7, 2, 101, ""}, hundredChanges(2), "r2"});
    if (!s.ok()) _exit(4);
    killHere(0);
    _exit(3);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFSIGNALED(status));
  auto store = openOrNull(h->url());
  REQUIRE(store);
  auto l2 = store->lookupSyncKey(ref, "1", 2);
  REQUIRE(l2.ok());
  CHECK(l2->match == SyncLookup::Match::kCurrent);
  CHECK(l2->state.items.size() == 70 - 10 + 30);  // 10 deleted, 30 new
  for (const ItemEntry& e : l2->state.items) CHECK(e.flags == "round2");
  auto l1 = store->lookupSyncKey(ref, "1", 1);
  REQUIRE(l1.ok());
  CHECK(l1->match == SyncLookup::Match::kPrevious);
  CHECK(l1->replay_response == "r2");
  CHECK(l1->state.items == at1);
}
