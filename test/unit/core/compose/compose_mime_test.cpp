// prepareOutgoing: recipients, From, Bcc, quoting and forwarding.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/items/compose_mime.h"
#include "core/items/email_item.h"

using eas::items::OriginalUse;
using eas::items::OutgoingOptions;
using eas::items::prepareOutgoing;

namespace {

OutgoingOptions opts() {
  OutgoingOptions o;
  o.user_address = "alice@example.test";
  o.now = 1764547200;  // 2025-12-01
  o.message_id_host = "eas.example.test";
  return o;
}

bool hasBareLf(const std::string& s) {
  for (std::size_t i = 0; i < s.size(); ++i)
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) return true;
  return false;
}

const char* kSimple =
    "From: Someone Else <mallory@evil.test>\r\n"
    "Sender: mallory@evil.test\r\n"
    "To: Bob <bob@example.test>, carol@example.test\r\n"
    "Cc: Team: dave@example.test, BOB@example.test;\r\n"
    "Bcc: eve@example.test\r\n"
    "Subject: Hello\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "Hi there\r\n";

const char* kOriginal =
    "From: Bob <bob@example.test>\r\n"
    "To: alice@example.test\r\n"
    "Subject: Question\r\n"
    "Date: Mon, 30 Nov 2026 10:00:00 +0000\r\n"
    "Message-ID: <orig-1@example.test>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
    "\r\n"
    "--b1\r\n"
    "Content-Type: text/plain; charset=iso-8859-1\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "Caf=E9 at noon?\r\n"
    "Second line\r\n"
    "--b1\r\n"
    "Content-Type: application/octet-stream; name=\"data.bin\"\r\n"
    "Content-Disposition: attachment; filename=\"data.bin\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "AAECAwQFBgcICQ==\r\n"
    "--b1--\r\n";

}  // namespace

TEST_CASE("recipients come from To, Cc (groups) and Bcc, each once", "[compose]") {
  auto out = prepareOutgoing(kSimple, opts());
  REQUIRE(out.ok());
  CHECK(out->recipients == std::vector<std::string>{"bob@example.test", "carol@example.test",
                                                    "dave@example.test", "eve@example.test"});
  CHECK(out->envelope_from == "alice@example.test");
  CHECK(out->subject == "Hello");
}

TEST_CASE("From is forced to the user, Sender dropped, Bcc only in the Sent copy", "[compose]") {
  auto out = prepareOutgoing(kSimple, opts());
  REQUIRE(out.ok());
  CHECK(out->message.find("alice@example.test") != std::string::npos);
  CHECK(out->message.find("mallory") == std::string::npos);
  CHECK(out->message.find("Someone Else") != std::string::npos);  // the name is kept
  CHECK(out->message.find("eve@example.test") == std::string::npos);
  CHECK(out->message.find("Bcc:") == std::string::npos);
  CHECK(out->sent_copy.find("eve@example.test") != std::string::npos);
  CHECK(out->message.find("Message-Id:") != std::string::npos);
  CHECK(out->message.find("Date:") != std::string::npos);
  CHECK_FALSE(hasBareLf(out->message));
  CHECK(out->message.find("Hi there") != std::string::npos);
}

TEST_CASE("LF-only input leaves as CRLF", "[compose]") {
  std::string lf = kSimple;
  for (std::size_t i = 0; (i = lf.find("\r\n", i)) != std::string::npos;) lf.erase(i, 1);
  auto out = prepareOutgoing(lf, opts());
  REQUIRE(out.ok());
  CHECK_FALSE(hasBareLf(out->message));
}

TEST_CASE("bad input: empty, no headers, no recipients", "[compose]") {
  struct Row {
    std::string mime;
    std::string reason;
  };
  for (const Row& r : {Row{"", "compose.empty_mime"}, Row{"  \r\n ", "compose.empty_mime"},
                       Row{"\r\n\r\njust a body", "compose.bad_mime"},
                       Row{"Subject: x\r\n\r\nbody\r\n", "compose.no_recipients"},
                       Row{"To: not-an-address\r\nSubject: x\r\n\r\nb\r\n", "compose.no_recipients"},
                       Row{"To: undisclosed-recipients:;\r\n\r\nb\r\n", "compose.no_recipients"}}) {
    INFO(r.mime);
    auto out = prepareOutgoing(r.mime, opts());
    REQUIRE_FALSE(out.ok());
    CHECK(out.status().reason() == r.reason);
  }
}

