// The MetadataStore contract, once, for every engine (the harness linked in
// decides which). Checks results against plain in-memory models.
#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <thread>

#include "storage/metadata_store.h"
#include "storage/store_admin.h"
#include "test/unit/storage/store_harness.h"

using namespace eas;
using namespace eas::storage;
using eas::storage::testing::makeHarness;

#define REQUIRE_OK(expr)                    \
  do {                                      \
    ::eas::Status s_ = (expr);              \
    INFO(#expr << " -> " << s_.toString()); \
    REQUIRE(s_.ok());                       \
  } while (0)

namespace {

std::unique_ptr<MetadataStore> open(const std::string& url) {
  auto s = openMetadataStore(url);
  INFO(s.status().toString());
  REQUIRE(s.ok());
  return std::move(s).value();
}

Device sampleDevice(const std::string& user, const std::string& id) {
  Device d;
  d.ref = {user, id};
  d.device_type = "iPhone";
  d.model = "iPhone15,2";
  d.imei = "356938035643809";
  d.friendly_name = "Anna's phone";
  d.os = "iOS 17.1";
  d.os_language = "de-DE";
  d.phone_number = "+49 30 1234567";
  d.mobile_operator = "Telekom.de";
  d.user_agent = "Apple-iPhone15C2/2101.5";
  d.protocol_version = "16.1";
  d.first_sync = 1700000000;
  d.last_sync = 1700000100;
  d.access_state = AccessState::kQuarantine;
  d.access_reason = "rule 3";
  d.policy_key = 3735928559u;
  d.provisioning = ProvisioningStatus::kPending;
  d.wipe_state = WipeState::kPendingAccountOnly;
  d.settings = {{"mail.filter", "3"}, {"tasks.mode", "off"}};
  return d;
}

ItemChange put(std::string sid, std::string bid, std::string flags = "", std::string etag = "") {
  return {ItemChange::Kind::kPut,
          {std::move(sid), std::move(bid), std::move(flags), std::move(etag)}};
}
ItemChange del(std::string sid) {
  return {ItemChange::Kind::kDelete, {std::move(sid), "", "", ""}};
}

const DeviceRef kDev{"anna@example.test", "ApplDNQXX1"};

}  // namespace

TEST_CASE("store refuses a missing or unknown schema", "[storage]") {
  auto h = makeHarness("schema");
  // A fresh store from the harness is upgraded and opens.
  REQUIRE(openMetadataStore(h->url()).ok());
  auto admin = openStoreAdmin(h->url());
  REQUIRE(admin.ok());
  CHECK((*admin)->schemaVersion().value() == knownSchemaVersion());
  REQUIRE_OK((*admin)->upgrade());  // idempotent
  REQUIRE_OK((*admin)->setSchemaVersionForTest(knownSchemaVersion() + 1));
  auto newer = openMetadataStore(h->url());
  REQUIRE_FALSE(newer.ok());
  CHECK(newer.status().reason() == "store.schema_unknown");
  auto up = (*admin)->upgrade();
  CHECK(up.reason() == "store.schema_unknown");
}

TEST_CASE("store refuses a store without schema", "[storage]") {
  auto h = makeHarness("missing");
  auto admin = openStoreAdmin(h->url());
  REQUIRE(admin.ok());
  REQUIRE_OK((*admin)->setSchemaVersionForTest(0));
  auto s = openMetadataStore(h->url());
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().reason() == "store.schema_missing");
  CHECK(s.status().message().find("easctl db upgrade") != std::string::npos);
}

