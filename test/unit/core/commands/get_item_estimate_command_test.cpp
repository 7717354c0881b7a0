// GetItemEstimate through the command with the scripted mail backend and a
// real SQLite store: the estimate equals what planEmailWindow would send
// from the SyncKey's state (adds, flag changes, deletes), FilterType cutoff
// in both placements, Statuses 2/3/4, bad requests, another user's ids.
#include "core/commands/get_item_estimate_command.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "core/commands/sync_request.h"
#include "core/status_map.h"
#include "core/sync/email_window.h"
#include "test/unit/core/commands/itemops_fake.h"

using namespace eas;
using eas::testing::ItemOpsEnv;

namespace {

namespace gie = wbxml::tags::GetItemEstimate;
namespace as = wbxml::tags::AirSync;

const storage::DeviceRef kAlice{"alice@example.test", "ALICEDEV"};
const storage::DeviceRef kBob{"bob@example.test", "BOBDEV"};
constexpr std::int64_t kNow = 1'800'000'000;
constexpr std::int64_t kDay = 86400;

struct Query {
  std::string collection, key;
  std::string filter;          // in Options (12.1+)
  std::string legacy_filter;   // directly under Collection (2.5/12.0)
  bool no_key = false;
};

Query q(std::string collection, std::string key) {
  Query x;
  x.collection = std::move(collection);
  x.key = std::move(key);
  return x;
}
Query withFilter(Query x, std::string filter) {
  x.filter = std::move(filter);
  return x;
}
Query withLegacyFilter(Query x, std::string filter) {
  x.legacy_filter = std::move(filter);
  return x;
}

std::string body(const std::vector<Query>& qs) {
  std::string wb;
  wbxml::Writer w(&wb);
  w.start(gie::GetItemEstimate).start(gie::Collections);
  for (const Query& q : qs) {
    w.start(gie::Collection);
    if (!q.no_key) w.element(as::SyncKey, q.key);
    if (!q.collection.empty()) w.element(gie::CollectionId, q.collection);
    if (!q.legacy_filter.empty()) w.element(as::FilterType, q.legacy_filter);
    if (!q.filter.empty()) w.start(as::Options).element(as::FilterType, q.filter).end();
    w.end();
  }
  w.end().end();
  w.flush();
  return wb;
}

struct Result1 {
  int status = -1;
  std::string collection;
  long long estimate = -1;
};

struct Answer {
  commands::CommandReply raw;
  std::vector<Result1> results;
};

Answer run(ItemOpsEnv& env, const storage::DeviceRef& ref, const std::string& wb) {
  auto doc = wbxml::decode(wb);
  REQUIRE(doc.ok());
  protocol::EasQuery query;
  query.device_id = ref.device_id;
  query.device_type = "iPhone";
  commands::CommandRequest req;
  req.capabilities = protocol::capabilitiesFor(protocol::ProtocolVersion::k141);
  req.query = &query;
  req.login = ref.user;
  req.services = &env.services;
  req.document = &*doc;
  testing::FakeCtx ctx(req);
  auto reply = commands::makeGetItemEstimateCommand()->handle(ctx);
  REQUIRE(reply.has_value());
  Answer a;
  a.raw = std::move(*reply);
  if (!a.raw.status.ok()) return a;
  auto out = wbxml::decode(a.raw.body);
  REQUIRE(out.ok());
  REQUIRE(out->root().tag() == gie::GetItemEstimate);
  for (const wbxml::Element& r : out->root().children()) {
    REQUIRE(r.tag() == gie::Response);
    Result1 x;
    x.status = std::atoi(std::string(r.childText(gie::Status, "-1")).c_str());
    const wbxml::Element* c = r.child(gie::Collection);
    REQUIRE(c != nullptr);
    x.collection = std::string(c->childText(gie::CollectionId));
    if (c->hasChild(gie::Estimate))
      x.estimate = std::atoll(std::string(c->childText(gie::Estimate)).c_str());
    a.results.push_back(x);
  }
  return a;
}

// Alice's INBOX (collection 5): UIDs 1..6, UID i received i*2 days ago
// (so 1 and 2 are within one week, 1..3 within two weeks... ).
struct World {
  ItemOpsEnv env;
  World() {
    auto& box = env.provider.mailboxes[kAlice.user].folders["INBOX"];
    for (std::uint32_t uid = 1; uid <= 6; ++uid)
      box[uid] = testing::messageWithAttachment("m" + std::to_string(uid), "x",
                                                kNow - static_cast<std::int64_t>(uid) * 2 * kDay - 60);
    env.provider.mailboxes[kAlice.user].folders["Work"];
    env.provider.mailboxes[kBob.user].folders["INBOX"][1] = testing::messageWithAttachment("b", "y", kNow);
    env.mapFolders(kAlice, {{"5", "INBOX"}, {"6", "Work"}});
    env.mapFolders(kBob, {{"5", "INBOX"}});
  }
  // Commits SyncKey 0 -> 1 for Alice's collection as a Sync would after
  // sending `items` (uid, flags) with the backend at its current position.
  void syncedState(const std::string& collection,
                   const std::vector<std::pair<std::uint32_t, std::uint32_t>>& items,
                   bool watermark = true) {
    storage::SyncTransition t;
    t.from_key = 0;
    t.to_key = 1;
    if (watermark) {
      t.watermark.uidvalidity = 7;
      t.watermark.uidnext = 7;
    }
    for (const auto& [uid, flags] : items) {
      storage::ItemChange c;
      c.kind = storage::ItemChange::Kind::kPut;
      c.item.server_id = sync::itemServerId(collection, uid);
      c.item.backend_id = std::to_string(uid);
      c.item.flags = sync::flagsText(flags);
      t.changes.push_back(c);
    }
    t.response = "r";
    REQUIRE(env.store->commitSyncState(kAlice, collection, t).ok());
  }
};

}  // namespace

