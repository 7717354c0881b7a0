#include "storage/sql/sql_connection.h"

#include <charconv>

namespace eas::storage::sql {

int64_t asInt(const SqlValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return *i;
  if (const auto* s = std::get_if<std::string>(&v)) {
    int64_t out = 0;
    std::from_chars(s->data(), s->data() + s->size(), out);
    return out;
  }
  return 0;
}

std::string asString(const SqlValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  return {};
}

Result<ConnectionPool::Lease> ConnectionPool::acquire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      std::unique_ptr<SqlConnection> c = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(c));
    }
  }
  // Connect outside the lock: a slow server must not serialise every thread.
  Result<std::unique_ptr<SqlConnection>> c = factory_();
  if (!c.ok()) return c.status();
  return Lease(this, std::move(c).value());
}

void ConnectionPool::giveBack(std::unique_ptr<SqlConnection> conn) {
  if (conn->broken()) return;  // dropped; the next acquire reconnects
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(conn));
}

}  // namespace eas::storage::sql
