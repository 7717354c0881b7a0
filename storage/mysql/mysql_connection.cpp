#include "storage/mysql/mysql_connection.h"

#include <cppconn/datatype.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/resultset_metadata.h>
#include <cppconn/statement.h>
#include <mysql_connection.h>
#include <mysql_driver.h>

#include <mutex>
#include <unordered_map>

namespace eas::storage::mysql {
namespace {

using sql::SqlResult;
using sql::SqlRow;
using sql::SqlValue;

// Client and server error numbers that mean "the connection is gone".
bool isConnectionLost(int code) {
  switch (code) {
    case 2002:  // CR_CONNECTION_ERROR
    case 2003:  // CR_CONN_HOST_ERROR
    case 2006:  // CR_SERVER_GONE_ERROR
    case 2013:  // CR_SERVER_LOST
    case 2055:  // CR_SERVER_LOST_EXTENDED
    case 1053:  // ER_SERVER_SHUTDOWN
    case 1927:  // ER_CONNECTION_KILLED
    case 4031:  // ER_CLIENT_INTERACTION_TIMEOUT
      return true;
    default:
      return false;
  }
}

::sql::mysql::MySQL_Driver* driver() {
  // get_driver_instance() is not safe to race on first use.
  static std::once_flag once;
  static ::sql::mysql::MySQL_Driver* d = nullptr;
  std::call_once(once, [] { d = ::sql::mysql::get_mysql_driver_instance(); });
  return d;
}

class MysqlConnection final : public sql::SqlConnection {
 public:
  explicit MysqlConnection(std::unique_ptr<::sql::Connection> c) : conn_(std::move(c)) {}
  ~MysqlConnection() override {
    cache_.clear();
    try {
      conn_->close();
    } catch (const std::exception&) {
      // closing a dead connection; nothing to do
    }
  }

  Result<SqlResult> run(const std::string& sql, const std::vector<SqlValue>& params) override {
    try {
      ::sql::PreparedStatement* ps = nullptr;
      auto it = cache_.find(sql);
      if (it != cache_.end()) {
        ps = it->second.get();
      } else {
        std::unique_ptr<::sql::PreparedStatement> p(conn_->prepareStatement(sql));
        ps = p.get();
        cache_.emplace(sql, std::move(p));
      }
      ps->clearParameters();
      for (size_t i = 0; i < params.size(); ++i) {
        unsigned idx = static_cast<unsigned>(i + 1);
        if (const auto* v = std::get_if<int64_t>(&params[i])) {
          ps->setInt64(idx, *v);
        } else if (const auto* s = std::get_if<std::string>(&params[i])) {
          ps->setString(idx, ::sql::SQLString(*s));  // length-carrying: NUL bytes survive
        } else {
          ps->setNull(idx, ::sql::DataType::VARBINARY);
        }
      }
      SqlResult out;
      if (returnsRows(sql)) {
        std::unique_ptr<::sql::ResultSet> rs(ps->executeQuery());
        ::sql::ResultSetMetaData* md = rs->getMetaData();
        const unsigned n = md->getColumnCount();
        std::vector<bool> is_int(n + 1);
        for (unsigned c = 1; c <= n; ++c) {
          switch (md->getColumnType(c)) {
            case ::sql::DataType::BIT:
            case ::sql::DataType::TINYINT:
            case ::sql::DataType::SMALLINT:
            case ::sql::DataType::MEDIUMINT:
            case ::sql::DataType::INTEGER:
            case ::sql::DataType::BIGINT:
              is_int[c] = true;
              break;
            default:
              is_int[c] = false;
          }
        }
        while (rs->next()) {
          SqlRow row;
          row.reserve(n);
          for (unsigned c = 1; c <= n; ++c) {
            if (rs->isNull(c)) {
              row.emplace_back(std::monostate{});
            } else if (is_int[c]) {
              row.emplace_back(static_cast<int64_t>(rs->getInt64(c)));
            } else {
              row.emplace_back(rs->getString(c).asStdString());
            }
          }
          out.rows.push_back(std::move(row));
        }
      } else {
        out.affected = ps->executeUpdate();
      }
      return out;
    } catch (const ::sql::SQLException& e) {
      return fromException(e, "query");
    } catch (const std::exception& e) {
      broken_ = true;
      return Status::Internal("store.sql_error", std::string("MySQL: ") + e.what());
    }
  }

