// buildDraft: the 16.x draft message (headers, body, attachments added,
// kept and deleted), read back with the project's parser and, for the bytes
// of each attachment, with a small independent MIME splitter below.
#include "core/items/draft_mime.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "core/items/email_item.h"

using eas::items::buildDraft;
using eas::items::DraftAttachment;
using eas::items::DraftFields;

namespace {

DraftFields fields(std::string subject = "Plan", std::optional<std::string> body = std::string("hello")) {
  DraftFields f;
  f.from = "alice@example.test";
  f.to = "Bob <bob@example.test>";
  f.cc = "carol@example.test";
  f.bcc = "dave@example.test";
  f.subject = std::move(subject);
  f.body = std::move(body);
  f.now = 1764576000;
  f.message_id_host = "example.test";
  return f;
}

std::string binary() {
  std::string b;
  for (int i = 0; i < 3000; ++i) b += static_cast<char>((i * 37 + 11) & 0xFF);
  b[5] = '\0';
  b += "\r\n--\r\n.\r\n";  // things a MIME or SMTP layer could mangle
  return b;
}

DraftAttachment att(std::string client_id, std::string name, std::string type, std::string content) {
  DraftAttachment a;
  a.client_id = std::move(client_id);
  a.display_name = std::move(name);
  a.content_type = std::move(type);
  a.content = std::move(content);
  return a;
}

std::string unbase64(std::string_view in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    const int v = val(c);
    if (v < 0) continue;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

// The decoded body of top-level part `n` (1-based) of a multipart message
// whose parts are base64: found by the boundary, independent of GMime.
std::string partBytes(const std::string& msg, int n) {
  const std::size_t b = msg.find("boundary=");
  REQUIRE(b != std::string::npos);
  std::size_t s = b + 9;
  const bool quoted = msg[s] == '"';
  if (quoted) ++s;
  const std::size_t e = msg.find_first_of(quoted ? "\"" : "\r\n;", s);
  const std::string delim = "\r\n--" + msg.substr(s, e - s);
  std::size_t pos = msg.find(delim);
  for (int i = 1; i < n && pos != std::string::npos; ++i) pos = msg.find(delim, pos + delim.size());
  REQUIRE(pos != std::string::npos);
  const std::size_t head_end = msg.find("\r\n\r\n", pos + delim.size());
  REQUIRE(head_end != std::string::npos);
  const std::string head = msg.substr(pos, head_end - pos);
  CHECK(head.find("base64") != std::string::npos);
  const std::size_t next = msg.find(delim, head_end);
  REQUIRE(next != std::string::npos);
  return unbase64(std::string_view(msg).substr(head_end + 4, next - head_end - 4));
}

}  // namespace

TEST_CASE("an Add without attachments is one text part with the device's fields", "[draft]") {
  auto d = buildDraft(fields("Caf\xC3\xA9 plan", std::string("first\r\ndraft")), {}, {}, {});
  REQUIRE(d.ok());
  CHECK(d->added_sections.empty());
  CHECK(d->message.find("multipart") == std::string::npos);
  CHECK(d->message.find("From: alice@example.test\r\n") != std::string::npos);
  CHECK(d->message.find("Bcc: dave@example.test\r\n") != std::string::npos);  // a draft keeps it
  CHECK(d->message.find("Message-Id: <") != std::string::npos);
  CHECK(d->message.find("\r\n\r\n") != std::string::npos);
  CHECK(d->message.find("\n\n") == std::string::npos);  // CRLF throughout
  auto item = eas::items::parseEmail(d->message, {});
  REQUIRE(item.ok());
  CHECK(item->subject == "Caf\xC3\xA9 plan");
  CHECK(item->to.find("bob@example.test") != std::string::npos);
  CHECK(item->cc.find("carol@example.test") != std::string::npos);
  CHECK(item->plain_body.find("first") != std::string::npos);
  CHECK(item->plain_body.find("draft") != std::string::npos);
  CHECK(item->attachments.empty());
  // The text is base64 as sent (CRLF inside kept).
  CHECK(d->message.find("Zmlyc3QNCmRyYWZ0") != std::string::npos);
}

TEST_CASE("header injection through the device's fields is cut", "[draft]") {
  DraftFields f = fields("x\r\nBcc: eve@evil.test");
  f.to = "bob@example.test\r\nX-Evil: 1";
  auto d = buildDraft(f, {}, {}, {});
  REQUIRE(d.ok());
  CHECK(d->message.find("\r\nBcc: eve") == std::string::npos);
  CHECK(d->message.find("\r\nX-Evil") == std::string::npos);
}

TEST_CASE("added attachments follow the body, byte-identical, at the sections returned", "[draft]") {
  DraftAttachment png = att("c1", "chart.png", "image/png", binary());
  DraftAttachment txt = att("c2", "notes \xC3\xA9t\xC3\xA9.txt", "text/plain; charset=utf-8", "line1\nline2\r\n");
  DraftAttachment bad = att("c3", "x.bin", "multipart/mixed", "--x\r\n");  // never parsed as structure
  DraftAttachment inl = att("c4", "logo.gif", "", std::string("GIF89a\0\1", 8));
  inl.is_inline = true;
  inl.content_id = "logo@x";
  auto d = buildDraft(fields(), {}, {}, {png, txt, bad, inl});
  REQUIRE(d.ok());
  CHECK(d->added_sections == std::vector<std::string>{"2", "3", "4", "5"});
  CHECK(partBytes(d->message, 2) == png.content);
  CHECK(partBytes(d->message, 3) == txt.content);
  CHECK(partBytes(d->message, 4) == bad.content);
  CHECK(partBytes(d->message, 5) == inl.content);
  auto item = eas::items::parseEmail(d->message, {});
  REQUIRE(item.ok());
  CHECK(item->plain_body.find("hello") != std::string::npos);
  REQUIRE(item->attachments.size() == 4);
  CHECK(item->attachments[0].part == "2");
  CHECK(item->attachments[0].display_name == "chart.png");
  CHECK(item->attachments[0].content_type == "image/png");
  CHECK(item->attachments[0].estimated_size == png.content.size());
  CHECK(item->attachments[1].display_name == "notes \xC3\xA9t\xC3\xA9.txt");
  CHECK(item->attachments[2].content_type == "application/octet-stream");
  CHECK(item->attachments[3].part == "5");
  CHECK(item->attachments[3].is_inline);
  CHECK(item->attachments[3].content_id == "logo@x");
}

TEST_CASE("a Change keeps the old attachments, drops the deleted ones, keeps the body if omitted",
          "[draft]") {
  DraftAttachment a = att("c1", "a.bin", "application/pdf", binary());
  DraftAttachment b = att("c2", "b.txt", "text/plain", "bee");
  auto first = buildDraft(fields("v1", std::string("old body")), {}, {}, {a, b});
  REQUIRE(first.ok());
  auto first_item = eas::items::parseEmail(first->message, {});
  REQUIRE(first_item.ok());
  const std::string first_id = first->message.substr(first->message.find("Message-Id:"), 40);

  // Body omitted, b deleted, c added: a kept first, then c.
  DraftAttachment c = att("c3", "c.png", "image/png", std::string("\x89PNG\r\n\x1a\n", 8));
  auto second = buildDraft(fields("v2", std::nullopt), first->message, {"3"}, {c});
  REQUIRE(second.ok());
  CHECK(second->added_sections == std::vector<std::string>{"3"});
  auto item = eas::items::parseEmail(second->message, {});
  REQUIRE(item.ok());
  CHECK(item->subject == "v2");
  CHECK(item->plain_body.find("old body") != std::string::npos);
  REQUIRE(item->attachments.size() == 2);
  CHECK(item->attachments[0].display_name == "a.bin");
  CHECK(item->attachments[1].display_name == "c.png");
  CHECK(partBytes(second->message, 2) == a.content);
  CHECK(partBytes(second->message, 3) == c.content);
  // The draft keeps its Message-ID across versions.
  CHECK(second->message.find(first_id) != std::string::npos);

  // A new body replaces the old; deleting every attachment leaves one part.
  auto third = buildDraft(fields("v3", std::string("new")), second->message, {"2", "3"}, {});
  REQUIRE(third.ok());
  CHECK(third->message.find("multipart") == std::string::npos);
  auto t = eas::items::parseEmail(third->message, {});
  REQUIRE(t.ok());
  CHECK(t->plain_body.find("new") != std::string::npos);
  CHECK(t->plain_body.find("old body") == std::string::npos);
  CHECK(t->attachments.empty());
}

TEST_CASE("a previous draft from another client: its attachment parts are copied as they are",
          "[draft]") {
  const std::string other =
      "From: alice@example.test\r\nSubject: from Thunderbird\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
      "--b1\r\nContent-Type: multipart/alternative; boundary=\"b2\"\r\n\r\n"
      "--b2\r\nContent-Type: text/plain\r\n\r\nplain text\r\n"
      "--b2\r\nContent-Type: text/html\r\n\r\n<p>html text</p>\r\n--b2--\r\n"
      "--b1\r\nContent-Type: application/octet-stream; name=\"q.bin\"\r\n"
      "Content-Disposition: attachment; filename=\"q.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
      "AAECAwQFBgcICQ==\r\n--b1--\r\n";
  auto d = buildDraft(fields("edited", std::nullopt), other, {}, {});
  REQUIRE(d.ok());
  CHECK(d->message.find("AAECAwQFBgcICQ==") != std::string::npos);
  auto item = eas::items::parseEmail(d->message, {});
  REQUIRE(item.ok());
  CHECK(item->html_body.find("html text") != std::string::npos);  // the HTML body wins
  REQUIRE(item->attachments.size() == 1);
  CHECK(item->attachments[0].display_name == "q.bin");
  CHECK(item->attachments[0].part == "2");
}

TEST_CASE("bad inputs: unknown sections to delete, unreadable previous draft", "[draft]") {
  auto first = buildDraft(fields(), {}, {}, {att("c1", "a", "", "x")});
  REQUIRE(first.ok());
  struct Row {
    std::string previous;
    std::vector<std::string> drop;
    std::string reason;
  };
  const std::vector<Row> rows = {
      {first->message, {"1"}, "draft.unknown_attachment"},  // the body is no attachment
      {first->message, {"3"}, "draft.unknown_attachment"},
      {first->message, {"2.1"}, "draft.unknown_attachment"},
      {first->message, {""}, "draft.unknown_attachment"},
      {"", {"2"}, "draft.unknown_attachment"},
  };
  for (const Row& r : rows) {
    auto d = buildDraft(fields(), r.previous, r.drop, {});
    REQUIRE_FALSE(d.ok());
    CHECK(d.status().reason() == r.reason);
  }
  // Every prefix of a real draft as the previous one: never a crash, and
  // either a draft or draft.bad_previous.
  for (std::size_t n = 1; n < first->message.size(); n += 7) {
    auto d = buildDraft(fields(), std::string_view(first->message).substr(0, n), {}, {});
    if (!d.ok()) CHECK(d.status().reason() == "draft.bad_previous");
  }
}
