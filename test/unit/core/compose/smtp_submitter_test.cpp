// core/backends/smtp: reply codes to reasons; an unreachable server.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/backends/smtp/smtp_submitter.h"

using eas::backend::smtp::statusForReply;

TEST_CASE("SMTP reply codes map to stable reasons", "[smtp]") {
  struct Row {
    int code;
    const char* step;
    const char* reason;
  };
  for (const Row& r : {Row{421, "MAIL FROM", "smtp.temporary"}, Row{450, "RCPT TO", "smtp.temporary"},
                       Row{552, "DATA end", "smtp.too_large"}, Row{550, "RCPT TO", "smtp.rejected"},
                       Row{554, "DATA end", "smtp.rejected"}, Row{535, "AUTH", "smtp.auth_failed"},
                       Row{454, "AUTH", "smtp.temporary"}, Row{0, "EHLO", "smtp.unavailable"}, Row{199, "EHLO", "smtp.protocol"},
                       Row{250, "DATA", "smtp.protocol"}}) {
    INFO(r.code << " " << r.step);
    eas::Status s = statusForReply(r.code, r.step, "text");
    CHECK(s.reason() == r.reason);
  }
}

TEST_CASE("a closed port is smtp.unavailable; bad input is refused before connecting", "[smtp]") {
  // A port that was just free: bind, read the port, close.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  ::close(fd);

  eas::backend::smtp::SmtpOptions o;
  o.port = ntohs(a.sin_port);
  o.timeout_seconds = 5;
  auto submitter = eas::backend::smtp::makeSmtpSubmitter(o);
  eas::backend::Submission sub;
  sub.envelope_from = "alice@example.test";
  sub.recipients = {"bob@example.test"};
  sub.message = "Subject: x\r\n\r\nx\r\n";
  CHECK(submitter->submit(sub).reason() == "smtp.unavailable");

  sub.recipients = {};
  CHECK(submitter->submit(sub).reason() == "smtp.no_recipients");
  sub.recipients = {"bob@example.test>\r\nRCPT TO:<x@y"};
  CHECK(submitter->submit(sub).reason() == "smtp.bad_address");
}

#include "core/protocol/query.h"
#include "test/unit/core/compose/fake_smtp_server.h"

namespace {

eas::backend::Submission submission() {
  eas::backend::Submission s;
  s.envelope_from = "alice@example.test";
  s.recipients = {"bob@example.test", "carol@example.test"};
  s.message = "Subject: dots\r\n\r\n.leading dot\r\nlast line\r\n";
  s.login = "alice@example.test";
  s.password = "secret";
  return s;
}

eas::backend::smtp::SmtpOptions optionsFor(const eas::testing::FakeSmtpServer& server) {
  eas::backend::smtp::SmtpOptions o;
  o.port = server.port();
  o.timeout_seconds = 5;
  o.helo_name = "eas.test";
  return o;
}

}  // namespace

TEST_CASE("the envelope and the dot-stuffed data reach the server", "[smtp]") {
  eas::testing::FakeSmtpServer server(eas::testing::willing);
  auto sub = eas::backend::smtp::makeSmtpSubmitter(optionsFor(server));
  REQUIRE(sub->submit(submission()).ok());
  auto cmds = server.commands();
  REQUIRE(cmds.size() >= 5);
  CHECK(cmds[0] == "EHLO eas.test");
  CHECK(cmds[1] == "MAIL FROM:<alice@example.test>");
  CHECK(cmds[2] == "RCPT TO:<bob@example.test>");
  CHECK(cmds[3] == "RCPT TO:<carol@example.test>");
  CHECK(cmds[4] == "DATA");
  CHECK(server.data() == "Subject: dots\r\n\r\n..leading dot\r\nlast line\r\n");
}

