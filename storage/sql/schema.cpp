#include "storage/sql/schema.h"

#include <utility>

namespace eas::storage::sql {
namespace {

// Column kinds, mapped to each engine's types. Every string column is binary
// so bytes round-trip verbatim (no charset conversion, no collation folding).
enum class Col { kKey, kBackendId, kValue, kResponse, kInt, kAutoId };

struct ColumnSpec {
  const char* name;
  Col kind;
};
struct IndexSpec {
  const char* name;
  std::vector<const char*> columns;
};
struct TableSpec {
  const char* name;
  std::vector<ColumnSpec> columns;
  std::vector<const char*> primary_key;  // empty when an kAutoId column exists
  std::vector<IndexSpec> indexes;
  // SQLite: cluster rows on the primary key (one b-tree fewer per write).
  bool without_rowid = false;
};

// Schema version 1.
const std::vector<TableSpec>& tablesV1() {
  static const std::vector<TableSpec> kTables = {
      {"devices",
       {{"user_name", Col::kKey},
        {"device_id", Col::kKey},
        {"device_type", Col::kValue},
        {"model", Col::kValue},
        {"imei", Col::kValue},
        {"friendly_name", Col::kValue},
        {"os", Col::kValue},
        {"os_language", Col::kValue},
        {"phone_number", Col::kValue},
        {"mobile_operator", Col::kValue},
        {"user_agent", Col::kValue},
        {"protocol_version", Col::kValue},
        {"first_sync", Col::kInt},
        {"last_sync", Col::kInt},
        {"access_state", Col::kInt},
        {"access_reason", Col::kValue},
        {"policy_key", Col::kInt},
        {"provisioning", Col::kInt},
        {"wipe_state", Col::kInt}},
       {"user_name", "device_id"},
       {}},
      {"device_settings",
       {{"user_name", Col::kKey},
        {"device_id", Col::kKey},
        {"name", Col::kKey},
        {"value", Col::kValue}},
       {"user_name", "device_id", "name"},
       {}},
      {"id_counters",
       {{"user_name", Col::kKey}, {"device_id", Col::kKey}, {"next_id", Col::kInt}},
       {"user_name", "device_id"},
       {}},
      {"folders",
       {{"user_name", Col::kKey},
        {"device_id", Col::kKey},
        {"server_id", Col::kKey},
        {"backend_id", Col::kBackendId},
        {"parent_id", Col::kKey},
        {"type", Col::kInt},
        {"display_name", Col::kValue}},
       {"user_name", "device_id", "server_id"},
       {}},
      {"folder_sync",
       {{"user_name", Col::kKey},
        {"device_id", Col::kKey},
        {"sync_key", Col::kInt},
        {"prev_key", Col::kInt},
        {"prev_response", Col::kResponse}},
       {"user_name", "device_id"},
       {}},
      {"sync_state",
       {{"user_name", Col::kKey},
        {"device_id", Col::kKey},
        {"collection_id", Col::kKey},
        {"sync_key", Col::kInt},
        {"uidvalidity", Col::kInt},
        {"highestmodseq", Col::kInt},
        {"uidnext", Col::kInt},
        {"dav_token", Col::kValue},
        {"prev_key", Col::kInt},
        {"prev_uidvalidity", Col::kInt},
        {"prev_highestmodseq", Col::kInt},
        {"prev_uidnext", Col::kInt},
        {"prev_dav_token", Col::kValue},
        {"prev_response", Col::kResponse}},
       {"user_name", "device_id", "collection_id"},
       {}},
      {"items",
       {{"user_name", Col::kKey},
        {"device_id", Col::kKey},
        {"collection_id", Col::kKey},
        {"server_id", Col::kKey},
        {"backend_id", Col::kBackendId},
        {"flags", Col::kValue},
        {"etag", Col::kValue}},
       {"user_name", "device_id", "collection_id", "server_id"},
       {{"items_by_backend", {"user_name", "device_id", "collection_id", "backend_id"}}},
       true},
      // The undo half of the last transition: the prior version of every item
      // row it changed (existed=0: the row did not exist before).
      {"item_undo",
       {{"user_name", Col::kKey},
        {"device_id", Col::kKey},
        {"collection_id", Col::kKey},
        {"server_id", Col::kKey},
        {"existed", Col::kInt},
        {"backend_id", Col::kBackendId},
        {"flags", Col::kValue},
        {"etag", Col::kValue}},
       {"user_name", "device_id", "collection_id", "server_id"},
       {},
       true},
      {"policies",
       {{"level", Col::kInt}, {"subject", Col::kKey}, {"name", Col::kKey}, {"value", Col::kValue}},
       {"level", "subject", "name"},
       {}},
      {"abq_rules",
       {{"id", Col::kAutoId},
        {"kind", Col::kInt},
        {"value", Col::kValue},
        {"action", Col::kInt},
        {"enabled", Col::kInt},
        {"ord", Col::kInt}},
       {},
       {}},
      {"abq_settings", {{"name", Col::kKey}, {"value", Col::kValue}}, {"name"}, {}},
      {"request_cache",
       {{"user_name", Col::kKey},
        {"device_id", Col::kKey},
        {"name", Col::kKey},
        {"value", Col::kResponse}},
       {"user_name", "device_id", "name"},
       {}},
      {"notices",
       {{"id", Col::kAutoId},
        {"user_name", Col::kKey},
        {"device_id", Col::kKey},
        {"kind", Col::kKey},
        {"payload", Col::kValue},
        {"created_at", Col::kInt}},
       {},
       {}},
      {"audit_log",
       {{"id", Col::kAutoId},
        {"at", Col::kInt},
        {"user_name", Col::kKey},
        {"device_id", Col::kKey},
        {"event", Col::kInt},
        {"detail", Col::kValue}},
       {},
       {{"audit_by_device", {"user_name", "device_id", "id"}}}},
  };
  return kTables;
}

// Schema version 2: tables added to a version-1 store (CREATE IF NOT EXISTS,
// so running it twice or on a fresh store is harmless).
const std::vector<TableSpec>& tablesV2() {
  static const std::vector<TableSpec> kTables = {
      // ClientIds claimed before a message is submitted (SendMail and the
      // Smart commands): the primary key makes the claim atomic across
      // workers; token tells a retried claim its own row; seq (microseconds)
      // orders them for pruning.
      {"client_ids",
       {{"user_name", Col::kKey},
        {"device_id", Col::kKey},
        {"client_id", Col::kKey},
        {"token", Col::kKey},
        {"seq", Col::kInt}},
       {"user_name", "device_id", "client_id"},
       {}},
  };
  return kTables;
}

const char* typeFor(Engine e, Col c) {
  if (e == Engine::kSqlite) {
    switch (c) {
      case Col::kInt:
        return "INTEGER NOT NULL";
      case Col::kAutoId:
        return "INTEGER PRIMARY KEY AUTOINCREMENT";
      default:
        return "BLOB NOT NULL";
    }
  }
  switch (c) {
    case Col::kKey:
      return "VARBINARY(255) NOT NULL";
    case Col::kBackendId:
      return "VARBINARY(1024) NOT NULL";
    case Col::kValue:
      return "MEDIUMBLOB NOT NULL";
    case Col::kResponse:
      return "LONGBLOB NOT NULL";
    case Col::kInt:
      return "BIGINT NOT NULL";
    case Col::kAutoId:
      return "BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY";
  }
  return "";
}

std::string joined(const std::vector<const char*>& cols) {
  std::string s;
  for (const char* c : cols) {
    if (!s.empty()) s += ", ";
    s += c;
  }
  return s;
}

std::vector<std::string> createStatements(Engine e, const std::vector<TableSpec>& tables) {
  std::vector<std::string> out;
  for (const TableSpec& t : tables) {
    std::string sql = std::string("CREATE TABLE IF NOT EXISTS ") + t.name + " (";
    bool first = true;
    for (const ColumnSpec& c : t.columns) {
      if (!first) sql += ", ";
      first = false;
      sql += std::string(c.name) + " " + typeFor(e, c.kind);
    }
    if (!t.primary_key.empty()) sql += ", PRIMARY KEY (" + joined(t.primary_key) + ")";
    if (e == Engine::kMysql) {
      // MySQL has no CREATE INDEX IF NOT EXISTS: declare indexes inline.
      for (const IndexSpec& i : t.indexes) {
        sql += std::string(", INDEX ") + i.name + " (" + joined(i.columns) + ")";
      }
      sql += ") ENGINE=InnoDB DEFAULT CHARSET=binary";
    } else {
      sql += t.without_rowid ? ") WITHOUT ROWID" : ")";
    }
    out.push_back(sql);
    if (e == Engine::kSqlite) {
      for (const IndexSpec& i : t.indexes) {
        out.push_back(std::string("CREATE INDEX IF NOT EXISTS ") + i.name + " ON " + t.name + " (" +
                      joined(i.columns) + ")");
      }
    }
  }
  return out;
}

Status setVersion(SqlConnection& conn, int version) {
  Result<SqlResult> r = conn.run("UPDATE schema_version SET version = ?", {int64_t{version}});
  if (!r.ok()) return r.status();
  if (r->affected == 0) {
    Result<SqlResult> ins =
        conn.run("INSERT INTO schema_version (version) VALUES (?)", {int64_t{version}});
    if (!ins.ok()) return ins.status();
  }
  return Status::Ok();
}

Status applyMigrations(SqlConnection& conn, Engine engine) {
  EAS_RETURN_IF_ERROR(conn.exec(
      engine == Engine::kSqlite
          ? "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
          : "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL) ENGINE=InnoDB"));
  Result<int> current = readSchemaVersion(conn);
  if (!current.ok()) return current.status();
  if (*current > kSchemaVersion) {
    return Status::NotSupported("store.schema_unknown", "store schema version " +
                                                            std::to_string(*current) +
                                                            " is newer than this program knows (" +
                                                            std::to_string(kSchemaVersion) + ")");
  }
  for (const Migration& m : migrations()) {
    if (m.version <= *current) continue;
    for (const std::string& sql : engine == Engine::kSqlite ? m.sqlite : m.mysql) {
      Status s = conn.exec(sql);
      if (!s.ok()) {
        return Status(
            s.code(), s.reason(),
            "migration " + std::to_string(m.version) + " (" + m.description + "): " + s.message());
      }
    }
    EAS_RETURN_IF_ERROR(setVersion(conn, m.version));
  }
  return Status::Ok();
}

}  // namespace

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> kMigrations = {
      {1, "initial schema", createStatements(Engine::kSqlite, tablesV1()),
       createStatements(Engine::kMysql, tablesV1())},
      {2, "client_ids: ClientIds claimed before sending", createStatements(Engine::kSqlite, tablesV2()),
       createStatements(Engine::kMysql, tablesV2())},
  };
  return kMigrations;
}