TEST_CASE("devices: put, find, list, targeted updates, delete", "[storage]") {
  auto h = makeHarness("devices");
  auto store = open(h->url());
  Device d = sampleDevice(kDev.user, kDev.device_id);
  CHECK(store->findDevice(kDev).status().reason() == "store.not_found");
  REQUIRE_OK(store->putDevice(d));
  auto got = store->findDevice(kDev);
  REQUIRE(got.ok());
  CHECK(*got == d);

  Device other = sampleDevice("bob@example.test", "SEC123");
  other.settings.clear();
  REQUIRE_OK(store->putDevice(other));
  auto all = store->listDevices("");
  REQUIRE(all.ok());
  REQUIRE(all->size() == 2);
  CHECK((*all)[0] == d);  // ordered by user
  CHECK((*all)[1] == other);
  auto annas = store->listDevices(kDev.user);
  REQUIRE(annas.ok());
  CHECK(annas->size() == 1);

  REQUIRE_OK(store->setAccessState(kDev, AccessState::kBlock, "admin"));
  REQUIRE_OK(store->setProvisioning(kDev, 42, ProvisioningStatus::kProvisioned));
  REQUIRE_OK(store->setWipeState(kDev, WipeState::kPendingHard));
  REQUIRE_OK(store->touchDevice(kDev, 1800000000));
  REQUIRE_OK(store->touchDevice(kDev, 1800000000));  // same value is still "found"
  REQUIRE_OK(store->setDeviceSetting(kDev, "notes.mode", "on"));
  got = store->findDevice(kDev);
  REQUIRE(got.ok());
  CHECK(got->access_state == AccessState::kBlock);
  CHECK(got->access_reason == "admin");
  CHECK(got->policy_key == 42);
  CHECK(got->provisioning == ProvisioningStatus::kProvisioned);
  CHECK(got->wipe_state == WipeState::kPendingHard);
  CHECK(got->last_sync == 1800000000);
  CHECK(got->settings.at("notes.mode") == "on");
  CHECK(got->settings.size() == 3);

  const DeviceRef ghost{"nobody", "x"};
  CHECK(store->setAccessState(ghost, AccessState::kAllow, "").reason() == "store.not_found");
  CHECK(store->setWipeState(ghost, WipeState::kWiped).reason() == "store.not_found");
  CHECK(store->setDeviceSetting(ghost, "a", "b").reason() == "store.not_found");
  CHECK(store->deleteDevice(ghost).reason() == "store.not_found");
  CHECK(store->putDevice(Device{}).reason() == "store.invalid");
  Device bad = d;
  bad.wipe_state = static_cast<WipeState>(17);
  CHECK(store->putDevice(bad).reason() == "store.invalid");

  // Delete takes the device's state with it.
  REQUIRE_OK(store->commitSyncState(kDev, "5", {0, 1, {}, {put("5:1", "1")}, "r"}));
  REQUIRE_OK(store->deleteDevice(kDev));
  CHECK(store->findDevice(kDev).status().reason() == "store.not_found");
  CHECK(store->lookupSyncKey(kDev, "5", 1).status().reason() == "store.unknown_synckey");
  CHECK(store->findDevice(other.ref).ok());
}

TEST_CASE("request cache: put, replace, get, gone with the device", "[storage]") {
  auto h = makeHarness("reqcache");
  auto store = open(h->url());
  CHECK(store->getRequestCache(kDev, "sync").status().reason() == "store.not_found");
  REQUIRE_OK(store->putRequestCache(kDev, "sync", "first"));
  REQUIRE_OK(store->putRequestCache(kDev, "sync", "second"));
  REQUIRE_OK(store->putRequestCache(kDev, "ping", "p"));
  CHECK(store->getRequestCache(kDev, "sync").value() == "second");
  CHECK(store->getRequestCache(kDev, "ping").value() == "p");
  CHECK(store->getRequestCache({"other", "x"}, "sync").status().reason() == "store.not_found");
  CHECK(store->putRequestCache(kDev, "", "x").reason() == "store.invalid");
  // putDevice (settings replaced wholesale) leaves the cache alone.
  REQUIRE_OK(store->putDevice(sampleDevice(kDev.user, kDev.device_id)));
  CHECK(store->getRequestCache(kDev, "sync").value() == "second");
  REQUIRE_OK(store->deleteDevice(kDev));
  CHECK(store->getRequestCache(kDev, "sync").status().reason() == "store.not_found");
}

