// MySQL/MariaDB engine over MySQL Connector/C++ 1.1 (JDBC-style API).
// Every exception of the connector is caught here and becomes a Status.
// Private to storage/.
#pragma once

#include <memory>
#include <string>

#include "storage/sql/sql_connection.h"

namespace eas::storage::mysql {

struct MysqlParams {
  std::string user;
  std::string password;
  std::string host;  // ignored when socket is set
  int port = 3306;
  std::string socket;  // unix socket path
  std::string database;
};

// Connects (binary charset, strict SQL mode, READ COMMITTED, found-rows
// counting). store.unavailable when the server cannot be reached.
Result<std::unique_ptr<sql::SqlConnection>> openMysqlConnection(const MysqlParams& p);

}  // namespace eas::storage::mysql
