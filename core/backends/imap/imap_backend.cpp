#include "core/backends/imap/imap_backend.h"

#include <openssl/evp.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "core/backends/imap/imap_util.h"
#include "core/base/log.h"

namespace eas::backend::imap {

// --- pool ------------------------------------------------------------------

ImapSessionPool::ImapSessionPool(ImapConfig config, Clock& clock)
    : config_(std::move(config)), clock_(clock) {}

ImapSessionPool::~ImapSessionPool() {
  std::lock_guard<std::mutex> lock(mu_);
  users_.clear();  // logs every idle session out
}

std::string ImapSessionPool::key(const std::string& login, const std::string& password) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(password.data(), password.size(), digest, &len, EVP_sha256(), nullptr);
  std::string k = login;
  k += '\0';
  k.append(reinterpret_cast<const char*>(digest), len);
  return k;
}

void ImapSessionPool::closeIdleLocked(std::vector<std::unique_ptr<ImapSession>>& out) {
  const std::int64_t now = clock_.monotonicMs();
  for (auto it = users_.begin(); it != users_.end();) {
    auto& idle = it->second.idle;
    while (!idle.empty() && now - idle.front()->lastUsedMs >= config_.idleTimeoutMs) {
      out.push_back(std::move(idle.front()));
      idle.pop_front();
      ++stats_.discarded;
    }
    if (idle.empty() && it->second.inUse == 0) it = users_.erase(it); else ++it;
  }
}

void ImapSessionPool::closeIdle() {
  std::vector<std::unique_ptr<ImapSession>> doomed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closeIdleLocked(doomed);
  }
  // LOGOUT happens here, outside the lock.
}

Result<std::unique_ptr<ImapSession>> ImapSessionPool::acquire(const std::string& login,
                                                              const std::string& password) {
  const std::string k = key(login, password);
  const std::int64_t deadline = clock_.monotonicMs() + config_.acquireWaitMs;
  for (;;) {
    std::vector<std::unique_ptr<ImapSession>> doomed;
    std::unique_ptr<ImapSession> reused;
    bool mayOpen = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      closeIdleLocked(doomed);
      for (;;) {
        User& u = users_[k];
        if (!u.idle.empty()) {
          reused = std::move(u.idle.back());
          u.idle.pop_back();
          ++u.inUse;
          ++stats_.reuses;
          reused->markStale();
          break;
        }
        if (u.inUse < std::max<std::size_t>(config_.maxSessionsPerUser, 1)) {
          ++u.inUse;
          mayOpen = true;
          break;
        }
        const std::int64_t left = deadline - clock_.monotonicMs();
        if (left <= 0) {
          Status s = Status::Unavailable("imap.unavailable",
                                         "all " + std::to_string(config_.maxSessionsPerUser) +
                                             " IMAP sessions of " + login + " are busy");
          log::warn(s.toString());
          return s;
        }
        freed_.wait_for(lock, std::chrono::milliseconds(std::min<std::int64_t>(left, 100)));
      }
    }
    doomed.clear();
    if (reused) {
      // A session idle for a while may have been dropped by the server:
      // check it before a caller sends a command that cannot be retried.
      if (clock_.monotonicMs() - reused->lastUsedMs >= config_.probeAfterIdleMs &&
          !reused->noop().ok()) {
        reused->markBroken();  // never back into the idle list
        release(std::move(reused));
        continue;
      }
      return reused;
    }
    if (mayOpen) {
      auto opened = ImapSession::open(config_, login, password);
      std::lock_guard<std::mutex> lock(mu_);
      if (!opened.ok()) {
        --users_[k].inUse;
        freed_.notify_one();
        return opened.status();
      }
      ++stats_.logins;
      opened.value()->poolKey = k;
      return std::move(opened.value());
    }
  }
}

void ImapSessionPool::release(std::unique_ptr<ImapSession> session) {
  if (!session) return;
  std::unique_ptr<ImapSession> doomed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = users_.find(session->poolKey);
    if (it != users_.end() && it->second.inUse > 0) --it->second.inUse;
    if (session->broken() || it == users_.end()) {
      ++stats_.discarded;
      doomed = std::move(session);
    } else {
      session->lastUsedMs = clock_.monotonicMs();
      it->second.idle.push_back(std::move(session));
    }
  }
  freed_.notify_one();
}