TEST_CASE("ClientIds: claimed once, released, the newest kept, gone with the device",
          "[storage]") {
  auto h = makeHarness("clientids");
  auto store = open(h->url());
  CHECK(store->claimClientId(kDev, "c1", 64).value() == true);
  CHECK(store->claimClientId(kDev, "c1", 64).value() == false);
  // Per device, and byte-exact (no case folding).
  CHECK(store->claimClientId({kDev.user, "OTHER"}, "c1", 64).value() == true);
  CHECK(store->claimClientId(kDev, "C1", 64).value() == true);
  // Released (a send that failed): the retry may go, once.
  REQUIRE_OK(store->releaseClientId(kDev, "c1"));
  REQUIRE_OK(store->releaseClientId(kDev, "never-claimed"));
  CHECK(store->claimClientId(kDev, "c1", 64).value() == true);
  CHECK(store->claimClientId(kDev, "c1", 64).value() == false);
  CHECK(store->claimClientId(kDev, "", 64).status().reason() == "store.invalid");
  CHECK(store->claimClientId(kDev, std::string(kMaxKeyBytes + 1, 'x'), 64).status().reason() ==
        "store.value_too_long");
  CHECK(store->claimClientId({"", "x"}, "c", 64).status().reason() == "store.invalid");

  // keep = 3: after a..e, the three newest stay claimed, the oldest is gone.
  const DeviceRef few{"few@example.test", "FEW"};
  for (const char* id : {"a", "b", "c", "d", "e"}) CHECK(store->claimClientId(few, id, 3).value());
  for (const char* id : {"c", "d", "e"}) {
    INFO(id);
    CHECK(store->claimClientId(few, id, 3).value() == false);
  }
  CHECK(store->claimClientId(few, "a", 3).value() == true);

  REQUIRE_OK(store->putDevice(sampleDevice(kDev.user, kDev.device_id)));
  REQUIRE_OK(store->deleteDevice(kDev));
  CHECK(store->claimClientId(kDev, "c1", 64).value() == true);
}

