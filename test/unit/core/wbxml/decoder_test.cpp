#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/wbxml/internal.h"
#include "core/wbxml/wbxml.h"
#include "test/unit/core/wbxml/test_docs.h"

using namespace eas::wbxml;  // NOLINT
using eas::wbxml::testing::hex;
using eas::wbxml::testing::sampleDocs;

namespace {

// Event log of a decode, for comparing the tree and the streaming decoder.
struct Recorder : DecodeHandler {
  std::vector<std::string> events;
  void startElement(Tag t, bool c) override {
    events.push_back("start " + qualifiedName(t) + (c ? " content" : ""));
  }
  void text(std::string_view s) override { events.push_back("text " + std::string(s)); }
  void opaque(std::string_view s) override { events.push_back("opaque " + std::string(s)); }
  void endElement(Tag t) override { events.push_back("end " + qualifiedName(t)); }
};

void treeEvents(const Element& e, std::vector<std::string>* out) {
  out->push_back("start " + qualifiedName(e.tag()) + (e.hasContent() ? " content" : ""));
  if (!e.text().empty() || (e.hasContent() && e.isOpaque())) {
    out->push_back((e.isOpaque() ? "opaque " : "text ") + std::string(e.text()));
  }
  for (const Element& c : e.children()) treeEvents(c, out);
  out->push_back("end " + qualifiedName(e.tag()));
}

std::string reason(std::string_view bytes, const DecodeLimits& limits = {}) {
  auto r = decode(bytes, limits);
  return r.ok() ? "ok" : r.status().reason();
}

}  // namespace

TEST_CASE("worked examples of protocol.md 2.2 decode as documented", "[wbxml][decoder]") {
  using namespace tags;  // NOLINT
  SECTION("FolderSync SyncKey 0") {
    auto doc = decode(hex("03 01 6A 00 00 07 56 52 03 30 00 01 01"));
    REQUIRE(doc.ok());
    const Element& root = doc->root();
    CHECK(root.tag() == FolderHierarchy::FolderSync);
    CHECK(root.hasContent());
    CHECK(root.childCount() == 1);
    CHECK(root.childText(FolderHierarchy::SyncKey) == "0");
    CHECK(root.childText(FolderHierarchy::Status, "none") == "none");
  }
  SECTION("Sync initial for collection 5") {
    auto doc = decode(hex("03 01 6A 00 45 5C 4F 4B 03 30 00 01 52 03 35 00 01 01 01 01"));
    REQUIRE(doc.ok());
    const Element* coll = doc->root().child(AirSync::Collections);
    REQUIRE(coll);
    const Element* c = coll->child(AirSync::Collection);
    REQUIRE(c);
    CHECK(c->childText(AirSync::SyncKey) == "0");
    CHECK(c->childText(AirSync::CollectionId) == "5");
    CHECK(c->firstChild()->nextSibling()->nextSibling() == nullptr);
  }
  SECTION("Ping") {
    auto doc = decode(sampleDocs()[2].bytes);
    REQUIRE(doc.ok());
    const Element& ping = doc->root();
    CHECK(ping.tag() == Ping::Ping);
    CHECK(ping.childText(Ping::HeartbeatInterval) == "480");
    const Element* folder = ping.child(Ping::Folders)->child(Ping::Folder);
    REQUIRE(folder);
    CHECK(folder->childText(Ping::Id) == "5");
    CHECK(folder->childText(Ping::Class) == "Email");
    int n = 0;
    for (const Element& f : folder->children()) {
      CHECK(f.page() == 13);
      ++n;
    }
    CHECK(n == 2);
  }
}

TEST_CASE("a content-flagged tag followed by END is accepted", "[wbxml][decoder]") {
  auto doc = decode(hex("03 01 6A 00 45 54 01 01"));  // <Sync><MoreAvailable></MoreAvailable>
  REQUIRE(doc.ok());
  const Element* m = doc->root().child(tags::AirSync::MoreAvailable);
  REQUIRE(m);
  CHECK(m->hasContent());
  CHECK(m->text().empty());
  CHECK(m->firstChild() == nullptr);
  CHECK(encode(*doc) == hex("03 01 6A 00 45 14 01"));  // canonical empty form
}

