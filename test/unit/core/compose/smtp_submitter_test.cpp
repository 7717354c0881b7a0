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
                       Row{454, "AUTH", "smtp.temporary"}, Row{0, "EHLO", "smtp.protocol"},
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