TEST_CASE("ClientIds: of many racing claims exactly one wins", "[storage][concurrency]") {
  auto h = makeHarness("clientrace");
  constexpr int kThreads = 8;
  constexpr int kIds = 10;
  // One store (connection pool) per thread, as separate workers would have.
  std::vector<std::unique_ptr<MetadataStore>> stores;
  for (int t = 0; t < kThreads; ++t) stores.push_back(open(h->url()));
  std::vector<std::string> errors(kThreads);
  std::vector<std::vector<int>> wins(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIds; ++i) {
        auto r = stores[t]->claimClientId(kDev, "race-" + std::to_string(i), 64);
        if (!r.ok()) {
          errors[t] = r.status().toString();
          return;
        }
        if (*r) wins[t].push_back(i);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::map<int, int> winners;
  for (int t = 0; t < kThreads; ++t) {
    CHECK(errors[t] == "");
    for (int i : wins[t]) ++winners[i];
  }
  for (int i = 0; i < kIds; ++i) {
    INFO("race-" << i);
    CHECK(winners[i] == 1);
  }
}

TEST_CASE("a version-1 store upgrades to the ClientId table", "[storage]") {
  auto h = makeHarness("upgrade1");
  auto admin = openStoreAdmin(h->url());
  REQUIRE(admin.ok());
  REQUIRE(knownSchemaVersion() >= 2);
  REQUIRE_OK((*admin)->setSchemaVersionForTest(1));
  auto old = openMetadataStore(h->url());
  REQUIRE_FALSE(old.ok());
  CHECK(old.status().reason() == "store.schema_outdated");
  REQUIRE_OK((*admin)->upgrade());
  CHECK((*admin)->schemaVersion().value() == knownSchemaVersion());
  auto store = open(h->url());
  CHECK(store->claimClientId(kDev, "after-upgrade", 64).value() == true);
  CHECK(store->claimClientId(kDev, "after-upgrade", 64).value() == false);
}

TEST_CASE("reserveIds hands out increasing, never reused ranges", "[storage]") {
  auto h = makeHarness("ids");
  auto store = open(h->url());
  auto a = store->reserveIds(kDev, 3);
  auto b = store->reserveIds(kDev, 1);
  auto c = store->reserveIds({"other", "dev"}, 1);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(c.ok());
  CHECK(*a == 1);
  CHECK(*b == 4);
  CHECK(*c == 1);
  CHECK(store->reserveIds(kDev, 0).status().reason() == "store.invalid");
}

TEST_CASE("FolderSync keys: commit, replay of the previous key, stable server ids", "[storage]") {
  auto h = makeHarness("folders");
  auto store = open(h->url());
  CHECK(store->lookupFolderSyncKey(kDev, 1).status().reason() == "store.unknown_synckey");
  auto zero = store->lookupFolderSyncKey(kDev, 0);
  REQUIRE(zero.ok());
  CHECK(zero->match == FolderSyncLookup::Match::kCurrent);

  Folder inbox{"1", "INBOX", "0", 2, "Inbox"};
  Folder sent{"2", "Sent", "0", 5, "Sent Items"};
  REQUIRE_OK(store->commitFolderSync(
      kDev, 0, 1, {{FolderChange::Kind::kAdd, inbox}, {FolderChange::Kind::kAdd, sent}}, "resp-1"));
  auto l1 = store->lookupFolderSyncKey(kDev, 1);
  REQUIRE(l1.ok());
  CHECK(l1->match == FolderSyncLookup::Match::kCurrent);
  CHECK(l1->current_key == 1);

  Folder renamed = sent;
  renamed.display_name = "Gesendet";
  renamed.backend_id = "Gesendet";
  REQUIRE_OK(
      store->commitFolderSync(kDev, 1, 2, {{FolderChange::Kind::kUpdate, renamed}}, "resp-2"));
  // The device lost resp-2 and resends key 1: it gets resp-2 again.
  auto again = store->lookupFolderSyncKey(kDev, 1);
  REQUIRE(again.ok());
  CHECK(again->match == FolderSyncLookup::Match::kPrevious);
  CHECK(again->replay_response == "resp-2");
  CHECK(again->current_key == 2);
  // Committing from 1 again is a conflict; from 2 moves on and forgets key 1.
  CHECK(store->commitFolderSync(kDev, 1, 2, {}, "other").reason() == "store.conflict");
  CHECK(store->commitFolderSync(kDev, 2, 4, {}, "x").reason() == "store.invalid");
  REQUIRE_OK(store->commitFolderSync(kDev, 2, 3, {}, "resp-3"));
  CHECK(store->lookupFolderSyncKey(kDev, 1).status().reason() == "store.unknown_synckey");

  // A hierarchy resync (key 0) keeps the server ids.
  REQUIRE_OK(store->commitFolderSync(kDev, 0, 1, {}, "resp-0"));
  auto folders = store->listFolders(kDev);
  REQUIRE(folders.ok());
  REQUIRE(folders->size() == 2);
  CHECK((*folders)[0] == inbox);
  CHECK((*folders)[1] == renamed);

  // Updating an unknown folder fails and changes nothing.
  CHECK(store
            ->commitFolderSync(kDev, 1, 2,
                               {{FolderChange::Kind::kUpdate, {"99", "x", "0", 1, "x"}}}, "r")
            .reason() == "store.not_found");
  CHECK(store->lookupFolderSyncKey(kDev, 1)->current_key == 1);

  // Deleting a folder drops its collection's sync state.
  REQUIRE_OK(store->commitSyncState(kDev, "2", {0, 1, {}, {put("2:1", "7")}, "s"}));
  REQUIRE_OK(store->commitFolderSync(kDev, 1, 2, {{FolderChange::Kind::kDelete, sent}}, "r"));
  CHECK(store->lookupSyncKey(kDev, "2", 1).status().reason() == "store.unknown_synckey");
  CHECK(store->listFolders(kDev)->size() == 1);
}

TEST_CASE("sync state: transition, replay of key n, unknown keys", "[storage]") {
  auto h = makeHarness("sync");
  auto store = open(h->url());
  const std::string coll = "1";
  CHECK(store->lookupSyncKey(kDev, coll, 1).status().reason() == "store.unknown_synckey");
  auto zero = store->lookupSyncKey(kDev, coll, 0);
  REQUIRE(zero.ok());
  CHECK(zero->match == SyncLookup::Match::kCurrent);
  CHECK(zero->state.items.empty());

  Watermark w1{1234, 0, 10, ""};
  REQUIRE_OK(store->commitSyncState(kDev, coll, {0, 1, w1, {}, "r1"}));
  Watermark w2{1234, 77, 12, ""};
  REQUIRE_OK(store->commitSyncState(
      kDev, coll, {1, 2, w2, {put("1:10", "10", "\\Seen"), put("1:11", "11")}, "r2"}));
  Watermark w3{1234, 80, 13, "tok-3"};
  REQUIRE_OK(store->commitSyncState(
      kDev, coll,
      {2,
       3,
       w3,
       {put("1:10", "10", "\\Seen \\Flagged"), del("1:11"), put("1:12", "12", "", "e1")},
       "r3"}));

  auto cur = store->lookupSyncKey(kDev, coll, 3);
  REQUIRE(cur.ok());
  CHECK(cur->match == SyncLookup::Match::kCurrent);
  CHECK(cur->state.watermark == w3);
  std::vector<ItemEntry> at3 = {{"1:10", "10", "\\Seen \\Flagged", ""}, {"1:12", "12", "", "e1"}};
  CHECK(cur->state.items == at3);

  // Key 2 resent: the same answer again, and the item map as it was at key 2.
  auto prev = store->lookupSyncKey(kDev, coll, 2);
  REQUIRE(prev.ok());
  CHECK(prev->match == SyncLookup::Match::kPrevious);
  CHECK(prev->replay_response == "r3");
  CHECK(prev->current_key == 3);
  CHECK(prev->state.watermark == w2);
  std::vector<ItemEntry> at2 = {{"1:10", "10", "\\Seen", ""}, {"1:11", "11", "", ""}};
  CHECK(prev->state.items == at2);

  CHECK(store->lookupSyncKey(kDev, coll, 1).status().reason() == "store.unknown_synckey");
  CHECK(store->lookupSyncKey(kDev, coll, 4).status().reason() == "store.unknown_synckey");
  // A stale commit is refused and changes nothing...
  CHECK(store->commitSyncState(kDev, coll, {2, 3, w3, {del("1:10")}, "other"}).reason() ==
        "store.conflict");
  // ...but the same commit retried (its COMMIT reply was lost) is a success.
  REQUIRE_OK(store->commitSyncState(
      kDev, coll,
      {2,
       3,
       w3,
       {put("1:10", "10", "\\Seen \\Flagged"), del("1:11"), put("1:12", "12", "", "e1")},
       "r3"}));
  CHECK(store->lookupSyncKey(kDev, coll, 3)->state.items == at3);

  auto item = store->findItemByBackendId(kDev, coll, "12");
  REQUIRE(item.ok());
  CHECK(item->server_id == "1:12");
  CHECK(store->findItemByBackendId(kDev, coll, "11").status().reason() == "store.not_found");

  // Moving on to key 4 forgets key 2.
  REQUIRE_OK(store->commitSyncState(kDev, coll, {3, 4, w3, {}, "r4"}));
  CHECK(store->lookupSyncKey(kDev, coll, 2).status().reason() == "store.unknown_synckey");
  auto p3 = store->lookupSyncKey(kDev, coll, 3);
  REQUIRE(p3.ok());
  CHECK(p3->match == SyncLookup::Match::kPrevious);
  CHECK(p3->state.items == at3);

  // SyncKey 0 again starts over.
  REQUIRE_OK(store->commitSyncState(kDev, coll, {0, 1, {}, {}, "again"}));
  CHECK(store->lookupSyncKey(kDev, coll, 1)->state.items.empty());
  REQUIRE_OK(store->resetSyncState(kDev, coll));
  REQUIRE_OK(store->resetSyncState(kDev, coll));
  CHECK(store->lookupSyncKey(kDev, coll, 1).status().reason() == "store.unknown_synckey");
  CHECK(store->commitSyncState(kDev, coll, {1, 2, {}, {}, ""}).reason() == "store.conflict");
  CHECK(store->commitSyncState(kDev, coll, {1, 3, {}, {}, ""}).reason() == "store.invalid");
}

TEST_CASE("sync state matches an in-memory model over random transitions", "[storage]") {
  auto h = makeHarness("model");
  auto store = open(h->url());
  std::mt19937 rng(4242);
  const std::string coll = "7";
  std::map<std::string, ItemEntry> model, prev_model;
  REQUIRE_OK(store->commitSyncState(kDev, coll, {0, 1, {}, {}, "r1"}));
  for (uint64_t key = 1; key < 30; ++key) {
    std::vector<ItemChange> changes;
    int n = static_cast<int>(rng() % 12);
    prev_model = model;
    for (int i = 0; i < n; ++i) {
      std::string sid = "7:" + std::to_string(rng() % 20);
      if (rng() % 3 == 0) {
        changes.push_back(del(sid));
        model.erase(sid);
      } else {
        ItemEntry e{sid, std::to_string(rng() % 1000), (rng() % 2) ? "\\Seen" : "",
                    "e" + std::to_string(key)};
        changes.push_back({ItemChange::Kind::kPut, e});
        model[sid] = e;
      }
    }
    const std::string resp = "resp-" + std::to_string(key + 1);
    REQUIRE_OK(store->commitSyncState(kDev, coll,
                                      {key, key + 1, {1, int64_t(key), 0, ""}, changes, resp}));
    auto cur = store->lookupSyncKey(kDev, coll, key + 1);
    REQUIRE(cur.ok());
    std::vector<ItemEntry> want;
    for (auto& [k, v] : model) want.push_back(v);
    CHECK(cur->state.items == want);
    auto prev = store->lookupSyncKey(kDev, coll, key);
    REQUIRE(prev.ok());
    REQUIRE(prev->match == SyncLookup::Match::kPrevious);
    CHECK(prev->replay_response == resp);
    std::vector<ItemEntry> want_prev;
    for (auto& [k, v] : prev_model) want_prev.push_back(v);
    CHECK(prev->state.items == want_prev);
  }
}

TEST_CASE("policies: four levels, inheritance, delete means inherit", "[storage]") {
  auto h = makeHarness("policies");
  auto store = open(h->url());
  REQUIRE_OK(store->setPolicy({PolicyLevel::kGlobal, "", "DevicePasswordEnabled", "0"}));
  REQUIRE_OK(store->setPolicy({PolicyLevel::kGlobal, "", "MaxInactivityTimeDeviceLock", "900"}));
  REQUIRE_OK(
      store->setPolicy({PolicyLevel::kDomain, "example.test", "DevicePasswordEnabled", "1"}));
  REQUIRE_OK(
      store->setPolicy({PolicyLevel::kDomain, "other.test", "MinDevicePasswordLength", "8"}));
  REQUIRE_OK(store->setPolicy({PolicyLevel::kUser, kDev.user, "MinDevicePasswordLength", "6"}));
  REQUIRE_OK(store->setPolicy(
      {PolicyLevel::kDevice, kDev.device_id, "MaxInactivityTimeDeviceLock", "60"}));
  auto eff = store->effectivePolicies("example.test", kDev.user, kDev.device_id);
  REQUIRE(eff.ok());
  CHECK(eff->size() == 3);
  CHECK(eff->at("DevicePasswordEnabled") == EffectivePolicy{"1", PolicyLevel::kDomain});
  CHECK(eff->at("MinDevicePasswordLength") == EffectivePolicy{"6", PolicyLevel::kUser});
  CHECK(eff->at("MaxInactivityTimeDeviceLock") == EffectivePolicy{"60", PolicyLevel::kDevice});

  REQUIRE_OK(
      store->deletePolicy(PolicyLevel::kDevice, kDev.device_id, "MaxInactivityTimeDeviceLock"));
  REQUIRE_OK(
      store->deletePolicy(PolicyLevel::kDevice, kDev.device_id, "MaxInactivityTimeDeviceLock"));
  eff = store->effectivePolicies("example.test", kDev.user, kDev.device_id);
  REQUIRE(eff.ok());
  CHECK(eff->at("MaxInactivityTimeDeviceLock") == EffectivePolicy{"900", PolicyLevel::kGlobal});
  REQUIRE_OK(store->setPolicy({PolicyLevel::kUser, kDev.user, "MinDevicePasswordLength", "10"}));
  auto list = store->listPolicies();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 5);
  CHECK((*list)[0].level == PolicyLevel::kGlobal);
  CHECK((*list)[4] ==
        PolicySetting{PolicyLevel::kUser, kDev.user, "MinDevicePasswordLength", "10"});
  CHECK(store->setPolicy({static_cast<PolicyLevel>(9), "", "k", "v"}).reason() == "store.invalid");
}

