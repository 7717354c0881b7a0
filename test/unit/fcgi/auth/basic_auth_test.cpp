#include <catch2/catch.hpp>
#include <string>

#include "fcgi/auth/authenticator.h"

using eas::auth::parseBasicAuthorization;

namespace {

std::string b64(const std::string& in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == in.size()) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const unsigned v =
        (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

struct Good {
  std::string header;
  std::string raw_user;
  std::string login;
  std::string password;
};

struct Bad {
  std::string name;
  std::string header;
  std::string reason;
};

}  // namespace

TEST_CASE("b64 helper matches RFC 4648 vectors") {
  CHECK(b64("") == "");
  CHECK(b64("f") == "Zg==");
  CHECK(b64("fo") == "Zm8=");
  CHECK(b64("foo") == "Zm9v");
  CHECK(b64("foobar") == "Zm9vYmFy");
}

TEST_CASE("Basic credentials are parsed and the user normalised") {
  const std::vector<Good> cases = {
      {"Basic " + b64("alice@example.test:pw"), "alice@example.test", "alice@example.test", "pw"},
      {"basic " + b64("alice@Example.TEST:pw"), "alice@Example.TEST", "alice@example.test", "pw"},
      {"BASIC " + b64("Alice@example.test:pw"), "Alice@example.test", "Alice@example.test", "pw"},
      {"Basic " + b64("CORP\\alice:pw"), "CORP\\alice", "alice@example.test", "pw"},
      {"Basic " + b64("CORP\\alice@Other.Test:pw"), "CORP\\alice@Other.Test", "alice@other.test",
       "pw"},
      {"Basic " + b64("alice:pw"), "alice", "alice@example.test", "pw"},
      // The password is split at the FIRST colon: colons in passwords survive.
      {"Basic " + b64("alice@example.test:a:b::c"), "alice@example.test", "alice@example.test",
       "a:b::c"},
      {"Basic " + b64("alice@example.test:"), "alice@example.test", "alice@example.test", ""},
      {"Basic " + b64("bob@example.test:p\"w \\ ünï ✓"), "bob@example.test", "bob@example.test",
       "p\"w \\ ünï ✓"},
      // Unpadded base64 and surrounding whitespace are tolerated.
      {"Basic Ym9iOng", "bob", "bob@example.test", "x"},
      {"  Basic \t" + b64("bob:x") + "  ", "bob", "bob@example.test", "x"},
      // The last '@' separates the domain.
      {"Basic " + b64("a@b@Example.test:x"), "a@b@Example.test", "a@b@example.test", "x"},
  };
  for (const auto& c : cases) {
    INFO(c.header);
    auto r = parseBasicAuthorization(c.header, "Example.Test");
    REQUIRE(r.ok());
    CHECK(r->raw_user == c.raw_user);
    CHECK(r->login == c.login);
    CHECK(r->password == c.password);
  }
}

TEST_CASE("a bare user without a default domain stays bare") {
  auto r = parseBasicAuthorization("Basic " + b64("alice:pw"), "");
  REQUIRE(r.ok());
  CHECK(r->login == "alice");
  auto n = parseBasicAuthorization("Basic " + b64("DOM\\alice:pw"), "");
  REQUIRE(n.ok());
  CHECK(n->login == "alice");
}

TEST_CASE("hostile or broken Authorization headers are refused with a reason") {
  const std::string nul_inside = std::string("alice\0x:pw", 10);
  const std::vector<Bad> cases = {
      {"empty", "", "auth.missing"},
      {"blank", "   \t ", "auth.missing"},
      {"bearer", "Bearer abc.def", "auth.not_basic"},
      {"digest", "Digest username=\"a\"", "auth.not_basic"},
      {"basicfoo", "Basicfoo " + b64("a:b"), "auth.not_basic"},
      {"scheme only", "Basic", "auth.malformed"},
      {"scheme and spaces", "Basic    ", "auth.malformed"},
      {"invalid char", "Basic YWxp*2U6cHc=", "auth.malformed"},
      {"url-safe alphabet", "Basic " + std::string("YT_-OmI="), "auth.malformed"},
      {"embedded space", "Basic YWxp Y2U6cHc=", "auth.malformed"},
      {"three pads", "Basic YQ===", "auth.malformed"},
      {"pad in middle", "Basic YQ==YQ==", "auth.malformed"},
      {"bad length", "Basic YWJjZ", "auth.malformed"},
      {"trailing bits", "Basic YWJjZGV=", "auth.malformed"},  // "abcde" is YWJjZGU=
      {"no colon", "Basic " + b64("alice"), "auth.malformed"},
      {"empty user", "Basic " + b64(":password"), "auth.malformed"},
      {"empty after backslash", "Basic " + b64("CORP\\:pw"), "auth.malformed"},
      {"empty local part", "Basic " + b64("@example.test:pw"), "auth.malformed"},
      {"empty domain", "Basic " + b64("alice@:pw"), "auth.malformed"},
      {"NUL in user", "Basic " + b64(nul_inside), "auth.malformed"},
      {"NUL in password", "Basic " + b64(std::string("a:p\0w", 5)), "auth.malformed"},
      {"CRLF in password", "Basic " + b64("a:p\r\nA1 LOGOUT"), "auth.malformed"},
      {"NUL in header", std::string("Basic \0YTpi", 11), "auth.malformed"},
      {"huge header", "Basic " + std::string(1 << 20, 'A'), "auth.malformed"},
      {"just over the limit", "Basic " + std::string(eas::auth::kMaxAuthorizationBytes, 'A'),
       "auth.malformed"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    auto r = parseBasicAuthorization(c.header, "example.test");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().reason() == c.reason);
    CHECK(r.status().code() == eas::StatusCode::kUnauthenticated);
  }
}

TEST_CASE("a header at the size limit still parses") {
  std::string pw(eas::auth::kMaxAuthorizationBytes, 'p');
  std::string header;
  do {
    pw.pop_back();
    header = "Basic " + b64("a@b.test:" + pw);
  } while (header.size() > eas::auth::kMaxAuthorizationBytes);
  auto r = parseBasicAuthorization(header, "");
  REQUIRE(r.ok());
  CHECK(r->password == pw);
}