TEST_CASE("mb_u_int32 edge cases", "[wbxml][decoder]") {
  struct Row {
    std::string bytes;
    internal::MbResult result;
    std::uint32_t value;
  } rows[] = {
      {hex("00"), internal::MbResult::kOk, 0},
      {hex("7F"), internal::MbResult::kOk, 127},
      {hex("81 00"), internal::MbResult::kOk, 128},
      {hex("82 2C"), internal::MbResult::kOk, 300},
      {hex("8F FF FF FF 7F"), internal::MbResult::kOk, 0xFFFFFFFFu},
      {hex("80 80 80 80 00"), internal::MbResult::kOk, 0},           // redundant leading groups
      {hex("90 80 80 80 00"), internal::MbResult::kOverflow, 0},     // 2^32
      {hex("81 81 81 81 81 01"), internal::MbResult::kOverflow, 0},  // 6 bytes
      {hex("81"), internal::MbResult::kTruncated, 0},
      {hex("FF FF"), internal::MbResult::kTruncated, 0},
      {"", internal::MbResult::kTruncated, 0},
  };
  for (const Row& r : rows) {
    std::size_t pos = 0;
    std::uint32_t v = 12345;
    const auto res = internal::readMbUint32(reinterpret_cast<const std::uint8_t*>(r.bytes.data()),
                                            r.bytes.size(), &pos, &v);
    CHECK(res == r.result);
    if (res == internal::MbResult::kOk) {
      CHECK(v == r.value);
      CHECK(pos == r.bytes.size());
    }
  }
  for (std::uint32_t v : {0u, 127u, 128u, 300u, 16383u, 16384u, 0xFFFFFFFFu}) {
    char buf[5];
    const std::size_t n = internal::writeMbUint32(v, buf);
    std::size_t pos = 0;
    std::uint32_t back = 0;
    REQUIRE(internal::readMbUint32(reinterpret_cast<const std::uint8_t*>(buf), n, &pos, &back) ==
            internal::MbResult::kOk);
    CHECK(back == v);
    CHECK(pos == n);
  }
  char buf[5];
  REQUIRE(internal::writeMbUint32(300, buf) == 2);
  CHECK(std::string(buf, 2) == hex("82 2C"));
  REQUIRE(internal::writeMbUint32(0xFFFFFFFFu, buf) == 5);
  CHECK(std::string(buf, 5) == hex("8F FF FF FF 7F"));

  // In a document: an OPAQUE of 300 bytes has the length 82 2C.
  const std::string payload(300, 'x');
  auto doc = decode(hex("03 01 6A 00 45 C3 82 2C") + payload + hex("01"));
  REQUIRE(doc.ok());
  CHECK(doc->root().text() == payload);
  CHECK(doc->root().isOpaque());
  CHECK(reason(hex("03 01 6A 00 45 C3 90 80 80 80 00 01")) == "wbxml.mb_u_int32_overflow");
  CHECK(reason(hex("03 81 81 81 81 81 01 6A 00 05")) == "wbxml.mb_u_int32_overflow");
  CHECK(reason(hex("03 81 01 6A 00 05")) == "wbxml.bad_public_id");  // 129
  CHECK(reason(hex("03 80 01 6A 00 05")) == "ok");  // redundant zero group is still 1
}

