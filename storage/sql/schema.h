// Versioned schema: numbered migrations kept in code, one list per engine
// (the DDL differs: SQLite BLOB/INTEGER, MySQL VARBINARY/MEDIUMBLOB/BIGINT).
// Private to storage/.
#pragma once

#include <string>
#include <vector>

#include "storage/sql/sql_connection.h"

namespace eas::storage::sql {

// The schema version this code reads and writes.
inline constexpr int kSchemaVersion = 2;  // 2: client_ids

struct Migration {
  int version;
  const char* description;
  std::vector<std::string> sqlite;
  std::vector<std::string> mysql;
};

const std::vector<Migration>& migrations();

// Every data table with its columns, in copy order (used by migrate, reset
// and row counts). schema_version is not listed.
struct TableInfo {
  std::string name;
  std::vector<std::string> columns;
};
const std::vector<TableInfo>& dataTables();

// The version recorded in the store, 0 when there is no schema at all.
Result<int> readSchemaVersion(SqlConnection& conn);

// Applies every migration above the recorded version, each recorded as it
// completes. Serialised across processes (SQLite write transaction, MySQL
// GET_LOCK). store.schema_unknown if the store is newer than this code.
Status upgradeSchema(SqlConnection& conn, Engine engine);

}  // namespace eas::storage::sql
