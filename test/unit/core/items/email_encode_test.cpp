// Body selection and the WBXML output per protocol version, decoded back with
// wbxml::decode and checked element by element.
#include <catch2/catch.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "core/items/email_item.h"
#include "core/items/text_utils.h"
#include "core/wbxml/wbxml.h"
#include "test/unit/core/items/corpus.h"

using namespace eas::items;
namespace W = eas::wbxml;
namespace AS = eas::wbxml::tags::AirSync;
namespace E = eas::wbxml::tags::Email;
namespace B = eas::wbxml::tags::AirSyncBase;
namespace E2 = eas::wbxml::tags::Email2;

namespace {

EmailItem parse(const std::string& name, MessageMeta meta = {}) {
  meta.file_reference_prefix = "5:17";
  auto r = parseEmail(readCorpus(name), meta);
  REQUIRE(r.ok());
  return std::move(r).value();
}

// <Sync><Collections><Collection><Commands><Add><ApplicationData>...
W::Document encode(const EmailItem& item, const BodyRequest& req, ProtocolVersionView v) {
  std::string out;
  {
    W::Writer w(&out);
    w.start(AS::Sync).start(AS::Collections).start(AS::Collection).start(AS::Commands);
    w.start(AS::Add).element(AS::ServerId, "5:17").start(AS::ApplicationData);
    writeEmailApplicationData(w, item, req, v);
    w.end().end().end().end().end().end();
  }
  auto doc = W::decode(out);
  REQUIRE(doc.ok());
  return std::move(doc).value();
}

const W::Element& appData(const W::Document& doc) {
  const W::Element* e = &doc.root();
  for (W::Tag t : {AS::Collections, AS::Collection, AS::Commands, AS::Add, AS::ApplicationData}) {
    e = e->child(t);
    REQUIRE(e != nullptr);
  }
  return *e;
}

bool anyOnPage(const W::Element& e, std::uint8_t page) {
  for (const W::Element& c : e.children()) {
    if (c.page() == page || anyOnPage(c, page)) return true;
  }
  return false;
}

BodyRequest prefs(int type, std::optional<std::uint32_t> trunc = std::nullopt, bool aon = false,
                  std::uint32_t preview = 0) {
  BodyRequest r;
  BodyPreference p;
  p.type = type;
  p.truncation_size = trunc;
  p.all_or_none = aon;
  p.preview = preview;
  r.preferences.push_back(p);
  return r;
}

}  // namespace

TEST_CASE("version features") {
  auto f25 = emailFeaturesFor({2, 5});
  CHECK_FALSE(f25.air_sync_base);
  CHECK_FALSE(f25.email2);
  auto f121 = emailFeaturesFor(ProtocolVersionView::of(eas::protocol::ProtocolVersion::k121));
  CHECK(f121.air_sync_base);
  CHECK_FALSE(f121.email2);
  CHECK_FALSE(f121.categories);
  auto f141 = emailFeaturesFor({14, 1});
  CHECK(f141.email2);
  CHECK(f141.preview);
  CHECK_FALSE(f141.draft_elements);
  CHECK(emailFeaturesFor(ProtocolVersionView::of(eas::protocol::ProtocolVersion::k161))
            .draft_elements);
}

TEST_CASE("body selection: types and conversions") {
  const auto f = emailFeaturesFor({14, 1});
  EmailItem alt = parse("11_alternative");
  CHECK(selectBody(alt, prefs(2), f).data == "<p>HTML <b>version</b></p>");
  CHECK(selectBody(alt, prefs(1), f).data == "Plain version");
  EmailItem html = parse("10_html_only");
  BodyOutput p = selectBody(html, prefs(1), f);
  CHECK(p.type == 1);
  CHECK(p.data == "Hello & welcome,\n\nline two\nline three € é");
  EmailItem plain = parse("01_plain_ascii");
  BodyOutput h = selectBody(plain, prefs(2), f);
  CHECK(h.type == 2);
  CHECK(h.data.find("Hi Bob,<br>") != std::string::npos);
  BodyOutput m = selectBody(plain, prefs(4), f);  // only MIME asked (ItemOperations)
  CHECK(m.type == 4);
  CHECK(m.data == plain.mime);
  // Type 1 and 4 without MIMESupport: plain.
  BodyRequest both = prefs(1);
  both.preferences.push_back(prefs(4).preferences[0]);
  CHECK(selectBody(plain, both, f).type == 1);
  both.mime_support = 2;
  CHECK(selectBody(plain, both, f).type == 4);
  // MIMESupport 1: MIME for S/MIME only.
  BodyRequest smime = prefs(2);
  smime.mime_support = 1;
  CHECK(selectBody(parse("16_smime_signed"), smime, f).type == 4);
  CHECK(selectBody(plain, smime, f).type == 2);
  // No preference at all: the whole plain body.
  BodyOutput d = selectBody(alt, BodyRequest{}, f);
  CHECK(d.type == 1);
  CHECK(d.data == "Plain version");
}

