// The metadata store: everything the server must remember between requests
// and across restarts (devices, folder hierarchy and sync state, policies,
// ABQ rules, pending notices, the device audit log). This header is the whole
// contract; the SQLite and MySQL engines behind it are private to storage/.
//
// Conventions for every method:
//  - Never throws. Expected failures are Status values with a stable reason:
//      store.not_found        the record asked for does not exist
//      store.conflict         a concurrent change won (stale SyncKey, ...)
//      store.unknown_synckey  a SyncKey that is neither current nor previous
//      store.value_too_long   a field exceeds the limits below (nothing written)
//      store.invalid          other malformed input (bad enum value, ...)
//      store.unavailable      the engine is down or busy; retrying may work
//      store.schema_missing / store.schema_unknown / store.schema_outdated
//                             (only from openMetadataStore)
//  - Strings are byte strings: any bytes (NUL, quotes, invalid UTF-8) round-trip
//    verbatim, subject only to the length limits below.
//  - Thread-safety: a MetadataStore is safe to call from any number of threads
//    at once, and several processes may open the same store. Each method is
//    atomic on its own (one transaction); results are owned by the caller.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/base/status.h"

namespace eas::storage {

// Length limits, checked identically for every engine before anything is
// written, so both engines give the same answer (store.value_too_long).
inline constexpr size_t kMaxKeyBytes = 255;           // ids, names used as keys
inline constexpr size_t kMaxBackendIdBytes = 1024;    // IMAP folder/UID, DAV href
inline constexpr size_t kMaxValueBytes = 1 << 20;     // free text, values
inline constexpr size_t kMaxResponseBytes = 8 << 20;  // cached replay response

// A device is identified by the account it syncs and the EAS DeviceId.
// (One handset may carry two accounts: two devices for us.)
struct DeviceRef {
  std::string user;
  std::string device_id;
  bool operator==(const DeviceRef&) const = default;
};

enum class AccessState : int { kAllow = 0, kBlock = 1, kQuarantine = 2 };
enum class ProvisioningStatus : int { kNone = 0, kPending = 1, kProvisioned = 2 };
enum class WipeState : int {
  kNone = 0,
  kPendingHard = 1,         // full device wipe requested
  kPendingAccountOnly = 2,  // EAS 16.1 account-only wipe requested
  kWiped = 3,               // device acknowledged the wipe
  kAcknowledged = 4,        // admin has seen the acknowledgement
};

struct Device {
  DeviceRef ref;
  std::string device_type;
  std::string model;
  std::string imei;
  std::string friendly_name;
  std::string os;
  std::string os_language;
  std::string phone_number;
  std::string mobile_operator;
  std::string user_agent;
  std::string protocol_version;  // as negotiated, e.g. "16.1"
  int64_t first_sync = 0;        // unix seconds
  int64_t last_sync = 0;         // unix seconds
  AccessState access_state = AccessState::kAllow;
  std::string access_reason;  // why blocked/quarantined (rule, admin, ...)
  uint32_t policy_key = 0;    // 0 = none issued
  ProvisioningStatus provisioning = ProvisioningStatus::kNone;
  WipeState wipe_state = WipeState::kNone;
  // Per-device settings (folder modes, filters, tasks/notes modes...).
  std::map<std::string, std::string> settings;
  bool operator==(const Device&) const = default;
};

// --- Folder hierarchy ------------------------------------------------------

struct Folder {
  std::string server_id;   // what the device sees; stable for the folder's life
  std::string backend_id;  // IMAP mailbox name, DAV collection URL
  std::string parent_id;   // parent's server_id, "0" or "" for top level
  int type = 0;            // MS-ASCMD FolderSync Type (1..19)
  std::string display_name;
  bool operator==(const Folder&) const = default;
};

struct FolderChange {
  enum class Kind { kAdd, kUpdate, kDelete } kind = Kind::kAdd;
  Folder folder;  // for kDelete only folder.server_id matters
};

// What a FolderSync SyncKey means for a device.
struct FolderSyncLookup {
  enum class Match { kCurrent, kPrevious } match = Match::kCurrent;
  uint64_t current_key = 0;
  // For kPrevious: the bytes answered when that key moved to current_key.
  std::string replay_response;
};

// --- Sync state ------------------------------------------------------------

// Where the backend was when a SyncKey was issued.
struct Watermark {
  int64_t uidvalidity = 0;
  int64_t highestmodseq = 0;  // 0 = mailbox has no modseq (fall back to flags)
  int64_t uidnext = 0;
  std::string dav_sync_token;
  bool operator==(const Watermark&) const = default;
};

// One item the device holds, and what we last sent it.
struct ItemEntry {
  std::string server_id;
  std::string backend_id;  // IMAP UID (as text), DAV href
  std::string flags;       // e.g. "\\Seen \\Flagged" as last sent
  std::string etag;        // DAV ETag as last sent
  bool operator==(const ItemEntry&) const = default;
};

struct ItemChange {
  enum class Kind { kPut, kDelete } kind = Kind::kPut;  // put = add or update
  ItemEntry item;                                       // for kDelete only item.server_id matters
};

struct SyncTransition {
  uint64_t from_key = 0;  // 0 = initial sync: previous state is discarded
  uint64_t to_key = 1;    // must be from_key + 1
  Watermark watermark;    // the backend position at to_key
  std::vector<ItemChange> changes;
  std::string response;  // bytes sent for this transition, kept for replay
};

// The state a SyncKey stands for.
struct SyncState {
  uint64_t sync_key = 0;
  Watermark watermark;
  std::vector<ItemEntry> items;  // ordered by server_id
};

struct SyncLookup {
  // kCurrent: the device is at the newest key; compute the next answer.
  // kPrevious: the device resent the key before the newest one (its response
  //   was lost): replay_response is the answer that was sent, and state
  //   is the state at the key it resent.
  enum class Match { kCurrent, kPrevious } match = Match::kCurrent;
  SyncState state;
  uint64_t current_key = 0;  // newest committed key (also for key 0; 0 = no state)
  std::string replay_response;
};

// --- Policies and ABQ ------------------------------------------------------

enum class PolicyLevel : int { kGlobal = 0, kDomain = 1, kUser = 2, kDevice = 3 };

struct PolicySetting {
  PolicyLevel level = PolicyLevel::kGlobal;
  std::string subject;  // "" (global), domain, user, or device id
  std::string key;
  std::string value;
  bool operator==(const PolicySetting&) const = default;
};

// The effective value of one key and where it came from.
struct EffectivePolicy {
  std::string value;
  PolicyLevel from = PolicyLevel::kGlobal;
  bool operator==(const EffectivePolicy&) const = default;
};

// Inheritance: device overrides user overrides domain overrides global.
// Pure function; rows for other subjects are ignored.
std::map<std::string, EffectivePolicy> resolvePolicies(const std::vector<PolicySetting>& rows,
                                                       const std::string& domain,
                                                       const std::string& user,
                                                       const std::string& device_id);

enum class AbqKind : int { kGlobal = 0, kDomain = 1, kUser = 2, kOs = 3, kModel = 4, kType = 5 };

struct AbqRule {
  int64_t id = 0;  // assigned by addAbqRule
  AbqKind kind = AbqKind::kGlobal;
  std::string value;  // what it matches ("" for global)
  AccessState action = AccessState::kAllow;
  bool enabled = true;
  int64_t order = 0;  // lower runs first
  bool operator==(const AbqRule&) const = default;
};

// --- Notices and audit -----------------------------------------------------

struct Notice {
  int64_t id = 0;  // assigned by queueNotice
  DeviceRef ref;
  std::string kind;     // e.g. "quarantined", "wipe_requested"
  std::string payload;  // what the notice says (rendered by policies/)
  int64_t created_at = 0;
  bool operator==(const Notice&) const = default;
};

enum class AuditEvent : int {
  kFirstSeen = 0,
  kProvisioned = 1,
  kBlocked = 2,
  kQuarantined = 3,
  kAllowed = 4,
  kWipeRequested = 5,
  kWipeAcknowledged = 6,
  kDeleted = 7,
};

struct AuditEntry {
  int64_t id = 0;  // assigned by appendAudit, increasing
  int64_t at = 0;  // unix seconds
  DeviceRef ref;
  AuditEvent event = AuditEvent::kFirstSeen;
  std::string detail;
  bool operator==(const AuditEntry&) const = default;
};

// --- The interface ---------------------------------------------------------

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;

