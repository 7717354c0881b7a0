#include "storage/sql/sql_store.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <set>
#include <thread>

#include "core/base/log.h"
#include "storage/sql/schema.h"
#include "storage/testing_hooks.h"

namespace eas::storage {
namespace testing {
namespace {
std::atomic<ItemWriteHook> g_item_write_hook{nullptr};
}  // namespace
void setItemWriteHookForTest(ItemWriteHook hook) { g_item_write_hook.store(hook); }
ItemWriteHook itemWriteHook() { return g_item_write_hook.load(std::memory_order_relaxed); }
}  // namespace testing

int knownSchemaVersion() { return sql::kSchemaVersion; }

namespace sql {
namespace {

// Assigns the value of a Result expression to `var` or returns its status.
#define EAS_SQL_TRY(var, expr)                            \
  auto var##_result_ = (expr);                            \
  if (!var##_result_.ok()) return var##_result_.status(); \
  auto& var = var##_result_.value()

constexpr int kAttempts = 12;

Status statusOf(const Status& s) { return s; }
template <typename T>
Status statusOf(const Result<T>& r) {
  return r.status();
}

Status tooLong(const char* field, size_t size, size_t max) {
  return Status::InvalidArgument("store.value_too_long",
                                 std::string(field) + " is " + std::to_string(size) +
                                     " bytes, the limit is " + std::to_string(max));
}

Status checkLen(const std::string& v, size_t max, const char* field) {
  return v.size() > max ? tooLong(field, v.size(), max) : Status::Ok();
}

Status checkRef(const DeviceRef& ref) {
  if (ref.user.empty() || ref.device_id.empty()) {
    return Status::InvalidArgument("store.invalid", "user and device id must not be empty");
  }
  EAS_RETURN_IF_ERROR(checkLen(ref.user, kMaxKeyBytes, "user"));
  return checkLen(ref.device_id, kMaxKeyBytes, "device id");
}

Status checkCollection(const std::string& c) {
  if (c.empty()) return Status::InvalidArgument("store.invalid", "collection id must not be empty");
  return checkLen(c, kMaxKeyBytes, "collection id");
}

Status checkDevice(const Device& d) {
  EAS_RETURN_IF_ERROR(checkRef(d.ref));
  const std::pair<const std::string*, const char*> values[] = {
      {&d.device_type, "device type"},
      {&d.model, "model"},
      {&d.imei, "IMEI"},
      {&d.friendly_name, "friendly name"},
      {&d.os, "OS"},
      {&d.os_language, "OS language"},
      {&d.phone_number, "phone number"},
      {&d.mobile_operator, "mobile operator"},
      {&d.user_agent, "user agent"},
      {&d.protocol_version, "protocol version"},
      {&d.access_reason, "access reason"},
  };
  for (const auto& [v, name] : values) EAS_RETURN_IF_ERROR(checkLen(*v, kMaxValueBytes, name));
  for (const auto& [k, v] : d.settings) {
    EAS_RETURN_IF_ERROR(checkLen(k, kMaxKeyBytes, "setting name"));
    EAS_RETURN_IF_ERROR(checkLen(v, kMaxValueBytes, "setting value"));
  }
  if (static_cast<int>(d.access_state) < 0 || static_cast<int>(d.access_state) > 2 ||
      static_cast<int>(d.provisioning) < 0 || static_cast<int>(d.provisioning) > 2 ||
      static_cast<int>(d.wipe_state) < 0 || static_cast<int>(d.wipe_state) > 4) {
    return Status::InvalidArgument("store.invalid", "device enum out of range");
  }
  return Status::Ok();
}

Status checkItem(const ItemEntry& e) {
  if (e.server_id.empty()) return Status::InvalidArgument("store.invalid", "empty item server id");
  EAS_RETURN_IF_ERROR(checkLen(e.server_id, kMaxKeyBytes, "item server id"));
  EAS_RETURN_IF_ERROR(checkLen(e.backend_id, kMaxBackendIdBytes, "item backend id"));
  EAS_RETURN_IF_ERROR(checkLen(e.flags, kMaxValueBytes, "item flags"));
  return checkLen(e.etag, kMaxValueBytes, "item etag");
}

Status checkFolder(const Folder& f) {
  if (f.server_id.empty())
    return Status::InvalidArgument("store.invalid", "empty folder server id");
  EAS_RETURN_IF_ERROR(checkLen(f.server_id, kMaxKeyBytes, "folder server id"));
  EAS_RETURN_IF_ERROR(checkLen(f.backend_id, kMaxBackendIdBytes, "folder backend id"));
  EAS_RETURN_IF_ERROR(checkLen(f.parent_id, kMaxKeyBytes, "folder parent id"));
  return checkLen(f.display_name, kMaxValueBytes, "folder display name");
}

Status checkTransitionKeys(uint64_t from, uint64_t to) {
  if (to != from + 1 || to > static_cast<uint64_t>(INT64_MAX)) {
    return Status::InvalidArgument("store.invalid", "a SyncKey moves from n to n + 1");
  }
  return Status::Ok();
}

SqlValue i64(int64_t v) { return SqlValue(v); }
SqlValue u64(uint64_t v) { return SqlValue(static_cast<int64_t>(v)); }

constexpr const char* kDeviceColumns =
    "user_name, device_id, device_type, model, imei, friendly_name, os, os_language, "
    "phone_number, mobile_operator, user_agent, protocol_version, first_sync, last_sync, "
    "access_state, access_reason, policy_key, provisioning, wipe_state";

Device deviceFromRow(const SqlRow& r) {
  Device d;
  d.ref = {asString(r[0]), asString(r[1])};
  d.device_type = asString(r[2]);
  d.model = asString(r[3]);
  d.imei = asString(r[4]);
  d.friendly_name = asString(r[5]);
  d.os = asString(r[6]);
  d.os_language = asString(r[7]);
  d.phone_number = asString(r[8]);
  d.mobile_operator = asString(r[9]);
  d.user_agent = asString(r[10]);
  d.protocol_version = asString(r[11]);
  d.first_sync = asInt(r[12]);
  d.last_sync = asInt(r[13]);
  d.access_state = static_cast<AccessState>(asInt(r[14]));
  d.access_reason = asString(r[15]);
  d.policy_key = static_cast<uint32_t>(asInt(r[16]));
  d.provisioning = static_cast<ProvisioningStatus>(asInt(r[17]));
  d.wipe_state = static_cast<WipeState>(asInt(r[18]));
  return d;
}

std::vector<SqlValue> refParams(const DeviceRef& ref) { return {ref.user, ref.device_id}; }
std::vector<SqlValue> collParams(const DeviceRef& ref, const std::string& c) {
  return {ref.user, ref.device_id, c};
}

Status expectOneRow(const SqlResult& r, const char* what) {
  if (r.affected == 0) return Status::NotFound("store.not_found", std::string(what) + " not found");
  return Status::Ok();
}

Result<std::vector<ItemEntry>> loadItems(SqlConnection& c, const DeviceRef& ref,
                                         const std::string& coll) {
  EAS_SQL_TRY(rows,
              c.run("SELECT server_id, backend_id, flags, etag FROM items WHERE user_name = ? "
                    "AND device_id = ? AND collection_id = ?",
                    collParams(ref, coll)));
  std::vector<ItemEntry> out;
  out.reserve(rows.rows.size());
  for (const SqlRow& r : rows.rows) {
    out.push_back({asString(r[0]), asString(r[1]), asString(r[2]), asString(r[3])});
  }
  // Order in C++ so both engines agree byte-for-byte.
  std::sort(out.begin(), out.end(),
            [](const ItemEntry& a, const ItemEntry& b) { return a.server_id < b.server_id; });
  return out;
}

Status deleteCollectionState(SqlConnection& c, const DeviceRef& ref, const std::string& coll) {
  for (const char* table : {"sync_state", "items", "item_undo"}) {
    EAS_SQL_TRY(r, c.run(std::string("DELETE FROM ") + table +
                             " WHERE user_name = ? AND device_id = ? AND collection_id = ?",
                         collParams(ref, coll)));
    (void)r;
  }
  return Status::Ok();
}

// Locks the row `select` finds (FOR UPDATE); creates it with `insert` first
// if it does not exist yet, so two first writers serialise on it too. The
// lock comes first: INSERT IGNORE on an existing row would take a shared lock
// and two writers upgrading it deadlock.
Result<SqlResult> lockOrCreateRow(SqlConnection& c, const std::string& select,
                                  const std::vector<SqlValue>& key, const std::string& insert,
                                  const std::vector<SqlValue>& insert_params) {
  EAS_SQL_TRY(cur, c.run(select, key));
  if (!cur.rows.empty()) return std::move(cur);
  EAS_SQL_TRY(ins, c.run(insert, insert_params));
  (void)ins;
  return c.run(select, key);
}

// Statement batching: n rows per statement, n from a few fixed sizes so the
// prepared-statement cache stays small.
size_t chunkSize(size_t remaining) {
  for (size_t n : {size_t{64}, size_t{16}, size_t{4}}) {
    if (remaining >= n) return n;
  }
  return 1;
}

std::string marks(size_t n, const char* one) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (i) out += ", ";
    out += one;
  }
  return out;
}

// Writes one transition's item-map changes: first the undo rows (each
// touched row's prior version, or existed=0 when it is new), then the puts
// and deletes. Calls the test hook after each item write statement with the
// index of the last item written so far.
Status writeItemChanges(SqlConnection& c, const DeviceRef& ref, const std::string& coll,
                        bool initial, const std::vector<const std::string*>& touched,
                        const std::vector<const ItemEntry*>& puts,
                        const std::vector<const std::string*>& deletes) {
  const std::vector<SqlValue> key = collParams(ref, coll);
  if (!initial && !touched.empty()) {
    for (size_t i = 0; i < touched.size();) {
      const size_t n = chunkSize(touched.size() - i);
      std::vector<SqlValue> params = key;
      for (size_t j = 0; j < n; ++j) params.push_back(*touched[i + j]);
      EAS_SQL_TRY(copy,
                  c.run("INSERT INTO item_undo (user_name, device_id, collection_id, server_id, "
                        "existed, backend_id, flags, etag) SELECT user_name, device_id, "
                        "collection_id, server_id, 1, backend_id, flags, etag FROM items WHERE "
                        "user_name = ? AND device_id = ? AND collection_id = ? AND server_id IN (" +
                            marks(n, "?") + ")",
                        params));
      (void)copy;
      i += n;
    }
    EAS_SQL_TRY(have,
                c.run("SELECT server_id FROM item_undo WHERE user_name = ? AND device_id = ? AND "
                      "collection_id = ?",
                      key));
    std::set<std::string> existed;
    for (const SqlRow& r : have.rows) existed.insert(asString(r[0]));
    std::vector<const std::string*> fresh;
    for (const std::string* sid : touched) {
      if (existed.count(*sid) == 0) fresh.push_back(sid);
    }
    for (size_t i = 0; i < fresh.size();) {
      const size_t n = chunkSize(fresh.size() - i);
      std::vector<SqlValue> params;
      for (size_t j = 0; j < n; ++j) {
        params.insert(params.end(), key.begin(), key.end());
        params.push_back(*fresh[i + j]);
      }
      EAS_SQL_TRY(ins,
                  c.run("INSERT INTO item_undo (user_name, device_id, collection_id, server_id, "
                        "existed, backend_id, flags, etag) VALUES " +
                            marks(n, "(?, ?, ?, ?, 0, '', '', '')"),
                        params));
      (void)ins;
      i += n;
    }
  }
  testing::ItemWriteHook hook = testing::itemWriteHook();
  size_t written = 0;
  for (size_t i = 0; i < puts.size();) {
    const size_t n = chunkSize(puts.size() - i);
    std::vector<SqlValue> params;
    params.reserve(n * 7);
    for (size_t j = 0; j < n; ++j) {
      const ItemEntry& e = *puts[i + j];
      params.insert(params.end(), key.begin(), key.end());
      params.insert(params.end(), {e.server_id, e.backend_id, e.flags, e.etag});
    }
    EAS_SQL_TRY(put, c.run("REPLACE INTO items (user_name, device_id, collection_id, server_id, "
                           "backend_id, flags, etag) VALUES " +
                               marks(n, "(?, ?, ?, ?, ?, ?, ?)"),
                           params));
    (void)put;
    i += n;
    written += n;
    if (hook != nullptr) hook(written - 1);
  }
  for (size_t i = 0; i < deletes.size();) {
    const size_t n = chunkSize(deletes.size() - i);
    std::vector<SqlValue> params = key;
    for (size_t j = 0; j < n; ++j) params.push_back(*deletes[i + j]);
    EAS_SQL_TRY(del, c.run("DELETE FROM items WHERE user_name = ? AND device_id = ? AND "
                           "collection_id = ? AND server_id IN (" +
                               marks(n, "?") + ")",
                           params));
    (void)del;
    i += n;
    written += n;
    if (hook != nullptr) hook(written - 1);
  }
  return Status::Ok();
}

}  // namespace

Dialect Dialect::forEngine(Engine e) {
  if (e == Engine::kSqlite) return {e, "INSERT OR IGNORE", "", ""};
  return {e, "INSERT IGNORE", " FOR UPDATE", " LOCK IN SHARE MODE"};
}

SqlStore::SqlStore(Engine engine, ConnectionFactory factory, size_t max_idle,
                   std::string description)
    : dialect_(Dialect::forEngine(engine)),
      description_(std::move(description)),
      pool_(std::move(factory), max_idle) {}

SqlStore::~SqlStore() = default;

template <typename Fn>
auto SqlStore::withConnection(Fn&& fn) -> decltype(fn(std::declval<SqlConnection&>())) {
  Status last;
  thread_local std::minstd_rand jitter(std::random_device{}());
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    if (attempt > 0) {
      // Back off a little more each time, with jitter so retries spread out.
      std::this_thread::sleep_for(std::chrono::milliseconds(2 * attempt + jitter() % 5));
    }
    Result<ConnectionPool::Lease> lease = pool_.acquire();
    if (!lease.ok()) {
      last = lease.status();
      if (last.code() == StatusCode::kUnavailable) continue;
      return last;
    }
    auto r = fn(*lease.value());
    Status s = statusOf(r);
    if (s.code() != StatusCode::kUnavailable) return r;
    last = s;
    if (log::enabled(log::Level::kDebug)) {
      log::debug("storage: retrying (attempt " + std::to_string(attempt + 1) + ") on " +
                 description_ + ": " + s.toString());
    }
  }
  log::warn("storage: giving up after " + std::to_string(kAttempts) + " attempts on " +
            description_ + ": " + last.toString());
  return last;
}

