#include "storage/store_url.h"

#include <catch2/catch.hpp>

using eas::storage::parseStoreUrl;
using eas::storage::StoreUrl;

TEST_CASE("store URLs: sqlite and mysql forms", "[storage]") {
  auto s = parseStoreUrl("sqlite:/var/lib/eas/meta.db");
  REQUIRE(s.ok());
  CHECK(s->kind == StoreUrl::Kind::kSqlite);
  CHECK(s->sqlite_path == "/var/lib/eas/meta.db");
  CHECK(parseStoreUrl("sqlite:///tmp/x.db")->sqlite_path == "/tmp/x.db");
  CHECK(parseStoreUrl("sqlite:rel.db")->sqlite_path == "rel.db");

  auto m = parseStoreUrl("mysql://eas:s%40cret:x@db.example:3307/easdb");
  REQUIRE(m.ok());
  CHECK(m->kind == StoreUrl::Kind::kMysql);
  CHECK(m->mysql.user == "eas");
  CHECK(m->mysql.password == "s@cret:x");
  CHECK(m->mysql.host == "db.example");
  CHECK(m->mysql.port == 3307);
  CHECK(m->mysql.database == "easdb");
  CHECK(m->redacted.find("cret") == std::string::npos);

  auto sock = parseStoreUrl("mysql://eas:pw@localhost/easdb?socket=/run/my%20sql.sock");
  REQUIRE(sock.ok());
  CHECK(sock->mysql.socket == "/run/my sql.sock");
  CHECK(sock->mysql.port == 3306);
  CHECK(sock->mysql.host == "localhost");
}

TEST_CASE("store URLs: bad input is store.bad_url", "[storage]") {
  for (const char* bad :
       {"", "sqlite:", "postgres://x@y/z", "mysql://", "mysql://host/db", "mysql://u:p@host",
        "mysql://u:p@host/", "mysql://u:p@host:0/db", "mysql://u:p@host:99999/db",
        "mysql://u:p@host:12x/db", "mysql://u%4:p@host/db", "mysql://u:p@host/db?ssl=1",
        "mysql://:p@host/db", "mysql://u:p@:3306/db"}) {
    INFO(bad);
    auto r = parseStoreUrl(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().reason() == "store.bad_url");
  }
}
