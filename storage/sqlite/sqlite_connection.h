// SQLite engine: one SqlConnection per thread at a time (from the pool), on
// one database file in WAL mode. Private to storage/.
#pragma once

#include <memory>
#include <string>

#include "storage/sql/sql_connection.h"

namespace eas::storage::sqlite {

// Opens (creating if needed) the database file: WAL, busy timeout,
// synchronous=NORMAL. store.unavailable when the file cannot be opened.
Result<std::unique_ptr<sql::SqlConnection>> openSqliteConnection(const std::string& path);

}  // namespace eas::storage::sqlite
