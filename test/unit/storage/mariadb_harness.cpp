#include <catch2/catch.hpp>

#include "storage/store_admin.h"
#include "test/unit/storage/mysql_test_env.h"
#include "test/unit/storage/store_harness.h"

namespace eas::storage::testing {
namespace {

// A database of its own per test case, dropped afterwards.
class MariadbHarness final : public StoreHarness {
 public:
  explicit MariadbHarness(const std::string& tag) {
    url_ = freshMysqlDatabase(tag, &db_);
    auto admin = openStoreAdmin(url_);
    INFO((admin.ok() ? std::string() : admin.status().toString()));
    REQUIRE(admin.ok());
    REQUIRE((*admin)->upgrade().ok());
  }
  ~MariadbHarness() override { mysqlAdminSql("DROP DATABASE IF EXISTS " + db_); }
  const std::string& url() const override { return url_; }
  const char* engine() const override { return "mariadb"; }

 private:
  std::string db_;
  std::string url_;
};

}  // namespace

std::unique_ptr<StoreHarness> makeHarness(const std::string& tag) {
  return std::make_unique<MariadbHarness>(tag);
}

}  // namespace eas::storage::testing
