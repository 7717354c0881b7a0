#include "core/base/modified_utf7.h"

#include <catch2/catch.hpp>

#include <string>

using eas::encodeModifiedUtf7;
using eas::encodeModifiedUtf7Lenient;

TEST_CASE("modified UTF-7: printable ASCII as is, '&' as &-, the rest shifted") {
  struct Case {
    std::string utf8, utf7;
  };
  const Case cases[] = {
      {"INBOX", "INBOX"},
      {"a&b", "a&-b"},
      {"Entwürfe", "Entw&APw-rfe"},
      {"日本語", "&ZeVnLIqe-"},
      {"x\ty", "x&AAk-y"},          // control characters are shifted
      {"\xF0\x9F\x98\x80", "&2D3eAA-"},  // U+1F600: a surrogate pair
      {"", ""},
  };
  for (const Case& c : cases) {
    INFO(c.utf8);
    CHECK(encodeModifiedUtf7(c.utf8) == c.utf7);
    CHECK(encodeModifiedUtf7Lenient(c.utf8) == c.utf7);
  }
}

TEST_CASE("modified UTF-7: invalid UTF-8 is refused, or replaced by U+FFFD when lenient") {
  const std::string bad[] = {
      "\xC3",              // truncated
      "\xC0\xAF",          // overlong '/'
      "\xED\xA0\x80",      // a surrogate
      "\xF4\x90\x80\x80",  // past U+10FFFF
      "\xFF",
      std::string("a\0b", 3),
  };
  for (const std::string& b : bad) {
    INFO(b.size());
    CHECK_FALSE(encodeModifiedUtf7(b).has_value());
  }
  CHECK(encodeModifiedUtf7Lenient("a\xFF" "b") == "a&,,0-b");  // U+FFFD; "," stands for "/"
  CHECK(encodeModifiedUtf7Lenient(std::string("a\0b", 3)) == "a&AAA-b");
}