// --- Devices -----------------------------------------------------------------

Status SqlStore::putDevice(const Device& d) {
  EAS_RETURN_IF_ERROR(checkDevice(d));
  return withConnection([&](SqlConnection& c) -> Status {
    Transaction tx(c);
    EAS_RETURN_IF_ERROR(tx.begin(true));
    EAS_SQL_TRY(
        ins, c.run(std::string("REPLACE INTO devices (") + kDeviceColumns +
                       ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   {d.ref.user, d.ref.device_id, d.device_type, d.model, d.imei, d.friendly_name,
                    d.os, d.os_language, d.phone_number, d.mobile_operator, d.user_agent,
                    d.protocol_version, i64(d.first_sync), i64(d.last_sync),
                    i64(static_cast<int>(d.access_state)), d.access_reason, i64(d.policy_key),
                    i64(static_cast<int>(d.provisioning)), i64(static_cast<int>(d.wipe_state))}));
    (void)ins;
    EAS_SQL_TRY(del, c.run("DELETE FROM device_settings WHERE user_name = ? AND device_id = ?",
                           refParams(d.ref)));
    (void)del;
    for (const auto& [k, v] : d.settings) {
      EAS_SQL_TRY(s, c.run("INSERT INTO device_settings (user_name, device_id, name, value) "
                           "VALUES (?, ?, ?, ?)",
                           {d.ref.user, d.ref.device_id, k, v}));
      (void)s;
    }
    return tx.commit();
  });
}