TEST_CASE("truncation at every length never splits a character") {
  const auto f = emailFeaturesFor({14, 1});
  EmailItem item;
  item.has_plain = true;
  item.plain_body = "Grüße ☕ 日本 𝄞!";
  const std::size_t full = item.plain_body.size();
  for (std::uint32_t n = 0; n <= full + 1; ++n) {
    INFO(n);
    BodyOutput b = selectBody(item, prefs(1, n), f);
    CHECK(b.estimated_size == full);
    CHECK(b.data.size() <= n);
    CHECK(isValidUtf8(b.data));
    CHECK(item.plain_body.compare(0, b.data.size(), b.data) == 0);
    CHECK(b.truncated == (n < full));
    if (n < full) CHECK(b.data.size() + 4 > n);  // dropped less than one character
    BodyOutput a = selectBody(item, prefs(1, n, true), f);
    CHECK(a.truncated == (n < full));
    CHECK(a.data == (n < full ? std::string() : item.plain_body));
    CHECK(a.estimated_size == full);
  }
}

TEST_CASE("preview: 14.0+, at most 255 characters of plain text") {
  EmailItem item;
  item.has_html = true;
  std::string html = "<p>";
  for (int i = 0; i < 300; ++i) html += "é ";
  item.html_body = html + "</p>";
  BodyOutput b = selectBody(item, prefs(2, 10, false, 1000), emailFeaturesFor({14, 1}));
  CHECK(b.preview.size() == 128 * 2 + 127);  // 255 characters: 128 "é" (2 bytes) + 127 spaces
  CHECK(isValidUtf8(b.preview));
  CHECK(b.preview.rfind("é é", 0) == 0);
  CHECK(selectBody(item, prefs(2, 10, false, 1000), emailFeaturesFor({12, 1})).preview.empty());
  CHECK(selectBody(item, prefs(2, 10, false, 3), emailFeaturesFor({16, 1})).preview == "é é");
}

TEST_CASE("2.5 output: Email:Body, no AirSyncBase, no Email2") {
  EmailItem item = parse("13_mixed_attachments");
  BodyRequest req;
  req.truncation_bytes = truncationBytesForCode(1);  // 512 bytes
  W::Document doc = encode(item, req, {2, 5});
  const W::Element& ad = appData(doc);
  CHECK_FALSE(anyOnPage(ad, 17));
  CHECK_FALSE(anyOnPage(ad, 22));
  CHECK(ad.childText(E::Subject) == "Several attachments");
  CHECK(ad.childText(E::From) == "\"Alice Example\" <alice@example.test>");
  CHECK(ad.childText(E::DateReceived) == "2026-12-01T06:01:20.000Z");
  CHECK(ad.childText(E::Body) == "Files attached.\nList footer");
  CHECK(ad.childText(E::BodyTruncated) == "0");
  CHECK_FALSE(ad.hasChild(E::Flag));
  CHECK_FALSE(ad.hasChild(E::InternetCPID));
  CHECK_FALSE(ad.hasChild(E::Categories));
  const W::Element* atts = ad.child(E::Attachments);
  REQUIRE(atts != nullptr);
  REQUIRE(atts->childCount() == 3);
  const W::Element& first = *atts->firstChild();
  CHECK(first.tag() == E::Attachment);
  CHECK(first.childText(E::DisplayName) == "doc.pdf");
  CHECK(first.childText(E::AttName) == "5:17:2");
  CHECK(first.childText(E::AttSize) == "784");
  CHECK(first.childText(E::AttMethod) == "1");
}

TEST_CASE("2.5 MIME: MIMEData / MIMETruncated / MIMESize") {
  EmailItem item = parse("04_windows1252");  // 8-bit, not UTF-8: goes as OPAQUE
  BodyRequest req;
  req.mime_support = 2;
  req.mime_truncation_bytes = mimeTruncationBytesForCode(8);
  W::Document doc = encode(item, req, {2, 5});
  const W::Element& ad = appData(doc);
  CHECK_FALSE(ad.hasChild(E::Body));
  const W::Element* mime = ad.child(E::MIMEData);
  REQUIRE(mime != nullptr);
  CHECK(mime->isOpaque());
  CHECK(mime->text() == item.mime);
  CHECK(ad.childText(E::MIMETruncated) == "0");
  CHECK(ad.childText(E::MIMESize) == std::to_string(item.mime.size()));
  req.mime_truncation_bytes = mimeTruncationBytesForCode(0);
  W::Document t = encode(item, req, {2, 5});
  CHECK(appData(t).childText(E::MIMETruncated) == "1");
  CHECK_FALSE(appData(t).hasChild(E::MIMEData));
}