TEST_CASE("GetItemEstimate: statuses 2, 3, 4 and the primed estimate", "[itemops][gie]") {
  World w;
  w.syncedState("5", {}, /*watermark=*/false);  // after the initial Sync (key 0 -> 1)
  Answer a = run(w.env, kAlice,
                 body({q("5", "1"),
                       q("5", "0"),
                       q("5", "9"),
                       q("5", "x1"),
                       q("6", "1"),   // mapped, never synced
                       q("77", "1")}));  // not in the folder map
  REQUIRE(a.raw.status.ok());
  REQUIRE(a.results.size() == 6);
  CHECK(a.results[0].status == 1);
  CHECK(a.results[0].collection == "5");
  CHECK(a.results[0].estimate == 6);
  CHECK(a.results[1].status == 3);
  CHECK(a.results[2].status == 4);
  CHECK(a.results[3].status == 4);
  CHECK(a.results[4].status == 4);
  CHECK(a.results[5].status == 2);
  for (std::size_t i = 1; i < a.results.size(); ++i) CHECK(a.results[i].estimate == -1);
}

TEST_CASE("GetItemEstimate: FilterType in Options and directly under Collection", "[itemops][gie]") {
  World w;
  w.syncedState("5", {}, false);
  // 3 = one week: UIDs 1..3 (2, 4, 6 days old); 4 = two weeks: all 6; 1 = one day: none.
  Answer a = run(w.env, kAlice,
                 body({withFilter(q("5", "1"), "3"),
                       withLegacyFilter(q("5", "1"), "3"),
                       withFilter(q("5", "1"), "4"),
                       withFilter(q("5", "1"), "1"),
                       withFilter(q("5", "1"), "0")}));
  REQUIRE(a.results.size() == 5);
  CHECK(a.results[0].estimate == 3);
  CHECK(a.results[1].estimate == 3);
  CHECK(a.results[2].estimate == 6);
  CHECK(a.results[3].estimate == 0);
  CHECK(a.results[4].estimate == 6);
}

TEST_CASE("GetItemEstimate: counts adds, flag changes and deletes like the Sync window",
          "[itemops][gie]") {
  World w;
  auto& box = w.env.provider.mailboxes[kAlice.user].folders["INBOX"];
  // The device holds 1..4 as unseen and 9 (gone since). Since then: 2 was
  // read, 3 was flagged \Deleted, 9 expunged; 5 and 6 are new.
  w.syncedState("5", {{1, 0}, {2, 0}, {3, 0}, {4, 0}, {9, 0}});
  box[2].flags = backend::kFlagSeen;
  box[3].flags = backend::kFlagDeleted;
  Answer a = run(w.env, kAlice, body({q("5", "1")}));
  REQUIRE(a.results.size() == 1);
  CHECK(a.results[0].status == 1);
  // Oracle: the window Sync plans from the same inputs.
  auto state = w.env.store->lookupSyncKey(kAlice, "5", 1);
  REQUIRE(state.ok());
  backend::Changes changes;
  changes.added = {5, 6};
  changes.flagsChanged = {{2, backend::kFlagSeen}, {3, backend::kFlagDeleted}};
  changes.expunged = {9};
  auto plan = sync::planEmailWindow(changes, state->state.items, 1000);
  const long long expected = static_cast<long long>(plan.adds.size() + plan.changes.size() +
                                                    plan.deletes.size());
  CHECK(expected == 5);  // adds 5, 6; change 2; deletes 3, 9
  CHECK(a.results[0].estimate == expected);
  // The SyncKey did not move.
  auto again = w.env.store->lookupSyncKey(kAlice, "5", 1);
  REQUIRE(again.ok());
  CHECK(again->current_key == 1);
}