Result<Device> SqlStore::findDevice(const DeviceRef& ref) {
  EAS_RETURN_IF_ERROR(checkRef(ref));
  return withConnection([&](SqlConnection& c) -> Result<Device> {
    Transaction tx(c);
    EAS_RETURN_IF_ERROR(tx.begin(false));
    EAS_SQL_TRY(rows, c.run(std::string("SELECT ") + kDeviceColumns +
                                " FROM devices WHERE user_name = ? AND device_id = ?",
                            refParams(ref)));
    if (rows.rows.empty()) return Status::NotFound("store.not_found", "device not found");
    Device d = deviceFromRow(rows.rows[0]);
    EAS_SQL_TRY(settings, c.run("SELECT name, value FROM device_settings WHERE user_name = ? "
                                "AND device_id = ?",
                                refParams(ref)));
    for (const SqlRow& r : settings.rows) d.settings[asString(r[0])] = asString(r[1]);
    EAS_RETURN_IF_ERROR(tx.commit());
    return d;
  });
}

Result<std::vector<Device>> SqlStore::listDevices(const std::string& user) {
  EAS_RETURN_IF_ERROR(checkLen(user, kMaxKeyBytes, "user"));
  return withConnection([&](SqlConnection& c) -> Result<std::vector<Device>> {
    Transaction tx(c);
    EAS_RETURN_IF_ERROR(tx.begin(false));
    std::string where = user.empty() ? "" : " WHERE user_name = ?";
    std::vector<SqlValue> params;
    if (!user.empty()) params.push_back(user);
    EAS_SQL_TRY(rows,
                c.run(std::string("SELECT ") + kDeviceColumns + " FROM devices" + where, params));
    EAS_SQL_TRY(
        settings,
        c.run("SELECT user_name, device_id, name, value FROM device_settings" + where, params));
    std::map<std::pair<std::string, std::string>, Device> by_ref;
    for (const SqlRow& r : rows.rows) {
      Device d = deviceFromRow(r);
      by_ref[{d.ref.user, d.ref.device_id}] = std::move(d);
    }
    for (const SqlRow& r : settings.rows) {
      auto it = by_ref.find({asString(r[0]), asString(r[1])});
      if (it != by_ref.end()) it->second.settings[asString(r[2])] = asString(r[3]);
    }
    EAS_RETURN_IF_ERROR(tx.commit());
    std::vector<Device> out;
    out.reserve(by_ref.size());
    for (auto& [k, d] : by_ref) out.push_back(std::move(d));
    return out;
  });
}

Status SqlStore::setAccessState(const DeviceRef& ref, AccessState state,
                                const std::string& reason) {
  EAS_RETURN_IF_ERROR(checkRef(ref));
  EAS_RETURN_IF_ERROR(checkLen(reason, kMaxValueBytes, "access reason"));
  if (static_cast<int>(state) < 0 || static_cast<int>(state) > 2) {
    return Status::InvalidArgument("store.invalid", "access state out of range");
  }
  return withConnection([&](SqlConnection& c) -> Status {
    EAS_SQL_TRY(r, c.run("UPDATE devices SET access_state = ?, access_reason = ? WHERE "
                         "user_name = ? AND device_id = ?",
                         {i64(static_cast<int>(state)), reason, ref.user, ref.device_id}));
    return expectOneRow(r, "device");
  });
}

Status SqlStore::setProvisioning(const DeviceRef& ref, uint32_t policy_key,
                                 ProvisioningStatus status) {
  EAS_RETURN_IF_ERROR(checkRef(ref));
  if (static_cast<int>(status) < 0 || static_cast<int>(status) > 2) {
    return Status::InvalidArgument("store.invalid", "provisioning status out of range");
  }
  return withConnection([&](SqlConnection& c) -> Status {
    EAS_SQL_TRY(r,
                c.run("UPDATE devices SET policy_key = ?, provisioning = ? WHERE "
                      "user_name = ? AND device_id = ?",
                      {i64(policy_key), i64(static_cast<int>(status)), ref.user, ref.device_id}));
    return expectOneRow(r, "device");
  });
}

Status SqlStore::setWipeState(const DeviceRef& ref, WipeState state) {
  EAS_RETURN_IF_ERROR(checkRef(ref));
  if (static_cast<int>(state) < 0 || static_cast<int>(state) > 4) {
    return Status::InvalidArgument("store.invalid", "wipe state out of range");
  }
  return withConnection([&](SqlConnection& c) -> Status {
    EAS_SQL_TRY(r, c.run("UPDATE devices SET wipe_state = ? WHERE user_name = ? AND device_id = ?",
                         {i64(static_cast<int>(state)), ref.user, ref.device_id}));
    return expectOneRow(r, "device");
  });
}

Status SqlStore::touchDevice(const DeviceRef& ref, int64_t last_sync) {
  EAS_RETURN_IF_ERROR(checkRef(ref));
  return withConnection([&](SqlConnection& c) -> Status {
    EAS_SQL_TRY(r, c.run("UPDATE devices SET last_sync = ? WHERE user_name = ? AND device_id = ?",
                         {i64(last_sync), ref.user, ref.device_id}));
    return expectOneRow(r, "device");
  });
}

Status SqlStore::setDeviceSetting(const DeviceRef& ref, const std::string& key,
                                  const std::string& value) {
  EAS_RETURN_IF_ERROR(checkRef(ref));
  EAS_RETURN_IF_ERROR(checkLen(key, kMaxKeyBytes, "setting name"));
  EAS_RETURN_IF_ERROR(checkLen(value, kMaxValueBytes, "setting value"));
  return withConnection([&](SqlConnection& c) -> Status {
    Transaction tx(c);
    EAS_RETURN_IF_ERROR(tx.begin(true));
    EAS_SQL_TRY(dev,
                c.run(std::string("SELECT 1 FROM devices WHERE user_name = ? AND device_id = ?") +
                          dialect_.for_update,
                      refParams(ref)));
    if (dev.rows.empty()) return Status::NotFound("store.not_found", "device not found");
    EAS_SQL_TRY(r, c.run("REPLACE INTO device_settings (user_name, device_id, name, value) "
                         "VALUES (?, ?, ?, ?)",
                         {ref.user, ref.device_id, key, value}));
    (void)r;
    return tx.commit();
  });
}

Status SqlStore::deleteDevice(const DeviceRef& ref) {
  EAS_RETURN_IF_ERROR(checkRef(ref));
  return withConnection([&](SqlConnection& c) -> Status {
    Transaction tx(c);
    EAS_RETURN_IF_ERROR(tx.begin(true));
    EAS_SQL_TRY(r,
                c.run("DELETE FROM devices WHERE user_name = ? AND device_id = ?", refParams(ref)));
    EAS_RETURN_IF_ERROR(expectOneRow(r, "device"));
    for (const char* table : {"device_settings", "id_counters", "folders", "folder_sync",
                              "sync_state", "items", "item_undo", "notices", "request_cache",
                              "client_ids"}) {
      EAS_SQL_TRY(
          d, c.run(std::string("DELETE FROM ") + table + " WHERE user_name = ? AND device_id = ?",
                   refParams(ref)));
      (void)d;
    }
    EAS_SQL_TRY(p, c.run("DELETE FROM policies WHERE level = ? AND subject = ?",
                         {i64(static_cast<int>(PolicyLevel::kDevice)), ref.device_id}));
    (void)p;
    return tx.commit();
  });
}

