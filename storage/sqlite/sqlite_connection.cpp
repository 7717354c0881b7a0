#include "storage/sqlite/sqlite_connection.h"

#include <sqlite3.h>

#include <unordered_map>

namespace eas::storage::sqlite {
namespace {

using sql::SqlResult;
using sql::SqlRow;
using sql::SqlValue;

// Waits this long for another writer (thread or process) before giving up
// with store.unavailable; the store then retries the operation.
constexpr int kBusyTimeoutMs = 10000;

Status fromSqlite(sqlite3* db, int rc, const std::string& what) {
  std::string msg = what + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable("store.unavailable", msg);
    case SQLITE_CONSTRAINT:
      return Status::Conflict("store.conflict", msg);
    case SQLITE_TOOBIG:
      return Status::InvalidArgument("store.value_too_long", msg);
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
      return Status::IOError("store.io_error", msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::Corruption("store.corrupt", msg);
    default:
      return Status::Internal("store.sql_error", msg);
  }
}

class SqliteConnection final : public sql::SqlConnection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  Result<SqlResult> run(const std::string& sql, const std::vector<SqlValue>& params) override {
    sqlite3_stmt* stmt = nullptr;
    auto it = cache_.find(sql);
    if (it != cache_.end()) {
      stmt = it->second;
    } else {
      int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                                  SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
      if (rc != SQLITE_OK) return fromSqlite(db_, rc, "prepare");
      cache_.emplace(sql, stmt);
    }
    // Reset on every exit so the statement never holds a read lock.
    struct Resetter {
      sqlite3_stmt* s;
      ~Resetter() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
      }
    } resetter{stmt};
    for (size_t i = 0; i < params.size(); ++i) {
      int idx = static_cast<int>(i + 1);
      int rc = SQLITE_OK;
      if (const auto* v = std::get_if<int64_t>(&params[i])) {
        rc = sqlite3_bind_int64(stmt, idx, *v);
      } else if (const auto* s = std::get_if<std::string>(&params[i])) {
        // c_str() is never null, so an empty string stays an empty BLOB, not NULL.
        // STATIC: `params` outlives the statement's use (reset on return).
        rc = sqlite3_bind_blob64(stmt, idx, s->c_str(), s->size(), SQLITE_STATIC);
      } else {
        rc = sqlite3_bind_null(stmt, idx);
      }
      if (rc != SQLITE_OK) return fromSqlite(db_, rc, "bind");
    }
    SqlResult out;
    for (;;) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return fromSqlite(db_, rc, "step");
      int n = sqlite3_column_count(stmt);
      SqlRow row;
      row.reserve(n);
      for (int c = 0; c < n; ++c) {
        switch (sqlite3_column_type(stmt, c)) {
          case SQLITE_INTEGER:
            row.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, c)));
            break;
          case SQLITE_NULL:
            row.emplace_back(std::monostate{});
            break;
          default: {
            const void* p = sqlite3_column_blob(stmt, c);
            int len = sqlite3_column_bytes(stmt, c);
            row.emplace_back(p ? std::string(static_cast<const char*>(p), len) : std::string());
            break;
          }
        }
      }
      out.rows.push_back(std::move(row));
    }
    out.affected = sqlite3_changes64(db_);
    return out;
  }

  Status exec(const std::string& sql) override {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
    sqlite3_free(err);
    if (rc != SQLITE_OK) return fromSqlite(db_, rc, "exec");
    return Status::Ok();
  }

  Result<int64_t> lastInsertId() override {
    return static_cast<int64_t>(sqlite3_last_insert_rowid(db_));
  }

  // IMMEDIATE takes the write lock at BEGIN: a deferred transaction that
  // reads and then writes can fail with SQLITE_BUSY without waiting.
  Status begin(bool write) override { return exec(write ? "BEGIN IMMEDIATE" : "BEGIN"); }
  Status commit() override { return exec("COMMIT"); }
  void rollback() override {
    if (!sqlite3_get_autocommit(db_)) (void)exec("ROLLBACK");
  }
  bool broken() const override { return false; }

 private:
  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

}  // namespace

Result<std::unique_ptr<sql::SqlConnection>> openSqliteConnection(const std::string& path) {
  sqlite3* db = nullptr;
  // NOMUTEX: the pool guarantees one thread per connection at a time.
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status s = Status::Unavailable(
        "store.unavailable",
        "cannot open SQLite file " + path + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
    sqlite3_close_v2(db);
    return s;
  }
  auto conn = std::make_unique<SqliteConnection>(db);
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  // WAL: readers never block the writer. NORMAL: a commit survives a killed
  // process (the WAL is in the OS), only an OS crash may lose the last ones.
  for (const char* pragma :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=OFF"}) {
    Status s = conn->exec(pragma);
    if (!s.ok()) return s;
  }
  return std::unique_ptr<sql::SqlConnection>(std::move(conn));
}

}  // namespace eas::storage::sqlite