TEST_CASE("GetItemEstimate: another user's collection is Status 2", "[itemops][gie]") {
  World w;
  w.syncedState("6", {}, false);  // Alice's collection 6
  Answer a = run(w.env, kBob, body({q("6", "1")}));
  REQUIRE(a.results.size() == 1);
  CHECK(a.results[0].status == 2);
  // Bob's own collection 5 has no sync state for him: key 1 is unknown.
  Answer b = run(w.env, kBob, body({q("5", "1")}));
  REQUIRE(b.results.size() == 1);
  CHECK(b.results[0].status == 4);
}

TEST_CASE("GetItemEstimate: malformed requests fail whole (103 / HTTP 400)", "[itemops][gie]") {
  World w;
  std::vector<std::string> bodies = {
      body({withFilter(q("5", "1"), "9")}),
      body({withLegacyFilter(q("5", "1"), "x")}),
      body({[] { Query x = q("5", ""); x.no_key = true; return x; }()}),
      body({q("", "1")}),
      body(std::vector<Query>{}),
  };
  std::string no_collections;
  {
    wbxml::Writer wr(&no_collections);
    wr.start(gie::GetItemEstimate).end();
    wr.flush();
  }
  bodies.push_back(no_collections);
  std::vector<Query> many(1001, q("5", "1"));
  bodies.push_back(body(many));
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    INFO("body " << i);
    Answer a = run(w.env, kAlice, bodies[i]);
    REQUIRE_FALSE(a.raw.status.ok());
    CHECK(answerFor(a.raw.status, true).eas_status == 103);
    CHECK(answerFor(a.raw.status, false).http_status == 400);
  }
}

TEST_CASE("GetItemEstimate: IMAP down is a retry-later answer", "[itemops][gie]") {
  World w;
  w.syncedState("5", {}, false);
  w.env.provider.mailboxes[kAlice.user].down = true;
  Answer a = run(w.env, kAlice, body({q("5", "1")}));
  REQUIRE_FALSE(a.raw.status.ok());
  CHECK(answerFor(a.raw.status, true).eas_status == 111);
  CHECK(answerFor(a.raw.status, false).http_status == 503);
}

TEST_CASE("GetItemEstimate: the Sync's sticky FilterType and the policy bound apply",
          "[itemops][gie]") {
  World w;
  w.syncedState("5", {}, false);
  // The last Sync of collection 5 sent Options with FilterType 3 (one week).
  commands::CachedCollection cc;
  cc.params.collection_id = "5";
  cc.params.has_options = true;
  cc.params.options.filter_type = 3;
  REQUIRE(w.env.store->putRequestCache(kAlice, "sync", commands::encodeSyncCache({cc})).ok());
  Answer a = run(w.env, kAlice, body({q("5", "1"), withFilter(q("5", "1"), "0")}));
  REQUIRE(a.results.size() == 2);
  CHECK(a.results[0].estimate == 3);  // sticky one week: UIDs 1..3
  CHECK(a.results[1].estimate == 6);  // the request's own FilterType wins
  // A policy of three days bounds both (UID 1, 2 days old).
  storage::PolicySetting p;
  p.level = storage::PolicyLevel::kGlobal;
  p.key = "MaxEmailAgeFilter";
  p.value = "2";
  REQUIRE(w.env.store->setPolicy(p).ok());
  Answer b = run(w.env, kAlice, body({q("5", "1"), withFilter(q("5", "1"), "0")}));
  REQUIRE(b.results.size() == 2);
  CHECK(b.results[0].estimate == 1);
  CHECK(b.results[1].estimate == 1);
}