const std::vector<TableInfo>& dataTables() {
  static const std::vector<TableInfo> kInfo = [] {
    std::vector<TableInfo> out;
    for (const auto* tables : {&tablesV1(), &tablesV2()}) {
      for (const TableSpec& t : *tables) {
        TableInfo info{t.name, {}};
        for (const ColumnSpec& c : t.columns) info.columns.push_back(c.name);
        out.push_back(std::move(info));
      }
    }
    return out;
  }();
  return kInfo;
}

Result<int> readSchemaVersion(SqlConnection& conn) {
  // Probe without a prepared statement: preparing against a missing table
  // fails differently on each engine.
  Status probe = conn.exec("SELECT version FROM schema_version WHERE 1 = 0");
  if (!probe.ok()) {
    if (probe.code() == StatusCode::kUnavailable) return probe;
    return 0;
  }
  Result<SqlResult> r = conn.run("SELECT MAX(version) FROM schema_version", {});
  if (!r.ok()) return r.status();
  if (r->rows.empty() || r->rows[0].empty()) return 0;
  return static_cast<int>(asInt(r->rows[0][0]));
}

Status upgradeSchema(SqlConnection& conn, Engine engine) {
  if (engine == Engine::kSqlite) {
    // SQLite DDL is transactional: the whole upgrade is one write transaction,
    // which also serialises concurrent upgraders.
    Transaction tx(conn);
    EAS_RETURN_IF_ERROR(tx.begin(true));
    EAS_RETURN_IF_ERROR(applyMigrations(conn, engine));
    return tx.commit();
  }
  // MySQL DDL commits implicitly; serialise upgraders with a named lock and
  // keep every statement idempotent (IF NOT EXISTS).
  Result<SqlResult> lock = conn.run("SELECT GET_LOCK('eas_schema_upgrade', 60)", {});
  if (!lock.ok()) return lock.status();
  if (lock->rows.empty() || asInt(lock->rows[0][0]) != 1) {
    return Status::Unavailable("store.unavailable", "could not take the schema upgrade lock");
  }
  Status s = applyMigrations(conn, engine);
  (void)conn.run("SELECT RELEASE_LOCK('eas_schema_upgrade')", {});
  return s;
}

}  // namespace eas::storage::sql