Result<uint64_t> SqlStore::reserveIds(const DeviceRef& ref, uint64_t count) {
  EAS_RETURN_IF_ERROR(checkRef(ref));
  if (count == 0 || count > (1u << 30)) {
    return Status::InvalidArgument("store.invalid", "reserve between 1 and 2^30 ids");
  }
  return withConnection([&](SqlConnection& c) -> Result<uint64_t> {
    Transaction tx(c);
    EAS_RETURN_IF_ERROR(tx.begin(true));
    EAS_SQL_TRY(cur, lockOrCreateRow(
                         c,
                         std::string("SELECT next_id FROM id_counters WHERE user_name = ? AND "
                                     "device_id = ?") +
                             dialect_.for_update,
                         refParams(ref),
                         std::string(dialect_.insert_ignore) +
                             " INTO id_counters (user_name, device_id, next_id) VALUES (?, ?, 1)",
                         refParams(ref)));
    if (cur.rows.empty()) return Status::Internal("store.sql_error", "id counter vanished");
    int64_t first = asInt(cur.rows[0][0]);
    EAS_SQL_TRY(up,
                c.run("UPDATE id_counters SET next_id = ? WHERE user_name = ? AND device_id = ?",
                      {i64(first + static_cast<int64_t>(count)), ref.user, ref.device_id}));
    (void)up;
    EAS_RETURN_IF_ERROR(tx.commit());
    return static_cast<uint64_t>(first);
  });
}

Status SqlStore::putRequestCache(const DeviceRef& ref, const std::string& name,
                                 const std::string& bytes) {
  EAS_RETURN_IF_ERROR(checkRef(ref));
  if (name.empty()) return Status::InvalidArgument("store.invalid", "empty request cache name");
  EAS_RETURN_IF_ERROR(checkLen(name, kMaxKeyBytes, "request cache name"));
  EAS_RETURN_IF_ERROR(checkLen(bytes, kMaxResponseBytes, "cached request"));
  return withConnection([&](SqlConnection& c) -> Status {
    EAS_SQL_TRY(r, c.run("REPLACE INTO request_cache (user_name, device_id, name, value) VALUES "
                         "(?, ?, ?, ?)",
                         {ref.user, ref.device_id, name, bytes}));
    (void)r;
    return Status::Ok();
  });
}

Result<std::string> SqlStore::getRequestCache(const DeviceRef& ref, const std::string& name) {
  EAS_RETURN_IF_ERROR(checkRef(ref));
  EAS_RETURN_IF_ERROR(checkLen(name, kMaxKeyBytes, "request cache name"));
  return withConnection([&](SqlConnection& c) -> Result<std::string> {
    EAS_SQL_TRY(rows, c.run("SELECT value FROM request_cache WHERE user_name = ? AND device_id = ? "
                            "AND name = ?",
                            {ref.user, ref.device_id, name}));
    if (rows.rows.empty()) return Status::NotFound("store.not_found", "no cached request");
    return asString(rows.rows[0][0]);
  });
}

// --- ClientIds ----------------------------------------------------------------

namespace {

// Tells this call's row from another request's: 128 random bits.
std::string claimToken() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 2; ++i) {
    uint64_t v = rng();
    for (int j = 0; j < 16; ++j, v >>= 4) out += kHex[v & 15];
  }
  return out;
}

int64_t nowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<bool> SqlStore::claimClientId(const DeviceRef& ref, const std::string& client_id,
                                     size_t keep) {
  EAS_RETURN_IF_ERROR(checkRef(ref));
  if (client_id.empty()) return Status::InvalidArgument("store.invalid", "empty ClientId");
  EAS_RETURN_IF_ERROR(checkLen(client_id, kMaxKeyBytes, "ClientId"));
  keep = std::clamp<size_t>(keep, 1, 1u << 20);
  const std::string token = claimToken();
  const int64_t seq = nowMicros();
  Result<bool> claimed = withConnection([&](SqlConnection& c) -> Result<bool> {
    // A row released between our INSERT and SELECT is tried again.
    for (int attempt = 0; attempt < 3; ++attempt) {
      EAS_SQL_TRY(ins, c.run(std::string(dialect_.insert_ignore) +
                                 " INTO client_ids (user_name, device_id, client_id, token, seq) "
                                 "VALUES (?, ?, ?, ?, ?)",
                             {ref.user, ref.device_id, client_id, token, i64(seq)}));
      if (ins.affected > 0) return true;
      EAS_SQL_TRY(row, c.run("SELECT token FROM client_ids WHERE user_name = ? AND device_id = ? "
                             "AND client_id = ?",
                             {ref.user, ref.device_id, client_id}));
      // Our own row: an earlier attempt of this call committed, its answer was lost.
      if (!row.rows.empty()) return asString(row.rows[0][0]) == token;
    }
    return false;
  });
  if (!claimed.ok() || !*claimed) return claimed;
  // Pruning is separate and best effort: the claim is made and must be
  // reported as made, or the caller would not send a message nobody else will.
  Status pruned = withConnection([&](SqlConnection& c) -> Status {
    EAS_SQL_TRY(nth, c.run("SELECT seq FROM client_ids WHERE user_name = ? AND device_id = ? "
                           "ORDER BY seq DESC LIMIT 1 OFFSET " +
                               std::to_string(keep - 1),
                           refParams(ref)));
    if (nth.rows.empty()) return Status::Ok();
    EAS_SQL_TRY(del, c.run("DELETE FROM client_ids WHERE user_name = ? AND device_id = ? AND "
                           "seq < ?",
                           {ref.user, ref.device_id, i64(asInt(nth.rows[0][0]))}));
    (void)del;
    return Status::Ok();
  });
  if (!pruned.ok()) log::warn("storage: pruning old ClientIds failed: " + pruned.toString());
  return true;
}

Status SqlStore::releaseClientId(const DeviceRef& ref, const std::string& client_id) {
  EAS_RETURN_IF_ERROR(checkRef(ref));
  EAS_RETURN_IF_ERROR(checkLen(client_id, kMaxKeyBytes, "ClientId"));
  return withConnection([&](SqlConnection& c) -> Status {
    EAS_SQL_TRY(del, c.run("DELETE FROM client_ids WHERE user_name = ? AND device_id = ? AND "
                           "client_id = ?",
                           {ref.user, ref.device_id, client_id}));
    (void)del;
    return Status::Ok();
  });
}

// --- Folder hierarchy -------------------------------------------------------

Result<std::vector<Folder>> SqlStore::listFolders(const DeviceRef& ref) {
  EAS_RETURN_IF_ERROR(checkRef(ref));
  return withConnection([&](SqlConnection& c) -> Result<std::vector<Folder>> {
    EAS_SQL_TRY(rows, c.run("SELECT server_id, backend_id, parent_id, type, display_name FROM "
                            "folders WHERE user_name = ? AND device_id = ?",
                            refParams(ref)));
    std::vector<Folder> out;
    for (const SqlRow& r : rows.rows) {
      out.push_back({asString(r[0]), asString(r[1]), asString(r[2]), static_cast<int>(asInt(r[3])),
                     asString(r[4])});
    }
    std::sort(out.begin(), out.end(),
              [](const Folder& a, const Folder& b) { return a.server_id < b.server_id; });
    return out;
  });
}

