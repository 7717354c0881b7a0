// The pure parts of ItemOperations / GetAttachment: Range grammar and
// slicing, Content-Transfer-Encoding decoding, the multipart body, the
// BodyPreference options. Table-driven, bad inputs included.
#include "core/commands/itemops_util.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "core/protocol/query.h"

using namespace eas;
using commands::ByteRange;

namespace {

namespace asb = wbxml::tags::AirSyncBase;
namespace as = wbxml::tags::AirSync;
namespace io = wbxml::tags::ItemOperations;

std::string allBytes() {
  std::string s;
  for (int i = 0; i < 256; ++i) s += static_cast<char>(i);
  return s;
}

}  // namespace

TEST_CASE("Range: valid forms", "[itemops]") {
  struct Row {
    const char* text;
    std::uint64_t first, last;
  };
  const Row rows[] = {
      {"0-0", 0, 0},
      {"0-9", 0, 9},
      {"10-20", 10, 20},
      {"007-8", 7, 8},
      {"4294967296-4294967300", 4294967296ull, 4294967300ull},
  };
  for (const Row& r : rows) {
    INFO(r.text);
    auto got = commands::parseByteRange(r.text);
    REQUIRE(got.ok());
    CHECK(got->first == r.first);
    CHECK(got->last == r.last);
  }
}

TEST_CASE("Range: bad forms are itemops.bad_range", "[itemops]") {
  const char* rows[] = {"",      "-",    "5",      "5-",   "-5",   "9-3",  "a-b",   "1-2-3",
                        " 1-2",  "1-2 ", "+1-2",   "1--2", "1-+2", "0x1-2", "1,2", "1 - 2",
                        "99999999999999999999-1", "1-99999999999999999999"};
  for (const char* text : rows) {
    INFO("'" << text << "'");
    auto got = commands::parseByteRange(text);
    REQUIRE_FALSE(got.ok());
    CHECK(got.status().reason() == "itemops.bad_range");
  }
}

TEST_CASE("Range: slice is cut at the end, outside is refused", "[itemops]") {
  struct Row {
    std::uint64_t first, last, total;
    bool ok;
    std::uint64_t offset, length;
    const char* text;
  };
  const Row rows[] = {
      {0, 9, 100, true, 0, 10, "0-9"},
      {90, 200, 100, true, 90, 10, "90-99"},
      {99, 99, 100, true, 99, 1, "99-99"},
      {0, 0, 1, true, 0, 1, "0-0"},
      {100, 100, 100, false, 0, 0, ""},
      {5, 10, 0, false, 0, 0, ""},
      {0, 0, 0, false, 0, 0, ""},
  };
  for (const Row& r : rows) {
    INFO(r.first << "-" << r.last << " of " << r.total);
    auto s = commands::sliceFor(ByteRange{r.first, r.last}, r.total);
    REQUIRE(s.ok() == r.ok);
    if (!r.ok) {
      CHECK(s.status().reason() == "itemops.range_outside");
      continue;
    }
    CHECK(s->offset == r.offset);
    CHECK(s->length == r.length);
    CHECK(s->text() == r.text);
  }
}

TEST_CASE("transfer decoding: base64, quoted-printable, identity", "[itemops]") {
  struct Row {
    const char* encoding;
    std::string in, out;
  };
  const std::vector<Row> rows = {
      {"base64", "aGVsbG8=", "hello"},
      {"BASE64", "aGVs\r\nbG8=\r\n", "hello"},
      {"base64", "aGVsbG8gd29ybGQ=", "hello world"},
      {"base64", "aG Vs*bG8", "hello"},       // junk skipped
      {"base64", "", ""},
      {"base64", "aGVsbG8=aGVsbG8=", "hello"},  // stops at the first '='
      {"base64", "QQ", "A"},                    // unpadded
      {"quoted-printable", "a=3Db", "a=b"},
      {"Quoted-Printable", "caf=C3=A9", "caf\xC3\xA9"},
      {"quoted-printable", "soft=\r\nbreak", "softbreak"},
      {"quoted-printable", "soft=\nbreak", "softbreak"},
      {"quoted-printable", "soft=  \r\nbreak", "softbreak"},
      {"quoted-printable", "x=ZZy", "x=ZZy"},   // stray '=' kept
      {"quoted-printable", "end=", "end="},
      {"quoted-printable", "end=4", "end=4"},
      {"quoted-printable", "lower=c3=a9", "lower\xC3\xA9"},
      {"7bit", "as =3D is", "as =3D is"},
      {"8bit", "b\xC3\xA9", "b\xC3\xA9"},
      {"binary", std::string("\0\1\2", 3), std::string("\0\1\2", 3)},
      {"", "plain", "plain"},
      {"x-uuencode", "begin", "begin"},
  };
  for (const Row& r : rows) {
    INFO(r.encoding << " '" << r.in << "'");
    CHECK(commands::decodeTransferEncoding(r.encoding, r.in) == r.out);
  }
}

TEST_CASE("transfer decoding: every byte survives base64 with line breaks", "[itemops]") {
  const std::string bytes = allBytes() + allBytes();
  std::string b64 = protocol::base64Encode(bytes);
  std::string wrapped;
  for (std::size_t i = 0; i < b64.size(); i += 76) wrapped += b64.substr(i, 76) + "\r\n";
  CHECK(commands::decodeTransferEncoding("base64", wrapped) == bytes);
}