ImapSessionPool::Stats ImapSessionPool::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  Stats s = stats_;
  s.idle = 0;
  for (const auto& [k, u] : users_) s.idle += u.idle.size();
  return s;
}

std::unique_ptr<MailBackend> ImapSessionPool::backendFor(const std::string& login,
                                                         const std::string& password) {
  return makeImapBackend(*this, login, password);
}

// --- backend ---------------------------------------------------------------

namespace {

Status uidValidityChanged(const std::string& folder, std::uint32_t was, std::uint32_t now) {
  Status s = Status::Conflict("imap.uidvalidity_changed",
                              "UIDVALIDITY of " + folder + " changed from " + std::to_string(was) +
                                  " to " + std::to_string(now));
  log::info(s.toString());
  return s;
}

bool inRanges(const std::vector<std::pair<std::uint32_t, std::uint32_t>>& ranges, std::uint32_t uid) {
  for (const auto& [a, b] : ranges) {
    if (uid >= a && uid <= b) return true;
  }
  return false;
}

class Backend final : public ImapMailBackend {
 public:
  Backend(ImapSessionPool& pool, std::string login, std::string password)
      : pool_(pool), login_(std::move(login)), password_(std::move(password)) {}
  ~Backend() override { releaseSession(); }

  std::uint64_t commandCount() const override { return session_ ? session_->commandCount() : 0; }
  std::uint64_t fetchCount() const override { return session_ ? session_->fetchCount() : 0; }
  void releaseSession() override {
    if (session_) pool_.release(std::move(session_));
  }

  Result<std::vector<FolderInfo>> listFolders() override {
    return run<std::vector<FolderInfo>>(true, [](ImapSession& s) { return s.list(); });
  }

  Result<FolderState> folderState(const std::string& folder) override {
    return run<FolderState>(true, [&](ImapSession& s) { return s.status(folder); });
  }

  Result<Changes> changesSince(const std::string& folder, const Watermark& since,
                               const std::vector<KnownItem>& known) override {
    return run<Changes>(true, [&](ImapSession& s) { return changes(s, folder, since, known); });
  }

  Result<std::vector<MessageData>> fetchMessages(const std::string& folder,
                                                 const std::vector<std::uint32_t>& uids,
                                                 const FetchRequest& what) override {
    if (uids.empty()) return std::vector<MessageData>();
    return run<std::vector<MessageData>>(true, [&](ImapSession& s) -> Result<std::vector<MessageData>> {
      auto uv = s.select(folder);
      if (!uv.ok()) return uv.status();
      return s.fetch(uids, what);
    });
  }

  Result<std::string> fetchPart(const std::string& folder, std::uint32_t uid, const std::string& section,
                                std::uint32_t offset, std::optional<std::uint32_t> length) override {
    FetchRequest what;
    what.envelope = false;
    what.bodyStructure = false;
    what.sections.push_back({section, offset, length});
    return run<std::string>(true, [&](ImapSession& s) -> Result<std::string> {
      auto uv = s.select(folder);
      if (!uv.ok()) return uv.status();
      auto r = s.fetch({uid}, what);
      if (!r.ok()) return r.status();
      if (r->empty()) {
        return Status::NotFound("imap.no_such_message",
                                "UID " + std::to_string(uid) + " not in " + folder);
      }
      return std::move(r->front().sections.front());
    });
  }

  Result<std::vector<std::uint32_t>> searchMessages(const std::string& folder,
                                                    const SearchCriteria& criteria) override {
    return run<std::vector<std::uint32_t>>(true, [&](ImapSession& s) -> Result<std::vector<std::uint32_t>> {
      auto uv = s.select(folder);
      if (!uv.ok()) return uv.status();
      return s.search(criteria);
    });
  }

  Result<std::string> fetchFullMessage(const std::string& folder, std::uint32_t uid) override {
    return fetchPart(folder, uid, "", 0, std::nullopt);
  }

