#include "core/items/text_utils.h"

#include <catch2/catch.hpp>
#include <string>

using namespace eas::items;

TEST_CASE("UTF-8 validation and sanitising") {
  CHECK(isValidUtf8("plain"));
  CHECK(isValidUtf8("Grüße ☕ 𝄞"));
  CHECK_FALSE(isValidUtf8("\xC3"));              // truncated
  CHECK_FALSE(isValidUtf8("\xC0\xAF"));          // overlong
  CHECK_FALSE(isValidUtf8("\xED\xA0\x80"));      // surrogate
  CHECK_FALSE(isValidUtf8("\xF4\x90\x80\x80"));  // > U+10FFFF
  CHECK(sanitizeUtf8("a\xFF"
                     "b") ==
        "a\xEF\xBF\xBD"
        "b");
  CHECK(sanitizeUtf8(std::string("a\0b\x01\tc\r\n", 8)) == "ab\tc\r\n");
}

TEST_CASE("a cut never splits a UTF-8 sequence, at every length") {
  const std::string s = "aé☕𝄞z€";  // 1, 2, 3, 4, 1, 3 bytes
  for (std::size_t n = 0; n <= s.size() + 2; ++n) {
    INFO(n);
    const std::size_t cut = utf8CutPoint(s, n);
    CHECK(cut <= n);
    CHECK(cut <= s.size());
    CHECK(isValidUtf8(s.substr(0, cut)));
    // The cut is the longest valid prefix that fits.
    if (cut < s.size() && cut < n) CHECK(!isValidUtf8(s.substr(0, cut + 1)));
  }
  CHECK(utf8Prefix("aé☕𝄞z", 3) == "aé☕");
  CHECK(utf8Prefix("ab", 10) == "ab");
}

TEST_CASE("charset conversion") {
  bool lossy = false;
  CHECK(toUtf8("caf\xE9", "iso-8859-1", &lossy) == "café");
  CHECK_FALSE(lossy);
  CHECK(toUtf8("\x93hi\x94", "windows-1252", &lossy) == "“hi”");
  CHECK(toUtf8("\xF0\xD2\xC9\xD7\xC5\xD4", "KOI8-R", &lossy) == "Привет");
  CHECK(toUtf8("\x82\xB1\x82\xF1", "shift_jis", &lossy) == "こん");
  CHECK(toUtf8("\xC4\xE3\xBA\xC3", "gb2312", &lossy) == "你好");
  CHECK_FALSE(lossy);
  lossy = false;
  CHECK(toUtf8("caf\xE9", "", &lossy) == "café");  // undeclared 8-bit: windows-1252
  CHECK(lossy);
  lossy = false;
  CHECK(toUtf8("ok", "x-no-such-charset", &lossy) == "ok");
  CHECK(lossy);
  lossy = false;
  const std::string bad = toUtf8("ab\x82", "shift_jis", &lossy);  // truncated DBCS lead byte
  CHECK(isValidUtf8(bad));
  CHECK(lossy);
  CHECK(toUtf8("Gr\xC3\xBC\xC3\x9F"
               "e",
               "utf-8", &lossy) == "Grüße");
}

TEST_CASE("HTML to text") {
  CHECK(htmlToText("<p>Hello &amp; welcome,</p><p>two<br>three</p>") ==
        "Hello & welcome,\n\ntwo\nthree");
  CHECK(htmlToText("<html><head><title>x</title><style>p{}</style></head><body>a"
                   "<script>var s='<p>';</script>b<!-- c --></body></html>") == "ab");
  CHECK(htmlToText("a &#8364; &#x263A; &eacute; &bogus; &") == "a € ☺ é &bogus; &");
  CHECK(htmlToText("  lots   of\n\n  space ") == "lots of space");
  CHECK(htmlToText("<div>x</div><div>y</div>") == "x\ny");
  CHECK(htmlToText("<pre>a  b\n c</pre>") == "a  b\n c");
  CHECK(htmlToText("unterminated <b") == "unterminated");
  CHECK(htmlToText("&#0; &#1114112;") == "\xEF\xBF\xBD \xEF\xBF\xBD");
  CHECK(htmlToText("&#99999999999999;") == "&#99999999999999;");  // too long: text
}

TEST_CASE("text to HTML escapes and keeps line breaks") {
  const std::string h = textToHtml("a<b & \"c\"\r\nnext");
  CHECK(h.find("a&lt;b &amp; &quot;c&quot;<br>\nnext") != std::string::npos);
  CHECK(collapseWhitespace("  a \n\t b  ") == "a b");
}

TEST_CASE("HTML to text stays linear on hostile input") {
  const std::string amps(2'000'000, '&');
  CHECK(htmlToText(amps).size() == amps.size());
  std::string lts(1'000'000, '<');
  lts += '>';
  CHECK(htmlToText(lts).empty());
  std::string scripts;
  for (int i = 0; i < 100000; ++i) scripts += "<script>";
  CHECK(htmlToText(scripts).empty());
}

TEST_CASE("format=flowed") {
  CHECK(unflow("a \r\nb \r\nc\r\nd\r\n", false) == "a b c\nd\n");
  CHECK(unflow("a \r\nb", true) == "ab");
  CHECK(unflow("> q1 \r\n> q2\r\nplain", false) == "> q1 q2\nplain");
  CHECK(unflow("x \r\n> y\r\n", false) == "x \n> y\n");  // depth change ends the paragraph
  CHECK(unflow("-- \r\nsig", false) == "-- \nsig");      // the signature separator is fixed
  CHECK(unflow(" From stuffed\r\n", false) == "From stuffed\n");
}