TEST_CASE("a reply quotes the original text and threads", "[compose]") {
  const std::string reply =
      "To: bob@example.test\r\nSubject: Re: Question\r\nContent-Type: text/plain\r\n\r\nYes.\r\n";
  auto out = prepareOutgoing(reply, opts(), kOriginal, OriginalUse::kReply);
  REQUIRE(out.ok());
  auto parsed = eas::items::parseEmail(out->message, {});
  REQUIRE(parsed.ok());
  CHECK(parsed->plain_body.find("Yes.") == 0);
  CHECK(parsed->plain_body.find("> Caf\xC3\xA9 at noon?") != std::string::npos);
  CHECK(parsed->plain_body.find("> Second line") != std::string::npos);
  CHECK(parsed->plain_body.find("Subject: Question") != std::string::npos);
  CHECK(parsed->attachments.empty());  // a reply does not carry attachments
  CHECK(out->message.find("In-Reply-To: <orig-1@example.test>") != std::string::npos);
  CHECK_FALSE(hasBareLf(out->message));
}

TEST_CASE("a reply to an HTML message quotes into the HTML body", "[compose]") {
  const std::string reply =
      "To: bob@example.test\r\nSubject: Re\r\nContent-Type: multipart/alternative; boundary=a\r\n\r\n"
      "--a\r\nContent-Type: text/plain\r\n\r\nOK\r\n"
      "--a\r\nContent-Type: text/html\r\n\r\n<html><body><p>OK</p></body></html>\r\n--a--\r\n";
  auto out = prepareOutgoing(reply, opts(), kOriginal, OriginalUse::kReply);
  REQUIRE(out.ok());
  auto parsed = eas::items::parseEmail(out->message, {});
  REQUIRE(parsed.ok());
  CHECK(parsed->html_body.find("<blockquote") != std::string::npos);
  CHECK(parsed->html_body.find("Caf\xC3\xA9") != std::string::npos);
  CHECK(parsed->html_body.find("</blockquote>") < parsed->html_body.rfind("</body>"));
  CHECK(parsed->html_body.find("</body>") == parsed->html_body.rfind("</body>"));
  CHECK(parsed->plain_body.find("> Caf\xC3\xA9") != std::string::npos);
}

TEST_CASE("a forward appends the text and carries the attachment byte for byte", "[compose]") {
  const std::string fwd =
      "To: carol@example.test\r\nSubject: Fw: Question\r\nContent-Type: text/plain\r\n\r\nSee below.\r\n";
  auto out = prepareOutgoing(fwd, opts(), kOriginal, OriginalUse::kForward);
  REQUIRE(out.ok());
  auto parsed = eas::items::parseEmail(out->message, {});
  REQUIRE(parsed.ok());
  CHECK(parsed->plain_body.find("See below.") == 0);
  CHECK(parsed->plain_body.find("Caf\xC3\xA9 at noon?") != std::string::npos);
  CHECK(parsed->plain_body.find("> Caf") == std::string::npos);
  REQUIRE(parsed->attachments.size() == 1);
  CHECK(parsed->attachments[0].display_name == "data.bin");
  CHECK(out->message.find("AAECAwQFBgcICQ==") != std::string::npos);
  CHECK(out->message.find("In-Reply-To") == std::string::npos);
}

TEST_CASE("a forward into a multipart/mixed message adds to it", "[compose]") {
  const std::string fwd =
      "To: carol@example.test\r\nSubject: Fw\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n"
      "--m\r\nContent-Type: text/plain\r\n\r\nMine\r\n"
      "--m\r\nContent-Type: image/png; name=a.png\r\nContent-Disposition: attachment; filename=a.png\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--m--\r\n";
  auto out = prepareOutgoing(fwd, opts(), kOriginal, OriginalUse::kForward);
  REQUIRE(out.ok());
  auto parsed = eas::items::parseEmail(out->message, {});
  REQUIRE(parsed.ok());
  REQUIRE(parsed->attachments.size() == 2);
  CHECK(parsed->attachments[0].display_name == "a.png");
  CHECK(parsed->attachments[1].display_name == "data.bin");
}

TEST_CASE("repeated From, Sender and Bcc headers are all replaced or removed", "[compose]") {
  const std::string twice =
      "From: a@evil.test\r\nFrom: b@evil.test\r\nSender: s@evil.test\r\nSender: t@evil.test\r\n"
      "To: bob@example.test\r\nBcc: eve@example.test\r\nSubject: x\r\nBcc: mallory@example.test\r\n"
      "\r\nbody\r\n";
  auto out = prepareOutgoing(twice, opts());
  REQUIRE(out.ok());
  CHECK(out->recipients == std::vector<std::string>{"bob@example.test", "eve@example.test",
                                                    "mallory@example.test"});
  CHECK(out->message.find("evil.test") == std::string::npos);
  CHECK(out->message.find("eve@") == std::string::npos);
  CHECK(out->message.find("mallory@") == std::string::npos);
  CHECK(out->message.find("alice@example.test") != std::string::npos);
}