  // Devices. putDevice creates or replaces the whole record including its
  // settings. findDevice: the record, or store.not_found.
  virtual Status putDevice(const Device& device) = 0;
  virtual Result<Device> findDevice(const DeviceRef& ref) = 0;
  // All devices of `user`, or of everybody when user is empty; by user, id.
  virtual Result<std::vector<Device>> listDevices(const std::string& user) = 0;
  // Targeted updates (cheaper than put, and safe against concurrent puts of
  // other fields). store.not_found when the device does not exist.
  virtual Status setAccessState(const DeviceRef& ref, AccessState state,
                                const std::string& reason) = 0;
  virtual Status setProvisioning(const DeviceRef& ref, uint32_t policy_key,
                                 ProvisioningStatus status) = 0;
  virtual Status setWipeState(const DeviceRef& ref, WipeState state) = 0;
  virtual Status touchDevice(const DeviceRef& ref, int64_t last_sync) = 0;
  virtual Status setDeviceSetting(const DeviceRef& ref, const std::string& key,
                                  const std::string& value) = 0;
  // Removes the device with its settings, folders, sync state, request cache,
  // device-level policies and notices (audit entries stay). store.not_found
  // if absent.
  virtual Status deleteDevice(const DeviceRef& ref) = 0;

  // Reserves `count` consecutive numbers from the device's id counter (never
  // reused, survives resets of the hierarchy) and returns the first. Used to
  // mint folder server ids before the response that names them is built.
  virtual Result<uint64_t> reserveIds(const DeviceRef& ref, uint64_t count) = 0;

