// The SMTP submitter (core/backends/smtp) against the fixture Postfix's
// authenticated ports (issue #7): STARTTLS submission and SMTPS, both with
// AUTH through Dovecot SASL and the certificate checked against the run's
// private CA. Delivery is checked by reading bob's INBOX over IMAP.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/backends/imap/imap_backend.h"
#include "core/backends/smtp/smtp_submitter.h"
#include "core/commands/compose_command.h"
#include "test/integration/common/env_file.h"
#include "test/integration/common/test_client.h"

namespace {

using eas::backend::Submission;
using eas::backend::smtp::SmtpOptions;
using eas::backend::smtp::SmtpTls;
using eas::testing::EnvFile;

struct Fixture {
  EnvFile postfix = EnvFile::loadFixture("postfix");
  EnvFile dovecot = EnvFile::loadFixture("dovecot");
  std::string alice = dovecot.testUser(1), alice_pass = dovecot.testPassword(1);
  std::string bob = dovecot.testUser(2), bob_pass = dovecot.testPassword(2);
  eas::backend::imap::ImapSessionPool pool{imapConfig()};
  std::string tag = std::to_string(::getpid());

  Fixture() { std::signal(SIGPIPE, SIG_IGN); }

  eas::backend::imap::ImapConfig imapConfig() const {
    eas::backend::imap::ImapConfig c;
    c.host = dovecot.get("IMAP_HOST");
    c.port = std::atoi(dovecot.get("IMAP_PORT").c_str());
    return c;
  }
  int port(const char* key) const { return std::atoi(postfix.get(key).c_str()); }

  // The submission port, STARTTLS, AUTH with the submitter's user, the CA.
  SmtpOptions submission() const {
    SmtpOptions o;
    o.host = postfix.get("SMTP_TLS_HOST");  // the name in the certificate
    o.port = port("SMTP_SUBMISSION_PORT");
    o.tls = SmtpTls::kStartTls;
    o.tls_ca_file = postfix.get("SMTP_CA_FILE");
    o.authenticate = true;
    o.timeout_seconds = 10;
    return o;
  }
  SmtpOptions smtps() const {
    SmtpOptions o = submission();
    o.port = port("SMTPS_PORT");
    o.tls = SmtpTls::kSmtps;
    return o;
  }

  // Unique in the run (Catch builds a new Fixture for every SECTION pass)
  // and bracketed, so that IMAP's substring SEARCH finds only this one.
  std::string subject(const std::string& what) {
    static int counter = 0;
    return what + " [" + tag + "." + std::to_string(++counter) + "]";
  }
  // alice -> bob, as alice (login/password of the device user).
  Submission mail(const std::string& subj) const {
    Submission s;
    s.envelope_from = alice;
    s.recipients = {bob};
    s.message = "From: " + alice + "\r\nTo: " + bob + "\r\nSubject: " + subj +
                "\r\nMessage-ID: <" + subj.substr(subj.rfind('[') + 1, subj.size() - subj.rfind('[') - 2) +
                "@smtp-tls-test>\r\n\r\nover TLS\r\n.leading dot\r\n";
    s.login = alice;
    s.password = alice_pass;
    return s;
  }
  eas::Status send(const SmtpOptions& o, const Submission& s) {
    return eas::backend::smtp::makeSmtpSubmitter(o)->submit(s);
  }

