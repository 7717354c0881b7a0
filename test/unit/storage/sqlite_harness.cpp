#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>

#include "storage/store_admin.h"
#include "test/unit/storage/store_harness.h"

namespace eas::storage::testing {
namespace {

class SqliteHarness final : public StoreHarness {
 public:
  explicit SqliteHarness(const std::string& tag) {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("eas-storage-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(dir_);
    url_ = "sqlite:" + (dir_ / (tag + ".db")).string();
    auto admin = openStoreAdmin(url_);
    REQUIRE(admin.ok());
    REQUIRE((*admin)->upgrade().ok());
  }
  ~SqliteHarness() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  const std::string& url() const override { return url_; }
  const char* engine() const override { return "sqlite"; }

 private:
  std::filesystem::path dir_;
  std::string url_;
};

}  // namespace

std::unique_ptr<StoreHarness> makeHarness(const std::string& tag) {
  return std::make_unique<SqliteHarness>(tag);
}

}  // namespace eas::storage::testing