  Status setFlags(const std::string& folder, const std::vector<std::uint32_t>& uids,
                  std::uint32_t flags) override {
    return storeFlags(folder, uids, flags, true);
  }
  Status clearFlags(const std::string& folder, const std::vector<std::uint32_t>& uids,
                    std::uint32_t flags) override {
    return storeFlags(folder, uids, flags, false);
  }
  Status setKeywords(const std::string& folder, const std::vector<std::uint32_t>& uids,
                     const std::vector<std::string>& add,
                     const std::vector<std::string>& remove) override {
    if (uids.empty() || (add.empty() && remove.empty())) return Status::Ok();
    std::vector<std::string> gone;
    for (const std::string& k : remove)
      if (std::find(add.begin(), add.end(), k) == add.end()) gone.push_back(k);
    return runStatus(true, [&](ImapSession& s) -> Status {
      auto uv = s.select(folder);
      if (!uv.ok()) return uv.status();
      if (!gone.empty()) EAS_RETURN_IF_ERROR(s.storeKeywords(uids, gone, false));
      if (!add.empty()) EAS_RETURN_IF_ERROR(s.storeKeywords(uids, add, true));
      return Status::Ok();
    });
  }

  Result<std::vector<std::uint32_t>> moveMessages(const std::string& from,
                                                  const std::vector<std::uint32_t>& uids,
                                                  const std::string& to) override {
    if (uids.empty()) return std::vector<std::uint32_t>();
    // Not retried: the first attempt may have moved the messages.
    return run<std::vector<std::uint32_t>>(false, [&](ImapSession& s) -> Result<std::vector<std::uint32_t>> {
      auto uv = s.select(from);
      if (!uv.ok()) return uv.status();
      return s.move(uids, to);
    });
  }

  Status deleteMessages(const std::string& folder, const std::vector<std::uint32_t>& uids) override {
    if (uids.empty()) return Status::Ok();
    return runStatus(true, [&](ImapSession& s) -> Status {
      auto uv = s.select(folder);
      if (!uv.ok()) return uv.status();
      EAS_RETURN_IF_ERROR(s.store(uids, kFlagDeleted, true));
      return s.expunge(uids);
    });
  }

  Result<std::uint32_t> appendMessage(const std::string& folder, std::string_view message,
                                      std::uint32_t flags) override {
    return run<std::uint32_t>(false, [&](ImapSession& s) { return s.append(folder, message, flags); });
  }

  Status createFolder(const std::string& name) override {
    return runStatus(false, [&](ImapSession& s) { return s.create(name); });
  }
  Status renameFolder(const std::string& from, const std::string& to) override {
    return runStatus(false, [&](ImapSession& s) { return s.rename(from, to); });
  }
  Status deleteFolder(const std::string& name) override {
    return runStatus(false, [&](ImapSession& s) { return s.remove(name); });
  }

 private:
  // Runs `f` on the leased session (leasing one first). A dead connection
  // is dropped; an idempotent `f` is then retried once on a new session.
  template <typename T, typename F>
  Result<T> run(bool idempotent, F&& f) {
    for (int attempt = 0;; ++attempt) {
      if (!session_) {
        auto s = pool_.acquire(login_, password_);
        if (!s.ok()) return s.status();
        session_ = std::move(s.value());
        answered_ = false;
      }
      // The pool probes only sessions idle for a while; one the server
      // dropped a moment ago would fail a write we may not repeat. So a
      // lease's first write is preceded by a NOOP, which may be retried.
      if (!idempotent && !answered_) {
        Status probe = session_->noop();
        if (!probe.ok()) {
          if (!session_->broken()) return probe;
          releaseSession();
          if (attempt > 0) return probe;
          log::info("imap: pooled session of " + login_ + " was dropped (" + probe.toString() +
                    "), taking a new one before writing");
          continue;
        }
        answered_ = true;
      }
      Result<T> r = f(*session_);
      if (r.ok()) answered_ = true;
      if (r.ok() || !session_->broken()) return r;
      releaseSession();
      if (!idempotent || attempt > 0 || r.status().code() != StatusCode::kUnavailable) return r;
      log::info("imap: connection of " + login_ + " lost (" + r.status().toString() +
                "), retrying once on a new session");
    }
  }