TEST_CASE("every malformed-input reason token", "[wbxml][decoder]") {
  struct Row {
    const char* what;
    std::string bytes;
    const char* reason;
  };
  const std::string deep65 = [] {
    std::string s = hex("03 01 6A 00");
    for (int i = 0; i < 65; ++i) s += hex("4F");
    for (int i = 0; i < 65; ++i) s += hex("01");
    return s;
  }();
  const Row rows[] = {
      {"empty input", "", "wbxml.truncated"},
      {"header cut", hex("03 01 6A"), "wbxml.truncated"},
      {"string unterminated", hex("03 01 6A 00 45 4B 03 \"ab\""), "wbxml.truncated"},
      {"switch page without page", hex("03 01 6A 00 00"), "wbxml.truncated"},
      {"opaque length cut", hex("03 01 6A 00 45 C3 82"), "wbxml.truncated"},
      {"version 1.2", hex("02 01 6A 00 05"), "wbxml.bad_version"},
      {"public id 0 (string table index)", hex("03 00 00 6A 00 05"), "wbxml.bad_public_id"},
      {"public id 2", hex("03 02 6A 00 05"), "wbxml.bad_public_id"},
      {"charset latin1", hex("03 01 04 00 05"), "wbxml.bad_charset"},
      {"string table", hex("03 01 6A 01 41 05"), "wbxml.string_table"},
      {"code page 26", hex("03 01 6A 00 00 1A 05"), "wbxml.unknown_codepage"},
      {"code page 255", hex("03 01 6A 00 45 00 FF 05 01"), "wbxml.unknown_codepage"},
      {"AirSync 0x2A", hex("03 01 6A 00 2A"), "wbxml.unknown_token"},
      {"Ping 0x0E", hex("03 01 6A 00 00 0D 0E"), "wbxml.unknown_token"},
      {"Find 0x0F", hex("03 01 6A 00 00 19 45 0F 01"), "wbxml.unknown_token"},
      {"END at top", hex("03 01 6A 00 01"), "wbxml.unbalanced_end"},
      {"ends inside root", hex("03 01 6A 00 45 4B 03 \"1\" 00 01"), "wbxml.unclosed"},
      {"mb overflow", hex("03 01 6A 00 45 C3 8F FF FF FF FF 7F 01"), "wbxml.mb_u_int32_overflow"},
      {"depth 65", deep65, "wbxml.too_deep"},
      {"overlong NUL", hex("03 01 6A 00 45 4B 03 C0 80 00 01 01"), "wbxml.invalid_utf8"},
      {"attribute bit", hex("03 01 6A 00 85 01"), "wbxml.attributes"},
      {"attribute and content bits", hex("03 01 6A 00 C5 01 01"), "wbxml.attributes"},
      {"STR_T", hex("03 01 6A 00 45 83 00 01"), "wbxml.string_table_ref"},
      {"ENTITY", hex("03 01 6A 00 45 02 41 01"), "wbxml.unsupported_token"},
      {"LITERAL", hex("03 01 6A 00 45 04 00 01"), "wbxml.unsupported_token"},
      {"EXT_I_0", hex("03 01 6A 00 45 40 \"a\" 00 01"), "wbxml.unsupported_token"},
      {"EXT_I_2", hex("03 01 6A 00 45 42 \"a\" 00 01"), "wbxml.unsupported_token"},
      {"PI", hex("03 01 6A 00 45 43 01"), "wbxml.unsupported_token"},
      {"LITERAL_C", hex("03 01 6A 00 44 00 01"), "wbxml.unsupported_token"},
      {"EXT_T_1", hex("03 01 6A 00 45 81 00 01"), "wbxml.unsupported_token"},
      {"LITERAL_A", hex("03 01 6A 00 84 00 01"), "wbxml.unsupported_token"},
      {"EXT_0", hex("03 01 6A 00 45 C0 01"), "wbxml.unsupported_token"},
      {"LITERAL_AC", hex("03 01 6A 00 C4 00 01 01"), "wbxml.unsupported_token"},
      {"string before root", hex("03 01 6A 00 03 \"a\" 00 05"), "wbxml.content_outside_element"},
      {"opaque before root", hex("03 01 6A 00 C3 00 05"), "wbxml.content_outside_element"},
      {"header only", hex("03 01 6A 00"), "wbxml.empty_document"},
      {"only a page switch", hex("03 01 6A 00 00 07"), "wbxml.empty_document"},
      {"two roots", hex("03 01 6A 00 05 05"), "wbxml.trailing_data"},
      {"byte after root", hex("03 01 6A 00 45 01 00"), "wbxml.trailing_data"},
      {"END after empty root", hex("03 01 6A 00 05 01"), "wbxml.trailing_data"},
      {"opaque past end", hex("03 01 6A 00 45 C3 05 41 01"), "wbxml.opaque_length"},
      {"text then child", hex("03 01 6A 00 45 03 \"a\" 00 4B 03 \"1\" 00 01 01"),
       "wbxml.mixed_content"},
      {"child then text", hex("03 01 6A 00 00 0D 45 48 03 \"900\" 00 01 03 \"r\" 00 01"),
       "wbxml.mixed_content"},
      {"child then opaque", hex("03 01 6A 00 45 0B C3 01 41 01"), "wbxml.mixed_content"},
      {"empty string then child", hex("03 01 6A 00 45 03 00 0B 01"), "wbxml.mixed_content"},
  };
  for (const Row& r : rows) {
    INFO(r.what);
    auto res = decode(r.bytes);
    REQUIRE_FALSE(res.ok());
    CHECK(res.status().reason() == r.reason);
    CHECK(res.status().message().find("byte offset") != std::string::npos);
    Recorder rec;
    CHECK(decodeStream(r.bytes, rec).reason() == r.reason);
  }
  DecodeLimits small;
  small.max_size = 4;
  auto res = decode(hex("03 01 6A 00 05"), small);
  REQUIRE_FALSE(res.ok());
  CHECK(res.status().reason() == "wbxml.too_large");
  CHECK(res.status().code() == eas::StatusCode::kLimitExceeded);
  Recorder rec;
  CHECK(decodeStream(hex("03 01 6A 00 05"), rec, small).reason() == "wbxml.too_large");
}