  // Per-device request cache: an empty Sync or Ping request means "as last
  // time", and the next request may reach another worker, so the last full
  // request's parameters live here (e.g. name "sync", "ping"), up to
  // kMaxResponseBytes. put creates or replaces; get: the bytes or
  // store.not_found. Kept apart from settings so putDevice never clobbers it.
  virtual Status putRequestCache(const DeviceRef& ref, const std::string& name,
                                 const std::string& bytes) = 0;
  virtual Result<std::string> getRequestCache(const DeviceRef& ref, const std::string& name) = 0;

  // ClientIds of messages a device sent (SendMail / SmartReply / SmartForward;
  // a repeated ClientId is not sent again, CMD §2.2.3.28.1). claimClientId
  // inserts (ref, client_id) unless the row exists, atomically across threads
  // and processes: true when this call made the row (the caller may send),
  // false when it was already there (sent, or being sent, by another
  // request). A claim whose commit succeeded but whose answer was lost (a
  // retried statement) still reports true. Keeps the `keep` most recent claims
  // of the device (older ones are dropped after the claim, best effort; at
  // least `keep` stay). client_id: 1..kMaxKeyBytes bytes, else store.invalid /
  // store.value_too_long.
  virtual Result<bool> claimClientId(const DeviceRef& ref, const std::string& client_id,
                                     size_t keep) = 0;
  // Drops a claim, so a retry of a send that failed may go. OK when absent.
  virtual Status releaseClientId(const DeviceRef& ref, const std::string& client_id) = 0;

  // Folder hierarchy. The current hierarchy, ordered by server_id (empty if
  // the device never synced folders).
  virtual Result<std::vector<Folder>> listFolders(const DeviceRef& ref) = 0;
  // What FolderSync key `key` means: current, previous (with the replay
  // bytes), or store.unknown_synckey. Key 0 is always "current" (start over).
  virtual Result<FolderSyncLookup> lookupFolderSyncKey(const DeviceRef& ref, uint64_t key) = 0;
  // Moves the FolderSync key from_key -> to_key (= from_key + 1) and applies
  // the folder changes in one transaction. from_key 0 keeps the folders (their
  // server ids stay stable) and only applies the changes. store.conflict if
  // the current key is not from_key (and from_key != 0).
  virtual Status commitFolderSync(const DeviceRef& ref, uint64_t from_key, uint64_t to_key,
                                  const std::vector<FolderChange>& changes,
                                  const std::string& response) = 0;

