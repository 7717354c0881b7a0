// Parses the store URL of the configuration and of easctl --store.
#pragma once

#include <string>

#include "core/base/status.h"
#include "storage/mysql/mysql_connection.h"

namespace eas::storage {

struct StoreUrl {
  enum class Kind { kSqlite, kMysql } kind = Kind::kSqlite;
  std::string sqlite_path;
  mysql::MysqlParams mysql;
  // The URL without the password, for messages and logs.
  std::string redacted;
};

// "sqlite:/path/file.db" (also "sqlite:///path", "sqlite:relative.db"),
// "mysql://user:pass@host[:port]/db", "mysql://user:pass@localhost/db?socket=/path".
// User and password may be %-encoded. store.bad_url on anything else.
Result<StoreUrl> parseStoreUrl(const std::string& url);

}  // namespace eas::storage