TEST_CASE("12.1 output: AirSyncBase body and attachments, no Email2") {
  EmailItem item = parse("12_related_inline");
  W::Document doc = encode(item, prefs(2, 20), {12, 1});
  const W::Element& ad = appData(doc);
  CHECK_FALSE(anyOnPage(ad, 22));
  CHECK_FALSE(ad.hasChild(E::Body));
  const W::Element* body = ad.child(B::Body);
  REQUIRE(body != nullptr);
  CHECK(body->childText(B::Type) == "2");
  CHECK(body->childText(B::Truncated) == "1");
  CHECK(body->childText(B::EstimatedDataSize) == std::to_string(item.html_body.size()));
  CHECK(body->childText(B::Data) == item.html_body.substr(0, 20));
  const W::Element* att = ad.child(B::Attachments)->child(B::Attachment);
  REQUIRE(att != nullptr);
  CHECK(att->childText(B::DisplayName) == "logo.png");
  CHECK(att->childText(B::FileReference) == "5:17:2");
  CHECK(att->childText(B::Method) == "1");
  CHECK(att->childText(B::EstimatedDataSize) == "308");
  CHECK(att->childText(B::ContentId) == "logo@example.test");
  CHECK(att->childText(B::IsInline) == "1");
  CHECK(ad.childText(E::InternetCPID) == "65001");
  CHECK(ad.childText(E::ContentClass) == "urn:content-classes:message");
  CHECK(ad.childText(B::NativeBodyType) == "2");
  CHECK(ad.hasChild(E::Flag));
  CHECK_FALSE(ad.child(E::Flag)->hasContent());
  CHECK_FALSE(ad.hasChild(E::Categories));
}

TEST_CASE("14.1 output: Email2 opaque ids, categories, flag, verbs") {
  MessageMeta meta;
  meta.seen = true;
  meta.flagged = true;
  meta.answered = true;
  meta.last_verb_time = 1796104880;
  meta.keywords = {"Work"};
  meta.user_addresses = {"bob@example.test"};
  EmailItem item = parse("28_thread_reply", meta);
  W::Document doc = encode(item, prefs(1, 5000, false, 50), {14, 1});
  const W::Element& ad = appData(doc);
  const W::Element* body = ad.child(B::Body);
  REQUIRE(body != nullptr);
  // Children in AIRS §2.2.2.9 order.
  std::vector<W::Tag> order;
  for (const W::Element& c : body->children()) order.push_back(c.tag());
  CHECK(order ==
        std::vector<W::Tag>{B::Type, B::EstimatedDataSize, B::Truncated, B::Data, B::Preview});
  CHECK(body->childText(B::Type) == "1");
  CHECK(body->childText(B::Truncated) == "0");
  CHECK(body->childText(B::Data) == "Noon works.\r\n");
  CHECK(body->childText(B::Preview) == "Noon works.");
  const W::Element* cid = ad.child(E2::ConversationId);
  REQUIRE(cid != nullptr);
  CHECK(cid->isOpaque());
  CHECK(cid->text() == item.conversation_id);
  CHECK(ad.child(E2::ConversationIndex)->text().size() == 10);
  CHECK(ad.childText(E::ThreadTopic) == "Hello Bob");
  CHECK(ad.childText(E::Read) == "1");
  const W::Element* flag = ad.child(E::Flag);
  REQUIRE(flag != nullptr);
  CHECK(flag->childText(E::Status) == "2");
  CHECK(flag->childText(E::FlagType) == "for Follow Up");
  CHECK(ad.child(E::Categories)->childText(E::Category) == "Work");
  CHECK(ad.childText(E2::LastVerbExecuted) == "1");
  CHECK(ad.childText(E2::LastVerbExecutionTime) == "2026-12-01T06:01:20.000Z");
  CHECK(ad.childText(E2::ReceivedAsBcc) == "1");  // bob is not in To/Cc of the reply
  CHECK_FALSE(ad.hasChild(E2::IsDraft));
}

