// A MetadataStore decorator for tests of the layers above the store (sync
// engine, commands): forwards every call to a real store, and fails chosen
// commits with store.unavailable *without* forwarding them, as a store that
// lost its connection would. Lets a test prove that a failed commit leaves
// the previous SyncKey answerable. Thread-safe like the store it wraps.
#pragma once

#include <atomic>
#include <memory>

#include "storage/metadata_store.h"

namespace eas::storage::testing {

class FaultyMetadataStore final : public MetadataStore {
 public:
  explicit FaultyMetadataStore(std::unique_ptr<MetadataStore> inner) : inner_(std::move(inner)) {}

  // The n-th commit (1-based, commitSyncState and commitFolderSync counted
  // together) from now on fails; 0 disarms.
  void failNthCommit(int n) {
    commits_ = 0;
    fail_at_ = n;
  }
  // Every commit fails while set.
  void failAllCommits(bool on) { fail_all_ = on; }
  int failedCommits() const { return failed_; }
  // claimClientId fails with store.unavailable while set (not forwarded).
  void failClientIdClaims(bool on) { fail_claims_ = on; }

  Status putDevice(const Device& d) override { return inner_->putDevice(d); }
  Result<Device> findDevice(const DeviceRef& r) override { return inner_->findDevice(r); }
  Result<std::vector<Device>> listDevices(const std::string& u) override {
    return inner_->listDevices(u);
  }
  Status setAccessState(const DeviceRef& r, AccessState s, const std::string& why) override {
    return inner_->setAccessState(r, s, why);
  }
  Status setProvisioning(const DeviceRef& r, uint32_t k, ProvisioningStatus s) override {
    return inner_->setProvisioning(r, k, s);
  }
  Status setWipeState(const DeviceRef& r, WipeState s) override {
    return inner_->setWipeState(r, s);
  }
  Status touchDevice(const DeviceRef& r, int64_t t) override { return inner_->touchDevice(r, t); }
  Status setDeviceSetting(const DeviceRef& r, const std::string& k, const std::string& v) override {
    return inner_->setDeviceSetting(r, k, v);
  }
  Status deleteDevice(const DeviceRef& r) override { return inner_->deleteDevice(r); }
  Result<uint64_t> reserveIds(const DeviceRef& r, uint64_t n) override {
    return inner_->reserveIds(r, n);
  }
  Status putRequestCache(const DeviceRef& r, const std::string& n, const std::string& b) override {
    return inner_->putRequestCache(r, n, b);
  }
  Result<std::string> getRequestCache(const DeviceRef& r, const std::string& n) override {
    return inner_->getRequestCache(r, n);
  }
  Result<bool> claimClientId(const DeviceRef& r, const std::string& id, size_t keep) override {
    if (fail_claims_) return Status::Unavailable("store.unavailable", "injected claim failure");
    return inner_->claimClientId(r, id, keep);
  }
  Status releaseClientId(const DeviceRef& r, const std::string& id) override {
    return inner_->releaseClientId(r, id);
  }
  Result<std::vector<Folder>> listFolders(const DeviceRef& r) override {
    return inner_->listFolders(r);
  }
  Result<FolderSyncLookup> lookupFolderSyncKey(const DeviceRef& r, uint64_t k) override {
    return inner_->lookupFolderSyncKey(r, k);
  }
  Status commitFolderSync(const DeviceRef& r, uint64_t from, uint64_t to,
                          const std::vector<FolderChange>& ch, const std::string& resp) override {
    if (shouldFail()) return injected();
    return inner_->commitFolderSync(r, from, to, ch, resp);
  }
  Result<SyncLookup> lookupSyncKey(const DeviceRef& r, const std::string& c, uint64_t k) override {
    return inner_->lookupSyncKey(r, c, k);
  }
  Status commitSyncState(const DeviceRef& r, const std::string& c,
                         const SyncTransition& t) override {
    if (shouldFail()) return injected();
    return inner_->commitSyncState(r, c, t);
  }
  Result<ItemEntry> findItemByBackendId(const DeviceRef& r, const std::string& c,
                                        const std::string& b) override {
    return inner_->findItemByBackendId(r, c, b);
  }
  Status resetSyncState(const DeviceRef& r, const std::string& c) override {
    return inner_->resetSyncState(r, c);
  }
  Status setPolicy(const PolicySetting& s) override { return inner_->setPolicy(s); }
  Status deletePolicy(PolicyLevel l, const std::string& s, const std::string& k) override {
    return inner_->deletePolicy(l, s, k);
  }
  Result<std::vector<PolicySetting>> listPolicies() override { return inner_->listPolicies(); }
  Result<std::map<std::string, EffectivePolicy>> effectivePolicies(
      const std::string& d, const std::string& u, const std::string& dev) override {
    return inner_->effectivePolicies(d, u, dev);
  }
  Result<int64_t> addAbqRule(const AbqRule& r) override { return inner_->addAbqRule(r); }
  Status updateAbqRule(const AbqRule& r) override { return inner_->updateAbqRule(r); }
  Status deleteAbqRule(int64_t id) override { return inner_->deleteAbqRule(id); }
  Result<std::vector<AbqRule>> listAbqRules() override { return inner_->listAbqRules(); }
  Status setAbqSetting(const std::string& k, const std::string& v) override {
    return inner_->setAbqSetting(k, v);
  }
  Result<std::string> getAbqSetting(const std::string& k) override {
    return inner_->getAbqSetting(k);
  }
  Result<int64_t> queueNotice(const Notice& n) override { return inner_->queueNotice(n); }
  Result<std::vector<Notice>> pendingNotices(size_t l) override {
    return inner_->pendingNotices(l);
  }
  Status removeNotice(int64_t id) override { return inner_->removeNotice(id); }
  Result<int64_t> appendAudit(const AuditEntry& e) override { return inner_->appendAudit(e); }
  Result<std::vector<AuditEntry>> listAudit(const DeviceRef& r, size_t l) override {
    return inner_->listAudit(r, l);
  }

 private:
  bool shouldFail() {
    const int n = ++commits_;
    const bool fail = fail_all_.load() || (fail_at_.load() != 0 && n == fail_at_.load());
    if (fail) ++failed_;
    return fail;
  }
  static Status injected() {
    return Status::Unavailable("store.unavailable",
                               "injected commit failure (FaultyMetadataStore)");
  }

  const std::unique_ptr<MetadataStore> inner_;
  std::atomic<int> commits_{0};
  std::atomic<int> fail_at_{0};
  std::atomic<bool> fail_all_{false};
  std::atomic<int> failed_{0};
  std::atomic<bool> fail_claims_{false};
};

}  // namespace eas::storage::testing
