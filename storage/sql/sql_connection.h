// The small driver seam the SQL store is written against. Each engine
// (storage/sqlite, storage/mysql) implements SqlConnection; everything above
// it (sql_store.cpp) is engine-neutral except for the Dialect bits.
// Private to storage/: nothing outside this folder includes it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include "core/base/status.h"

namespace eas::storage::sql {

// NULL, an integer, or a byte string (bound as BLOB / VARBINARY).
using SqlValue = std::variant<std::monostate, int64_t, std::string>;
using SqlRow = std::vector<SqlValue>;

struct SqlResult {
  std::vector<SqlRow> rows;
  int64_t affected = 0;
};

int64_t asInt(const SqlValue& v);
std::string asString(const SqlValue& v);

enum class Engine { kSqlite, kMysql };

// One connection, used by one thread at a time (the pool hands it out).
class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  // Runs one statement with '?' placeholders; the prepared statement is
  // cached by its text. Errors: store.unavailable (busy, lost connection,
  // deadlock: retry the whole operation), store.conflict (duplicate key),
  // store.value_too_long, store.sql_error.
  virtual Result<SqlResult> run(const std::string& sql, const std::vector<SqlValue>& params) = 0;
  // Runs a statement without preparing it (DDL, transaction control).
  virtual Status exec(const std::string& sql) = 0;
  virtual Result<int64_t> lastInsertId() = 0;
  // write=true takes the write lock up front (SQLite BEGIN IMMEDIATE) so two
  // writers never deadlock on a lock upgrade.
  virtual Status begin(bool write) = 0;
  virtual Status commit() = 0;
  virtual void rollback() = 0;
  // A broken connection is dropped by the pool instead of being reused.
  virtual bool broken() const = 0;
};

using ConnectionFactory = std::function<Result<std::unique_ptr<SqlConnection>>()>;

// Hands each caller a connection of its own; keeps up to max_idle for reuse.
// Thread-safe.
class ConnectionPool {
 public:
  ConnectionPool(ConnectionFactory factory, size_t max_idle)
      : factory_(std::move(factory)), max_idle_(max_idle) {}

  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<SqlConnection> c)
        : pool_(pool), conn_(std::move(c)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn_) pool_->giveBack(std::move(conn_));
    }
    SqlConnection& operator*() { return *conn_; }
    SqlConnection* operator->() { return conn_.get(); }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<SqlConnection> conn_;
  };

  Result<Lease> acquire();

 private:
  void giveBack(std::unique_ptr<SqlConnection> conn);

  const ConnectionFactory factory_;
  const size_t max_idle_;
  std::mutex mu_;
  std::vector<std::unique_ptr<SqlConnection>> idle_;  // guarded by mu_
};

// RAII transaction: rolls back unless commit() succeeded.
class Transaction {
 public:
  explicit Transaction(SqlConnection& conn) : conn_(conn) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() {
    if (open_) conn_.rollback();
  }
  Status begin(bool write) {
    Status s = conn_.begin(write);
    open_ = s.ok();
    return s;
  }
  Status commit() {
    Status s = conn_.commit();
    if (s.ok()) open_ = false;
    return s;
  }

 private:
  SqlConnection& conn_;
  bool open_ = false;
};

}  // namespace eas::storage::sql