TEST_CASE("ABQ rules and new-device settings", "[storage]") {
  auto h = makeHarness("abq");
  auto store = open(h->url());
  auto a = store->addAbqRule({0, AbqKind::kModel, "iPhone*", AccessState::kAllow, true, 20});
  auto b = store->addAbqRule({0, AbqKind::kGlobal, "", AccessState::kQuarantine, true, 100});
  auto c = store->addAbqRule({0, AbqKind::kUser, "mallory", AccessState::kBlock, false, 10});
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(c.ok());
  CHECK(*a != *b);
  auto rules = store->listAbqRules();
  REQUIRE(rules.ok());
  REQUIRE(rules->size() == 3);
  CHECK((*rules)[0] == AbqRule{*c, AbqKind::kUser, "mallory", AccessState::kBlock, false, 10});
  CHECK((*rules)[2].id == *b);
  REQUIRE_OK(store->updateAbqRule({*c, AbqKind::kUser, "mallory", AccessState::kBlock, true, 30}));
  REQUIRE_OK(store->deleteAbqRule(*a));
  CHECK(store->deleteAbqRule(*a).reason() == "store.not_found");
  CHECK(store->updateAbqRule({*a, AbqKind::kUser, "", AccessState::kBlock, true, 1}).reason() ==
        "store.not_found");
  rules = store->listAbqRules();
  REQUIRE(rules->size() == 2);
  CHECK((*rules)[0].id == *c);
  CHECK((*rules)[0].enabled);

  CHECK(store->getAbqSetting("new_device_action").status().reason() == "store.not_found");
  REQUIRE_OK(store->setAbqSetting("new_device_action", "quarantine"));
  CHECK(store->getAbqSetting("new_device_action").value() == "quarantine");
}

