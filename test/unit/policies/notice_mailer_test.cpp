// Notices by mail: templates, rendering, and the mailer's queue handling with
// a fake MailSubmitter (sent = removed, temporary failure = kept, 5xx =
// dropped, the per-host lock), then a wipe acknowledged through the request
// path whose confirmation reaches the submitter with the administrator in Cc.
#include <fcntl.h>
#include <sys/file.h>

#include <chrono>
#include <fstream>
#include <mutex>
#include <thread>

#include "policies/notices/notice_mailer.h"
#include "test/unit/policies/policy_stack.h"

namespace {

using eas::backend::Submission;
using eas::policies::NoticeMailer;
using eas::policies::NoticeMailerConfig;

class FakeSubmitter final : public eas::backend::MailSubmitter {
 public:
  Status submit(const Submission& s) override {
    std::lock_guard<std::mutex> g(mu);
    if (!fail_with.empty()) {
      ++failures;
      return Status::Unavailable(fail_with, "fake");
    }
    sent.push_back(s);
    return Status::Ok();
  }
  std::mutex mu;
  std::vector<Submission> sent;
  std::string fail_with;  // e.g. "smtp.unavailable"
  int failures = 0;
};

NoticeMailerConfig config() {
  NoticeMailerConfig c;
  c.from = "eas-notices@example.test";
  c.admin_address = "admin@example.test";
  return c;
}

Notice notice(const std::string& kind, const std::string& payload,
              const std::string& user = kUser, const std::string& device = "DEV1") {
  Notice n;
  n.ref = {user, device};
  n.kind = kind;
  n.payload = payload;
  n.created_at = 1'800'000'000;
  return n;
}

std::string headerValue(const std::string& message, const std::string& name) {
  const std::string needle = "\r\n" + name + ": ";
  std::string m = "\r\n" + message.substr(0, message.find("\r\n\r\n") + 2);  // headers only
  const size_t at = m.find(needle);
  if (at == std::string::npos) return "<absent>";
  const size_t from = at + needle.size();
  return m.substr(from, m.find("\r\n", from) - from);
}

std::string bodyOf(const std::string& message) {
  const size_t at = message.find("\r\n\r\n");
  return at == std::string::npos ? std::string() : message.substr(at + 4);
}

bool bareLf(const std::string& s) {
  for (size_t i = 0; i < s.size(); ++i)
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) return true;
  return false;
}

}  // namespace