  // Sync state of one collection (collection_id = the folder's server id).
  // What key `key` means; store.unknown_synckey when it is neither the current
  // nor the previous key (or the collection has no state and key != 0).
  virtual Result<SyncLookup> lookupSyncKey(const DeviceRef& ref, const std::string& collection_id,
                                           uint64_t key) = 0;
  // The same answer without the item map (state.items left empty): the
  // match, the watermark and, for kPrevious, the replay bytes. For a Sync
  // that usually finds nothing changed or replays (one row, not one per
  // item). The default loads everything.
  virtual Result<SyncLookup> peekSyncKey(const DeviceRef& ref, const std::string& collection_id,
                                         uint64_t key) {
    auto out = lookupSyncKey(ref, collection_id, key);
    if (out.ok()) out->state.items.clear();
    return out;
  }
  // Atomically moves the collection from `from_key` to `to_key`, applies the
  // item-map changes, stores the watermark and the replay response. The state
  // at from_key stays recoverable until the next commit. store.conflict when
  // the current key is not from_key; nothing is written then.
  virtual Status commitSyncState(const DeviceRef& ref, const std::string& collection_id,
                                 const SyncTransition& transition) = 0;
  // Finds the item map row for a backend id in the current state.
  virtual Result<ItemEntry> findItemByBackendId(const DeviceRef& ref,
                                                const std::string& collection_id,
                                                const std::string& backend_id) = 0;
  // Drops the collection's sync state (device sent SyncKey 0, folder gone).
  // OK when there was none.
  virtual Status resetSyncState(const DeviceRef& ref, const std::string& collection_id) = 0;

  // Policies: set creates or replaces; delete ("inherit") is OK when absent.
  virtual Status setPolicy(const PolicySetting& setting) = 0;
  virtual Status deletePolicy(PolicyLevel level, const std::string& subject,
                              const std::string& key) = 0;
  // Every stored row, ordered by level, subject, key.
  virtual Result<std::vector<PolicySetting>> listPolicies() = 0;
  // resolvePolicies() over the rows that concern this device.
  virtual Result<std::map<std::string, EffectivePolicy>> effectivePolicies(
      const std::string& domain, const std::string& user, const std::string& device_id) = 0;

  // ABQ rules, ordered by `order` then id. addAbqRule returns the new id;
  // update/delete return store.not_found for an unknown id.
  virtual Result<int64_t> addAbqRule(const AbqRule& rule) = 0;
  virtual Status updateAbqRule(const AbqRule& rule) = 0;
  virtual Status deleteAbqRule(int64_t id) = 0;
  virtual Result<std::vector<AbqRule>> listAbqRules() = 0;
  // ABQ settings for new devices (e.g. "new_device_action" = "quarantine").
  virtual Status setAbqSetting(const std::string& key, const std::string& value) = 0;
  virtual Result<std::string> getAbqSetting(const std::string& key) = 0;  // or not_found

  // Pending notices: queued, listed oldest first, removed once sent.
  virtual Result<int64_t> queueNotice(const Notice& notice) = 0;
  virtual Result<std::vector<Notice>> pendingNotices(size_t limit) = 0;
  virtual Status removeNotice(int64_t id) = 0;  // store.not_found if absent

  // Audit log of device events; listAudit returns newest first (empty user =
  // every device).
  virtual Result<int64_t> appendAudit(const AuditEntry& entry) = 0;
  virtual Result<std::vector<AuditEntry>> listAudit(const DeviceRef& ref, size_t limit) = 0;
};

// Opens a store for workers. url: "sqlite:/path/file.db",
// "mysql://user:pass@host:port/db" or "mysql://user:pass@localhost/db?socket=/path".
// Refuses a store whose schema is missing (store.schema_missing), newer than
// this code (store.schema_unknown) or older (store.schema_outdated): run
// `easctl db upgrade --store URL` first, once, before workers start.
Result<std::unique_ptr<MetadataStore>> openMetadataStore(const std::string& url);

}  // namespace eas::storage