TEST_CASE("pending notices and the audit log", "[storage]") {
  auto h = makeHarness("notices");
  auto store = open(h->url());
  auto n1 = store->queueNotice({0, kDev, "quarantined", "Your device waits for approval", 100});
  auto n2 = store->queueNotice({0, kDev, "wipe_requested", "Wipe", 200});
  REQUIRE(n1.ok());
  REQUIRE(n2.ok());
  auto pending = store->pendingNotices(10);
  REQUIRE(pending.ok());
  REQUIRE(pending->size() == 2);
  CHECK((*pending)[0] == Notice{*n1, kDev, "quarantined", "Your device waits for approval", 100});
  CHECK(store->pendingNotices(1)->size() == 1);
  REQUIRE_OK(store->removeNotice(*n1));
  CHECK(store->removeNotice(*n1).reason() == "store.not_found");
  CHECK(store->pendingNotices(10)->size() == 1);

  for (int i = 0; i < 5; ++i) {
    REQUIRE(
        store->appendAudit({0, 1000 + i, kDev, AuditEvent::kProvisioned, "n" + std::to_string(i)})
            .ok());
  }
  REQUIRE(store->appendAudit({0, 2000, {"bob", "B1"}, AuditEvent::kFirstSeen, ""}).ok());
  auto log = store->listAudit(kDev, 3);
  REQUIRE(log.ok());
  REQUIRE(log->size() == 3);
  CHECK((*log)[0].detail == "n4");  // newest first
  CHECK((*log)[0].at == 1004);
  CHECK((*log)[2].detail == "n2");
  CHECK(store->listAudit({}, 100)->size() == 6);
}