  template <typename F>
  Status runStatus(bool idempotent, F&& f) {
    Result<bool> r = run<bool>(idempotent, [&](ImapSession& s) -> Result<bool> {
      Status st = f(s);
      if (!st.ok()) return st;
      return true;
    });
    return r.status();
  }

  Status storeFlags(const std::string& folder, const std::vector<std::uint32_t>& uids,
                    std::uint32_t flags, bool add) {
    if (uids.empty() || flags == 0) return Status::Ok();
    return runStatus(true, [&](ImapSession& s) -> Status {
      auto uv = s.select(folder);
      if (!uv.ok()) return uv.status();
      return s.store(uids, flags, add);
    });
  }

  static Result<Changes> changes(ImapSession& s, const std::string& folder, const Watermark& since,
                                 const std::vector<KnownItem>& known) {
    // STATUS of the selected folder would answer this session's possibly
    // outdated view (Dovecot): bring the view up to date first.
    if (s.isSelected(folder)) EAS_RETURN_IF_ERROR(s.noop());
    auto state = s.status(folder);
    if (!state.ok()) return state.status();
    // uidValidity 0: an initial sync, nothing known yet.
    if (since.uidValidity != 0 && since.uidValidity != state->uidValidity)
      return uidValidityChanged(folder, since.uidValidity, state->uidValidity);
    Changes c;
    c.state = *state;
    auto knownFlags = [&known](std::uint32_t uid) -> const KnownItem* {
      auto it = std::lower_bound(known.begin(), known.end(), uid,
                                 [](const KnownItem& k, std::uint32_t u) { return k.uid < u; });
      return it != known.end() && it->uid == uid ? &*it : nullptr;
    };
    const bool byModseq = s.hasCondstore() && since.uidValidity != 0 && since.modseq && state->highestModseq;
    if (byModseq) {
      c.byModseq = true;
      // Every change (flags, new mail, expunge) raises HIGHESTMODSEQ: equal
      // values and UIDNEXT mean nothing happened, and STATUS was the only command.
      if (*state->highestModseq == *since.modseq && state->uidNext == since.uidNext) return c;
    }
    auto uv = s.select(folder);
    if (!uv.ok()) return uv.status();
    if (*uv != state->uidValidity) return uidValidityChanged(folder, state->uidValidity, *uv);
    if (byModseq) {
      auto mc = s.fetchChangedSince(*since.modseq);
      if (!mc.ok()) return mc.status();
      for (const KnownItem& item : mc->changed) {
        const KnownItem* k = knownFlags(item.uid);
        if (k == nullptr) c.added.push_back(item.uid);
        else if (!sameFlags(*k, item)) c.flagsChanged.push_back(item);
      }
      if (mc->haveVanished) {
        for (const KnownItem& k : known) {
          if (inRanges(mc->vanished, k.uid)) c.expunged.push_back(k.uid);
        }
      } else {
        auto all = s.searchAllUids();
        if (!all.ok()) return all.status();
        for (const KnownItem& k : known) {
          if (!std::binary_search(all->begin(), all->end(), k.uid)) c.expunged.push_back(k.uid);
        }
      }
    } else {
      auto all = s.fetchAllFlags();
      if (!all.ok()) return all.status();
      std::size_t i = 0;
      for (const KnownItem& m : *all) {
        while (i < known.size() && known[i].uid < m.uid) c.expunged.push_back(known[i++].uid);
        if (i < known.size() && known[i].uid == m.uid) {
          if (!sameFlags(known[i], m)) c.flagsChanged.push_back(m);
          ++i;
        } else {
          c.added.push_back(m.uid);
        }
      }
      while (i < known.size()) c.expunged.push_back(known[i++].uid);
    }
    std::sort(c.added.begin(), c.added.end());
    std::sort(c.expunged.begin(), c.expunged.end());
    return c;
  }

  ImapSessionPool& pool_;
  const std::string login_;
  const std::string password_;
  std::unique_ptr<ImapSession> session_;
  bool answered_ = false;  // the leased session answered a command in this lease
};

}  // namespace

std::unique_ptr<ImapMailBackend> makeImapBackend(ImapSessionPool& pool, std::string login,
                                                 std::string password) {
  return std::make_unique<Backend>(pool, std::move(login), std::move(password));
}

}  // namespace eas::backend::imap