Result<FolderSyncLookup> SqlStore::lookupFolderSyncKey(const DeviceRef& ref, uint64_t key) {
  EAS_RETURN_IF_ERROR(checkRef(ref));
  return withConnection([&](SqlConnection& c) -> Result<FolderSyncLookup> {
    EAS_SQL_TRY(rows, c.run("SELECT sync_key, prev_key, prev_response FROM folder_sync WHERE "
                            "user_name = ? AND device_id = ?",
                            refParams(ref)));
    FolderSyncLookup out;
    if (!rows.rows.empty()) out.current_key = static_cast<uint64_t>(asInt(rows.rows[0][0]));
    if (key == 0) return out;
    if (rows.rows.empty()) {
      return Status::NotFound("store.unknown_synckey", "no FolderSync state for this device");
    }
    const SqlRow& r = rows.rows[0];
    if (key == out.current_key) return out;
    if (key == static_cast<uint64_t>(asInt(r[1]))) {
      out.match = FolderSyncLookup::Match::kPrevious;
      out.replay_response = asString(r[2]);
      return out;
    }
    return Status::NotFound("store.unknown_synckey", "FolderSync key " + std::to_string(key) +
                                                         " is neither current nor previous");
  });
}

Status SqlStore::commitFolderSync(const DeviceRef& ref, uint64_t from_key, uint64_t to_key,
                                  const std::vector<FolderChange>& changes,
                                  const std::string& response) {
  EAS_RETURN_IF_ERROR(checkRef(ref));
  EAS_RETURN_IF_ERROR(checkTransitionKeys(from_key, to_key));
  EAS_RETURN_IF_ERROR(checkLen(response, kMaxResponseBytes, "response"));
  for (const FolderChange& ch : changes) EAS_RETURN_IF_ERROR(checkFolder(ch.folder));
  return withConnection([&](SqlConnection& c) -> Status {
    Transaction tx(c);
    EAS_RETURN_IF_ERROR(tx.begin(true));
    EAS_SQL_TRY(cur, lockOrCreateRow(
                         c,
                         std::string("SELECT sync_key, prev_key, prev_response FROM folder_sync "
                                     "WHERE user_name = ? AND device_id = ?") +
                             dialect_.for_update,
                         refParams(ref),
                         std::string(dialect_.insert_ignore) +
                             " INTO folder_sync (user_name, device_id, sync_key, prev_key, "
                             "prev_response) VALUES (?, ?, 0, 0, ?)",
                         {ref.user, ref.device_id, std::string()}));
    if (cur.rows.empty()) return Status::Internal("store.sql_error", "folder_sync row vanished");
    const uint64_t current = static_cast<uint64_t>(asInt(cur.rows[0][0]));
    if (from_key != 0 && current != from_key) {
      // A retried commit that already landed (lost reply to COMMIT) is a success.
      if (current == to_key && static_cast<uint64_t>(asInt(cur.rows[0][1])) == from_key &&
          asString(cur.rows[0][2]) == response) {
        return Status::Ok();
      }
      return Status::Conflict("store.conflict", "FolderSync key is " + std::to_string(current) +
                                                    ", not " + std::to_string(from_key));
    }
    for (const FolderChange& ch : changes) {
      const Folder& f = ch.folder;
      switch (ch.kind) {
        case FolderChange::Kind::kAdd: {
          EAS_SQL_TRY(r, c.run("REPLACE INTO folders (user_name, device_id, server_id, backend_id, "
                               "parent_id, type, display_name) VALUES (?, ?, ?, ?, ?, ?, ?)",
                               {ref.user, ref.device_id, f.server_id, f.backend_id, f.parent_id,
                                i64(f.type), f.display_name}));
          (void)r;
          break;
        }
        case FolderChange::Kind::kUpdate: {
          EAS_SQL_TRY(r, c.run("UPDATE folders SET backend_id = ?, parent_id = ?, type = ?, "
                               "display_name = ? WHERE user_name = ? AND device_id = ? AND "
                               "server_id = ?",
                               {f.backend_id, f.parent_id, i64(f.type), f.display_name, ref.user,
                                ref.device_id, f.server_id}));
          EAS_RETURN_IF_ERROR(expectOneRow(r, "folder"));
          break;
        }
        case FolderChange::Kind::kDelete: {
          EAS_SQL_TRY(r, c.run("DELETE FROM folders WHERE user_name = ? AND device_id = ? AND "
                               "server_id = ?",
                               {ref.user, ref.device_id, f.server_id}));
          (void)r;
          EAS_RETURN_IF_ERROR(deleteCollectionState(c, ref, f.server_id));
          break;
        }
      }
    }
    EAS_SQL_TRY(up, c.run("UPDATE folder_sync SET sync_key = ?, prev_key = ?, prev_response = ? "
                          "WHERE user_name = ? AND device_id = ?",
                          {u64(to_key), u64(from_key), response, ref.user, ref.device_id}));
    (void)up;
    return tx.commit();
  });
}

// --- Sync state -------------------------------------------------------------

Result<SyncLookup> SqlStore::lookupSyncKey(const DeviceRef& ref, const std::string& coll,
                                           uint64_t key) {
  return lookupSync(ref, coll, key, true);
}

Result<SyncLookup> SqlStore::peekSyncKey(const DeviceRef& ref, const std::string& coll,
                                         uint64_t key) {
  return lookupSync(ref, coll, key, false);
}

Result<SyncLookup> SqlStore::lookupSync(const DeviceRef& ref, const std::string& coll,
                                        uint64_t key, bool with_items) {
  EAS_RETURN_IF_ERROR(checkRef(ref));
  EAS_RETURN_IF_ERROR(checkCollection(coll));
  return withConnection([&](SqlConnection& c) -> Result<SyncLookup> {
    if (key == 0) {
      // SyncKey 0 always means "start over"; report where the state is.
      EAS_SQL_TRY(cur, c.run("SELECT sync_key FROM sync_state WHERE user_name = ? AND "
                             "device_id = ? AND collection_id = ?",
                             collParams(ref, coll)));
      SyncLookup out;
      if (!cur.rows.empty()) out.current_key = static_cast<uint64_t>(asInt(cur.rows[0][0]));
      return out;
    }
    Transaction tx(c);
    EAS_RETURN_IF_ERROR(tx.begin(false));
    // The share lock (MySQL) keeps a concurrent commit out while we read the
    // item rows; SQLite's read transaction is a snapshot already.
    EAS_SQL_TRY(rows, c.run(std::string("SELECT sync_key, uidvalidity, highestmodseq, uidnext, "
                                        "dav_token, prev_key, prev_uidvalidity, "
                                        "prev_highestmodseq, prev_uidnext, prev_dav_token, "
                                        "prev_response FROM sync_state WHERE user_name = ? AND "
                                        "device_id = ? AND collection_id = ?") +
                                dialect_.for_share,
                            collParams(ref, coll)));
    if (rows.rows.empty()) {
      return Status::NotFound("store.unknown_synckey", "no sync state for this collection");
    }
    const SqlRow& r = rows.rows[0];
    SyncLookup out;
    out.current_key = static_cast<uint64_t>(asInt(r[0]));
    const uint64_t prev = static_cast<uint64_t>(asInt(r[5]));
    if (key == out.current_key) {
      out.state.sync_key = key;
      out.state.watermark = {asInt(r[1]), asInt(r[2]), asInt(r[3]), asString(r[4])};
      if (with_items) {
        EAS_SQL_TRY(items, loadItems(c, ref, coll));
        out.state.items = std::move(items);
      }
    } else if (prev != 0 && key == prev) {
      out.match = SyncLookup::Match::kPrevious;
      out.state.sync_key = key;
      out.state.watermark = {asInt(r[6]), asInt(r[7]), asInt(r[8]), asString(r[9])};
      out.replay_response = asString(r[10]);
      if (!with_items) {
        EAS_RETURN_IF_ERROR(tx.commit());
        return out;
      }
      EAS_SQL_TRY(items, loadItems(c, ref, coll));
      // Undo the last transition: put back each changed row's prior version.
      std::map<std::string, ItemEntry> map;
      for (ItemEntry& e : items) map.emplace(e.server_id, std::move(e));
      EAS_SQL_TRY(undo, c.run("SELECT server_id, existed, backend_id, flags, etag FROM item_undo "
                              "WHERE user_name = ? AND device_id = ? AND collection_id = ?",
                              collParams(ref, coll)));
      for (const SqlRow& u : undo.rows) {
        std::string sid = asString(u[0]);
        if (asInt(u[1]) != 0) {
          map[sid] = ItemEntry{sid, asString(u[2]), asString(u[3]), asString(u[4])};
        } else {
          map.erase(sid);
        }
      }
      for (auto& [sid, e] : map) out.state.items.push_back(std::move(e));
    } else {
      return Status::NotFound("store.unknown_synckey",
                              "SyncKey " + std::to_string(key) + " is neither current (" +
                                  std::to_string(out.current_key) + ") nor previous");
    }
    EAS_RETURN_IF_ERROR(tx.commit());
    return out;
  });
}

