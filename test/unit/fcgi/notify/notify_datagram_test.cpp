// The change-event datagram: good ones round-trip; every way a datagram can
// be bad is rejected with its reason token (table-driven).
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "fcgi/notify/notify_datagram.h"

namespace n = eas::notify;

namespace {

const std::string kSecret = "0123456789abcdef-test-secret";
const std::string kNonce(n::kNonceBytes, '\x07');
constexpr std::int64_t kNow = 1'800'000'000;

n::ChangeEvent event(std::string user = "alice@example.test", std::string folder = "INBOX",
                     std::string kind = "new", std::string source = "imap") {
  return n::ChangeEvent{std::move(user), std::move(source), std::move(folder), std::move(kind)};
}

std::string good(const n::ChangeEvent& e = event(), std::int64_t ts = kNow,
                 const std::string& nonce = kNonce) {
  auto d = n::encodeDatagram(e, ts, nonce, kSecret);
  REQUIRE(d.ok());
  return *d;
}

// A body built by hand (fields as given, not validated) and signed, so that
// decode gets past the MAC and the field checks are what is tested.
std::string signedRaw(const std::string& user, const std::string& source,
                      const std::string& folder, const std::string& kind,
                      const std::string& extra = "", int version = 1) {
  std::string b = "EASN";
  b.push_back(static_cast<char>(version));
  for (int shift = 56; shift >= 0; shift -= 8)
    b.push_back(static_cast<char>((static_cast<std::uint64_t>(kNow) >> shift) & 0xff));
  b += kNonce;
  b.push_back(static_cast<char>(user.size() >> 8));
  b.push_back(static_cast<char>(user.size() & 0xff));
  b += user;
  b.push_back(static_cast<char>(source.size()));
  b += source;
  b.push_back(static_cast<char>(folder.size() >> 8));
  b.push_back(static_cast<char>(folder.size() & 0xff));
  b += folder;
  b.push_back(static_cast<char>(kind.size()));
  b += kind;
  b += extra;
  // Sign by encoding a valid event and swapping its body: simpler to reuse
  // the library's MAC through a datagram whose body is ours.
  return b;
}

std::string withMac(const std::string& body, const std::string& secret = kSecret);

}  // namespace

// HMAC over `body` computed independently of the codec (OpenSSL one-shot).
#include <openssl/evp.h>
#include <openssl/hmac.h>
namespace {
std::string withMac(const std::string& body, const std::string& secret) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), out, &len);
  return body + std::string(reinterpret_cast<const char*>(out), len);
}
}  // namespace

TEST_CASE("a good datagram round-trips", "[notify]") {
  const auto e = event("bob@example.test", "Entwürfe", "flags");
  const std::string bytes = good(e, kNow + 3);
  // The independent MAC agrees with the codec's: the format is what README.md says.
  CHECK(bytes == withMac(bytes.substr(0, bytes.size() - n::kMacBytes)));
  auto d = n::decodeDatagram(bytes, kSecret);
  REQUIRE(d.ok());
  CHECK(d->event.user == "bob@example.test");
  CHECK(d->event.source == "imap");
  CHECK(d->event.folder == "Entwürfe");
  CHECK(d->event.kind == "flags");
  CHECK(d->timestamp == kNow + 3);
  CHECK(d->nonce == kNonce);
  CHECK(bytes.substr(0, 5) == std::string("EASN\x01", 5));
}

TEST_CASE("every kind and an empty folder are accepted", "[notify]") {
  for (const char* k : {"new", "flags", "expunge", "append", "folder_create", "folder_delete",
                        "folder_rename", "change"}) {
    auto d = n::decodeDatagram(good(event("u@x", "", k, "dav")), kSecret);
    REQUIRE(d.ok());
    CHECK(d->event.kind == k);
    CHECK(d->event.folder.empty());
  }
}

TEST_CASE("fields at their limits are accepted, one byte more is not", "[notify]") {
  const std::string user(n::kMaxUserBytes, 'u');
  const std::string folder(n::kMaxFolderBytes, 'f');
  const std::string max = good(event(user, folder, "folder_rename", std::string(16, 's')));
  // The longest kind is 13 bytes, under the 32 the format allows.
  CHECK(max.size() == n::kMaxDatagramBytes - (n::kMaxKindBytes - 13));
  CHECK(n::decodeDatagram(max, kSecret).ok());
  auto over = n::encodeDatagram(event(user + "u", folder), kNow, kNonce, kSecret);
  REQUIRE(!over.ok());
  CHECK(over.status().reason() == "notify.oversized");
}

