// MetadataStore over a SqlConnection pool: one implementation for both
// engines, with the few SQL differences in Dialect. Private to storage/.
#pragma once

#include <memory>
#include <string>

#include "storage/metadata_store.h"
#include "storage/sql/sql_connection.h"
#include "storage/store_admin.h"

namespace eas::storage::sql {

struct Dialect {
  Engine engine;
  const char* insert_ignore;  // "INSERT OR IGNORE" / "INSERT IGNORE"
  const char* for_update;     // "" / " FOR UPDATE"
  const char* for_share;      // "" / " LOCK IN SHARE MODE"
  static Dialect forEngine(Engine e);
};

// Both the worker-facing MetadataStore and the admin operations; the
// factories hand out one face or the other.
class SqlStore final : public MetadataStore, public StoreAdmin {
 public:
  SqlStore(Engine engine, ConnectionFactory factory, size_t max_idle, std::string description);
  ~SqlStore() override;

  // --- MetadataStore
  Status putDevice(const Device& device) override;
  Result<Device> findDevice(const DeviceRef& ref) override;
  Result<std::vector<Device>> listDevices(const std::string& user) override;
  Status setAccessState(const DeviceRef& ref, AccessState state,
                        const std::string& reason) override;
  Status setProvisioning(const DeviceRef& ref, uint32_t policy_key,
                         ProvisioningStatus status) override;
  Status setWipeState(const DeviceRef& ref, WipeState state) override;
  Status touchDevice(const DeviceRef& ref, int64_t last_sync) override;
  Status setDeviceSetting(const DeviceRef& ref, const std::string& key,
                          const std::string& value) override;
  Status deleteDevice(const DeviceRef& ref) override;
  Result<uint64_t> reserveIds(const DeviceRef& ref, uint64_t count) override;
  Status putRequestCache(const DeviceRef& ref, const std::string& name,
                         const std::string& bytes) override;
  Result<std::string> getRequestCache(const DeviceRef& ref, const std::string& name) override;
  Result<bool> claimClientId(const DeviceRef& ref, const std::string& client_id,
                             size_t keep) override;
  Status releaseClientId(const DeviceRef& ref, const std::string& client_id) override;
  Result<std::vector<Folder>> listFolders(const DeviceRef& ref) override;
  Result<FolderSyncLookup> lookupFolderSyncKey(const DeviceRef& ref, uint64_t key) override;
  Status commitFolderSync(const DeviceRef& ref, uint64_t from_key, uint64_t to_key,
                          const std::vector<FolderChange>& changes,
                          const std::string& response) override;
  Result<SyncLookup> lookupSyncKey(const DeviceRef& ref, const std::string& collection_id,
                                   uint64_t key) override;
  Result<SyncLookup> peekSyncKey(const DeviceRef& ref, const std::string& collection_id,
                                 uint64_t key) override;
  Status commitSyncState(const DeviceRef& ref, const std::string& collection_id,
                         const SyncTransition& transition) override;
  Result<ItemEntry> findItemByBackendId(const DeviceRef& ref, const std::string& collection_id,
                                        const std::string& backend_id) override;
  Status resetSyncState(const DeviceRef& ref, const std::string& collection_id) override;
  Status setPolicy(const PolicySetting& setting) override;
  Status deletePolicy(PolicyLevel level, const std::string& subject,
                      const std::string& key) override;
  Result<std::vector<PolicySetting>> listPolicies() override;
  Result<std::map<std::string, EffectivePolicy>> effectivePolicies(
      const std::string& domain, const std::string& user, const std::string& device_id) override;
  Result<int64_t> addAbqRule(const AbqRule& rule) override;
  Status updateAbqRule(const AbqRule& rule) override;
  Status deleteAbqRule(int64_t id) override;
  Result<std::vector<AbqRule>> listAbqRules() override;
  Status setAbqSetting(const std::string& key, const std::string& value) override;
  Result<std::string> getAbqSetting(const std::string& key) override;
  Result<int64_t> queueNotice(const Notice& notice) override;
  Result<std::vector<Notice>> pendingNotices(size_t limit) override;
  Status removeNotice(int64_t id) override;
  Result<int64_t> appendAudit(const AuditEntry& entry) override;
  Result<std::vector<AuditEntry>> listAudit(const DeviceRef& ref, size_t limit) override;

  // --- StoreAdmin
  std::string description() const override { return description_; }
  Result<int> schemaVersion() override;
  Status upgrade() override;
  Status reset() override;
  Result<std::vector<TableCount>> rowCounts() override;
  Status copyInto(StoreAdmin& destination) override;
  Status setSchemaVersionForTest(int version) override;

  // Checks the schema version for workers (missing / unknown / outdated).
  Status checkSchema();
  Status importTable(const std::string& table, const std::vector<SqlRow>& rows);

 private:
  Result<SyncLookup> lookupSync(const DeviceRef& ref, const std::string& collection_id,
                                uint64_t key, bool with_items);
  // Runs fn(conn) on a pooled connection, retrying the whole operation when
  // the engine says "try again" (busy, deadlock, lost connection).
  template <typename Fn>
  auto withConnection(Fn&& fn) -> decltype(fn(std::declval<SqlConnection&>()));

  const Dialect dialect_;
  const std::string description_;
  ConnectionPool pool_;
};

}  // namespace eas::storage::sql