TEST_CASE("multipart: build and parse back", "[itemops]") {
  const std::string wb("\x03\x01\x6a\x00wbxml", 9);
  const std::string a = allBytes(), b;
  auto body = commands::buildMultipart({wb, a, b});
  REQUIRE(body.ok());
  // Count 3, then three {offset, length} pairs, little-endian.
  REQUIRE(body->size() == 4 + 24 + wb.size() + a.size());
  CHECK(body->substr(0, 4) == std::string("\x03\x00\x00\x00", 4));
  CHECK(body->substr(4, 4) == std::string("\x1c\x00\x00\x00", 4));  // 28
  CHECK(body->substr(8, 4) == std::string("\x09\x00\x00\x00", 4));  // WBXML length 9
  CHECK(body->substr(12, 4) == std::string("\x25\x00\x00\x00", 4));  // 28 + 9
  CHECK(body->substr(16, 4) == std::string("\x00\x01\x00\x00", 4));  // 256
  auto parts = commands::parseMultipart(*body);
  REQUIRE(parts.ok());
  REQUIRE(parts->size() == 3);
  CHECK((*parts)[0] == wb);
  CHECK((*parts)[1] == a);
  CHECK((*parts)[2].empty());
}

TEST_CASE("multipart: malformed bodies are itemops.bad_multipart", "[itemops]") {
  auto good = commands::buildMultipart({"abc", "defg"});
  REQUIRE(good.ok());
  std::vector<std::string> rows = {
      "",
      std::string("\x01\x00\x00", 3),
      std::string("\x02\x00\x00\x00", 4),                      // table missing
      std::string("\xff\xff\xff\x7f\x00\x00\x00\x00", 8),      // huge count
      std::string("\x01\x00\x00\x00\x0c\x00\x00\x00\x05\x00\x00\x00", 12),  // part past end
      std::string("\x01\x00\x00\x00\xff\xff\xff\xff\x00\x00\x00\x00", 12),  // offset past end
  };
  // Every truncation of a good body.
  for (std::size_t n = 0; n + 1 < good->size(); ++n) rows.push_back(good->substr(0, n));
  for (const std::string& r : rows) {
    INFO("size " << r.size());
    auto got = commands::parseMultipart(r);
    REQUIRE_FALSE(got.ok());
    CHECK(got.status().reason() == "itemops.bad_multipart");
  }
}

namespace {

// Options with the given BodyPreference children (tag, value) lists.
using Pref = std::vector<std::pair<wbxml::Tag, std::string>>;
Result<items::BodyRequest> bodyRequestOf(const std::vector<Pref>& prefs,
                                         const char* mime_support = nullptr) {
  std::string wb;
  {
    wbxml::Writer w(&wb);
    w.start(io::ItemOperations).start(io::Options);
    if (mime_support) w.element(as::MIMESupport, mime_support);
    for (const Pref& p : prefs) {
      w.start(asb::BodyPreference);
      for (const auto& [tag, value] : p) w.element(tag, value);
      w.end();
    }
    w.end().end();
    w.flush();
  }
  auto doc = wbxml::decode(wb);
  REQUIRE(doc.ok());
  return commands::parseBodyRequest(doc->root().child(io::Options));
}

}  // namespace

TEST_CASE("BodyPreference: valid requests", "[itemops]") {
  auto none = commands::parseBodyRequest(nullptr);
  REQUIRE(none.ok());
  CHECK(none->preferences.empty());

  auto r = bodyRequestOf({{{asb::Type, "2"}, {asb::TruncationSize, "5120"}, {asb::AllOrNone, "1"},
                           {asb::Preview, "255"}},
                          {{asb::Type, "4"}}},
                         "2");
  REQUIRE(r.ok());
  REQUIRE(r->preferences.size() == 2);
  CHECK(r->preferences[0].type == 2);
  CHECK(r->preferences[0].truncation_size == 5120u);
  CHECK(r->preferences[0].all_or_none);
  CHECK(r->preferences[0].preview == 255u);
  CHECK(r->preferences[1].type == 4);
  CHECK_FALSE(r->preferences[1].truncation_size.has_value());
  CHECK(r->mime_support == 2);
}

TEST_CASE("BodyPreference: bad requests are itemops.bad_body_preference", "[itemops]") {
  struct Row {
    const char* what;
    std::vector<Pref> prefs;
    const char* mime_support;
  };
  const std::vector<Row> rows = {
      {"empty", {{}}, nullptr},
      {"no Type first", {{{asb::TruncationSize, "10"}}}, nullptr},
      {"order", {{{asb::Type, "1"}, {asb::AllOrNone, "1"}, {asb::TruncationSize, "10"}}}, nullptr},
      {"twice", {{{asb::Type, "1"}, {asb::Type, "2"}}}, nullptr},
      {"duplicate type", {{{asb::Type, "1"}}, {{asb::Type, "1"}}}, nullptr},
      {"type 0", {{{asb::Type, "0"}}}, nullptr},
      {"type 5", {{{asb::Type, "5"}}}, nullptr},
      {"type text", {{{asb::Type, "html"}}}, nullptr},
      {"truncation", {{{asb::Type, "1"}, {asb::TruncationSize, "4294967296"}}}, nullptr},
      {"allornone 2", {{{asb::Type, "1"}, {asb::AllOrNone, "2"}}}, nullptr},
      {"preview 256", {{{asb::Type, "1"}, {asb::Preview, "256"}}}, nullptr},
      {"foreign child", {{{asb::Type, "1"}, {asb::Data, "x"}}}, nullptr},
      {"mime support 3", {}, "3"},
      {"mime support text", {}, "yes"},
  };
  for (const Row& r : rows) {
    INFO(r.what);
    auto got = bodyRequestOf(r.prefs, r.mime_support);
    REQUIRE_FALSE(got.ok());
    CHECK(got.status().reason() == "itemops.bad_body_preference");
  }
}