Status SqlStore::commitSyncState(const DeviceRef& ref, const std::string& coll,
                                 const SyncTransition& t) {
  EAS_RETURN_IF_ERROR(checkRef(ref));
  EAS_RETURN_IF_ERROR(checkCollection(coll));
  EAS_RETURN_IF_ERROR(checkTransitionKeys(t.from_key, t.to_key));
  EAS_RETURN_IF_ERROR(checkLen(t.response, kMaxResponseBytes, "response"));
  EAS_RETURN_IF_ERROR(checkLen(t.watermark.dav_sync_token, kMaxValueBytes, "DAV sync-token"));
  for (const ItemChange& ch : t.changes) EAS_RETURN_IF_ERROR(checkItem(ch.item));
  return withConnection([&](SqlConnection& c) -> Status {
    Transaction tx(c);
    EAS_RETURN_IF_ERROR(tx.begin(true));
    EAS_SQL_TRY(cur,
                lockOrCreateRow(
                    c,
                    std::string("SELECT sync_key, uidvalidity, highestmodseq, uidnext, "
                                "dav_token, prev_key, prev_response FROM sync_state WHERE "
                                "user_name = ? AND device_id = ? AND collection_id = ?") +
                        dialect_.for_update,
                    collParams(ref, coll),
                    std::string(dialect_.insert_ignore) +
                        " INTO sync_state (user_name, device_id, collection_id, sync_key, "
                        "uidvalidity, highestmodseq, uidnext, dav_token, prev_key, "
                        "prev_uidvalidity, prev_highestmodseq, prev_uidnext, prev_dav_token, "
                        "prev_response) VALUES (?, ?, ?, 0, 0, 0, 0, ?, 0, 0, 0, 0, ?, ?)",
                    {ref.user, ref.device_id, coll, std::string(), std::string(), std::string()}));
    if (cur.rows.empty()) return Status::Internal("store.sql_error", "sync_state row vanished");
    const SqlRow& r = cur.rows[0];
    const uint64_t current = static_cast<uint64_t>(asInt(r[0]));
    if (t.from_key != 0 && current != t.from_key) {
      if (current == t.to_key && static_cast<uint64_t>(asInt(r[5])) == t.from_key &&
          asString(r[6]) == t.response) {
        return Status::Ok();  // our own earlier attempt landed (lost COMMIT reply)
      }
      return Status::Conflict("store.conflict", "SyncKey is " + std::to_string(current) + ", not " +
                                                    std::to_string(t.from_key));
    }
    const std::vector<SqlValue> key = collParams(ref, coll);
    EAS_SQL_TRY(drop_undo, c.run("DELETE FROM item_undo WHERE user_name = ? AND device_id = ? AND "
                                 "collection_id = ?",
                                 key));
    (void)drop_undo;
    const bool initial = t.from_key == 0;
    if (initial) {
      EAS_SQL_TRY(drop, c.run("DELETE FROM items WHERE user_name = ? AND device_id = ? AND "
                              "collection_id = ?",
                              key));
      (void)drop;
    }
    // Net effect per server id (the last change wins), so the writes can be
    // batched without reordering a put and a delete of the same item.
    std::vector<const ItemEntry*> puts;
    std::vector<const std::string*> deletes;
    std::vector<const std::string*> touched;
    {
      std::map<std::string, const ItemChange*> last;
      for (const ItemChange& ch : t.changes) last[ch.item.server_id] = &ch;
      for (const auto& [sid, ch] : last) {
        touched.push_back(&sid);
        if (ch->kind == ItemChange::Kind::kPut) {
          puts.push_back(&ch->item);
        } else {
          deletes.push_back(&sid);
        }
      }
      // `last` owns the keys `touched`/`deletes` point to: keep it alive.
      EAS_RETURN_IF_ERROR(writeItemChanges(c, ref, coll, initial, touched, puts, deletes));
    }
    const Watermark& w = t.watermark;
    EAS_SQL_TRY(
        up, c.run("UPDATE sync_state SET sync_key = ?, uidvalidity = ?, highestmodseq = ?, "
                  "uidnext = ?, dav_token = ?, prev_key = ?, prev_uidvalidity = ?, "
                  "prev_highestmodseq = ?, prev_uidnext = ?, prev_dav_token = ?, "
                  "prev_response = ? WHERE user_name = ? AND device_id = ? AND "
                  "collection_id = ?",
                  {u64(t.to_key), i64(w.uidvalidity), i64(w.highestmodseq), i64(w.uidnext),
                   w.dav_sync_token, u64(t.from_key), i64(asInt(r[1])), i64(asInt(r[2])),
                   i64(asInt(r[3])), asString(r[4]), t.response, ref.user, ref.device_id, coll}));
    (void)up;
    return tx.commit();
  });
}

Result<ItemEntry> SqlStore::findItemByBackendId(const DeviceRef& ref, const std::string& coll,
                                                const std::string& backend_id) {
  EAS_RETURN_IF_ERROR(checkRef(ref));
  EAS_RETURN_IF_ERROR(checkCollection(coll));
  EAS_RETURN_IF_ERROR(checkLen(backend_id, kMaxBackendIdBytes, "backend id"));
  return withConnection([&](SqlConnection& c) -> Result<ItemEntry> {
    EAS_SQL_TRY(rows, c.run("SELECT server_id, backend_id, flags, etag FROM items WHERE "
                            "user_name = ? AND device_id = ? AND collection_id = ? AND "
                            "backend_id = ? ORDER BY server_id LIMIT 1",
                            {ref.user, ref.device_id, coll, backend_id}));
    if (rows.rows.empty())
      return Status::NotFound("store.not_found", "no item with that backend id");
    const SqlRow& r = rows.rows[0];
    return ItemEntry{asString(r[0]), asString(r[1]), asString(r[2]), asString(r[3])};
  });
}

Status SqlStore::resetSyncState(const DeviceRef& ref, const std::string& coll) {
  EAS_RETURN_IF_ERROR(checkRef(ref));
  EAS_RETURN_IF_ERROR(checkCollection(coll));
  return withConnection([&](SqlConnection& c) -> Status {
    Transaction tx(c);
    EAS_RETURN_IF_ERROR(tx.begin(true));
    EAS_RETURN_IF_ERROR(deleteCollectionState(c, ref, coll));
    return tx.commit();
  });
}

// --- Policies ---------------------------------------------------------------

namespace {
Status checkPolicyKey(PolicyLevel level, const std::string& subject, const std::string& key) {
  if (static_cast<int>(level) < 0 || static_cast<int>(level) > 3) {
    return Status::InvalidArgument("store.invalid", "policy level out of range");
  }
  if (key.empty()) return Status::InvalidArgument("store.invalid", "empty policy key");
  EAS_RETURN_IF_ERROR(checkLen(subject, kMaxKeyBytes, "policy subject"));
  return checkLen(key, kMaxKeyBytes, "policy key");
}
}  // namespace

Status SqlStore::setPolicy(const PolicySetting& s) {
  EAS_RETURN_IF_ERROR(checkPolicyKey(s.level, s.subject, s.key));
  EAS_RETURN_IF_ERROR(checkLen(s.value, kMaxValueBytes, "policy value"));
  return withConnection([&](SqlConnection& c) -> Status {
    EAS_SQL_TRY(r, c.run("REPLACE INTO policies (level, subject, name, value) VALUES (?, ?, ?, ?)",
                         {i64(static_cast<int>(s.level)), s.subject, s.key, s.value}));
    (void)r;
    return Status::Ok();
  });
}

