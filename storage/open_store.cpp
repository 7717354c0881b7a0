// The factories: URL -> engine -> SqlStore, as a worker's MetadataStore
// (schema checked) or as an admin's StoreAdmin (schema not checked).
#include <memory>

#include "storage/metadata_store.h"
#include "storage/mysql/mysql_connection.h"
#include "storage/sql/sql_store.h"
#include "storage/sqlite/sqlite_connection.h"
#include "storage/store_admin.h"
#include "storage/store_url.h"

namespace eas::storage {
namespace {

// Connections kept idle per store; more are opened while threads need them.
constexpr size_t kMaxIdleConnections = 16;

Result<std::unique_ptr<sql::SqlStore>> openSqlStore(const std::string& url) {
  Result<StoreUrl> parsed = parseStoreUrl(url);
  if (!parsed.ok()) return parsed.status();
  const StoreUrl u = std::move(parsed).value();
  std::unique_ptr<sql::SqlStore> store;
  if (u.kind == StoreUrl::Kind::kSqlite) {
    std::string path = u.sqlite_path;
    store = std::make_unique<sql::SqlStore>(
        sql::Engine::kSqlite, [path] { return sqlite::openSqliteConnection(path); },
        kMaxIdleConnections, u.redacted);
  } else {
    mysql::MysqlParams params = u.mysql;
    store = std::make_unique<sql::SqlStore>(
        sql::Engine::kMysql, [params] { return mysql::openMysqlConnection(params); },
        kMaxIdleConnections, u.redacted);
  }
  // Connect once now so a wrong URL fails at start, not at the first request.
  Result<int> v = store->schemaVersion();
  if (!v.ok()) return v.status();
  return store;
}

}  // namespace

Result<std::unique_ptr<MetadataStore>> openMetadataStore(const std::string& url) {
  Result<std::unique_ptr<sql::SqlStore>> store = openSqlStore(url);
  if (!store.ok()) return store.status();
  EAS_RETURN_IF_ERROR((*store)->checkSchema());
  return std::unique_ptr<MetadataStore>(std::move(store).value());
}

Result<std::unique_ptr<StoreAdmin>> openStoreAdmin(const std::string& url) {
  Result<std::unique_ptr<sql::SqlStore>> store = openSqlStore(url);
  if (!store.ok()) return store.status();
  return std::unique_ptr<StoreAdmin>(std::move(store).value());
}

}  // namespace eas::storage
