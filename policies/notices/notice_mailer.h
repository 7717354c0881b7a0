// The notice mailer: renders the queued notices (MetadataStore::pendingNotices)
// with their templates and submits them through a MailSubmitter, From
// notice_from, To the user (the login is the address), the administrator in
// Cc for the wipe confirmation and "policy not accepted" (seed, "E-mail
// Confirmation"). A notice is removed only once the SMTP server accepted it
// (or refused it for good: 5xx, logged); a temporary failure keeps it for
// the next round.
//
// Several workers may run a mailer over one store. On one host only one of
// them drains at a time: a round holds an exclusive flock on `lock_file`
// (none configured: no lock, e.g. a single `easctl notices send`). Workers
// on other hosts sharing a MySQL store are not excluded, and a crash between
// the SMTP acceptance and the removal resends the notice: delivery is at
// least once, a duplicate mail is possible in those two cases.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/backends/mail_submitter.h"
#include "core/base/status.h"
#include "policies/notices/notice_templates.h"
#include "storage/metadata_store.h"

namespace eas::policies {

struct NoticeMailerConfig {
  std::string from = "postmaster@localhost";  // [smtp] notice_from
  std::string admin_address;                  // [smtp] admin_address; empty: no Cc
  std::string template_dir;                   // empty: the built-in templates
  std::string lock_file;                      // empty: no cross-process lock
  size_t batch = 100;                         // notices per round at most
};

// One mail, ready for the submitter.
struct RenderedNotice {
  std::string subject;
  std::vector<std::string> to, cc;
  std::string message;  // RFC 5322, CRLF
};

// Pure: the mail for `notice`; `device` may be null (deleted since). Header
// values are stripped of CR/LF, a non-ASCII subject is RFC 2047 encoded.
// Failures: those of loadNoticeTemplate, notice.no_recipient.
Result<RenderedNotice> renderNotice(const storage::Notice& notice, const storage::Device* device,
                                    const NoticeMailerConfig& config);

struct DrainReport {
  int sent = 0;     // accepted by the SMTP server, removed
  int dropped = 0;  // refused for good (5xx, no template, no recipient), removed
  int kept = 0;     // temporary failure: still queued
  bool locked_out = false;  // another process holds the lock: nothing done
};

class NoticeMailer {
 public:
  // REQUIRES: `store` and `submitter` outlive the mailer.
  NoticeMailer(storage::MetadataStore& store, backend::MailSubmitter& submitter,
               NoticeMailerConfig config);
  // One round over the queue (oldest first). Stops at the first temporary
  // SMTP failure (the server is likely down for all of them).
  Result<DrainReport> drainOnce();

 private:
  storage::MetadataStore& store_;
  backend::MailSubmitter& submitter_;
  NoticeMailerConfig config_;
};

// Runs drainOnce() every `interval_ms` on a thread of its own until
// destroyed (the destructor wakes and joins it).
class NoticeMailerThread {
 public:
  NoticeMailerThread(NoticeMailer mailer, int64_t interval_ms);
  ~NoticeMailerThread();
  NoticeMailerThread(const NoticeMailerThread&) = delete;
  NoticeMailerThread& operator=(const NoticeMailerThread&) = delete;
  // Rounds completed so far (for tests).
  int rounds() const;

 private:
  void run();
  NoticeMailer mailer_;
  const int64_t interval_ms_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  int rounds_ = 0;     // guarded by mu_
  std::thread thread_;  // last: started once everything above is built
};

}  // namespace eas::policies