Status SqlStore::deletePolicy(PolicyLevel level, const std::string& subject,
                              const std::string& key) {
  EAS_RETURN_IF_ERROR(checkPolicyKey(level, subject, key));
  return withConnection([&](SqlConnection& c) -> Status {
    EAS_SQL_TRY(r, c.run("DELETE FROM policies WHERE level = ? AND subject = ? AND name = ?",
                         {i64(static_cast<int>(level)), subject, key}));
    (void)r;
    return Status::Ok();
  });
}

namespace {
std::vector<PolicySetting> policiesFromRows(const SqlResult& rows) {
  std::vector<PolicySetting> out;
  for (const SqlRow& r : rows.rows) {
    out.push_back(
        {static_cast<PolicyLevel>(asInt(r[0])), asString(r[1]), asString(r[2]), asString(r[3])});
  }
  std::sort(out.begin(), out.end(), [](const PolicySetting& a, const PolicySetting& b) {
    return std::tie(a.level, a.subject, a.key) < std::tie(b.level, b.subject, b.key);
  });
  return out;
}
}  // namespace

Result<std::vector<PolicySetting>> SqlStore::listPolicies() {
  return withConnection([&](SqlConnection& c) -> Result<std::vector<PolicySetting>> {
    EAS_SQL_TRY(rows, c.run("SELECT level, subject, name, value FROM policies", {}));
    return policiesFromRows(rows);
  });
}

Result<std::map<std::string, EffectivePolicy>> SqlStore::effectivePolicies(
    const std::string& domain, const std::string& user, const std::string& device_id) {
  EAS_RETURN_IF_ERROR(checkLen(domain, kMaxKeyBytes, "domain"));
  EAS_RETURN_IF_ERROR(checkLen(user, kMaxKeyBytes, "user"));
  EAS_RETURN_IF_ERROR(checkLen(device_id, kMaxKeyBytes, "device id"));
  return withConnection([&](SqlConnection& c) -> Result<std::map<std::string, EffectivePolicy>> {
    EAS_SQL_TRY(rows, c.run("SELECT level, subject, name, value FROM policies WHERE level = 0 OR "
                            "(level = 1 AND subject = ?) OR (level = 2 AND subject = ?) OR "
                            "(level = 3 AND subject = ?)",
                            {domain, user, device_id}));
    return resolvePolicies(policiesFromRows(rows), domain, user, device_id);
  });
}

// --- ABQ --------------------------------------------------------------------

namespace {
Status checkAbq(const AbqRule& r) {
  if (static_cast<int>(r.kind) < 0 || static_cast<int>(r.kind) > 5 ||
      static_cast<int>(r.action) < 0 || static_cast<int>(r.action) > 2) {
    return Status::InvalidArgument("store.invalid", "ABQ rule kind or action out of range");
  }
  return checkLen(r.value, kMaxValueBytes, "ABQ rule value");
}
}  // namespace

Result<int64_t> SqlStore::addAbqRule(const AbqRule& rule) {
  EAS_RETURN_IF_ERROR(checkAbq(rule));
  return withConnection([&](SqlConnection& c) -> Result<int64_t> {
    EAS_SQL_TRY(
        r, c.run("INSERT INTO abq_rules (kind, value, action, enabled, ord) VALUES "
                 "(?, ?, ?, ?, ?)",
                 {i64(static_cast<int>(rule.kind)), rule.value, i64(static_cast<int>(rule.action)),
                  i64(rule.enabled ? 1 : 0), i64(rule.order)}));
    (void)r;
    return c.lastInsertId();
  });
}

Status SqlStore::updateAbqRule(const AbqRule& rule) {
  EAS_RETURN_IF_ERROR(checkAbq(rule));
  return withConnection([&](SqlConnection& c) -> Status {
    EAS_SQL_TRY(
        r, c.run("UPDATE abq_rules SET kind = ?, value = ?, action = ?, enabled = ?, "
                 "ord = ? WHERE id = ?",
                 {i64(static_cast<int>(rule.kind)), rule.value, i64(static_cast<int>(rule.action)),
                  i64(rule.enabled ? 1 : 0), i64(rule.order), i64(rule.id)}));
    return expectOneRow(r, "ABQ rule");
  });
}

Status SqlStore::deleteAbqRule(int64_t id) {
  return withConnection([&](SqlConnection& c) -> Status {
    EAS_SQL_TRY(r, c.run("DELETE FROM abq_rules WHERE id = ?", {i64(id)}));
    return expectOneRow(r, "ABQ rule");
  });
}

Result<std::vector<AbqRule>> SqlStore::listAbqRules() {
  return withConnection([&](SqlConnection& c) -> Result<std::vector<AbqRule>> {
    EAS_SQL_TRY(rows, c.run("SELECT id, kind, value, action, enabled, ord FROM abq_rules ORDER BY "
                            "ord, id",
                            {}));
    std::vector<AbqRule> out;
    for (const SqlRow& r : rows.rows) {
      out.push_back({asInt(r[0]), static_cast<AbqKind>(asInt(r[1])), asString(r[2]),
                     static_cast<AccessState>(asInt(r[3])), asInt(r[4]) != 0, asInt(r[5])});
    }
    return out;
  });
}

Status SqlStore::setAbqSetting(const std::string& key, const std::string& value) {
  if (key.empty()) return Status::InvalidArgument("store.invalid", "empty ABQ setting name");
  EAS_RETURN_IF_ERROR(checkLen(key, kMaxKeyBytes, "ABQ setting name"));
  EAS_RETURN_IF_ERROR(checkLen(value, kMaxValueBytes, "ABQ setting value"));
  return withConnection([&](SqlConnection& c) -> Status {
    EAS_SQL_TRY(r, c.run("REPLACE INTO abq_settings (name, value) VALUES (?, ?)", {key, value}));
    (void)r;
    return Status::Ok();
  });
}

Result<std::string> SqlStore::getAbqSetting(const std::string& key) {
  EAS_RETURN_IF_ERROR(checkLen(key, kMaxKeyBytes, "ABQ setting name"));
  return withConnection([&](SqlConnection& c) -> Result<std::string> {
    EAS_SQL_TRY(rows, c.run("SELECT value FROM abq_settings WHERE name = ?", {key}));
    if (rows.rows.empty()) return Status::NotFound("store.not_found", "no such ABQ setting");
    return asString(rows.rows[0][0]);
  });
}

// --- Notices and audit -------------------------------------------------------

Result<int64_t> SqlStore::queueNotice(const Notice& n) {
  EAS_RETURN_IF_ERROR(checkRef(n.ref));
  EAS_RETURN_IF_ERROR(checkLen(n.kind, kMaxKeyBytes, "notice kind"));
  EAS_RETURN_IF_ERROR(checkLen(n.payload, kMaxValueBytes, "notice payload"));
  return withConnection([&](SqlConnection& c) -> Result<int64_t> {
    EAS_SQL_TRY(r, c.run("INSERT INTO notices (user_name, device_id, kind, payload, created_at) "
                         "VALUES (?, ?, ?, ?, ?)",
                         {n.ref.user, n.ref.device_id, n.kind, n.payload, i64(n.created_at)}));
    (void)r;
    return c.lastInsertId();
  });
}

Result<std::vector<Notice>> SqlStore::pendingNotices(size_t limit) {
  return withConnection([&](SqlConnection& c) -> Result<std::vector<Notice>> {
    EAS_SQL_TRY(rows, c.run("SELECT id, user_name, device_id, kind, payload, created_at FROM "
                            "notices ORDER BY id LIMIT ?",
                            {i64(static_cast<int64_t>(std::min<size_t>(limit, INT32_MAX)))}));
    std::vector<Notice> out;
    for (const SqlRow& r : rows.rows) {
      out.push_back({asInt(r[0]),
                     {asString(r[1]), asString(r[2])},
                     asString(r[3]),
                     asString(r[4]),
                     asInt(r[5])});
    }
    return out;
  });
}