TEST_CASE("templates: built-ins, the administrator's directory, placeholders",
          "[policies][notices]") {
  using namespace eas::policies;
  for (const char* kind :
       {"quarantined", "policy_rejected", "wipe_confirmation", "folder_push_request"}) {
    INFO(kind);
    auto t = loadNoticeTemplate("", kind);
    REQUIRE(t.ok());
    CHECK_FALSE(t->subject.empty());
    CHECK(t->body.size() > 50);
    // The built-in text is the file in policies/templates.
    std::ifstream in(std::string(EAS_SOURCE_DIR) + "/policies/templates/" + kind + ".txt");
    std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(builtinNoticeTemplate(kind) == file);
  }
  CHECK(loadNoticeTemplate("", "nosuchkind").status().reason() == "notice.unknown_kind");
  CHECK(loadNoticeTemplate("", "../etc/passwd").status().reason() == "notice.unknown_kind");

  const auto dir = std::filesystem::temp_directory_path() /
                   ("eas-notice-tpl-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "quarantined.txt") << "Subject: Q {{user}}\nHello {{user}}, {{nope}}!\n";
  std::ofstream(dir / "policy_rejected.txt") << "no subject line\n";
  auto own = loadNoticeTemplate(dir.string(), "quarantined");
  REQUIRE(own.ok());
  CHECK(own->subject == "Q {{user}}");
  CHECK(fillPlaceholders(own->body, {{"user", "a@b"}}) == "Hello a@b, !\n");
  CHECK(loadNoticeTemplate(dir.string(), "policy_rejected").status().reason() ==
        "notice.bad_template");
  CHECK(loadNoticeTemplate(dir.string(), "wipe_confirmation").ok());  // not there: built-in
  // A value is not expanded again.
  CHECK(fillPlaceholders("{{a}}", {{"a", "{{b}}"}, {"b", "x"}}) == "{{b}}");
  std::filesystem::remove_all(dir);
}

TEST_CASE("rendering: recipients, headers, CRLF, no header injection", "[policies][notices]") {
  Device d;
  d.ref = {kUser, "DEV1"};
  d.device_type = "iPhone";
  d.model = "iPhone15,2";
  d.friendly_name = "Alice's\r\nBcc: evil@x.test";
  auto wipe = eas::policies::renderNotice(
      notice("wipe_confirmation",
             eas::commands::noticePayload({{"wipe", "hard"}, {"result", "succeeded"},
                                           {"device_status", "1"}})),
      &d, config());
  REQUIRE(wipe.ok());
  const std::string& m = wipe->message;
  CHECK(wipe->to == std::vector<std::string>{kUser});
  CHECK(wipe->cc == std::vector<std::string>{"admin@example.test"});
  CHECK(headerValue(m, "From") == "eas-notices@example.test");
  CHECK(headerValue(m, "To") == kUser);
  CHECK(headerValue(m, "Cc") == "admin@example.test");
  CHECK(headerValue(m, "Subject") == "Remote wipe of your device iPhone iPhone15,2: succeeded");
  CHECK(headerValue(m, "Date") == "Fri, 15 Jan 2027 08:00:00 +0000");
  CHECK(headerValue(m, "Content-Type") == "text/plain; charset=UTF-8");
  CHECK(headerValue(m, "Bcc") == "<absent>");
  CHECK_FALSE(bareLf(m));
  CHECK(bodyOf(m).find("Alice's  Bcc: evil@x.test") != std::string::npos);  // one line
  const std::string body = bodyOf(m);
  CHECK(body.find("Device ID:   DEV1") != std::string::npos);
  CHECK(body.find("Wipe:        hard") != std::string::npos);
  CHECK(body.find("(device status 1)") != std::string::npos);
  CHECK(body.find("{{") == std::string::npos);

  // Quarantine: the user only; a subject with a newline in a field stays one header.
  d.model = "Evil\r\nBcc: x@y.test";
  auto q = eas::policies::renderNotice(notice("quarantined", "reason=abq:global\n"), &d, config());
  REQUIRE(q.ok());
  CHECK(q->cc.empty());
  CHECK(headerValue(q->message, "Cc") == "<absent>");
  CHECK(headerValue(q->message, "Bcc") == "<absent>");
  CHECK(headerValue(q->message, "Subject").find("Evil  Bcc: x@y.test") != std::string::npos);

  // Non-ASCII subject: RFC 2047.
  d.model = "T\xc3\xa9l\xc3\xa9phone";
  auto u = eas::policies::renderNotice(notice("quarantined", ""), &d, config());
  REQUIRE(u.ok());
  CHECK(headerValue(u->message, "Subject").rfind("=?UTF-8?B?", 0) == 0);

  // A deleted device still gets its mail; a login that is no address gets none.
  CHECK(eas::policies::renderNotice(notice("folder_push_request", "folder=Projects\n"), nullptr,
                                    config())
            .ok());
  CHECK(eas::policies::renderNotice(notice("quarantined", "", "alice"), &d, config())
            .status()
            .reason() == "notice.no_recipient");
}

TEST_CASE("the mailer removes a notice only once the SMTP server took it", "[policies][notices]") {
  Stack s;
  FakeSubmitter smtp;
  NoticeMailer mailer(*s.store, smtp, config());
  REQUIRE(s.store->queueNotice(notice("quarantined", "reason=abq:global\n")).ok());
  REQUIRE(s.store->queueNotice(notice("wipe_confirmation", "wipe=hard\n")).ok());
  REQUIRE(s.store->queueNotice(notice("no_such_kind", "")).ok());

  smtp.fail_with = "smtp.unavailable";
  auto r = mailer.drainOnce();
  REQUIRE(r.ok());
  CHECK(r->sent == 0);
  CHECK(smtp.failures == 1);  // stopped at the first temporary failure
  CHECK(r->kept == 3);
  CHECK(s.notices().size() == 3);

  smtp.fail_with.clear();
  r = mailer.drainOnce();
  REQUIRE(r.ok());
  CHECK(r->sent == 2);
  CHECK(r->dropped == 1);  // no template for that kind
  CHECK(s.notices().empty());
  REQUIRE(smtp.sent.size() == 2);
  CHECK(smtp.sent[0].envelope_from == "eas-notices@example.test");
  CHECK(smtp.sent[0].recipients == std::vector<std::string>{kUser});
  CHECK(smtp.sent[1].recipients == std::vector<std::string>{kUser, "admin@example.test"});

  // 5xx: refused for good, dropped (else it would block the queue forever).
  REQUIRE(s.store->queueNotice(notice("quarantined", "")).ok());
  smtp.fail_with = "smtp.rejected";
  r = mailer.drainOnce();
  REQUIRE(r.ok());
  CHECK(r->dropped == 1);
  CHECK(s.notices().empty());
}

TEST_CASE("one mailer at a time per host (the round lock)", "[policies][notices]") {
  Stack s;
  FakeSubmitter smtp;
  const auto lock = std::filesystem::temp_directory_path() /
                    ("eas-notice-lock-" + std::to_string(getpid()));
  NoticeMailerConfig c = config();
  c.lock_file = lock.string();
  NoticeMailer mailer(*s.store, smtp, c);
  REQUIRE(s.store->queueNotice(notice("quarantined", "")).ok());
  {
    const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT, 0600);  // "another worker"
    REQUIRE(fd >= 0);
    REQUIRE(::flock(fd, LOCK_EX) == 0);
    auto r = mailer.drainOnce();
    REQUIRE(r.ok());
    CHECK(r->locked_out);
    CHECK(smtp.sent.empty());
    ::close(fd);
  }
  auto r = mailer.drainOnce();
  REQUIRE(r.ok());
  CHECK_FALSE(r->locked_out);
  CHECK(r->sent == 1);
  c.lock_file = "/nonexistent-dir/x.lock";
  NoticeMailer bad(*s.store, smtp, c);
  CHECK(bad.drainOnce().status().reason() == "notice.lock");
  std::filesystem::remove(lock);
}

