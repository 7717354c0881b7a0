// easctl db upgrade / status / reset against SQLite, and bad input.
#include <catch2/catch.hpp>

#include "storage/metadata_store.h"
#include "storage/sql/schema.h"
#include "storage/sqlite/sqlite_connection.h"
#include "storage/store_admin.h"
#include "test/unit/storage/easctl_runner.h"
#include "test/unit/storage/store_harness.h"

using namespace eas::storage;
using namespace eas::storage::testing;

TEST_CASE("easctl db upgrade creates the schema workers need", "[easctl]") {
  auto h = makeHarness("easctl-upgrade");  // gives us a temp dir; use a second file in it
  const std::string url = h->url() + ".new";
  CHECK(openMetadataStore(url).status().reason() == "store.schema_missing");
  auto r = runEasctl("db upgrade --store '" + url + "'");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("schema version 0 -> " + std::to_string(knownSchemaVersion())) !=
        std::string::npos);
  CHECK(openMetadataStore(url).ok());
  r = runEasctl("db upgrade --store '" + url + "'");
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("up to date") != std::string::npos);
}

TEST_CASE("easctl db upgrade takes a real version-1 store to the current schema", "[easctl]") {
  auto h = makeHarness("easctl-v1");
  const std::string path = h->url().substr(std::string("sqlite:").size()) + ".v1";
  {
    // A store exactly as version 1 of the code left it: no client_ids table
    // (and a row, bytes as the store writes them, that must survive).
    auto conn = eas::storage::sqlite::openSqliteConnection(path);
    REQUIRE(conn.ok());
    const auto& v1 = eas::storage::sql::migrations().at(0);
    REQUIRE(v1.version == 1);
    for (const std::string& stmt : v1.sqlite) REQUIRE((*conn)->exec(stmt).ok());
    REQUIRE((*conn)->exec("CREATE TABLE schema_version (version INTEGER NOT NULL)").ok());
    REQUIRE((*conn)->exec("INSERT INTO schema_version (version) VALUES (1)").ok());
    REQUIRE((*conn)->exec("INSERT INTO request_cache (user_name, device_id, name, value) VALUES "
                          "(CAST('anna@example.test' AS BLOB), CAST('D1' AS BLOB), "
                          "CAST('sync' AS BLOB), CAST('kept' AS BLOB))")
                .ok());
    REQUIRE_FALSE((*conn)->exec("SELECT COUNT(*) FROM client_ids").ok());
  }
  const std::string url = "sqlite:" + path;
  CHECK(openMetadataStore(url).status().reason() == "store.schema_outdated");
  auto r = runEasctl("db upgrade --store '" + url + "'");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("schema version 1 -> " + std::to_string(knownSchemaVersion())) !=
        std::string::npos);
  auto store = openMetadataStore(url);
  REQUIRE(store.ok());
  const DeviceRef ref{"anna@example.test", "D1"};
  CHECK((*store)->getRequestCache(ref, "sync").value() == "kept");
  CHECK((*store)->claimClientId(ref, "first", 64).value() == true);
  CHECK((*store)->claimClientId(ref, "first", 64).value() == false);
}

TEST_CASE("easctl db reset needs the confirmation flag", "[easctl]") {
  auto h = makeHarness("easctl-reset");
  {
    auto store = openMetadataStore(h->url());
    REQUIRE(store.ok());
    Device d;
    d.ref = {"u", "d"};
    REQUIRE((*store)->putDevice(d).ok());
    REQUIRE(
        (*store)->addAbqRule({0, AbqKind::kGlobal, "", AccessState::kQuarantine, true, 1}).ok());
  }
  auto r = runEasctl("db reset --store '" + h->url() + "'");
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("WARNING: This will make all devices perform a full synchronization") !=
        std::string::npos);
  CHECK(r.output.find("--yes-i-understand") != std::string::npos);
  auto store = openMetadataStore(h->url());
  REQUIRE(store.ok());
  CHECK((*store)->findDevice({"u", "d"}).ok());  // untouched

  r = runEasctl("db status --store '" + h->url() + "' --json");
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("{\"table\": \"devices\", \"rows\": 1}") != std::string::npos);
  CHECK(r.output.find("{\"table\": \"abq_rules\", \"rows\": 1}") != std::string::npos);

  r = runEasctl("db reset --store '" + h->url() + "' --yes-i-understand");
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("2 rows deleted") != std::string::npos);
  CHECK((*store)->findDevice({"u", "d"}).status().reason() == "store.not_found");
  CHECK((*store)->listAbqRules()->empty());
  // The schema stays: workers can open the store at once.
  CHECK(openMetadataStore(h->url()).ok());
}

TEST_CASE("easctl rejects bad input with a message and a non-zero exit", "[easctl]") {
  struct Case {
    const char* args;
    int code;
    const char* says;
  };
  const Case cases[] = {
      {"", 2, "usage: easctl"},
      {"frob", 2, "unknown command group 'frob'"},
      {"db", 2, "needs a command"},
      {"db frob", 2, "unknown command 'db frob'"},
      {"db upgrade", 2, "--store URL is required"},
      {"db upgrade --store", 2, "--store needs a value"},
      {"db upgrade --store postgres://x/y", 2, "store.bad_url"},
      {"db upgrade --store 'mysql://u:p@h:99999/db'", 2, "bad port"},
      {"db upgrade --store sqlite:/nonexistent-dir/x/y.db", 1, "store.unavailable"},
      {"db upgrade --frob x", 2, "unknown option --frob"},
      {"db upgrade stray", 2, "unexpected argument 'stray'"},
      {"db migrate --from sqlite:/tmp/a.db", 2, "--to URL is required"},
      {"db migrate --from sqlite:/tmp/a.db --to sqlite:/tmp/a.db", 2, "the same store"},
      {"db reset --store sqlite:/tmp/x.db --yes-i-understand=1", 2, "unknown option"},
      {"db status --store sqlite:/nonexistent-eas-store.db", 1, "no SQLite store at"},
      {"db reset --store sqlite:/nonexistent-eas-store.db --yes-i-understand", 1,
       "no SQLite store at"},
      {"db migrate --from sqlite:/nonexistent-eas-store.db --to sqlite:/nonexistent-2.db", 1,
       "no SQLite store at"},
  };
  for (const Case& c : cases) {
    auto r = runEasctl(c.args);
    INFO("easctl " << c.args << "\n" << r.output);
    CHECK(r.exit_code == c.code);
    CHECK(r.output.find(c.says) != std::string::npos);
  }
}

TEST_CASE("easctl db migrate between two SQLite files refuses a non-empty destination",
          "[easctl]") {
  auto src = makeHarness("easctl-src");
  auto dst = makeHarness("easctl-dst");
  {
    auto store = openMetadataStore(src->url());
    REQUIRE(store.ok());
    Device d;
    d.ref = {"u", "d"};
    d.settings = {{"a", "b"}};
    REQUIRE((*store)->putDevice(d).ok());
  }
  auto r = runEasctl("db migrate --from '" + src->url() + "' --to '" + dst->url() + "' --json");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("{\"table\": \"devices\", \"source\": 1, \"destination\": 1}") !=
        std::string::npos);
  r = runEasctl("db migrate --from '" + src->url() + "' --to '" + dst->url() + "'");
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("store.not_empty") != std::string::npos);
}
