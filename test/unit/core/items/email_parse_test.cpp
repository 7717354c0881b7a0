// parseEmail() over the MIME corpus: expected values per message.
#include <catch2/catch.hpp>
#include <string>

#include "core/items/email_item.h"
#include "core/items/text_utils.h"
#include "test/unit/core/items/corpus.h"

using eas::items::EmailAttachment;
using eas::items::EmailItem;
using eas::items::MessageMeta;
using eas::items::parseEmail;

namespace {

EmailItem parse(const std::string& name, const MessageMeta& meta = {}) {
  MessageMeta m = meta;
  if (m.file_reference_prefix.empty()) m.file_reference_prefix = "5:17";
  auto r = parseEmail(readCorpus(name), m);
  REQUIRE(r.ok());
  return std::move(r).value();
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

bool hasWarning(const EmailItem& item, const std::string& prefix) {
  for (const auto& w : item.warnings) {
    if (w.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

const EmailAttachment* attachment(const EmailItem& item, const std::string& name) {
  for (const auto& a : item.attachments) {
    if (a.display_name == name) return &a;
  }
  return nullptr;
}

// Every string the encoder may send must be valid UTF-8 without NUL.
void checkClean(const EmailItem& item) {
  for (const std::string* s :
       {&item.to, &item.cc, &item.from, &item.reply_to, &item.subject, &item.thread_topic,
        &item.display_to, &item.plain_body, &item.html_body, &item.sender}) {
    CHECK(eas::items::isValidUtf8(*s));
    CHECK(s->find('\0') == std::string::npos);
  }
  for (const auto& a : item.attachments) {
    CHECK(eas::items::isValidUtf8(a.display_name));
    CHECK(!a.display_name.empty());
    CHECK(a.file_reference.size() <= 64);
  }
}

}  // namespace

TEST_CASE("empty input is the only error") {
  auto r = parseEmail("", {});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().reason() == "mime.empty");
}

TEST_CASE("plain ASCII message") {
  EmailItem m = parse("01_plain_ascii");
  CHECK(m.subject == "Hello Bob");
  CHECK(m.from == "\"Alice Example\" <alice@example.test>");
  CHECK(m.to == "\"Bob Builder\" <bob@example.test>");
  CHECK(m.display_to == "Bob Builder");
  CHECK(m.thread_topic == "Hello Bob");
  CHECK(m.importance == 2);  // X-Priority 1
  REQUIRE(m.date_received);
  CHECK(eas::items::formatDateTime(*m.date_received) == "2026-12-01T06:01:20.000Z");
  CHECK(m.has_plain);
  CHECK_FALSE(m.has_html);
  CHECK(m.plain_body == "Hi Bob,\nLunch at noon?\n\n-- \nAlice\n");
  CHECK(m.native_body_type == 1);
  CHECK(m.message_class == "IPM.Note");
  CHECK(m.attachments.empty());
  CHECK(m.message_id == "m1@example.test");
  CHECK(m.conversation_id.size() == 16);
  CHECK(m.conversation_index.size() == 5);
  checkClean(m);
}

TEST_CASE("INTERNALDATE wins over Date:") {
  MessageMeta meta;
  meta.internal_date = 1796104880;  // 2026-12-01T06:01:20Z
  meta.internal_date += 3600;
  EmailItem m = parse("01_plain_ascii", meta);
  CHECK(eas::items::formatDateTime(*m.date_received) == "2026-12-01T07:01:20.000Z");
}

TEST_CASE("UTF-8 headers and body, encoded words, several recipients") {
  EmailItem m = parse("02_utf8");
  CHECK(m.subject == "Grüße aus Köln ☕");
  CHECK(m.from == "\"Jürgen Müller\" <juergen@example.test>");
  CHECK(m.to == "\"Zoë Ångström\" <zoe@example.test>, plain@example.test");
  CHECK(m.cc == "\"Carl, Jr.\" <carl@example.test>, \"Dana\" <dana@example.test>");
  CHECK(m.reply_to == "replies@example.test");
  CHECK(m.display_to == "Zoë Ångström; plain@example.test");
  CHECK(m.importance == 0);
  CHECK(eas::items::formatDateTime(*m.date_received) == "2026-12-01T07:30:00.000Z");
  CHECK(m.plain_body == "Schöne Grüße — Jürgen\r\nПривет, 世界!\r\n");
  checkClean(m);
}

TEST_CASE("charset conversion to UTF-8") {
  SECTION("ISO-8859-1 quoted-printable with a soft line break") {
    EmailItem m = parse("03_latin1_qp");
    CHECK(m.subject == "Café crème");
    CHECK(contains(m.plain_body, "Un café crème, s'il vous plaît.Soft break joined."));
  }
  SECTION("windows-1252 curly quotes and euro") {
    EmailItem m = parse("04_windows1252");
    CHECK(contains(m.plain_body, "He said “quoted” €5 – done"));
  }
  SECTION("Shift_JIS base64 body, ISO-2022-JP subject") {
    EmailItem m = parse("05_shift_jis");
    CHECK(m.subject == "日本語の件名");
    CHECK(contains(m.plain_body, "こんにちは世界。テストです。"));
  }
  SECTION("KOI8-R") {
    EmailItem m = parse("06_koi8r");
    CHECK(m.subject == "Привет");
    CHECK(contains(m.plain_body, "Привет мир"));
  }
  SECTION("GB2312") {
    EmailItem m = parse("07_gb2312");
    CHECK(m.subject == "你好");
    CHECK(contains(m.plain_body, "你好世界"));
  }
}

TEST_CASE("broken encoded words still give a readable subject") {
  EmailItem m = parse("08_broken_encoded_words");
  CHECK(m.subject.rfind("Hello World", 0) == 0);
  CHECK(eas::items::isValidUtf8(m.subject));
  CHECK(contains(m.subject, "broken"));
  checkClean(m);
}

TEST_CASE("RFC 2231 and RFC 2047 file names") {
  EmailItem m = parse("09_rfc2231_filenames");
  CHECK(m.plain_body == "Two invoices attached.");
  REQUIRE(m.attachments.size() == 3);
  const EmailAttachment* pdf = attachment(m, "€ Rechnung März.pdf");
  REQUIRE(pdf != nullptr);
  CHECK(pdf->estimated_size == 9 + 768 + 7);
  CHECK(pdf->part == "2");
  CHECK(pdf->file_reference == "5:17:2");
  CHECK(pdf->method == 1);
  CHECK_FALSE(pdf->is_inline);
  const EmailAttachment* cont = attachment(m, "été_report.txt");
  REQUIRE(cont != nullptr);
  CHECK(cont->estimated_size == 6);
  CHECK(attachment(m, "résumé.txt") != nullptr);
  checkClean(m);
}

TEST_CASE("HTML-only message: native HTML, no plain candidate") {
  EmailItem m = parse("10_html_only");
  CHECK(m.has_html);
  CHECK_FALSE(m.has_plain);
  CHECK(m.native_body_type == 2);
  CHECK(contains(m.html_body, "<p>Hello &amp; welcome,</p>"));
}

TEST_CASE("multipart/alternative keeps both bodies") {
  EmailItem m = parse("11_alternative");
  CHECK(m.plain_body == "Plain version");
  CHECK(m.html_body == "<p>HTML <b>version</b></p>");
  CHECK(m.native_body_type == 2);
  CHECK(m.attachments.empty());
}

TEST_CASE("multipart/related: inline image with Content-ID") {
  EmailItem m = parse("12_related_inline");
  CHECK(m.plain_body == "See the logo");
  CHECK(contains(m.html_body, "cid:logo@example.test"));
  REQUIRE(m.attachments.size() == 1);
  const EmailAttachment& a = m.attachments[0];
  CHECK(a.display_name == "logo.png");
  CHECK(a.is_inline);
  CHECK(a.content_id == "logo@example.test");
  CHECK(a.estimated_size == 308);
  CHECK(a.part == "2");
  CHECK(a.content_type == "image/png");
}

TEST_CASE("multipart/mixed with several attachments and a footer") {
  EmailItem m = parse("13_mixed_attachments");
  CHECK(m.plain_body == "Files attached.\nList footer");
  REQUIRE(m.attachments.size() == 3);
  CHECK(m.attachments[0].display_name == "doc.pdf");
  CHECK(m.attachments[0].estimated_size == 784);
  CHECK(m.attachments[0].part == "2");
  CHECK(m.attachments[1].display_name == "data.csv");
  CHECK(m.attachments[1].estimated_size == 8);  // "a,b\r\n1,2"
  CHECK(m.attachments[1].part == "3");
  CHECK(m.attachments[2].display_name == "attachment-4.png");  // no name: made up
  CHECK(m.attachments[2].estimated_size == 308);
  for (const auto& a : m.attachments) CHECK_FALSE(a.is_inline);
}

TEST_CASE("attached message is an embedded-message attachment") {
  EmailItem m = parse("14_attached_message");
  CHECK(m.plain_body == "Forwarding this.");
  CHECK(m.thread_topic == "Inner subject");
  REQUIRE(m.attachments.size() == 1);
  CHECK(m.attachments[0].method == 5);
  CHECK(m.attachments[0].display_name == "Inner subject.eml");
  CHECK(m.attachments[0].content_type == "message/rfc822");
  CHECK(m.attachments[0].estimated_size > 100);
  CHECK(m.attachments[0].part == "2");
}

TEST_CASE("nested multiparts get IMAP section numbers") {
  EmailItem m = parse("15_nested");
  CHECK(m.plain_body == "nested plain");
  CHECK(contains(m.html_body, "nested html"));
  REQUIRE(m.attachments.size() == 2);
  CHECK(m.attachments[0].part == "1.2.2");
  CHECK(m.attachments[0].content_id == "pic");
  CHECK(m.attachments[0].is_inline);
  CHECK(m.attachments[0].estimated_size == 26);
  CHECK(m.attachments[1].part == "2");
  CHECK(m.attachments[1].display_name == "archive.zip");
  CHECK(m.attachments[1].estimated_size == 100);
  CHECK(m.attachments[1].file_reference == "5:17:2");
  CHECK(m.attachments[0].file_reference == "5:17:1.2.2");
}

TEST_CASE("message classes") {
  CHECK(parse("16_smime_signed").message_class == "IPM.Note.SMIME.MultipartSigned");
  CHECK(parse("17_smime_encrypted").message_class == "IPM.Note.SMIME");
  CHECK(parse("18_calendar_invite").message_class == "IPM.Schedule.Meeting.Request");
  CHECK(parse("27_report_ndr").message_class == "REPORT.IPM.Note.NDR");
  EmailItem s = parse("16_smime_signed");
  CHECK(s.is_smime);
  CHECK(s.plain_body == "Signed text");
  REQUIRE(s.attachments.size() == 1);
  CHECK(s.attachments[0].display_name == "smime.p7s");
  CHECK(s.attachments[0].estimated_size == 64);
  EmailItem e = parse("17_smime_encrypted");
  CHECK(e.is_smime);
  REQUIRE(e.attachments.size() == 1);
  CHECK(e.attachments[0].display_name == "smime.p7m");
  CHECK(e.attachments[0].part == "1");
  EmailItem c = parse("18_calendar_invite");
  CHECK(c.plain_body == "You are invited.");
  CHECK(c.attachments.empty());
}

TEST_CASE("malformed messages still yield an item") {
  SECTION("no body") {
    EmailItem m = parse("19_no_body");
    CHECK(m.subject == "Nothing inside");
    CHECK(m.plain_body.empty());
    checkClean(m);
  }
  SECTION("broken base64 decodes what it can") {
    EmailItem m = parse("20_broken_base64");
    CHECK(m.plain_body.rfind("Hello ", 0) == 0);
    checkClean(m);
  }
  SECTION("multipart without boundary") {
    EmailItem m = parse("21_missing_boundary");
    CHECK(m.subject == "No boundary");
    CHECK(contains(m.plain_body + m.html_body, "lost text"));
    CHECK(hasWarning(m, "mime."));
    checkClean(m);
  }
  SECTION("header only, no blank line") {
    EmailItem m = parse("22_header_only");
    CHECK(m.subject == "Only headers");
    CHECK(m.from == "\"Alice Example\" <alice@example.test>");
    checkClean(m);
  }
  SECTION("huge header lines") {
    EmailItem m = parse("23_huge_header");
    CHECK(m.subject.size() > 19000);
    CHECK(m.subject.rfind("Long Long", 0) == 0);
    CHECK(m.plain_body == "short body\r\n");
  }
  SECTION("NUL bytes are dropped") {
    EmailItem m = parse("24_nul_bytes");
    CHECK(m.plain_body == "beforeafterend\r\n");
    CHECK(m.subject.find('\0') == std::string::npos);
    checkClean(m);
  }
  SECTION("8-bit headers without charset") {
    EmailItem m = parse("25_8bit_headers");
    CHECK(m.subject == "Prüfung ✓ bestanden");
    CHECK(m.from == "\"Jürgen Latin\" <jl@example.test>");
    checkClean(m);
  }
  SECTION("no MIME headers, 8-bit body") {
    EmailItem m = parse("26_missing_content_type");
    CHECK(m.plain_body == "Grüße aus München\r\n");
    CHECK(hasWarning(m, "mime.charset"));
    CHECK_FALSE(m.date_received.has_value());
    CHECK(hasWarning(m, "mime.no_date"));
  }
  SECTION("garbage bytes") {
    const std::string junk = "\x01\x02\xff\xfe not a message \x00\x00 at all";
    auto r = parseEmail(std::string_view(junk.data(), junk.size()), {});
    REQUIRE(r.ok());
    checkClean(r.value());
  }
}

TEST_CASE("threading: a reply shares the root's ConversationId and extends its index") {
  EmailItem root = parse("01_plain_ascii");
  EmailItem reply = parse("28_thread_reply");
  CHECK(reply.thread_topic == "Hello Bob");
  CHECK(reply.conversation_id == root.conversation_id);
  REQUIRE(reply.conversation_index.size() == 10);
  CHECK(reply.conversation_index.substr(0, 5) == root.conversation_index);
  CHECK(parse("02_utf8").conversation_id != root.conversation_id);
}

TEST_CASE("IMAP flags and keywords") {
  MessageMeta meta;
  meta.seen = true;
  meta.flagged = true;
  meta.answered = true;
  meta.keywords = {"Work", "Privat"};
  meta.user_addresses = {"BOB@example.test"};
  meta.last_verb_time = 1796104880;
  EmailItem m = parse("01_plain_ascii", meta);
  CHECK(m.read);
  CHECK(m.flag.status == 2);
  CHECK(m.flag.flag_type == "for Follow Up");
  CHECK(m.categories == std::vector<std::string>{"Work", "Privat"});
  CHECK(m.last_verb_executed == 1);
  CHECK(m.last_verb_time == meta.last_verb_time);
  REQUIRE(m.received_as_bcc.has_value());
  CHECK_FALSE(*m.received_as_bcc);

  MessageMeta other;
  other.forwarded = true;
  other.user_addresses = {"someone.else@example.test"};
  EmailItem f = parse("01_plain_ascii", other);
  CHECK_FALSE(f.read);
  CHECK(f.flag.status == 0);
  CHECK(f.last_verb_executed == 3);
  CHECK(f.received_as_bcc == true);
  CHECK_FALSE(parse("01_plain_ascii").received_as_bcc.has_value());
}

TEST_CASE("every corpus message parses cleanly") {
  const char* names[] = {"01_plain_ascii",
                         "02_utf8",
                         "03_latin1_qp",
                         "04_windows1252",
                         "05_shift_jis",
                         "06_koi8r",
                         "07_gb2312",
                         "08_broken_encoded_words",
                         "09_rfc2231_filenames",
                         "10_html_only",
                         "11_alternative",
                         "12_related_inline",
                         "13_mixed_attachments",
                         "14_attached_message",
                         "15_nested",
                         "16_smime_signed",
                         "17_smime_encrypted",
                         "18_calendar_invite",
                         "19_no_body",
                         "20_broken_base64",
                         "21_missing_boundary",
                         "22_header_only",
                         "23_huge_header",
                         "24_nul_bytes",
                         "25_8bit_headers",
                         "26_missing_content_type",
                         "27_report_ndr",
                         "28_thread_reply",
                         "29_format_flowed"};
  for (const char* n : names) {
    INFO(n);
    EmailItem m = parse(n);
    CHECK(m.mime == readCorpus(n));
    checkClean(m);
  }
}

TEST_CASE("FileReference escaping, parsing and hashing") {
  using eas::items::fileReference;
  using eas::items::parseFileReference;
  CHECK(fileReference("5:17", "2") == "5:17:2");
  CHECK(fileReference("a b/c", "1.2") == "a%20b%2Fc:1.2");
  auto p = parseFileReference("a%20b%2Fc:1.2");
  REQUIRE(p);
  CHECK(p->first == "a b/c");
  CHECK(p->second == "1.2");
  const std::string long_prefix(80, 'x');
  const std::string h = fileReference(long_prefix, "3");
  CHECK(h.size() <= 64);
  CHECK(h[0] == '~');
  CHECK(h == fileReference(long_prefix, "3"));  // deterministic
  CHECK(h != fileReference(long_prefix, "4"));
  CHECK_FALSE(parseFileReference(h));
  CHECK(fileReference(long_prefix, std::string(70, '1')).size() <= 64);
  CHECK_FALSE(parseFileReference("nocolon"));
  CHECK_FALSE(parseFileReference("a:%zz"));
  CHECK_FALSE(parseFileReference("a:%4"));
}

#include "core/items/backend_meta.h"

TEST_CASE("MessageMeta from the IMAP backend's MessageData") {
  eas::backend::MessageData d;
  d.uid = 17;
  d.flags = eas::backend::kFlagSeen | eas::backend::kFlagForwarded | eas::backend::kFlagDraft;
  // Markers are not categories; a device's "$Label" and "Junk" (stored
  // encoded) are.
  d.keywords = {"Work", "$MDNSent", "NonJunk", "&24Label", "\\Recent", "&4Aunk"};
  d.internalDate = 1796104880;
  const MessageMeta m = eas::items::metaFromBackend(d, "5:17");
  CHECK(m.seen);
  CHECK_FALSE(m.flagged);
  CHECK_FALSE(m.answered);
  CHECK(m.forwarded);
  CHECK(m.draft);
  CHECK(m.keywords == std::vector<std::string>{"Work", "$Label", "Junk"});
  CHECK(m.internal_date == 1796104880);
  CHECK(m.file_reference_prefix == "5:17");
}

TEST_CASE("a message cut at every length still parses (headers and bodies stay clean)") {
  for (const char* name : {"15_nested", "02_utf8", "05_shift_jis", "09_rfc2231_filenames"}) {
    const std::string full = readCorpus(name);
    for (std::size_t n = 1; n <= full.size(); ++n) {
      INFO(name << " cut at " << n);
      auto r = parseEmail(std::string_view(full.data(), n), {});
      REQUIRE(r.ok());
      const EmailItem& m = r.value();
      REQUIRE(eas::items::isValidUtf8(m.subject));
      REQUIRE(eas::items::isValidUtf8(m.plain_body));
      REQUIRE(eas::items::isValidUtf8(m.html_body));
      REQUIRE(m.mime.size() == n);
    }
  }
}

TEST_CASE("single-byte corruptions never fail the parse") {
  const std::string full = readCorpus("12_related_inline");
  for (std::size_t i = 0; i < full.size(); i += 3) {
    for (char c : {'\0', '\xff', '-', '\n', '='}) {
      std::string bad = full;
      bad[i] = c;
      INFO("byte " << i);
      auto r = parseEmail(bad, {});
      REQUIRE(r.ok());
      REQUIRE(eas::items::isValidUtf8(r.value().plain_body));
    }
  }
}

#include <mutex>

#include "core/base/log.h"

TEST_CASE("a repaired message writes one log line naming the item, not its content") {
  static std::mutex mu;
  static std::vector<std::string> lines;
  eas::log::setSink([](eas::log::Level, std::string_view l) {
    std::lock_guard<std::mutex> g(mu);
    lines.emplace_back(l);
  });
  MessageMeta meta;
  meta.file_reference_prefix = "9:42";
  REQUIRE(parseEmail(readCorpus("21_missing_boundary"), meta).ok());
  REQUIRE(parseEmail(readCorpus("11_alternative"), meta).ok());  // clean: no line
  eas::log::setSink(nullptr);
  std::lock_guard<std::mutex> g(mu);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].rfind("items.mime_repaired item=9:42 warnings=", 0) == 0);
  CHECK(lines[0].find("mime.empty_multipart") != std::string::npos);
  CHECK(lines[0].find("lost text") == std::string::npos);
}

TEST_CASE("a hostile charset name cannot reach the log line raw") {
  const std::string msg =
      "Subject: x\r\nContent-Type: text/plain; charset=\"evil\\r\\nFAKE "
      "LINE\"\r\n\r\n\xE9t\xE9\r\n";
  auto r = parseEmail(msg, {});
  REQUIRE(r.ok());
  bool seen = false;
  for (const auto& w : r.value().warnings) {
    if (w.rfind("mime.charset:", 0) != 0) continue;
    seen = true;
    CHECK(w.find_first_of(" \r\n") == std::string::npos);
  }
  CHECK(seen);
}

TEST_CASE("format=flowed plain text is unwrapped") {
  EmailItem m = parse("29_format_flowed");
  CHECK(m.plain_body ==
        "This is a long paragraph that wraps.\n> quoted text\nFrom here\n\n-- \nsig\n");
}
