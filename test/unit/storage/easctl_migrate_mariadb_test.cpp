// easctl db migrate: a populated SQLite store copied into MariaDB, row counts
// and content checked through the interface.
#include <catch2/catch.hpp>

#include "storage/metadata_store.h"
#include "storage/store_admin.h"
#include "test/unit/storage/easctl_runner.h"
#include "test/unit/storage/mysql_test_env.h"
#include "test/unit/storage/store_harness.h"

using namespace eas;
using namespace eas::storage;
using namespace eas::storage::testing;

namespace {

// Puts rows into every table, including bytes a careless copy would mangle.
void populate(MetadataStore& s) {
  const std::string odd = std::string("o'k\"\0\xff\xfe", 7);
  for (int i = 0; i < 25; ++i) {
    Device d;
    d.ref = {"user" + std::to_string(i % 5) + "@example.test", "DEV" + std::to_string(i)};
    d.friendly_name = odd + std::to_string(i);
    d.access_state = static_cast<AccessState>(i % 3);
    d.settings = {{"mail.filter", std::to_string(i)}};
    REQUIRE(s.putDevice(d).ok());
    REQUIRE(s.reserveIds(d.ref, 3).ok());
    REQUIRE(s.commitFolderSync(d.ref, 0, 1,
                               {{FolderChange::Kind::kAdd, {"1", "INBOX", "0", 2, odd}}}, "fs")
                .ok());
    REQUIRE(s.commitSyncState(d.ref, "1", {0, 1, {9, 1, 2, odd}, {}, "r1"}).ok());
    std::vector<ItemChange> items;
    for (int j = 0; j < 20; ++j) {
      items.push_back(
          {ItemChange::Kind::kPut, {"1:" + std::to_string(j), std::to_string(j), "\\Seen", odd}});
    }
    REQUIRE(s.commitSyncState(d.ref, "1", {1, 2, {9, 2, 22, odd}, items, "r2" + odd}).ok());
    REQUIRE(s.queueNotice({0, d.ref, "quarantined", odd, i}).ok());
    REQUIRE(s.putRequestCache(d.ref, "sync", odd).ok());
    REQUIRE(s.claimClientId(d.ref, "client-" + odd, 64).value());
    REQUIRE(s.appendAudit({0, i, d.ref, AuditEvent::kFirstSeen, odd}).ok());
  }
  REQUIRE(s.setPolicy({PolicyLevel::kGlobal, "", "DevicePasswordEnabled", "1"}).ok());
  REQUIRE(s.setPolicy({PolicyLevel::kDomain, "example.test", "MinDevicePasswordLength", "6"}).ok());
  REQUIRE(s.addAbqRule({0, AbqKind::kModel, odd, AccessState::kBlock, true, 1}).ok());
  REQUIRE(s.setAbqSetting("new_device_action", "quarantine").ok());
}

}  // namespace

TEST_CASE("easctl db migrate copies a SQLite store into MariaDB", "[easctl][mariadb]") {
  auto src = makeHarness("migrate-src");  // SQLite (this binary links the SQLite harness)
  {
    auto s = openMetadataStore(src->url());
    REQUIRE(s.ok());
    populate(**s);
  }
  std::string db;
  const std::string dst_url = freshMysqlDatabase("migrate", &db);
  auto r = runEasctl("db migrate --from '" + src->url() + "' --to '" + dst_url + "'");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("row counts verified") != std::string::npos);
  CHECK(r.output.find(mysqlTestEnv()["EAS_TEST_MYSQL_PASSWORD"]) ==
        std::string::npos);  // never printed

  auto src_admin = openStoreAdmin(src->url());
  auto dst_admin = openStoreAdmin(dst_url);
  REQUIRE(src_admin.ok());
  REQUIRE(dst_admin.ok());
  auto a = (*src_admin)->rowCounts();
  auto b = (*dst_admin)->rowCounts();
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(a->size() == b->size());
  for (size_t i = 0; i < a->size(); ++i) {
    INFO((*a)[i].table);
    CHECK((*a)[i].rows > 0);  // every table took part
    CHECK((*a)[i].rows == (*b)[i].rows);
  }

  auto s = openMetadataStore(src->url());
  auto d = openMetadataStore(dst_url);
  REQUIRE(s.ok());
  REQUIRE(d.ok());
  CHECK((*s)->listDevices("").value() == (*d)->listDevices("").value());
  CHECK((*s)->listPolicies().value() == (*d)->listPolicies().value());
  CHECK((*s)->listAbqRules().value() == (*d)->listAbqRules().value());
  CHECK((*s)->pendingNotices(100).value() == (*d)->pendingNotices(100).value());
  CHECK((*s)->listAudit({}, 100).value() == (*d)->listAudit({}, 100).value());
  CHECK((*d)->getRequestCache({"user1@example.test", "DEV6"}, "sync").value() ==
        (*s)->getRequestCache({"user1@example.test", "DEV6"}, "sync").value());
  // The claimed ClientIds came along: claiming one again in MariaDB is refused.
  const std::string odd = std::string("o'k\"\0\xff\xfe", 7);
  CHECK((*d)->claimClientId({"user1@example.test", "DEV6"}, "client-" + odd, 64).value() == false);
  const DeviceRef ref{"user3@example.test", "DEV8"};
  auto sl = (*s)->lookupSyncKey(ref, "1", 1);
  auto dl = (*d)->lookupSyncKey(ref, "1", 1);
  REQUIRE(dl.ok());
  CHECK(dl->match == SyncLookup::Match::kPrevious);  // replay state came along
  CHECK(dl->replay_response == sl->replay_response);
  CHECK(dl->state.items == sl->state.items);
  CHECK((*d)->lookupSyncKey(ref, "1", 2)->state.items ==
        (*s)->lookupSyncKey(ref, "1", 2)->state.items);
  // New ids continue after the copied ones.
  auto id = (*d)->addAbqRule({0, AbqKind::kGlobal, "", AccessState::kAllow, true, 9});
  REQUIRE(id.ok());
  CHECK(*id > (*s)->listAbqRules()->back().id);

  // A second run refuses the now non-empty destination.
  r = runEasctl("db migrate --from '" + src->url() + "' --to '" + dst_url + "'");
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("store.not_empty") != std::string::npos);
  mysqlAdminSql("DROP DATABASE IF EXISTS " + db);
}

TEST_CASE("easctl db upgrade and reset on MariaDB", "[easctl][mariadb]") {
  std::string db;
  const std::string url = freshMysqlDatabase("easctl", &db);
  auto r = runEasctl("db upgrade --store '" + url + "'");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  auto s = openMetadataStore(url);
  REQUIRE(s.ok());
  REQUIRE((*s)->setPolicy({PolicyLevel::kGlobal, "", "k", "v"}).ok());
  CHECK(runEasctl("db reset --store '" + url + "'").exit_code == 2);
  CHECK((*s)->listPolicies()->size() == 1);
  CHECK(runEasctl("db reset --store '" + url + "' --yes-i-understand").exit_code == 0);
  CHECK((*s)->listPolicies()->empty());
  mysqlAdminSql("DROP DATABASE IF EXISTS " + db);
}
