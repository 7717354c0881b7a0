// One authenticated IMAP connection (libetpan), owned by one thread at a
// time. Every command returns a Status; a failure that leaves the
// connection unusable (stream error, BYE, parse error) marks the session
// broken, and a broken session is never returned to the pool.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/backends/mail_backend.h"
#include "core/base/status.h"

struct mailimap;
struct mailimap_set;
struct mailimap_flag_list;

namespace eas::backend::imap {

enum class TlsMode { kNone, kStartTls, kImaps };

struct ImapConfig {
  std::string host = "127.0.0.1";
  int port = 143;
  TlsMode tls = TlsMode::kNone;
  bool tlsVerify = true;    // check the chain (OpenSSL) and the host name/IP
  std::string tlsCaFile;    // empty: the system trust store
  int timeoutSeconds = 30;  // per network operation
  bool useCondstore = true; // ENABLE CONDSTORE/QRESYNC and use modseqs
  bool useQresync = true;   // prefer QRESYNC (expunges as VANISHED) where offered
  // Pool (see ImapSessionPool).
  std::size_t maxSessionsPerUser = 4;
  std::int64_t idleTimeoutMs = 5 * 60 * 1000;  // idle sessions older than this are closed
  std::int64_t probeAfterIdleMs = 30 * 1000;   // NOOP before reusing a session idle this long
  std::int64_t acquireWaitMs = 10 * 1000;      // wait for a free slot at the per-user maximum
};

class ImapSession {
 public:
  ~ImapSession();
  ImapSession(const ImapSession&) = delete;
  ImapSession& operator=(const ImapSession&) = delete;

  // Connects (TLS as configured), logs in, ENABLEs QRESYNC or CONDSTORE.
  static Result<std::unique_ptr<ImapSession>> open(const ImapConfig& config,
                                                   const std::string& login,
                                                   const std::string& password);

  bool broken() const { return broken_; }
  const std::string& login() const { return login_; }
  bool hasCondstore() const { return condstore_; }
  bool hasQresync() const { return qresync_; }
  bool hasMove() const { return move_; }
  bool hasUidplus() const { return uidplus_; }

  // Tagged commands sent on this connection so far (libetpan's tag counter),
  // and UID FETCH commands among them. For tests and the debug log.
  std::uint64_t commandCount() const;
  std::uint64_t fetchCount() const { return fetches_; }

  std::int64_t lastUsedMs = 0;  // maintained by the pool
  std::string poolKey;          // set by the pool

  Status noop();
  Result<std::vector<FolderInfo>> list();
  Result<FolderState> status(const std::string& folder);
  // SELECT unless `folder` is already selected; returns its UIDVALIDITY.
  // An already selected folder gets a NOOP first when the session was
  // idle in the pool (markStale): Dovecot shows a session the changes of
  // others only at command boundaries.
  Result<std::uint32_t> select(const std::string& folder);
  bool isSelected(const std::string& folder) const { return hasSelected_ && selected_ == folder; }
  void markStale() { stale_ = true; }
  void markBroken() { broken_ = true; }
  // Every UID of the selected folder with its flags.
  Result<std::vector<KnownItem>> fetchAllFlags();
  struct ModseqChanges {
    std::vector<KnownItem> changed;  // UID + flags of every message with modseq > since
    std::vector<std::pair<std::uint32_t, std::uint32_t>> vanished;  // UID ranges, QRESYNC only
    bool haveVanished = false;
  };
  Result<ModseqChanges> fetchChangedSince(std::uint64_t modseq);
  Result<std::vector<std::uint32_t>> searchAllUids();
  // UID SEARCH in the selected folder (CHARSET UTF-8 when text is given).
  Result<std::vector<std::uint32_t>> search(const SearchCriteria& criteria);
  Result<std::vector<MessageData>> fetch(const std::vector<std::uint32_t>& uids,
                                         const FetchRequest& what);
  Status store(const std::vector<std::uint32_t>& uids, std::uint32_t flags, bool add);
  // +FLAGS.SILENT / -FLAGS.SILENT of keywords; each must be a valid atom
  // (else imap.refused without sending anything).
  Status storeKeywords(const std::vector<std::uint32_t>& uids, const std::vector<std::string>& keywords,
                       bool add);
  Result<std::vector<std::uint32_t>> move(const std::vector<std::uint32_t>& uids,
                                          const std::string& to);
  Status expunge(const std::vector<std::uint32_t>& uids);
  Result<std::uint32_t> append(const std::string& folder, std::string_view message,
                               std::uint32_t flags);
  Status create(const std::string& name);
  Status rename(const std::string& from, const std::string& to);
  Status remove(const std::string& name);

 private:
  ImapSession();
  // Maps a libetpan result code; `what` names the command for the log.
  Status check(int r, const char* what, const std::string& folder = {});
  // True when the server has closed the connection (EOF or reset pending).
  bool peerClosed() const;
  Status connectAndLogin(const ImapConfig& config, const std::string& password);
  // UID STORE +/-FLAGS.SILENT of `list` (taken: freed here) on `set`.
  Status storeFlagList(mailimap_set* set, mailimap_flag_list* list, bool add);

  mailimap* imap_ = nullptr;
  std::string login_;
  std::string where_;  // host:port for log lines
  std::string selected_;
  bool hasSelected_ = false;
  bool broken_ = false;
  bool stale_ = false;
  bool condstore_ = false, qresync_ = false, move_ = false, uidplus_ = false;
  int tagBase_ = 0;
  std::uint64_t fetches_ = 0;
};

}  // namespace eas::backend::imap
