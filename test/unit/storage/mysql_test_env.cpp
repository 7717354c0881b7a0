#include "test/unit/storage/mysql_test_env.h"

#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>

namespace eas::storage::testing {

std::map<std::string, std::string> mysqlTestEnv() {
  const std::string path = std::string(EAS_BINARY_DIR) + "/run/mariadb/env";
  std::ifstream in(path);
  INFO("MariaDB env file " << path << " (written by the mariadb_start fixture)");
  REQUIRE(in.good());
  std::map<std::string, std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    size_t eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  REQUIRE(out.count("EAS_TEST_MYSQL_URL") == 1);
  REQUIRE(out.count("EAS_TEST_MYSQL_ADMIN_CNF") == 1);
  return out;
}

void mysqlAdminSql(const std::string& sql) {
  auto env = mysqlTestEnv();
  std::string cmd =
      "mariadb --defaults-file='" + env["EAS_TEST_MYSQL_ADMIN_CNF"] + "' -e \"" + sql + "\"";
  INFO(cmd);
  REQUIRE(std::system(cmd.c_str()) == 0);
}

std::string mysqlUrlFor(const std::string& db) {
  auto env = mysqlTestEnv();
  return "mysql://" + env["EAS_TEST_MYSQL_USER"] + ":" + env["EAS_TEST_MYSQL_PASSWORD"] +
         "@127.0.0.1:" + env["EAS_TEST_MYSQL_PORT"] + "/" + db;
}

std::string freshMysqlDatabase(const std::string& tag, std::string* db_name) {
  static std::atomic<int> counter{0};
  std::string db = "eas_" + tag + "_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
  for (char& c : db) {
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  mysqlAdminSql("DROP DATABASE IF EXISTS " + db + "; CREATE DATABASE " + db);
  if (db_name) *db_name = db;
  return mysqlUrlFor(db);
}

}  // namespace eas::storage::testing