TEST_CASE("16.1 output: IsDraft and Bcc") {
  EmailItem item = parse("01_plain_ascii");
  item.bcc = "hidden@example.test";
  W::Document plain = encode(item, prefs(1), {16, 1});
  CHECK(appData(plain).childText(E2::IsDraft) == "0");
  CHECK_FALSE(appData(plain).hasChild(E2::Bcc));
  item.is_draft = true;
  W::Document draft = encode(item, prefs(1), {16, 0});
  CHECK(appData(draft).childText(E2::IsDraft) == "1");
  CHECK(appData(draft).childText(E2::Bcc) == "hidden@example.test");
}

TEST_CASE("every corpus message encodes to valid WBXML in every version") {
  const char* names[] = {"01_plain_ascii",         "05_shift_jis",        "09_rfc2231_filenames",
                         "10_html_only",           "14_attached_message", "15_nested",
                         "17_smime_encrypted",     "19_no_body",          "22_header_only",
                         "23_huge_header",         "24_nul_bytes",        "25_8bit_headers",
                         "26_missing_content_type"};
  for (const char* n : names) {
    EmailItem item = parse(n);
    for (auto v : eas::protocol::kAllVersions) {
      INFO(n << " version #" << static_cast<int>(v));
      for (int type : {1, 2, 4}) {
        BodyRequest req = prefs(type, 100, type == 2, 30);
        req.mime_support = 2;
        req.truncation_bytes = 100;
        W::Document doc = encode(item, req, ProtocolVersionView::of(v));
        CHECK(appData(doc).hasChild(E::MessageClass));
      }
    }
  }
}

TEST_CASE("cross-check with libwbxml2's wbxml2xml") {
  // Optional: only where the tool is installed.
  if (std::system("command -v wbxml2xml >/dev/null 2>&1") != 0) return;
  EmailItem item = parse("12_related_inline");
  std::string out;
  {
    W::Writer w(&out);
    w.start(AS::Sync).start(AS::Collections).start(AS::Collection).start(AS::Commands);
    w.start(AS::Add).element(AS::ServerId, "5:17").start(AS::ApplicationData);
    writeEmailApplicationData(w, item, prefs(2), {14, 1});
    w.end().end().end().end().end().end();
  }
  const std::string in = std::string(EAS_BINARY_DIR) + "/items_crosscheck.wbxml";
  const std::string xml = std::string(EAS_BINARY_DIR) + "/items_crosscheck.xml";
  {
    std::FILE* f = std::fopen(in.c_str(), "wb");
    REQUIRE(f != nullptr);
    std::fwrite(out.data(), 1, out.size(), f);
    std::fclose(f);
  }
  const std::string cmd = "wbxml2xml -l ACTIVESYNC -m 0 -o " + xml + " " + in + " >/dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::string text;
  {
    std::FILE* f = std::fopen(xml.c_str(), "rb");
    REQUIRE(f != nullptr);
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
    std::fclose(f);
  }
  CHECK(text.find("Inline image") != std::string::npos);
  CHECK(text.find("logo.png") != std::string::npos);
  CHECK(text.find("urn:content-classes:message") != std::string::npos);
  CHECK(text.find("5:17:2") != std::string::npos);
  std::remove(in.c_str());
  std::remove(xml.c_str());
}

TEST_CASE("Email2:Sender only when it differs from From") {
  EmailItem item = parse("01_plain_ascii");
  item.sender = item.from;
  CHECK_FALSE(appData(encode(item, prefs(1), {14, 1})).hasChild(E2::Sender));
  item.sender = "assistant@example.test";
  CHECK(appData(encode(item, prefs(1), {14, 1})).childText(E2::Sender) == "assistant@example.test");
  CHECK_FALSE(appData(encode(item, prefs(1), {12, 1})).hasChild(E2::Sender));
}

TEST_CASE("2.5 truncation codes and AllOrNone without a size") {
  CHECK(truncationBytesForCode(0) == 0u);
  CHECK(truncationBytesForCode(4) == 5120u);
  CHECK(truncationBytesForCode(8) == 102400u);
  CHECK_FALSE(truncationBytesForCode(9));  // all
  CHECK(mimeTruncationBytesForCode(1) == 4096u);
  CHECK(mimeTruncationBytesForCode(7) == 102400u);
  CHECK_FALSE(mimeTruncationBytesForCode(8));  // whole message
  EmailItem item = parse("01_plain_ascii");
  BodyOutput b = selectBody(item, prefs(1, std::nullopt, true), emailFeaturesFor({14, 1}));
  CHECK_FALSE(b.truncated);  // AllOrNone is ignored without TruncationSize
  CHECK(b.data == item.plain_body);
}
