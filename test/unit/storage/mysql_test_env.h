// Reads run/mariadb/env written by deploy/local/mariadb.sh (the ctest fixture
// "mariadb"). Missing file = the server was not started: tests FAIL.
#pragma once

#include <map>
#include <string>

namespace eas::storage::testing {

// KEY=VALUE lines of ${EAS_BINARY_DIR}/run/mariadb/env (REQUIREs it exists).
std::map<std::string, std::string> mysqlTestEnv();
// Runs SQL as the server's root over its unix socket (mariadb CLI); REQUIREs success.
void mysqlAdminSql(const std::string& sql);
// mysql:// URL for database `db` (created by the caller) with the test user.
std::string mysqlUrlFor(const std::string& db);
// Creates (dropping any leftover) a database for this test run and returns its URL.
std::string freshMysqlDatabase(const std::string& tag, std::string* db_name = nullptr);

}  // namespace eas::storage::testing