// ---- buildForward: the 16.x SmartForward without Mime ------------------------

namespace {

const char* kInvite =
    "From: Bob <bob@example.test>\r\n"
    "To: alice@example.test\r\n"
    "Subject: =?utf-8?q?Planung_M=C3=A4rz?=\r\n"
    "Date: Mon, 30 Nov 2026 10:00:00 +0000\r\n"
    "Message-ID: <invite-1@example.test>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/alternative; boundary=\"alt\"\r\n"
    "\r\n"
    "--alt\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "Planning meeting.\r\n"
    "--alt\r\n"
    "Content-Type: text/calendar; charset=utf-8; method=REQUEST\r\n"
    "\r\n"
    "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:plan-1\r\nEND:VEVENT\r\n"
    "END:VCALENDAR\r\n"
    "--alt--\r\n";

}  // namespace

TEST_CASE("buildForward: forwardees in To and envelope, note, original text and parts",
          "[compose]") {
  eas::items::BodyForward f;
  f.to = {{"Carol Example", "carol@example.test"}, {"", "dave@example.test"},
          {"Again", "CAROL@example.test"}, {"bad", "not an address"}};
  f.note = "Please join us \xE2\x9C\x93";
  auto out = eas::items::buildForward(f, opts(), kOriginal);
  REQUIRE(out.ok());
  CHECK(out->envelope_from == "alice@example.test");
  CHECK(out->recipients ==
        std::vector<std::string>{"carol@example.test", "dave@example.test"});
  CHECK_FALSE(hasBareLf(out->message));
  auto parsed = eas::items::parseEmail(out->message, {});
  REQUIRE(parsed.ok());
  CHECK(parsed->from == "alice@example.test");
  CHECK(parsed->to.find("Carol Example") != std::string::npos);
  CHECK(parsed->subject == "Fw: Question");
  CHECK(parsed->plain_body.find("Please join us \xE2\x9C\x93") == 0);
  CHECK(parsed->plain_body.find("Caf\xC3\xA9 at noon?") != std::string::npos);
  REQUIRE(parsed->attachments.size() == 1);
  CHECK(out->message.find("AAECAwQFBgcICQ==") != std::string::npos);
  CHECK(out->message.find("Message-Id: <") != std::string::npos);
  CHECK(out->message.find("Bcc:") == std::string::npos);
}

TEST_CASE("buildForward: a meeting request keeps its text/calendar part; HTML note",
          "[compose]") {
  eas::items::BodyForward f;
  f.to = {{"", "carol@example.test"}};
  f.html = true;
  f.note = "<p>FYI</p>";
  auto out = eas::items::buildForward(f, opts(), kInvite);
  REQUIRE(out.ok());
  CHECK(out->message.find("text/calendar") != std::string::npos);
  CHECK(out->message.find("METHOD:REQUEST") != std::string::npos);
  CHECK(out->message.find("UID:plan-1") != std::string::npos);
  auto parsed = eas::items::parseEmail(out->message, {});
  REQUIRE(parsed.ok());
  CHECK(parsed->subject == "Fw: Planung M\xC3\xA4rz");
  CHECK(parsed->has_html);
  CHECK(parsed->html_body.find("<p>FYI</p>") != std::string::npos);
  CHECK(parsed->html_body.find("Planning meeting.") != std::string::npos);
}

TEST_CASE("buildForward: no usable forwardee, unreadable original, Fw: kept once", "[compose]") {
  eas::items::BodyForward f;
  f.to = {{"x", "nobody"}, {"y", ""}};
  CHECK(eas::items::buildForward(f, opts(), kOriginal).status().reason() ==
        "compose.no_recipients");
  f.to = {{"", "carol@example.test"}};
  CHECK(eas::items::buildForward(f, opts(), "").status().reason() == "compose.bad_mime");
  const std::string already =
      "From: b@example.test\r\nSubject: FW: Hello\r\nContent-Type: text/plain\r\n\r\nx\r\n";
  auto out = eas::items::buildForward(f, opts(), already);
  REQUIRE(out.ok());
  CHECK(out->subject == "FW: Hello");
}