  // UIDs of bob's INBOX messages whose subject has `subj`, waiting up to
  // `seconds` for one (0 s: look once).
  std::vector<std::uint32_t> inBobsInbox(const std::string& subj, int seconds = 20) {
    eas::backend::SearchCriteria q;
    q.subject = subj;
    std::vector<std::uint32_t> uids;
    for (int i = 0; i <= seconds * 10; ++i) {
      auto found = pool.backendFor(bob, bob_pass)->searchMessages("INBOX", q);
      REQUIRE(found.ok());
      uids = *found;
      if (!uids.empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return uids;
  }
  std::string fullMessage(std::uint32_t uid) {
    auto m = pool.backendFor(bob, bob_pass)->fetchFullMessage("INBOX", uid);
    REQUIRE(m.ok());
    return *m;
  }
  std::string postfixLog() const {
    std::ifstream in(postfix.get("POSTFIX_LOG"));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  // Proves that Postfix delivers at all right now, so that "not delivered"
  // below is not just a slow queue: a good message sent after a refused
  // one arrives, and the refused one still has not.
  void sendMarkerAndCheckAbsent(const std::string& refused_subject) {
    const std::string marker = subject("marker");
    REQUIRE(send(submission(), mail(marker)).ok());
    REQUIRE(inBobsInbox(marker).size() == 1);
    CHECK(inBobsInbox(refused_subject, 0).empty());
  }
};

}  // namespace

TEST_CASE_METHOD(Fixture, "STARTTLS + AUTH PLAIN with the user's credentials delivers to bob's INBOX",
                 "[smtp][tls]") {
  const std::string subj = subject("starttls");
  const eas::Status s = send(submission(), mail(subj));
  INFO(s.toString());
  REQUIRE(s.ok());
  auto uids = inBobsInbox(subj);
  REQUIRE(uids.size() == 1);
  const std::string m = fullMessage(uids[0]);
  CHECK(m.find("\r\n.leading dot\r\n") != std::string::npos);  // dot-stuffing undone
  // Postfix took it on the submission service, authenticated as alice.
  const std::string log = postfixLog();
  CHECK(log.find("postfix/submission/smtpd") != std::string::npos);
  CHECK(log.find("sasl_method=PLAIN, sasl_username=" + alice) != std::string::npos);
}

TEST_CASE_METHOD(Fixture, "SMTPS with fixed credentials delivers (the Submission carries none)",
                 "[smtp][tls]") {
  SmtpOptions o = smtps();
  o.auth_login = bob;
  o.auth_password = bob_pass;
  const std::string subj = subject("smtps");
  Submission m = mail(subj);
  m.login.clear();
  m.password.clear();  // as for a notice: no device user
  const eas::Status s = send(o, m);
  INFO(s.toString());
  REQUIRE(s.ok());
  CHECK(inBobsInbox(subj).size() == 1);
  CHECK(postfixLog().find("sasl_username=" + bob) != std::string::npos);
}

TEST_CASE_METHOD(Fixture, "a wrong password is smtp.auth_failed, a send failure (120) for compose",
                 "[smtp][tls]") {
  const std::string subj = subject("wrong password");
  Submission m = mail(subj);
  m.password = "not-" + alice_pass;
  SECTION("STARTTLS") {
    const eas::Status s = send(submission(), m);
    CHECK(s.reason() == "smtp.auth_failed");
    CHECK(eas::commands::failureFor(s).eas_status == 120);
  }
  SECTION("SMTPS") {
    const eas::Status s = send(smtps(), m);
    CHECK(s.reason() == "smtp.auth_failed");
  }
  sendMarkerAndCheckAbsent(subj);
}

TEST_CASE_METHOD(Fixture, "an untrusted or misnamed certificate is smtp.tls_failed before AUTH",
                 "[smtp][tls]") {
  const std::string subj = subject("untrusted");
  SmtpOptions o = submission();
  std::string why;  // in the message: what the log line will say
  SECTION("STARTTLS, the system's CAs (which do not know the run's CA)") {
    o.tls_ca_file.clear();
    why = "unable to get local issuer certificate";
  }
  SECTION("SMTPS, the system's CAs") {
    o = smtps();
    o.tls_ca_file.clear();
    why = "unable to get local issuer certificate";
  }
  SECTION("STARTTLS by IP address: the certificate names DNS:localhost only") {
    o.host = "127.0.0.1";
    why = "IP address mismatch";
  }
  SECTION("SMTPS by IP address") {
    o = smtps();
    o.host = "127.0.0.1";
    why = "IP address mismatch";
  }
  SECTION("the server certificate itself as the CA file (not a CA)") {
    o.tls_ca_file = postfix.get("SMTP_CERT_FILE");
    why = "unable to get local issuer certificate";
  }
  SECTION("a CA file that does not exist") {
    o.tls_ca_file = postfix.get("SMTP_CA_FILE") + ".missing";
    why = ".missing";
  }
  const std::size_t log_before = postfixLog().size();
  const eas::Status s = send(o, mail(subj));
  INFO(s.toString());
  CHECK(s.reason() == "smtp.tls_failed");
  CHECK(s.message().find(why) != std::string::npos);
  CHECK(eas::commands::failureFor(s).eas_status == 110);
  // Nothing was authenticated on the way (the password never left).
  CHECK(postfixLog().substr(log_before).find("sasl_username") == std::string::npos);
  sendMarkerAndCheckAbsent(subj);
}

TEST_CASE_METHOD(Fixture, "tls_verify = false accepts the certificate by IP without the CA",
                 "[smtp][tls]") {
  // The counterpart of the refusals above: only the verification refused.
  SmtpOptions o = smtps();
  o.host = "127.0.0.1";
  o.tls_ca_file.clear();
  o.tls_verify = false;
  const std::string subj = subject("unverified");
  const eas::Status s = send(o, mail(subj));
  INFO(s.toString());
  REQUIRE(s.ok());
  CHECK(inBobsInbox(subj).size() == 1);
}

TEST_CASE_METHOD(Fixture, "the encrypt-only submission port refuses a plain client", "[smtp][tls]") {
  const std::string subj = subject("plain");
  SmtpOptions o = submission();
  o.tls = SmtpTls::kNone;
  SECTION("without AUTH: 530 at MAIL FROM") {
    o.authenticate = false;
    const eas::Status s = send(o, mail(subj));
    INFO(s.toString());
    CHECK(s.reason() == "smtp.rejected");
    CHECK(s.message().find("530") != std::string::npos);
  }
  SECTION("with AUTH: not offered before TLS, the password is not sent") {
    const eas::Status s = send(o, mail(subj));
    INFO(s.toString());
    CHECK(s.reason() == "smtp.auth_unsupported");
  }
  sendMarkerAndCheckAbsent(subj);
}

TEST_CASE_METHOD(Fixture, "STARTTLS against the plain port (no STARTTLS offered) is smtp.tls_failed",
                 "[smtp][tls]") {
  SmtpOptions o = submission();
  o.port = port("SMTP_PORT");
  o.authenticate = false;
  const eas::Status s = send(o, mail(subject("no starttls")));
  INFO(s.toString());
  CHECK(s.reason() == "smtp.tls_failed");
}

TEST_CASE_METHOD(Fixture, "the plain loopback port still takes mail without AUTH", "[smtp]") {
  SmtpOptions o;
  o.host = postfix.get("SMTP_HOST");
  o.port = port("SMTP_PORT");
  o.timeout_seconds = 10;
  const std::string subj = subject("loopback");
  REQUIRE(send(o, mail(subj)).ok());
  CHECK(inBobsInbox(subj).size() == 1);
}

TEST_CASE_METHOD(Fixture, "a device's SendMail through eas-fcgi goes out over STARTTLS as the device user",
                 "[smtp][tls][sendmail]") {
  // The smtp_submission_stack fixture: [smtp] tls = starttls, the run's CA,
  // authenticate = true on the submission port (no relaying without AUTH).
  const EnvFile stack = EnvFile::loadFixture("smtp_submission_stack");
  eas::testing::TestClient client(stack.get("EAS_URL"));
  const std::string subj = subject("device");
  const std::size_t log_before = postfixLog().size();
  eas::testing::EasRequest r;
  r.cmd = "SendMail";
  r.user = alice;
  r.password = alice_pass;
  r.device_id = "SMTPTLS" + tag;
  r.protocol_version = "12.1";
  r.content_type = "message/rfc822";
  r.extra_query = "SaveInSent=F";
  r.body = mail(subj).message;
  const eas::testing::HttpReply reply = client.post(r);
  INFO(reply.status << " " << reply.error << " " << reply.body);
  REQUIRE(reply.status == 200);
  CHECK(reply.body.empty());
  REQUIRE(inBobsInbox(subj).size() == 1);
  const std::string log = postfixLog().substr(log_before);
  CHECK(log.find("postfix/submission/smtpd") != std::string::npos);
  CHECK(log.find("sasl_username=" + alice) != std::string::npos);
}