TEST_CASE("hard wipe acknowledged: the confirmation goes to the user, admin in Cc",
          "[policies][notices][wipe]") {
  Stack s;
  enforce(s);
  const uint32_t key = s.provision("14.1");
  REQUIRE(s.store->setWipeState({kUser, "DEV1"}, WipeState::kPendingHard).ok());
  CHECK(s.post("FolderSync", "14.1", folderSync(), key).status == 140);
  CHECK(s.post("Provision", "14.1", emptyProvision(), key).remote_wipe);
  CHECK(s.post("Provision", "14.1", wipeAck(1), key).status == 1);

  FakeSubmitter smtp;
  {
    // The worker's thread drains the queue by itself.
    eas::policies::NoticeMailerThread thread(NoticeMailer(*s.store, smtp, config()), 20);
    // Up to 20 s: a sanitizer build on a loaded machine is slow to start the thread.
    // The queue empties inside a round, before the round is counted: wait
    // for both (a -j2 run here saw the count still 0).
    for (int i = 0; i < 2000 && (s.notices().size() > 0 || thread.rounds() < 1); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(thread.rounds() >= 1);
  }
  REQUIRE(smtp.sent.size() == 1);
  const Submission& m = smtp.sent[0];
  CHECK(m.recipients == std::vector<std::string>{kUser, "admin@example.test"});
  CHECK(headerValue(m.message, "Subject") ==
        "Remote wipe of your device Android Pixel 8: succeeded");
  CHECK(bodyOf(m.message).find("Wipe:        hard") != std::string::npos);
  CHECK(s.notices().empty());
}