TEST_CASE("bad datagrams are rejected with their reason", "[notify]") {
  const std::string ok = good();
  std::string flipped_mac = ok;
  flipped_mac.back() = static_cast<char>(flipped_mac.back() ^ 1);
  std::string flipped_body = ok;
  flipped_body[40] = static_cast<char>(flipped_body[40] ^ 0x20);  // inside the user
  const std::string wrong_secret = *n::encodeDatagram(event(), kNow, kNonce,
                                                     "another-secret-of-16+");
  std::string v2 = ok;
  v2[4] = 2;

  struct Row {
    const char* name;
    std::string bytes;
    const char* reason;
  };
  const std::vector<Row> rows = {
      {"empty", "", "notify.truncated"},
      {"magic only", "EASN", "notify.truncated"},
      {"prefix of magic", "EA", "notify.truncated"},
      {"wrong magic", "XASN" + ok.substr(4), "notify.bad_magic"},
      {"text", "hello world, this is not a datagram at all........", "notify.bad_magic"},
      {"version 2", v2, "notify.bad_version"},
      {"header only", ok.substr(0, n::kHeaderBytes), "notify.truncated"},
      {"forged: MAC flipped", flipped_mac, "notify.bad_hmac"},
      {"forged: body changed", flipped_body, "notify.bad_hmac"},
      {"wrong secret", wrong_secret, "notify.bad_hmac"},
      {"MAC cut off", ok.substr(0, ok.size() - 1), "notify.bad_hmac"},
      {"oversized", ok + std::string(n::kMaxDatagramBytes, 'x'), "notify.oversized"},
      {"field past the end", withMac(signedRaw("alice", "imap", "INBOX", "new").substr(0, 45)),
       "notify.truncated"},
      {"trailing bytes", withMac(signedRaw("alice", "imap", "INBOX", "new", "zz")),
       "notify.trailing"},
      {"empty user", withMac(signedRaw("", "imap", "INBOX", "new")), "notify.bad_field"},
      {"source with upper case", withMac(signedRaw("alice", "IMAP", "INBOX", "new")),
       "notify.bad_field"},
      {"unknown kind", withMac(signedRaw("alice", "imap", "INBOX", "explode")),
       "notify.bad_kind"},
      {"bad UTF-8 in folder", withMac(signedRaw("alice", "imap", "IN\xff" "BOX", "new")),
       "notify.bad_utf8"},
      {"overlong UTF-8", withMac(signedRaw("alice", "imap", "\xc0\xaf", "new")),
       "notify.bad_utf8"},
      {"surrogate", withMac(signedRaw("alice", "imap", "\xed\xa0\x80", "new")),
       "notify.bad_utf8"},
      {"cut UTF-8 sequence", withMac(signedRaw("alice", "imap", "ab\xe2\x82", "new")),
       "notify.bad_utf8"},
      {"newline in user (log forging)", withMac(signedRaw("alice\nroot", "imap", "INBOX", "new")),
       "notify.bad_utf8"},
      {"field over its limit", withMac(signedRaw(std::string(300, 'u'), "imap", "INBOX", "new")),
       "notify.oversized"},
  };
  for (const Row& r : rows) {
    INFO(r.name);
    auto d = n::decodeDatagram(r.bytes, kSecret);
    REQUIRE(!d.ok());
    CHECK(d.status().reason() == r.reason);
  }
}

TEST_CASE("truncation at every length is rejected, never accepted", "[notify]") {
  const std::string ok = good();
  for (std::size_t len = 0; len < ok.size(); ++len) {
    INFO(len);
    auto d = n::decodeDatagram(ok.substr(0, len), kSecret);
    REQUIRE(!d.ok());
    const std::string r = d.status().reason();
    CHECK((r == "notify.truncated" || r == "notify.bad_hmac"));
  }
}