TEST_CASE("error messages give the offset of the bad byte", "[wbxml][decoder]") {
  auto r = decode(hex("03 01 6A 00 45 4B 03 \"ab\" FF 00 01 01"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == "invalid UTF-8 in inline string at byte offset 9");
  r = decode(hex("03 01 6A 00 45 2A 01"));
  CHECK(r.status().message() == "unknown tag token at byte offset 5");
}

TEST_CASE("depth and size limits are configurable", "[wbxml][decoder]") {
  auto nested = [](int levels) {
    std::string s = hex("03 01 6A 00");
    for (int i = 0; i < levels - 1; ++i) s += hex("4F");
    s += hex("14");  // innermost: empty MoreAvailable
    for (int i = 0; i < levels - 1; ++i) s += hex("01");
    return s;
  };
  CHECK(reason(nested(64)) == "ok");
  CHECK(reason(nested(65)) == "wbxml.too_deep");
  DecodeLimits l;
  l.max_depth = 3;
  CHECK(reason(nested(3), l) == "ok");
  CHECK(reason(nested(4), l) == "wbxml.too_deep");
  l.max_depth = SIZE_MAX;  // no limit: must not try to reserve it
  CHECK(reason(nested(200), l) == "ok");
  l.max_depth = 0;
  CHECK(reason(nested(1), l) == "wbxml.too_deep");
  l.max_depth = 1000;
  CHECK(reason(nested(1000), l) == "ok");
  CHECK(reason(nested(1001), l) == "wbxml.too_deep");
  auto doc = decode(nested(1000), l);
  REQUIRE(doc.ok());
  CHECK(encode(*doc) == nested(1000));  // encode does not recurse

  const std::string& big = sampleDocs()[5].bytes;
  l = DecodeLimits{};
  l.max_size = big.size();
  CHECK(reason(big, l) == "ok");
  l.max_size = big.size() - 1;
  CHECK(reason(big, l) == "wbxml.too_large");
}

TEST_CASE("UTF-8 validation", "[wbxml][decoder]") {
  auto doc = [](const std::string& s) { return hex("03 01 6A 00 45 4B 03") + s + hex("00 01 01"); };
  const char* bad[] = {
      "C0 80",                    // overlong NUL
      "C1 BF",                    // overlong
      "E0 80 80",                 // overlong 3-byte
      "E0 9F BF",                 // overlong 3-byte (U+07FF)
      "F0 80 80 80",              // overlong 4-byte
      "F0 8F BF BF",              // overlong 4-byte (U+FFFF)
      "ED A0 80",                 // surrogate U+D800
      "ED BF BF",                 // surrogate U+DFFF
      "F4 90 80 80",              // U+110000
      "F5 80 80 80",              // beyond Unicode
      "FF",                       //
      "80",                       // lone continuation
      "E2 82",                    // truncated sequence
      "F0 9F 98",                 // truncated 4-byte
      "E2 28 A1",                 // bad continuation
      "\"0123456789abcdef\" C3",  // truncated after the 8-byte fast path
  };
  for (const char* b : bad) {
    INFO(b);
    CHECK(reason(doc(hex(b))) == "wbxml.invalid_utf8");
  }
  const char* good[] = {"\"plain ascii text longer than eight\"",
                        "E2 82 AC",
                        "F0 9F 98 80",
                        "F4 8F BF BF",
                        "ED 9F BF",
                        "EE 80 80",
                        "C2 80",
                        "EF BF BF",
                        "\"abcdefgh\" E2 82 AC \"abcdefgh\""};
  for (const char* g : good) {
    INFO(g);
    CHECK(reason(doc(hex(g))) == "ok");
  }
  // Opaque data is bytes: no UTF-8 check.
  CHECK(reason(hex("03 01 6A 00 45 C3 02 C0 80 01")) == "ok");
}

TEST_CASE("opaque data with embedded NULs round-trips", "[wbxml][decoder]") {
  const std::string bytes("\x00\x00\x01\x00\xff", 5);
  const std::string wbxml = hex("03 01 6A 00 00 16 49 C3 05") + bytes + hex("01");
  auto doc = decode(wbxml);
  REQUIRE(doc.ok());
  CHECK(doc->root().isOpaque());
  CHECK(doc->root().text() == bytes);
  CHECK(encode(*doc) == wbxml);
  // OPAQUE where a string is expected is accepted too.
  auto d2 = decode(hex("03 01 6A 00 45 4B C3 01 \"7\" 01 01"));
  REQUIRE(d2.ok());
  CHECK(d2->root().childText(tags::AirSync::SyncKey) == "7");
}

TEST_CASE("several strings in one element are joined", "[wbxml][decoder]") {
  auto doc = decode(hex("03 01 6A 00 45 4B 03 \"ab\" 00 C3 01 \"c\" 03 \"de\" 00 01 01"));
  REQUIRE(doc.ok());
  const Element* k = doc->root().child(tags::AirSync::SyncKey);
  CHECK(k->text() == "abcde");
  CHECK(k->isOpaque());
}

TEST_CASE("the document owns its data", "[wbxml][decoder]") {
  auto input = std::make_unique<std::string>(sampleDocs()[2].bytes);
  auto doc = decode(*input);
  REQUIRE(doc.ok());
  input->assign(input->size(), '\xEE');
  input.reset();
  Document moved = std::move(*doc);
  CHECK(moved.root().childText(tags::Ping::HeartbeatInterval) == "480");
  Document empty;
  CHECK(empty.root().firstChild() == nullptr);
  CHECK(encode(empty) == hex("03 01 6A 00"));
}

TEST_CASE("every strict prefix of a valid document is an error", "[wbxml][decoder]") {
  for (const auto& d : sampleDocs()) {
    INFO(d.name);
    REQUIRE(decode(d.bytes).ok());
    for (std::size_t len = 0; len < d.bytes.size(); ++len) {
      auto r = decode(std::string_view(d.bytes).substr(0, len));
      REQUIRE_FALSE(r.ok());
      const std::string why = r.status().reason();
      CHECK((why == "wbxml.truncated" || why == "wbxml.unclosed" || why == "wbxml.empty_document" ||
             why == "wbxml.opaque_length"));
    }
  }
}

TEST_CASE("random byte corruption never crashes", "[wbxml][decoder]") {
  std::mt19937 rng(20261201);
  for (const auto& d : sampleDocs()) {
    for (int iter = 0; iter < 1500; ++iter) {
      std::string s = d.bytes;
      const int flips = 1 + static_cast<int>(rng() % 3);
      for (int f = 0; f < flips; ++f) {
        s[rng() % s.size()] = static_cast<char>(rng() & 0xFF);
      }
      if (rng() % 4 == 0) s.resize(rng() % (s.size() + 1));
      auto r = decode(s);
      Recorder rec;
      const eas::Status st = decodeStream(s, rec);
      CHECK(st.ok() == r.ok());
      if (r.ok()) {
        // Whatever decodes re-encodes to something that decodes the same way.
        const std::string again = encode(*r);
        auto r2 = decode(again);
        REQUIRE(r2.ok());
        CHECK(encode(*r2) == again);
      } else {
        CHECK(st.reason() == r.status().reason());
      }
    }
  }
}

TEST_CASE("streaming decoder gives the same events as the tree", "[wbxml][decoder]") {
  for (const auto& d : sampleDocs()) {
    INFO(d.name);
    auto doc = decode(d.bytes);
    REQUIRE(doc.ok());
    std::vector<std::string> tree;
    treeEvents(doc->root(), &tree);
    Recorder rec;
    REQUIRE(decodeStream(d.bytes, rec).ok());
    CHECK(rec.events == tree);
  }
}

TEST_CASE("decodeOwned takes the buffer and decodes like decode", "[wbxml][decoder]") {
  for (const auto& d : sampleDocs()) {
    INFO(d.name);
    std::string body = d.bytes;
    const char* original = body.data();
    auto a = decode(d.bytes);
    auto b = decodeOwned(std::move(body));
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(encode(*a) == encode(*b));
    CHECK(b->inputSize() == d.bytes.size());
    // Long inputs (beyond the small-string buffer) are moved, not copied:
    // texts point into the caller's buffer.
    const Element* e = &b->root();
    while (e && e->text().empty()) e = e->firstChild() ? e->firstChild() : e->nextSibling();
    if (d.bytes.size() > 64) {
      REQUIRE(e != nullptr);
      const char* t = e->text().data();
      CHECK(t >= original);
      CHECK(t < original + d.bytes.size());
    }
  }
  DecodeLimits small;
  small.max_size = 3;
  auto r = decodeOwned(sampleDocs()[0].bytes, small);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().reason() == "wbxml.too_large");
  r = decodeOwned(hex("03 01 6A 00 45"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().reason() == "wbxml.unclosed");
}