// --- Hostile strings ---------------------------------------------------------

namespace {

struct Hostile {
  const char* name;
  std::string value;
};

std::vector<Hostile> hostileValues() {
  return {
      {"quotes", "'; DROP TABLE devices; -- \"`\\"},
      {"nul", std::string("a\0b\0", 4)},
      {"invalid utf-8", "\xff\xfe\xc0\x80\xed\xa0\x80z"},
      {"64 KB", std::string(64 * 1024, 'x') + "\x01\xff"},
  };
}

}  // namespace

TEST_CASE("hostile strings round-trip verbatim or are refused alike", "[storage]") {
  auto h = makeHarness("hostile");
  auto store = open(h->url());
  int seq = 0;
  for (const Hostile& hv : hostileValues()) {
    INFO("value: " << hv.name);
    const std::string& v = hv.value;
    const bool fits_key = v.size() <= kMaxKeyBytes;
    ++seq;

    // Every device string field, settings key and value.
    // The device's own ids are hostile too where they fit a key.
    DeviceRef ref = fits_key ? DeviceRef{v + "#" + std::to_string(seq), v}
                             : DeviceRef{"u" + std::to_string(seq), "d"};
    Device d = sampleDevice(ref.user, ref.device_id);
    d.device_type = d.model = d.imei = d.friendly_name = d.os = d.os_language = v;
    d.phone_number = d.mobile_operator = d.user_agent = d.protocol_version = d.access_reason = v;
    d.settings = {{"k", v}};
    REQUIRE_OK(store->putDevice(d));
    CHECK(store->findDevice(ref).value() == d);
    REQUIRE_OK(store->setAccessState(ref, AccessState::kBlock, v));
    CHECK(store->findDevice(ref)->access_reason == v);

    // Identifiers: device id and user, setting names.
    Device keyed = sampleDevice(v, v);
    keyed.settings = {{v, v}};
    Status ks = store->putDevice(keyed);
    if (fits_key) {
      REQUIRE(ks.ok());
      CHECK(store->findDevice({v, v}).value() == keyed);
      bool listed = false;
      auto devices = store->listDevices(v);
      REQUIRE(devices.ok());
      for (const Device& x : *devices) listed |= (x == keyed);
      CHECK(listed);
    } else {
      CHECK(ks.reason() == "store.value_too_long");
      CHECK(store->findDevice({v, v}).status().reason() == "store.value_too_long");
    }

    // Folders and FolderSync response.
    Folder f{fits_key ? v : "f", v.size() <= kMaxBackendIdBytes ? v : "b", fits_key ? v : "0", 12,
             v};
    REQUIRE_OK(store->commitFolderSync(ref, 0, 1, {{FolderChange::Kind::kAdd, f}}, v));
    CHECK(store->listFolders(ref).value() == std::vector<Folder>{f});
    REQUIRE_OK(store->commitFolderSync(ref, 1, 2, {}, v + "2"));
    CHECK(store->lookupFolderSyncKey(ref, 1)->replay_response == v + "2");
    if (!fits_key) {
      Folder big{v, "b", "0", 1, "n"};
      CHECK(store->commitFolderSync(ref, 2, 3, {{FolderChange::Kind::kAdd, big}}, "").reason() ==
            "store.value_too_long");
      CHECK(store->lookupFolderSyncKey(ref, 2)->match == FolderSyncLookup::Match::kCurrent);
    }

    // Sync state: collection id, item fields, DAV token, response.
    const std::string coll = fits_key ? v : "c";
    ItemEntry item{fits_key ? v : "s", v.size() <= kMaxBackendIdBytes ? v : "b", v, v};
    Watermark w{1, 2, 3, v};
    REQUIRE_OK(store->commitSyncState(ref, coll, {0, 1, w, {{ItemChange::Kind::kPut, item}}, v}));
    REQUIRE_OK(store->commitSyncState(ref, coll, {1, 2, w, {}, v + "!"}));
    auto cur = store->lookupSyncKey(ref, coll, 2);
    REQUIRE(cur.ok());
    CHECK(cur->state.watermark == w);
    CHECK(cur->state.items == std::vector<ItemEntry>{item});
    CHECK(store->lookupSyncKey(ref, coll, 1)->replay_response == v + "!");
    CHECK(store->findItemByBackendId(ref, coll, item.backend_id)->server_id == item.server_id);
    if (v.size() > kMaxBackendIdBytes) {
      ItemEntry big{"s2", v, "", ""};
      CHECK(store->commitSyncState(ref, coll, {2, 3, w, {{ItemChange::Kind::kPut, big}}, ""})
                .reason() == "store.value_too_long");
      CHECK(store->lookupSyncKey(ref, coll, 2)->match == SyncLookup::Match::kCurrent);
    }

    // Policies, ABQ, notices, audit.
    PolicySetting p{PolicyLevel::kUser, fits_key ? v : "s", fits_key ? v : "k", v};
    REQUIRE_OK(store->setPolicy(p));
    bool found = false;
    auto policies = store->listPolicies();
    REQUIRE(policies.ok());
    for (const PolicySetting& x : *policies) found |= (x == p);
    CHECK(found);
    if (!fits_key) {
      CHECK(store->setPolicy({PolicyLevel::kUser, v, "k", "x"}).reason() == "store.value_too_long");
    }
    auto rule_id = store->addAbqRule({0, AbqKind::kModel, v, AccessState::kBlock, true, seq});
    REQUIRE(rule_id.ok());
    found = false;
    auto rules = store->listAbqRules();
    REQUIRE(rules.ok());
    for (const AbqRule& r : *rules) found |= (r.id == *rule_id && r.value == v);
    CHECK(found);
    REQUIRE_OK(store->setAbqSetting(fits_key ? v : "k", v));
    CHECK(store->getAbqSetting(fits_key ? v : "k").value() == v);
    auto nid = store->queueNotice({0, ref, fits_key ? v : "k", v, 5});
    REQUIRE(nid.ok());
    found = false;
    auto notices = store->pendingNotices(100);
    REQUIRE(notices.ok());
    for (const Notice& n : *notices) found |= (n.id == *nid && n.payload == v);
    CHECK(found);
    if (fits_key && !v.empty()) {
      CHECK(store->claimClientId(ref, v, 64).value() == true);
      CHECK(store->claimClientId(ref, v, 64).value() == false);
    } else if (!fits_key) {
      CHECK(store->claimClientId(ref, v, 64).status().reason() == "store.value_too_long");
    }
    REQUIRE_OK(store->putRequestCache(ref, fits_key ? v : "sync", v));
    CHECK(store->getRequestCache(ref, fits_key ? v : "sync").value() == v);
    REQUIRE(store->appendAudit({0, 1, ref, AuditEvent::kBlocked, v}).ok());
    CHECK(store->listAudit(ref, 1).value().at(0).detail == v);
  }
  // Over the value limit: refused, same reason on every engine.
  std::string huge(kMaxValueBytes + 1, 'h');
  Device d = sampleDevice("huge", "d");
  d.friendly_name = huge;
  CHECK(store->putDevice(d).reason() == "store.value_too_long");
  CHECK(store->findDevice({"huge", "d"}).status().reason() == "store.not_found");
}
