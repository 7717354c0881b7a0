#include "core/commands/sync_command.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <map>
#include <string>

#include "core/backends/mail_backend.h"
#include "core/base/log.h"
#include "core/commands/email_collection.h"
#include "core/commands/push.h"
#include "core/commands/sync_device_changes.h"
#include "core/commands/sync_request.h"
#include "core/items/category_keywords.h"
#include "core/items/email_item.h"
#include "core/items/text_utils.h"
#include "core/sync/email_window.h"
#include "storage/metadata_store.h"

namespace eas::commands {
namespace {

namespace as = wbxml::tags::AirSync;
namespace em = wbxml::tags::Email;
using protocol::ProtocolVersion;
using Kind = SyncClientCommand::Kind;

constexpr int kOk = 1;
constexpr int kInvalidSyncKey = 3;
constexpr int kServerError = 5;
constexpr int kNotFound = 8;
constexpr int kHierarchyChanged = 12;
constexpr int kIncompleteRequest = 13;
constexpr int kInvalidInterval = 14;
constexpr int kRetry = 16;

constexpr std::size_t kMaxCachedCollections = 300;
constexpr std::size_t kMaxCategoriesSent = 300;  // as the item encoder

bool parseKey(std::string_view text, std::uint64_t* out) {
  if (text.empty() || text.size() > 20) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

bool isMailFolderType(int type) {
  return type == 2 || type == 3 || type == 4 || type == 5 || type == 6 || type == 12;
}

CommandReply topStatus(int status, std::optional<int> limit = std::nullopt) {
  CommandReply r;
  wbxml::Writer w(&r.body);
  w.start(as::Sync).element(as::Status, status);
  if (limit) w.element(as::Limit, *limit);
  w.end();
  w.flush();
  r.eas_status = status;
  return r;
}

// The backend failure -> the collection's Status.
int statusForBackend(const Status& s) {
  if (s.reason() == "imap.no_such_folder") return kHierarchyChanged;
  if (s.reason() == "imap.unavailable" || s.reason() == "store.unavailable" ||
      s.reason() == "store.conflict")
    return kRetry;
  return kServerError;
}

// What a Sync needs of its request beyond the WBXML, owned, so that a
// parked Sync can run again later on another thread.
struct SyncJob {
  std::string login, password, device_id;
  ProtocolVersion version = ProtocolVersion::k141;
  const Services* services = nullptr;
};

// What the handler learns from one run besides the reply: whether every
// collection had nothing to say (a long-poll Sync may then park), and the
// collections as resolved (keys, sticky Options) to run again.
struct SyncOutcome {
  bool idle = false;
  int interval_seconds = 0;  // Wait / HeartbeatInterval, 0: none
  std::optional<int> window_size;
  std::vector<SyncCollectionRequest> collections;
  std::vector<std::string> folders;  // IMAP names of the collections
};

class SyncRun {
 public:
  SyncRun(const SyncJob& job, storage::MetadataStore& store, MailBackendProvider& provider)
      : req_(job),
        store_(store),
        provider_(provider),
        ref_{job.login, job.device_id},
        version_(job.version),
        view_(items::ProtocolVersionView::of(job.version)) {}

  CommandReply run(const wbxml::Document* document, SyncOutcome* outcome) {
    auto parsed = parseSyncRequest(document ? &document->root() : nullptr, version_);
    if (!parsed.ok()) {
      log::info("sync: protocol error user=" + req_.login + " " + parsed.status().toString());
      return topStatus(syncStatusFor(parsed.status()));
    }
    SyncRequest& sync = *parsed;
    if (auto limit = waitLimitViolation(sync)) return topStatus(kInvalidInterval, limit);

    // The cache: what an empty or Partial request repeats, and each
    // collection's sticky Options.
    std::string old_cache;
    if (auto cached = store_.getRequestCache(ref_, std::string(kSyncCacheName)); cached.ok()) {
      old_cache = std::move(*cached);
    } else if (cached.status().reason() != "store.not_found") {
      log::warn("sync: request cache user=" + req_.login + " " + cached.status().toString());
      if (sync.empty || sync.partial) return topStatus(kRetry);
    }
    std::vector<CachedCollection> cache = decodeSyncCache(old_cache);

    std::vector<SyncCollectionRequest> collections;
    std::vector<bool> key_from_store;
    if (sync.empty || sync.partial) {
      for (SyncCollectionRequest& c : sync.collections) {
        collections.push_back(std::move(c));
        key_from_store.push_back(false);
      }
      for (const CachedCollection& cc : cache) {
        if (!cc.in_last) continue;
        bool present = false;
        for (const SyncCollectionRequest& c : collections) present |= c.collection_id == cc.params.collection_id;
        if (present) continue;
        collections.push_back(cc.params);
        collections.back().get_changes = true;
        key_from_store.push_back(true);
      }
      if (collections.empty()) return topStatus(kIncompleteRequest);
    } else {
      for (SyncCollectionRequest& c : sync.collections) {
        collections.push_back(std::move(c));
        key_from_store.push_back(false);
      }
    }
    for (SyncCollectionRequest& c : collections) {
      if (c.has_options) continue;
      for (const CachedCollection& cc : cache)
        if (cc.params.collection_id == c.collection_id && cc.params.has_options) {
          c.options = cc.params.options;
          c.has_options = true;
        }
    }

    if (Status s = loadFolders(); !s.ok()) {
      log::warn("sync: folder map user=" + req_.login + " " + s.toString());
      return topStatus(kRetry);
    }
    CommandReply reply = execute(collections, key_from_store, sync.window_size, outcome);
    if (!sync.empty) updateCache(collections, cache, old_cache);
    if (outcome) {
      if (sync.wait_minutes) outcome->interval_seconds = *sync.wait_minutes * 60;
      if (sync.heartbeat_seconds) outcome->interval_seconds = *sync.heartbeat_seconds;
      outcome->window_size = sync.window_size;
    }
    return reply;
  }

  // A parked Sync's re-check: the same collections at the same keys.
  CommandReply rerun(std::vector<SyncCollectionRequest> collections, std::optional<int> window_size,
                     SyncOutcome* outcome) {
    if (Status s = loadFolders(); !s.ok()) {
      log::warn("sync: folder map user=" + req_.login + " " + s.toString());
      return topStatus(kRetry);
    }
    std::vector<bool> key_from_store(collections.size(), false);
    return execute(collections, key_from_store, window_size, outcome);
  }

 private:
  CommandReply execute(std::vector<SyncCollectionRequest>& collections,
                       const std::vector<bool>& key_from_store, std::optional<int> window_size,
                       SyncOutcome* outcome) {
    std::optional<int> remaining;
    if (window_size) remaining = sync::effectiveWindowSize(window_size);
    std::vector<std::string> parts;
    idle_parts_ = 0;
    for (std::size_t i = 0; i < collections.size(); ++i) {
      SyncCollectionRequest& c = collections[i];
      if (key_from_store[i]) {
        auto current = store_.lookupSyncKey(ref_, c.collection_id, 0);
        if (!current.ok()) {
          parts.push_back(statusOnly(c, c.collection_id, "0", statusForBackend(current.status())));
          continue;
        }
        if (current->current_key == 0) {
          parts.push_back(statusOnly(c, c.collection_id, "0", kInvalidSyncKey));
          continue;
        }
        c.sync_key = std::to_string(current->current_key);
      }
      if (remaining && *remaining <= 0 && c.commands.empty()) continue;  // omitted (CMD)
      int window = sync::effectiveWindowSize(c.window_size);
      if (remaining) window = std::min(window, *remaining);
      int sent = 0;
      parts.push_back(processCollection(c, std::max(window, 1), &sent));
      if (remaining) *remaining -= sent;
    }
    if (outcome) {
      outcome->idle = !parts.empty() && idle_parts_ == parts.size();
      outcome->collections = collections;
      for (const SyncCollectionRequest& c : collections)
        if (const storage::Folder* f = folder(c.collection_id)) outcome->folders.push_back(f->backend_id);
    }

    CommandReply r;
    wbxml::Writer w(&r.body);
    w.start(as::Sync).start(as::Collections);
    for (const std::string& part : parts) {
      auto doc = wbxml::decode(part);
      if (!doc.ok()) {  // our own bytes (fresh or stored): never expected
        log::error("sync: stored collection reply unreadable: " + doc.status().toString());
        continue;
      }
      wbxml::encodeTo(*doc, w);
    }
    w.end().end();
    w.flush();
    r.eas_status = kOk;
    return r;
  }

  Status loadFolders() {
    auto folders = store_.listFolders(ref_);
    if (!folders.ok()) return folders.status();
    folders_ = std::move(*folders);
    return Status::Ok();
  }

  const storage::Folder* folder(const std::string& server_id) const {
    for (const storage::Folder& f : folders_)
      if (f.server_id == server_id) return &f;
    return nullptr;
  }

  std::string trashFolder() const {
    for (const storage::Folder& f : folders_)
      if (f.type == 4) return f.backend_id;
    return std::string();
  }

  backend::MailBackend& mail() {
    if (!mail_) mail_ = provider_.open(req_.login, req_.password);
    return *mail_;
  }

  // The seed's quarantine: only default folders (FolderSync already lists
  // no others) and one-way sync, client to server: the device's changes
  // are applied, the server sends none until an administrator allows it.
  bool quarantined() {
    if (quarantine_read_) return quarantined_;
    quarantine_read_ = true;
    auto device = store_.findDevice(ref_);
    quarantined_ = device.ok() && device->access_state == storage::AccessState::kQuarantine;
    if (quarantined_)
      log::info("sync: device=" + ref_.device_id + " user=" + req_.login +
                " is quarantined: no server changes sent");
    return quarantined_;
  }

  std::optional<std::int64_t> policyCutoff() {
    if (policy_read_) return policy_cutoff_;
    policy_read_ = true;
    policy_cutoff_ = policyEmailCutoff(store_, ref_, now());
    return policy_cutoff_;
  }

  std::int64_t now() const {
    return req_.services && req_.services->clock ? req_.services->clock->unixSeconds()
                                                 : Clock::real().unixSeconds();
  }

  void head(wbxml::Writer& w, const SyncCollectionRequest& c, std::string_view key, int status) {
    w.start(as::Collection);
    if (version_ <= ProtocolVersion::k121) w.element(as::Class, "Email");
    w.element(as::SyncKey, key).element(as::CollectionId, c.collection_id).element(as::Status, status);
  }

  std::string statusOnly(const SyncCollectionRequest& c, const std::string&, std::string_view key,
                         int status) {
    std::string out;
    wbxml::Writer w(&out);
    head(w, c, key, status);
    w.end();
    w.flush();
    return out;
  }

  // `etag`: the item map's field where the device's flag details are kept.
  void writeFlagChange(wbxml::Writer& w, const backend::KnownItem& k, std::string_view etag) {
    // 2.5 has no Flag element.
    writeFlagChangeData(w, k.flags, etag, version_ >= ProtocolVersion::k120);
    if (!items::emailFeaturesFor(view_).categories) return;
    // The whole set, so another client's tagging reaches the device; an
    // empty element clears it (EMAIL §2.2.2.16).
    const std::vector<std::string> categories = items::categoriesOfKeywords(k.keywords);
    if (categories.empty()) {
      w.empty(em::Categories);
      return;
    }
    w.start(em::Categories);
    for (std::size_t i = 0; i < categories.size() && i < kMaxCategoriesSent; ++i)
      w.element(em::Category, items::sanitizeUtf8(categories[i]));
    w.end();
  }

  // 16.x drafts: ApplicationData/Attachments/Attachment{ClientId,
  // FileReference} for each attachment added (AIRS §2.2.2.7).
  static void writeDraftAttachments(wbxml::Writer& w, const SyncItemResponse& r) {
    if (r.attachments.empty()) return;
    namespace asb = wbxml::tags::AirSyncBase;
    w.start(as::ApplicationData).start(asb::Attachments);
    for (const auto& [client_id, file_reference] : r.attachments)
      w.start(asb::Attachment).element(asb::ClientId, client_id).element(asb::FileReference, file_reference).end();
    w.end().end();
  }

  void writeResponses(wbxml::Writer& w, const std::vector<SyncItemResponse>& responses,
                      const items::BodyRequest& body) {
    if (responses.empty()) return;
    w.start(as::Responses);
    for (const SyncItemResponse& r : responses) {
      switch (r.kind) {
        case Kind::kAdd:
          w.start(as::Add).element(as::ClientId, r.client_id);
          if (!r.server_id.empty()) w.element(as::ServerId, r.server_id);  // a stored draft
          writeDraftAttachments(w, r);
          w.element(as::Status, r.status).end();
          break;
        case Kind::kChange:
          w.start(as::Change).element(as::ServerId, r.server_id);
          writeDraftAttachments(w, r);
          w.element(as::Status, r.status).end();
          break;
        case Kind::kDelete:
          w.start(as::Delete).element(as::ServerId, r.server_id).element(as::Status, r.status).end();
          break;
        case Kind::kFetch:
          w.start(as::Fetch).element(as::ServerId, r.server_id).element(as::Status, r.status);
          if (r.item) {
            w.start(as::ApplicationData);
            items::writeEmailApplicationData(w, *r.item, body, view_);
            w.end();
          }
          w.end();
          break;
      }
    }
    w.end();
  }

  // Nothing to say and nothing to remember: the same key, no commit.
  std::string sameKey(const SyncCollectionRequest& c) {
    ++idle_parts_;
    std::string out;
    wbxml::Writer w(&out);
    head(w, c, c.sync_key, kOk);
    w.end();
    w.flush();
    return out;
  }

  std::string changesFailed(const SyncCollectionRequest& c, const storage::Folder& f,
                            const Status& st) {
    const std::string& cid = c.collection_id;
    if (st.reason() == "imap.uidvalidity_changed") {
      // The folder is a new one under the same name: the device starts
      // over from 0 (CMD Status 3) and gets every message again.
      log::warn("sync: UIDVALIDITY of " + f.backend_id + " changed; collection " + cid +
                " reset user=" + req_.login + " device=" + ref_.device_id);
      if (Status s = store_.resetSyncState(ref_, cid); !s.ok())
        log::warn("sync: reset " + cid + " " + s.toString());
      return statusOnly(c, cid, "0", kInvalidSyncKey);
    }
    log::warn("sync: changes of " + cid + " user=" + req_.login + " " + st.toString());
    return statusOnly(c, cid, c.sync_key, statusForBackend(st));
  }

  std::string processCollection(const SyncCollectionRequest& c, int window, int* sent) {
    const std::string& cid = c.collection_id;
    const storage::Folder* f = folder(cid);
    if (!f) {
      log::info("sync: collection " + cid + " not in the folder map of user=" + req_.login +
                " device=" + ref_.device_id);
      return statusOnly(c, cid, c.sync_key, kHierarchyChanged);
    }
    if (!isMailFolderType(f->type)) return statusOnly(c, cid, c.sync_key, kNotFound);
    std::uint64_t key = 0;
    if (!parseKey(c.sync_key, &key)) return statusOnly(c, cid, "0", kInvalidSyncKey);

    if (key == 0) {
      // Start over: the first key, no items (CMD §2.2.3.181.4).
      std::string out;
      {
        wbxml::Writer w(&out);
        head(w, c, "1", kOk);
        w.end();
        w.flush();
      }
      storage::SyncTransition t;
      t.from_key = 0;
      t.to_key = 1;
      t.response = out;
      if (Status s = store_.commitSyncState(ref_, cid, t); !s.ok()) {
        log::warn("sync: initial commit " + cid + " user=" + req_.login + " " + s.toString());
        return statusOnly(c, cid, c.sync_key, kRetry);
      }
      return out;
    }

    // First the one-row answer: a replay or a no-change Sync never loads
    // the item map (the steady state of a large folder).
    auto peek = store_.peekSyncKey(ref_, cid, key);
    if (!peek.ok()) {
      if (peek.status().reason() == "store.unknown_synckey") {
        log::info("sync: unknown SyncKey " + c.sync_key + " for " + cid + " user=" + req_.login +
                  " device=" + ref_.device_id);
        return statusOnly(c, cid, "0", kInvalidSyncKey);
      }
      log::warn("sync: lookup " + cid + " user=" + req_.login + " " + peek.status().toString());
      return statusOnly(c, cid, c.sync_key, kRetry);
    }
    if (peek->match == storage::SyncLookup::Match::kPrevious) {
      log::info("sync: SyncKey " + c.sync_key + " of " + cid + " resent: replaying device=" +
                ref_.device_id);
      return std::move(peek->replay_response);
    }
    const bool get_changes = c.get_changes.value_or(true) && !quarantined();
    if (c.commands.empty()) {
      if (!get_changes) return sameKey(c);
      const storage::Watermark& wm = peek->state.watermark;
      if (wm.uidvalidity != 0 && wm.highestmodseq > 0) {
        auto quick = mail().changesSince(f->backend_id, sync::toBackendWatermark(wm), {});
        if (!quick.ok()) return changesFailed(c, *f, quick.status());
        if (quick->byModseq && quick->added.empty() && quick->flagsChanged.empty() &&
            quick->expunged.empty())
          return sameKey(c);
      }
    }

    auto lookup = store_.lookupSyncKey(ref_, cid, key);
    if (!lookup.ok()) {
      if (lookup.status().reason() == "store.unknown_synckey") {
        log::info("sync: unknown SyncKey " + c.sync_key + " for " + cid + " user=" + req_.login +
                  " device=" + ref_.device_id);
        return statusOnly(c, cid, "0", kInvalidSyncKey);
      }
      log::warn("sync: lookup " + cid + " user=" + req_.login + " " + lookup.status().toString());
      return statusOnly(c, cid, c.sync_key, kRetry);
    }
    if (lookup->match == storage::SyncLookup::Match::kPrevious) {
      log::info("sync: SyncKey " + c.sync_key + " of " + cid + " resent: replaying device=" +
                ref_.device_id);
      return std::move(lookup->replay_response);
    }
    storage::SyncState& state = lookup->state;
    const items::BodyRequest body = c.options.bodyRequest();
    const std::uint32_t cap = fetchCapFor(body);

    // The device's commands first: the server's changes are then computed
    // against the item map with them applied (nothing is echoed back).
    DeviceChangesResult device;
    if (!c.commands.empty()) {
      DeviceChangesInput in;
      in.collection = &c;
      in.folder = f->backend_id;
      in.trash_folder = trashFolder();
      in.items = &state.items;
      in.fetch_cap = cap;
      in.drafts = f->type == 3 && protocol::capabilitiesFor(version_).draft_sync;
      in.user_address = req_.login;
      in.now = now();
      in.smtp = req_.services ? req_.services->smtp : nullptr;
      in.password = req_.password;
      for (const storage::Folder& x : folders_)
        if (x.type == 5) in.sent_folder = x.backend_id;
      auto applied = applyDeviceChanges(mail(), in);
      if (!applied.ok()) {
        log::warn("sync: device changes " + cid + " user=" + req_.login + " " +
                  applied.status().toString());
        return statusOnly(c, cid, c.sync_key, statusForBackend(applied.status()));
      }
      device = std::move(*applied);
      std::map<std::string, storage::ItemEntry> map;
      for (storage::ItemEntry& e : state.items) map.emplace(e.server_id, std::move(e));
      for (const storage::ItemChange& ch : device.item_changes) {
        if (ch.kind == storage::ItemChange::Kind::kDelete) map.erase(ch.item.server_id);
        else map[ch.item.server_id] = ch.item;
      }
      state.items.clear();
      for (auto& [sid, e] : map) state.items.push_back(std::move(e));
    }

    sync::EmailWindow plan;
    std::vector<FetchedEmail> adds;
    storage::Watermark watermark = state.watermark;
    if (get_changes) {
      auto cutoff = stricterCutoff(
          c.options.filter_type ? emailFilterCutoff(*c.options.filter_type, now()) : std::nullopt,
          policyCutoff());
      // ConversationMode pulls older mail of a thread inside the window in.
      auto changes = pendingEmailChanges(mail(), f->backend_id, state, cutoff, c.conversation_mode);
      if (!changes.ok()) return changesFailed(c, *f, changes.status());
      plan = sync::planEmailWindow(*changes, state.items, window);
      if (!plan.adds.empty()) {
        auto fetched = fetchEmailItems(mail(), f->backend_id, cid, plan.adds, cap);
        if (!fetched.ok()) {
          log::warn("sync: fetch of " + cid + " user=" + req_.login + " " +
                    fetched.status().toString());
          return statusOnly(c, cid, c.sync_key, statusForBackend(fetched.status()));
        }
        adds = std::move(*fetched);
        // Newest first, as planned.
        std::sort(adds.begin(), adds.end(),
                  [](const FetchedEmail& a, const FetchedEmail& b) { return a.uid > b.uid; });
      }
      if (plan.advance_watermark) watermark = sync::toStoreWatermark(changes->state);
    }

    const bool nothing = device.responses.empty() && device.item_changes.empty() &&
                         plan.deletes.empty() && plan.changes.empty() && adds.empty() &&
                         plan.item_changes.empty();
    if (nothing) return sameKey(c);

    const std::uint64_t new_key = key + 1;
    storage::SyncTransition t;
    t.from_key = key;
    t.to_key = new_key;
    t.watermark = watermark;
    t.changes = std::move(device.item_changes);
    for (storage::ItemChange& ch : plan.item_changes) t.changes.push_back(std::move(ch));
    dropStaleFlagDetails(t.changes);
    for (const FetchedEmail& a : adds) {
      storage::ItemEntry e;
      e.server_id = sync::itemServerId(cid, a.uid);
      e.backend_id = std::to_string(a.uid);
      e.flags = sync::flagsText(a.flags, a.keywords);
      t.changes.push_back({storage::ItemChange::Kind::kPut, std::move(e)});
    }
    {
      wbxml::Writer w(&t.response);
      head(w, c, std::to_string(new_key), kOk);
      writeResponses(w, device.responses, body);
      if (plan.more_available) w.empty(as::MoreAvailable);
      if (!plan.deletes.empty() || !plan.changes.empty() || !adds.empty()) {
        w.start(as::Commands);
        for (const std::string& sid : plan.deletes)
          w.start(as::Delete).element(as::ServerId, sid).end();
        std::map<std::string, std::string_view> etags;
        if (!plan.changes.empty())
          for (const storage::ItemEntry& e : state.items)
            if (!e.etag.empty()) etags.emplace(e.server_id, e.etag);
        for (const backend::KnownItem& k : plan.changes) {
          const std::string sid = sync::itemServerId(cid, k.uid);
          w.start(as::Change).element(as::ServerId, sid);
          w.start(as::ApplicationData);
          auto et = etags.find(sid);
          writeFlagChange(w, k, et == etags.end() ? std::string_view() : et->second);
          w.end().end();
        }
        for (const FetchedEmail& a : adds) {
          w.start(as::Add).element(as::ServerId, sync::itemServerId(cid, a.uid));
          w.start(as::ApplicationData);
          items::writeEmailApplicationData(w, a.item, body, view_);
          w.end().end();
        }
        w.end();
      }
      w.end();
      w.flush();
    }
    if (Status s = store_.commitSyncState(ref_, cid, t); !s.ok()) {
      // Nothing was committed: the device retries with the same key.
      log::warn("sync: commit " + cid + " user=" + req_.login + " " + s.toString());
      return statusOnly(c, cid, c.sync_key, statusForBackend(s));
    }
    *sent = static_cast<int>(plan.deletes.size() + plan.changes.size() + adds.size());
    return std::move(t.response);
  }

  void updateCache(const std::vector<SyncCollectionRequest>& collections,
                   const std::vector<CachedCollection>& old, const std::string& old_text) {
    std::vector<CachedCollection> next;
    for (const SyncCollectionRequest& c : collections) {
      if (!folder(c.collection_id)) continue;  // only ids the device may sync
      CachedCollection cc;
      cc.params = c;
      cc.params.sync_key.clear();
      cc.params.commands.clear();
      next.push_back(std::move(cc));
    }
    for (const CachedCollection& cc : old) {
      if (next.size() >= kMaxCachedCollections) break;
      bool present = false;
      for (const CachedCollection& n : next) present |= n.params.collection_id == cc.params.collection_id;
      if (present || !folder(cc.params.collection_id)) continue;
      CachedCollection kept = cc;
      kept.in_last = false;  // remembered for its Options only
      next.push_back(std::move(kept));
    }
    std::string text = encodeSyncCache(next);
    if (text == old_text) return;  // the usual case: no store write
    if (Status s = store_.putRequestCache(ref_, std::string(kSyncCacheName), text); !s.ok())
      log::warn("sync: request cache not saved user=" + req_.login + " " + s.toString());
  }

  const SyncJob& req_;
  storage::MetadataStore& store_;
  MailBackendProvider& provider_;
  storage::DeviceRef ref_;
  ProtocolVersion version_;
  items::ProtocolVersionView view_;
  std::unique_ptr<backend::MailBackend> mail_;
  std::vector<storage::Folder> folders_;
  std::size_t idle_parts_ = 0;
  bool policy_read_ = false;
  bool quarantine_read_ = false;
  bool quarantined_ = false;
  std::optional<std::int64_t> policy_cutoff_;
};

// A long-poll Sync that found nothing: parked until a change event for one
// of its folders (then run again; still nothing: keep waiting) or the end
// of its interval (then the same "nothing" answer).
class ParkedSync final : public ParkedRequest {
 public:
  ParkedSync(SyncJob job, SyncOutcome outcome) : job_(std::move(job)), outcome_(std::move(outcome)) {}
  std::optional<CommandReply> recheck(WakeReason why) override {
    SyncOutcome again;
    CommandReply r = SyncRun(job_, *job_.services->store, *job_.services->mail)
                         .rerun(outcome_.collections, outcome_.window_size, &again);
    if (why == WakeReason::kEvent && again.idle) return std::nullopt;  // spurious
    return r;
  }

 private:
  SyncJob job_;
  SyncOutcome outcome_;
};

class SyncCommand final : public Command {
 public:
  std::optional<CommandReply> handle(CommandContext& ctx) override {
    const CommandRequest& req = ctx.request();
    storage::MetadataStore* store = req.services ? req.services->store : nullptr;
    MailBackendProvider* mail = req.services ? req.services->mail : nullptr;
    if (!store || !mail) {
      log::warn("sync: no store or mail backend configured");
      return topStatus(kServerError);
    }
    SyncJob job;
    job.login = req.login;
    job.password = req.password;
    job.device_id = req.query ? req.query->device_id : std::string();
    job.version = req.capabilities.version;
    job.services = req.services;
    PushHub* push = req.services->push;
    // A newer request of the device ends its parked Ping or Sync (push.h).
    if (push) push->endDevice(job.login, job.device_id);
    SyncOutcome outcome;
    CommandReply reply = SyncRun(job, *store, *mail).run(req.document, &outcome);
    if (!push || !outcome.idle || outcome.interval_seconds <= 0) return reply;
    std::unique_ptr<DeferredReply> deferred = ctx.park();
    if (!deferred) return reply;  // this transport cannot park: answer now
    PushWatch watch;
    watch.login = job.login;
    watch.device_id = job.device_id;
    watch.folders = outcome.folders;
    watch.heartbeat_seconds = outcome.interval_seconds;
    push->park(std::move(watch), std::move(deferred),
               std::make_unique<ParkedSync>(std::move(job), std::move(outcome)));
    return std::nullopt;
  }
};

}  // namespace

std::unique_ptr<Command> makeSyncCommand() { return std::make_unique<SyncCommand>(); }

}  // namespace eas::commands