TEST_CASE("the encoder refuses what the decoder would drop", "[notify]") {
  CHECK(n::encodeDatagram(event(""), kNow, kNonce, kSecret).status().reason() ==
        "notify.bad_field");
  CHECK(n::encodeDatagram(event("a", "x", "boom"), kNow, kNonce, kSecret).status().reason() ==
        "notify.bad_kind");
  CHECK(n::encodeDatagram(event("a\xff"), kNow, kNonce, kSecret).status().reason() ==
        "notify.bad_utf8");
  CHECK(n::encodeDatagram(event(), kNow, "short", kSecret).status().reason() ==
        "notify.bad_nonce");
}

TEST_CASE("replay window: too old, from the future, replayed", "[notify]") {
  n::ReplayGuard guard(60);
  auto decode = [](const std::string& b) { return *n::decodeDatagram(b, kSecret); };
  const auto first = decode(good(event(), kNow));
  CHECK(guard.admit(first, kNow).ok());
  CHECK(guard.admit(first, kNow + 1).reason() == "notify.replayed");
  // Same nonce, other content: still a replay (the nonce is what is remembered).
  CHECK(guard.admit(decode(good(event("bob@x"), kNow)), kNow).reason() == "notify.replayed");
  CHECK(guard.admit(decode(good(event(), kNow - 61, std::string(16, 'a'))), kNow).reason() ==
        "notify.too_old");
  CHECK(guard.admit(decode(good(event(), kNow + 61, std::string(16, 'b'))), kNow).reason() ==
        "notify.from_future");
  CHECK(guard.admit(decode(good(event(), kNow - 60, std::string(16, 'c'))), kNow).ok());
  CHECK(guard.admit(decode(good(event(), kNow + 60, std::string(16, 'd'))), kNow).ok());
  CHECK(n::dropCategory(guard.admit(first, kNow)) == "replayed");
  CHECK(n::dropCategory(eas::Status::Unauthenticated("notify.bad_hmac")) == "unauthenticated");
  CHECK(n::dropCategory(eas::Status::InvalidArgument("notify.bad_utf8")) == "malformed");
}

// A signed datagram may carry any timestamp up to INT64_MAX (the fuzzer found
// one); the window check must refuse it, not overflow.
TEST_CASE("replay guard refuses timestamps at the edges of int64 without overflow") {
  n::ReplayGuard guard(60);
  n::Datagram d;
  d.nonce = std::string(16, 'z');
  d.timestamp = std::numeric_limits<std::int64_t>::max();
  CHECK(guard.admit(d, kNow).reason() == "notify.from_future");
  d.timestamp = 0;
  CHECK(guard.admit(d, kNow).reason() == "notify.too_old");
  // A clock at the very end of the range still admits its own time.
  d.timestamp = std::numeric_limits<std::int64_t>::max();
  CHECK(guard.admit(d, std::numeric_limits<std::int64_t>::max()).ok());
  d.nonce = std::string(16, 'y');
  d.timestamp = 0;
  CHECK(guard.admit(d, 0).ok());
  CHECK(guard.admit(d, std::numeric_limits<std::int64_t>::min()).reason() == "notify.from_future");
}

TEST_CASE("replay guard forgets nonces older than the window and stays bounded", "[notify]") {
  n::ReplayGuard guard(10, 100);
  for (int i = 0; i < 500; ++i) {
    n::Datagram d;
    d.timestamp = kNow;
    d.nonce = std::to_string(i);
    REQUIRE(guard.admit(d, kNow).ok());
  }
  CHECK(guard.remembered() <= 100);
  n::Datagram late;
  late.timestamp = kNow + 20;
  late.nonce = "late";
  REQUIRE(guard.admit(late, kNow + 20).ok());
  CHECK(guard.remembered() == 1);  // everything from kNow has left the window
}

TEST_CASE("random nonces differ; the secret file is read and checked", "[notify]") {
  CHECK(n::randomNonce().size() == n::kNonceBytes);
  CHECK(n::randomNonce() != n::randomNonce());
  const std::string path = std::string(EAS_BINARY_DIR) + "/notify_secret_test.txt";
  std::ofstream(path) << "0123456789abcdefXYZ\n";
  auto s = n::readSecretFile(path);
  REQUIRE(s.ok());
  CHECK(*s == "0123456789abcdefXYZ");
  std::ofstream(path) << "short\n";
  CHECK(n::readSecretFile(path).status().reason() == "notify.secret_short");
  std::remove(path.c_str());
  CHECK(n::readSecretFile(path).status().reason() == "notify.secret_unreadable");
}