TEST_CASE("AUTH PLAIN carries the user's credentials; 535 is smtp.auth_failed", "[smtp]") {
  std::string auth_line;
  {
    eas::testing::FakeSmtpServer server(eas::testing::willing);
    auto o = optionsFor(server);
    o.authenticate = true;
    REQUIRE(eas::backend::smtp::makeSmtpSubmitter(o)->submit(submission()).ok());
    for (const std::string& c : server.commands())
      if (c.rfind("AUTH PLAIN ", 0) == 0) auth_line = c;
  }
  REQUIRE_FALSE(auth_line.empty());
  auto creds = eas::protocol::base64Decode(auth_line.substr(11));
  REQUIRE(creds.has_value());
  CHECK(*creds == std::string("\0alice@example.test\0secret", 26));

  eas::testing::FakeSmtpServer refusing([](const std::string& c) {
    return c.rfind("AUTH", 0) == 0 ? std::string("535 5.7.8 bad credentials") : eas::testing::willing(c);
  });
  auto o = optionsFor(refusing);
  o.authenticate = true;
  eas::Status s = eas::backend::smtp::makeSmtpSubmitter(o)->submit(submission());
  CHECK(s.reason() == "smtp.auth_failed");
  for (const std::string& c : refusing.commands()) CHECK(c.rfind("MAIL", 0) != 0);
}

TEST_CASE("refusals at each step keep their class", "[smtp]") {
  struct Row {
    std::string step;  // command prefix that is refused
    std::string reply;
    std::string reason;
  };
  for (const Row& r : {Row{"MAIL", "451 4.3.0 try later", "smtp.temporary"},
                       Row{"RCPT TO:<carol", "550 5.1.1 no such user", "smtp.rejected"},
                       Row{"RCPT", "452 4.5.3 too many", "smtp.temporary"},
                       Row{"DATA", "554 5.5.1 no valid recipients", "smtp.rejected"},
                       Row{".", "552 5.3.4 message file too big", "smtp.too_large"},
                       Row{".", "451 4.3.0 queue trouble", "smtp.temporary"},
                       Row{"MAIL", "", "smtp.unavailable"}}) {
    INFO(r.step << " -> " << r.reply);
    eas::testing::FakeSmtpServer server([&r](const std::string& c) {
      return c.rfind(r.step, 0) == 0 ? r.reply : eas::testing::willing(c);
    });
    eas::Status s = eas::backend::smtp::makeSmtpSubmitter(optionsFor(server))->submit(submission());
    CHECK(s.reason() == r.reason);
  }
}

TEST_CASE("a greeting other than 220 is refused", "[smtp]") {
  eas::testing::FakeSmtpServer server(eas::testing::willing, "554 go away");
  eas::Status s = eas::backend::smtp::makeSmtpSubmitter(optionsFor(server))->submit(submission());
  CHECK_FALSE(s.ok());
  CHECK((s.reason() == "smtp.rejected" || s.reason() == "smtp.protocol"));
}

// Issue #7: mechanism choice, fixed credentials and TLS refusals (the real
// Postfix cases are in test/integration/mail/smtp_tls_test.cpp).
TEST_CASE("the AUTH mechanism comes from the EHLO reply: PLAIN, else LOGIN", "[smtp]") {
  struct Row {
    const char* ehlo;
    const char* mech;
  };
  for (const Row& r : {Row{"250-fake\n250-AUTH PLAIN LOGIN\n250 8BITMIME", "PLAIN"},
                       Row{"250-fake\n250-AUTH LOGIN PLAIN", "PLAIN"},
                       Row{"250-fake\n250-AUTH CRAM-MD5 LOGIN\n250 SIZE", "LOGIN"},
                       Row{"250-fake\n250-AUTH=LOGIN\n250 SIZE", "LOGIN"},
                       Row{"250-fake\n250 auth plain", "PLAIN"},
                       Row{"250-fake\n250-AUTH CRAM-MD5 XOAUTH2", ""},
                       Row{"250-fake\n250-AUTHX PLAIN", ""},
                       Row{"250-fake\n250-X-AUTH PLAIN", ""},
                       Row{"250-fake\n250-STARTTLS\n250 8BITMIME", ""},
                       Row{"", ""}}) {
    INFO(r.ehlo);
    CHECK(eas::backend::smtp::authMechanismFor(r.ehlo) == r.mech);
  }
}