  Status exec(const std::string& sql) override {
    try {
      std::unique_ptr<::sql::Statement> st(conn_->createStatement());
      if (st->execute(sql)) {
        std::unique_ptr<::sql::ResultSet> rs(st->getResultSet());  // drain it
        while (rs->next()) {
        }
      }
      return Status::Ok();
    } catch (const ::sql::SQLException& e) {
      return fromException(e, "exec");
    } catch (const std::exception& e) {
      broken_ = true;
      return Status::Internal("store.sql_error", std::string("MySQL: ") + e.what());
    }
  }

  Result<int64_t> lastInsertId() override {
    Result<SqlResult> r = run("SELECT LAST_INSERT_ID()", {});
    if (!r.ok()) return r.status();
    if (r->rows.empty()) return Status::Internal("store.sql_error", "no LAST_INSERT_ID");
    return sql::asInt(r->rows[0][0]);
  }

  Status begin(bool /*write*/) override { return exec("START TRANSACTION"); }
  Status commit() override { return exec("COMMIT"); }
  void rollback() override {
    if (broken_) return;  // the server rolled back when the connection dropped
    Status s = exec("ROLLBACK");
    if (!s.ok()) broken_ = true;
  }
  bool broken() const override { return broken_; }

 private:
  static bool returnsRows(const std::string& sql) {
    return sql.compare(0, 6, "SELECT") == 0 || sql.compare(0, 4, "SHOW") == 0;
  }

  Status fromException(const ::sql::SQLException& e, const char* what) {
    const int code = e.getErrorCode();
    std::string msg = std::string("MySQL ") + what + " error " + std::to_string(code) + " (" +
                      e.getSQLStateCStr() + "): " + e.what();
    if (isConnectionLost(code) || code == 0) {
      broken_ = true;  // the pool drops it; the retry reconnects
      return Status::Unavailable("store.unavailable", msg);
    }
    switch (code) {
      case 1205:  // ER_LOCK_WAIT_TIMEOUT
      case 1213:  // ER_LOCK_DEADLOCK: the transaction was rolled back; retry it
        return Status::Unavailable("store.unavailable", msg);
      case 1062:  // ER_DUP_ENTRY
        return Status::Conflict("store.conflict", msg);
      case 1406:  // ER_DATA_TOO_LONG
      case 1153:  // ER_NET_PACKET_TOO_LARGE
        return Status::InvalidArgument("store.value_too_long", msg);
      default:
        return Status::Internal("store.sql_error", msg);
    }
  }

  std::unique_ptr<::sql::Connection> conn_;
  std::unordered_map<std::string, std::unique_ptr<::sql::PreparedStatement>> cache_;
  bool broken_ = false;
};

}  // namespace

Result<std::unique_ptr<sql::SqlConnection>> openMysqlConnection(const MysqlParams& p) {
  try {
    ::sql::ConnectOptionsMap opts;
    if (!p.socket.empty()) {
      opts["hostName"] = ::sql::SQLString("unix://" + p.socket);
    } else {
      opts["hostName"] = ::sql::SQLString("tcp://" + p.host + ":" + std::to_string(p.port));
    }
    opts["userName"] = ::sql::SQLString(p.user);
    opts["password"] = ::sql::SQLString(p.password);
    opts["schema"] = ::sql::SQLString(p.database);
    // Binary charset: bytes in, same bytes out (our columns are binary too).
    opts["OPT_CHARSET_NAME"] = ::sql::SQLString("binary");
    // Affected rows = rows matched, so an UPDATE to the same value is not "not found".
    opts["CLIENT_FOUND_ROWS"] = true;
    // We reconnect ourselves (pool + retry); a silent reconnect inside a
    // transaction would lose its first half.
    opts["OPT_RECONNECT"] = false;
    opts["OPT_CONNECT_TIMEOUT"] = 5;
    std::unique_ptr<::sql::Connection> c(driver()->connect(opts));
    auto conn = std::make_unique<MysqlConnection>(std::move(c));
    for (const char* s : {"SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'",
                          "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
                          "SET SESSION innodb_lock_wait_timeout = 20"}) {
      Status st = conn->exec(s);
      if (!st.ok()) return st;
    }
    return std::unique_ptr<sql::SqlConnection>(std::move(conn));
  } catch (const ::sql::SQLException& e) {
    return Status::Unavailable(
        "store.unavailable",
        "cannot connect to MySQL " +
            (p.socket.empty() ? p.host + ":" + std::to_string(p.port) : p.socket) + ": error " +
            std::to_string(e.getErrorCode()) + ": " + e.what());
  } catch (const std::exception& e) {
    return Status::Unavailable("store.unavailable",
                               std::string("cannot connect to MySQL: ") + e.what());
  }
}

}  // namespace eas::storage::mysql
