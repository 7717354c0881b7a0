// MariaDB only: the pool survives connections the server dropped, the socket
// URL form works, and an unreachable server is store.unavailable.
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "storage/metadata_store.h"
#include "storage/store_admin.h"
#include "test/unit/storage/mysql_test_env.h"

using namespace eas::storage;
using namespace eas::storage::testing;

namespace {

// Kills every server connection to database `db` (as root); the count of
// those found. Only this test's database: the other MariaDB tests run beside
// it under ctest -j and share the user. A connection that ends between the
// SELECT and its KILL ("Unknown thread id") is gone all the same.
int killConnectionsTo(const std::string& db) {
  auto env = mysqlTestEnv();
  const std::string admin = "mariadb --defaults-file='" + env["EAS_TEST_MYSQL_ADMIN_CNF"] + "'";
  std::string cmd = admin + " -N -e \"SELECT id FROM information_schema.processlist WHERE user = '" +
                    env["EAS_TEST_MYSQL_USER"] + "' AND db = '" + db + "'\"";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::vector<std::string> ids;
  char line[64];
  while (fgets(line, sizeof line, p)) {
    std::string id(line);
    while (!id.empty() && (id.back() == '\n' || id.back() == '\r')) id.pop_back();
    if (!id.empty()) ids.push_back(id);
  }
  pclose(p);
  for (const std::string& id : ids) {
    const std::string kill = admin + " -e \"KILL CONNECTION " + id + "\" 2>/dev/null";
    (void)std::system(kill.c_str());
  }
  return static_cast<int>(ids.size());
}

}  // namespace

TEST_CASE("MariaDB: reconnects after the server dropped the pooled connections",
          "[storage][mariadb]") {
  std::string db;
  const std::string url = freshMysqlDatabase("reconnect", &db);
  auto admin = openStoreAdmin(url);
  REQUIRE(admin.ok());
  REQUIRE((*admin)->upgrade().ok());
  auto store = openMetadataStore(url);
  REQUIRE(store.ok());
  Device d;
  d.ref = {"re@example.test", "R1"};
  REQUIRE((*store)->putDevice(d).ok());
  REQUIRE((*store)->commitSyncState(d.ref, "1", {0, 1, {}, {}, "r1"}).ok());

  CHECK(killConnectionsTo(db) >= 1);
  // The next calls find a dead pooled connection, drop it and reconnect.
  auto found = (*store)->findDevice(d.ref);
  INFO(found.status().toString());
  REQUIRE(found.ok());
  REQUIRE((*store)
              ->commitSyncState(d.ref, "1",
                                {1, 2, {}, {{ItemChange::Kind::kPut, {"1:1", "1", "", ""}}}, "r2"})
              .ok());
  CHECK(killConnectionsTo(db) >= 1);
  auto l = (*store)->lookupSyncKey(d.ref, "1", 1);
  REQUIRE(l.ok());
  CHECK(l->replay_response == "r2");
  mysqlAdminSql("DROP DATABASE IF EXISTS " + db);
}

TEST_CASE("MariaDB: the unix socket URL form", "[storage][mariadb]") {
  auto env = mysqlTestEnv();
  std::string db;
  (void)freshMysqlDatabase("socket", &db);
  const std::string url = "mysql://" + env["EAS_TEST_MYSQL_USER"] + ":" +
                          env["EAS_TEST_MYSQL_PASSWORD"] + "@localhost/" + db +
                          "?socket=" + env["EAS_TEST_MYSQL_SOCKET"];
  auto admin = openStoreAdmin(url);
  INFO(admin.status().toString());
  REQUIRE(admin.ok());
  REQUIRE((*admin)->upgrade().ok());
  auto store = openMetadataStore(url);
  REQUIRE(store.ok());
  REQUIRE((*store)->setAbqSetting("new_device_action", "block").ok());
  CHECK((*store)->getAbqSetting("new_device_action").value() == "block");
  mysqlAdminSql("DROP DATABASE IF EXISTS " + db);
}

TEST_CASE("MariaDB: wrong password and unreachable server are clear errors", "[storage][mariadb]") {
  auto env = mysqlTestEnv();
  auto bad_pw = openMetadataStore("mysql://" + env["EAS_TEST_MYSQL_USER"] +
                                  ":wrong@127.0.0.1:" + env["EAS_TEST_MYSQL_PORT"] + "/eas_test");
  REQUIRE_FALSE(bad_pw.ok());
  CHECK(bad_pw.status().reason() == "store.unavailable");
  CHECK(bad_pw.status().message().find("1045") != std::string::npos);  // access denied
  auto closed = openMetadataStore("mysql://u:p@127.0.0.1:1/eas_test");
  REQUIRE_FALSE(closed.ok());
  CHECK(closed.status().reason() == "store.unavailable");
  // A reachable server with an empty database: no schema.
  std::string db;
  auto empty = openMetadataStore(freshMysqlDatabase("empty", &db));
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.status().reason() == "store.schema_missing");
  CHECK(empty.status().message().find("easctl db upgrade") != std::string::npos);
  mysqlAdminSql("DROP DATABASE IF EXISTS " + db);
}