TEST_CASE("AUTH LOGIN when only LOGIN is offered; fixed credentials win over the user's", "[smtp]") {
  int step = 0;
  eas::testing::FakeSmtpServer server([&step](const std::string& c) -> std::string {
    if (c.rfind("EHLO", 0) == 0) return "250-fake\r\n250-AUTH LOGIN\r\n250 8BITMIME";
    if (c == "AUTH LOGIN") {
      step = 1;
      return "334 VXNlcm5hbWU6";
    }
    if (step == 1) {
      step = 2;
      return "334 UGFzc3dvcmQ6";
    }
    if (step == 2) {
      step = 3;
      return "235 2.7.0 ok";
    }
    return eas::testing::willing(c);
  });
  auto o = optionsFor(server);
  o.authenticate = true;
  o.auth_login = "notices@example.test";
  o.auth_password = "fixed";
  REQUIRE(eas::backend::smtp::makeSmtpSubmitter(o)->submit(submission()).ok());
  auto cmds = server.commands();
  REQUIRE(cmds.size() >= 5);
  CHECK(cmds[1] == "AUTH LOGIN");
  CHECK(eas::protocol::base64Decode(cmds[2]).value_or("") == "notices@example.test");
  CHECK(eas::protocol::base64Decode(cmds[3]).value_or("") == "fixed");
  CHECK(cmds[4] == "MAIL FROM:<alice@example.test>");
}

TEST_CASE("no AUTH offered: smtp.auth_unsupported, the credentials are not sent", "[smtp]") {
  eas::testing::FakeSmtpServer server([](const std::string& c) {
    return c.rfind("EHLO", 0) == 0 ? std::string("250-fake\r\n250-STARTTLS\r\n250 8BITMIME")
                                   : eas::testing::willing(c);
  });
  auto o = optionsFor(server);
  o.authenticate = true;
  eas::Status s = eas::backend::smtp::makeSmtpSubmitter(o)->submit(submission());
  CHECK(s.reason() == "smtp.auth_unsupported");
  for (const std::string& c : server.commands()) {
    CHECK(c.rfind("AUTH", 0) != 0);
    CHECK(c.rfind("MAIL", 0) != 0);
  }
}

TEST_CASE("TLS that cannot be set up is smtp.tls_failed and nothing follows", "[smtp]") {
  SECTION("STARTTLS refused") {
    eas::testing::FakeSmtpServer server([](const std::string& c) {
      return c == "STARTTLS" ? std::string("502 5.5.1 not implemented") : eas::testing::willing(c);
    });
    auto o = optionsFor(server);
    o.tls = eas::backend::smtp::SmtpTls::kStartTls;
    o.authenticate = true;
    eas::Status s = eas::backend::smtp::makeSmtpSubmitter(o)->submit(submission());
    CHECK(s.reason() == "smtp.tls_failed");
    CHECK(s.message().find("502") != std::string::npos);
    for (const std::string& c : server.commands()) {
      CHECK(c.rfind("AUTH", 0) != 0);
      CHECK(c.rfind("MAIL", 0) != 0);
    }
  }
  SECTION("SMTPS to a server that speaks plain SMTP") {
    eas::testing::FakeSmtpServer server(eas::testing::willing);
    auto o = optionsFor(server);
    o.tls = eas::backend::smtp::SmtpTls::kSmtps;
    o.authenticate = true;
    eas::Status s = eas::backend::smtp::makeSmtpSubmitter(o)->submit(submission());
    CHECK(s.reason() == "smtp.tls_failed");
    // (The ClientHello may hold a CRLF by chance: the fake would log it as a line.)
    for (const std::string& c : server.commands()) CHECK(c.rfind("EHLO", 0) != 0);
  }
  SECTION("a CA file that cannot be read") {
    eas::testing::FakeSmtpServer server(eas::testing::willing);
    auto o = optionsFor(server);
    o.tls = eas::backend::smtp::SmtpTls::kStartTls;
    o.tls_ca_file = "/nonexistent/eas-ca.pem";
    eas::Status s = eas::backend::smtp::makeSmtpSubmitter(o)->submit(submission());
    CHECK(s.reason() == "smtp.tls_failed");
    CHECK(server.commands().empty());
  }
}