Status SqlStore::removeNotice(int64_t id) {
  return withConnection([&](SqlConnection& c) -> Status {
    EAS_SQL_TRY(r, c.run("DELETE FROM notices WHERE id = ?", {i64(id)}));
    return expectOneRow(r, "notice");
  });
}

Result<int64_t> SqlStore::appendAudit(const AuditEntry& e) {
  EAS_RETURN_IF_ERROR(checkRef(e.ref));
  EAS_RETURN_IF_ERROR(checkLen(e.detail, kMaxValueBytes, "audit detail"));
  return withConnection([&](SqlConnection& c) -> Result<int64_t> {
    EAS_SQL_TRY(r, c.run("INSERT INTO audit_log (at, user_name, device_id, event, detail) VALUES "
                         "(?, ?, ?, ?, ?)",
                         {i64(e.at), e.ref.user, e.ref.device_id, i64(static_cast<int>(e.event)),
                          e.detail}));
    (void)r;
    return c.lastInsertId();
  });
}

Result<std::vector<AuditEntry>> SqlStore::listAudit(const DeviceRef& ref, size_t limit) {
  if (!ref.user.empty()) EAS_RETURN_IF_ERROR(checkRef(ref));
  return withConnection([&](SqlConnection& c) -> Result<std::vector<AuditEntry>> {
    std::vector<SqlValue> params;
    std::string where;
    if (!ref.user.empty()) {
      where = " WHERE user_name = ? AND device_id = ?";
      params = refParams(ref);
    }
    params.push_back(i64(static_cast<int64_t>(std::min<size_t>(limit, INT32_MAX))));
    EAS_SQL_TRY(rows, c.run("SELECT id, at, user_name, device_id, event, detail FROM audit_log" +
                                where + " ORDER BY id DESC LIMIT ?",
                            params));
    std::vector<AuditEntry> out;
    for (const SqlRow& r : rows.rows) {
      out.push_back({asInt(r[0]),
                     asInt(r[1]),
                     {asString(r[2]), asString(r[3])},
                     static_cast<AuditEvent>(asInt(r[4])),
                     asString(r[5])});
    }
    return out;
  });
}

// --- Admin ------------------------------------------------------------------

Result<int> SqlStore::schemaVersion() {
  return withConnection([&](SqlConnection& c) { return readSchemaVersion(c); });
}

Status SqlStore::upgrade() {
  return withConnection([&](SqlConnection& c) { return upgradeSchema(c, dialect_.engine); });
}

Status SqlStore::checkSchema() {
  Result<int> v = schemaVersion();
  if (!v.ok()) return v.status();
  const std::string hint = " (" + description_ + "; run `easctl db upgrade --store URL`)";
  if (*v == 0) {
    return Status::NotFound("store.schema_missing", "the store has no schema" + hint);
  }
  if (*v > kSchemaVersion) {
    return Status::NotSupported("store.schema_unknown",
                                "store schema version " + std::to_string(*v) +
                                    " is newer than this program knows (" +
                                    std::to_string(kSchemaVersion) + "); upgrade eas-fcgi");
  }
  if (*v < kSchemaVersion) {
    return Status::NotSupported("store.schema_outdated", "store schema version " +
                                                             std::to_string(*v) +
                                                             ", this program needs " +
                                                             std::to_string(kSchemaVersion) + hint);
  }
  return Status::Ok();
}

Status SqlStore::reset() {
  return withConnection([&](SqlConnection& c) -> Status {
    Transaction tx(c);
    EAS_RETURN_IF_ERROR(tx.begin(true));
    for (const TableInfo& t : dataTables()) EAS_RETURN_IF_ERROR(c.exec("DELETE FROM " + t.name));
    return tx.commit();
  });
}

Result<std::vector<TableCount>> SqlStore::rowCounts() {
  return withConnection([&](SqlConnection& c) -> Result<std::vector<TableCount>> {
    std::vector<TableCount> out;
    for (const TableInfo& t : dataTables()) {
      EAS_SQL_TRY(r, c.run("SELECT COUNT(*) FROM " + t.name, {}));
      out.push_back({t.name, r.rows.empty() ? 0 : asInt(r.rows[0][0])});
    }
    return out;
  });
}

Status SqlStore::setSchemaVersionForTest(int version) {
  return withConnection([&](SqlConnection& c) -> Status {
    EAS_SQL_TRY(r, c.run("UPDATE schema_version SET version = ?", {i64(version)}));
    (void)r;
    return Status::Ok();
  });
}

Status SqlStore::importTable(const std::string& table, const std::vector<SqlRow>& rows) {
  const TableInfo* info = nullptr;
  for (const TableInfo& t : dataTables()) {
    if (t.name == table) info = &t;
  }
  if (info == nullptr) return Status::InvalidArgument("store.invalid", "unknown table " + table);
  std::string cols, marks;
  for (const std::string& c : info->columns) {
    cols += (cols.empty() ? "" : ", ") + c;
    marks += marks.empty() ? "?" : ", ?";
  }
  const std::string sql = "INSERT INTO " + table + " (" + cols + ") VALUES (" + marks + ")";
  constexpr size_t kBatch = 500;
  for (size_t start = 0; start < rows.size(); start += kBatch) {
    Status s = withConnection([&](SqlConnection& c) -> Status {
      Transaction tx(c);
      EAS_RETURN_IF_ERROR(tx.begin(true));
      for (size_t i = start; i < std::min(rows.size(), start + kBatch); ++i) {
        EAS_SQL_TRY(r, c.run(sql, rows[i]));
        (void)r;
      }
      return tx.commit();
    });
    EAS_RETURN_IF_ERROR(s);
  }
  return Status::Ok();
}

Status SqlStore::copyInto(StoreAdmin& destination) {
  auto* dest = dynamic_cast<SqlStore*>(&destination);
  if (dest == nullptr || dest == this) {
    return Status::InvalidArgument("store.invalid", "destination must be another SQL store");
  }
  EAS_RETURN_IF_ERROR(checkSchema());
  EAS_RETURN_IF_ERROR(dest->checkSchema());
  Result<std::vector<TableCount>> dest_counts = dest->rowCounts();
  if (!dest_counts.ok()) return dest_counts.status();
  for (const TableCount& tc : *dest_counts) {
    if (tc.rows != 0) {
      return Status::AlreadyExists("store.not_empty", "destination table " + tc.table + " has " +
                                                          std::to_string(tc.rows) + " rows");
    }
  }
  for (const TableInfo& t : dataTables()) {
    std::string cols;
    for (const std::string& c : t.columns) cols += (cols.empty() ? "" : ", ") + c;
    Result<SqlResult> rows = withConnection(
        [&](SqlConnection& c) { return c.run("SELECT " + cols + " FROM " + t.name, {}); });
    if (!rows.ok()) return rows.status();
    EAS_RETURN_IF_ERROR(dest->importTable(t.name, rows->rows));
  }
  Result<std::vector<TableCount>> src_after = rowCounts();
  Result<std::vector<TableCount>> dst_after = dest->rowCounts();
  if (!src_after.ok()) return src_after.status();
  if (!dst_after.ok()) return dst_after.status();
  for (size_t i = 0; i < src_after->size(); ++i) {
    if ((*src_after)[i].rows != (*dst_after)[i].rows) {
      return Status::Corruption("store.count_mismatch",
                                "table " + (*src_after)[i].table + ": source has " +
                                    std::to_string((*src_after)[i].rows) + " rows, destination " +
                                    std::to_string((*dst_after)[i].rows));
    }
  }
  return Status::Ok();
}

}  // namespace sql
}  // namespace eas::storage
