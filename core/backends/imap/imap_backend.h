// The IMAP MailBackend and its per-process session pool.
//
//   ImapSessionPool pool(config);                 // one per worker process
//   auto mail = pool.backendFor(login, password); // one per request
//   auto folders = mail->listFolders();
//
// A backend leases one pooled session on first use and gives it back when
// destroyed (only if the session is in a good state). Idempotent reads are
// retried once on a fresh session when the connection turns out dead.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/backends/imap/imap_session.h"
#include "core/backends/mail_backend.h"
#include "core/base/clock.h"

namespace eas::backend::imap {

class ImapSessionPool {
 public:
  explicit ImapSessionPool(ImapConfig config, Clock& clock = Clock::real());
  ~ImapSessionPool();
  ImapSessionPool(const ImapSessionPool&) = delete;
  ImapSessionPool& operator=(const ImapSessionPool&) = delete;

  // An idle session of this user (same password) or a new login. Waits up
  // to acquireWaitMs while the user is at maxSessionsPerUser.
  Result<std::unique_ptr<ImapSession>> acquire(const std::string& login, const std::string& password);
  // Back to the idle list if not broken; otherwise closed. Either way the
  // user's slot is freed.
  void release(std::unique_ptr<ImapSession> session);
  // Closes idle sessions older than idleTimeoutMs (also done by acquire).
  void closeIdle();

  std::unique_ptr<MailBackend> backendFor(const std::string& login, const std::string& password);

  struct Stats {
    std::uint64_t logins = 0;     // successful LOGINs (new sessions)
    std::uint64_t reuses = 0;     // acquisitions served from the idle list
    std::uint64_t discarded = 0;  // sessions closed as broken, stale or surplus
    std::size_t idle = 0;         // idle sessions now
  };
  Stats stats() const;
  const ImapConfig& config() const { return config_; }

 private:
  struct User {
    std::deque<std::unique_ptr<ImapSession>> idle;  // most recently used at the back
    std::size_t inUse = 0;
  };
  // Sessions are keyed by login and a hash of the password, so a pooled
  // session is never handed to a request that did not present its password.
  static std::string key(const std::string& login, const std::string& password);
  void closeIdleLocked(std::vector<std::unique_ptr<ImapSession>>& out);

  const ImapConfig config_;
  Clock& clock_;
  mutable std::mutex mu_;
  std::condition_variable freed_;
  std::map<std::string, User> users_;
  Stats stats_;
};

// Test hooks of the concrete backend.
class ImapMailBackend : public MailBackend {
 public:
  // Commands sent by the session currently leased (0 when none), and UID
  // FETCHes among them.
  virtual std::uint64_t commandCount() const = 0;
  virtual std::uint64_t fetchCount() const = 0;
  // Gives the leased session back to the pool now (as the destructor does).
  virtual void releaseSession() = 0;
};

std::unique_ptr<ImapMailBackend> makeImapBackend(ImapSessionPool& pool, std::string login,
                                                 std::string password);

}  // namespace eas::backend::imap
