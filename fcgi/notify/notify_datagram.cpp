#include "fcgi/notify/notify_datagram.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <limits>

namespace eas::notify {
namespace {

constexpr std::array<std::string_view, 8> kKinds = {
    "new", "flags", "expunge", "append", "folder_create", "folder_delete", "folder_rename",
    "change"};

// Strict UTF-8 (no overlongs, surrogates or code points above U+10FFFF) and
// no C0 control characters or DEL: these names end up in log lines.
bool cleanUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) return false;
      ++i;
      continue;
    }
    std::size_t n;
    std::uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i - 1 < n) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += n + 1;
  }
  return true;
}

bool sourceToken(std::string_view s) {
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  }
  return true;
}

std::string mac(std::string_view data, std::string_view secret) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

void putU64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

// A cursor over the authenticated body.
class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  bool field(std::size_t len_bytes, std::string* out) {
    if (b_.size() - pos_ < len_bytes) return false;
    std::size_t len = 0;
    for (std::size_t k = 0; k < len_bytes; ++k)
      len = (len << 8) | static_cast<unsigned char>(b_[pos_ + k]);
    pos_ += len_bytes;
    if (b_.size() - pos_ < len) return false;
    out->assign(b_.substr(pos_, len));
    pos_ += len;
    return true;
  }
  bool atEnd() const { return pos_ == b_.size(); }
  void skip(std::size_t n) { pos_ += n; }

 private:
  std::string_view b_;
  std::size_t pos_ = 0;
};

}  // namespace

bool isKnownKind(std::string_view kind) {
  for (std::string_view k : kKinds)
    if (k == kind) return true;
  return false;
}

Status validateEvent(const ChangeEvent& e) {
  if (e.user.empty()) return Status::InvalidArgument("notify.bad_field", "empty user");
  if (e.source.empty()) return Status::InvalidArgument("notify.bad_field", "empty source");
  if (e.user.size() > kMaxUserBytes || e.source.size() > kMaxSourceBytes ||
      e.folder.size() > kMaxFolderBytes || e.kind.size() > kMaxKindBytes)
    return Status::LimitExceeded("notify.oversized", "a field is longer than its limit");
  if (!sourceToken(e.source))
    return Status::InvalidArgument("notify.bad_field", "source must be [a-z0-9_-]");
  if (!cleanUtf8(e.user) || !cleanUtf8(e.folder))
    return Status::InvalidArgument("notify.bad_utf8",
                                   "user or folder is not UTF-8 or has control characters");
  if (!isKnownKind(e.kind)) return Status::InvalidArgument("notify.bad_kind", "unknown kind");
  return Status::Ok();
}

Result<std::string> encodeDatagram(const ChangeEvent& e, std::int64_t timestamp,
                                   std::string_view nonce, std::string_view secret) {
  EAS_RETURN_IF_ERROR(validateEvent(e));
  if (nonce.size() != kNonceBytes)
    return Status::InvalidArgument("notify.bad_nonce", "nonce must be 16 bytes");
  if (secret.empty()) return Status::InvalidArgument("notify.secret_short", "empty secret");
  std::string out;
  out.reserve(kMaxDatagramBytes);
  out.append(kDatagramMagic);
  out.push_back(static_cast<char>(kDatagramVersion));
  putU64(out, static_cast<std::uint64_t>(timestamp));
  out.append(nonce);
  auto field = [&out](std::size_t len_bytes, const std::string& v) {
    if (len_bytes == 2) out.push_back(static_cast<char>((v.size() >> 8) & 0xff));
    out.push_back(static_cast<char>(v.size() & 0xff));
    out.append(v);
  };
  field(2, e.user);
  field(1, e.source);
  field(2, e.folder);
  field(1, e.kind);
  out.append(mac(out, secret));
  return out;
}

Result<Datagram> decodeDatagram(std::string_view bytes, std::string_view secret) {
  if (bytes.size() > kMaxDatagramBytes)
    return Status::LimitExceeded("notify.oversized", "datagram of " +
                                                         std::to_string(bytes.size()) + " bytes");
  if (bytes.size() < kDatagramMagic.size() ||
      bytes.substr(0, kDatagramMagic.size()) != kDatagramMagic) {
    if (bytes.size() < kDatagramMagic.size() &&
        kDatagramMagic.substr(0, bytes.size()) == bytes)
      return Status::InvalidArgument("notify.truncated", "shorter than the magic");
    return Status::InvalidArgument("notify.bad_magic", "not an eas-notify datagram");
  }
  if (bytes.size() < kDatagramMagic.size() + 1)
    return Status::InvalidArgument("notify.truncated", "no version");
  if (static_cast<unsigned char>(bytes[4]) != kDatagramVersion)
    return Status::NotSupported("notify.bad_version",
                                "version " + std::to_string(static_cast<unsigned char>(bytes[4])));
  // The smallest body: header, user len 2 + 1 byte, source 1 + 1, folder 2, kind 1 + 1.
  if (bytes.size() < kHeaderBytes + 9 + kMacBytes)
    return Status::InvalidArgument("notify.truncated",
                                   "datagram of " + std::to_string(bytes.size()) + " bytes");
  const std::string_view body = bytes.substr(0, bytes.size() - kMacBytes);
  const std::string expected = mac(body, secret);
  if (secret.empty() ||
      CRYPTO_memcmp(expected.data(), bytes.data() + body.size(), kMacBytes) != 0)
    return Status::Unauthenticated("notify.bad_hmac", "HMAC does not match");

  Datagram d;
  std::uint64_t ts = 0;
  for (std::size_t k = 0; k < 8; ++k) ts = (ts << 8) | static_cast<unsigned char>(body[5 + k]);
  d.timestamp = static_cast<std::int64_t>(ts);
  d.nonce.assign(body.substr(13, kNonceBytes));
  Reader r(body);
  r.skip(kHeaderBytes);
  if (!r.field(2, &d.event.user) || !r.field(1, &d.event.source) ||
      !r.field(2, &d.event.folder) || !r.field(1, &d.event.kind))
    return Status::InvalidArgument("notify.truncated", "a field runs past the end");
  if (!r.atEnd()) return Status::InvalidArgument("notify.trailing", "bytes after the last field");
  if (d.timestamp < 0) return Status::InvalidArgument("notify.bad_field", "timestamp");
  EAS_RETURN_IF_ERROR(validateEvent(d.event));
  return d;
}

std::string_view dropCategory(const Status& s) {
  if (s.reason() == "notify.bad_hmac") return "unauthenticated";
  if (s.reason() == "notify.replayed" || s.reason() == "notify.too_old" ||
      s.reason() == "notify.from_future")
    return "replayed";
  return "malformed";
}

std::string randomNonce() {
  std::string n(kNonceBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(n.data()), static_cast<int>(n.size())) != 1) {
    // The RNG failing is a broken machine; a time-based nonce still differs per call.
    static std::atomic<std::uint64_t> counter{0};
    const auto t = static_cast<std::uint64_t>(
        std::chrono::system_clock::now().time_since_epoch().count());
    for (std::size_t k = 0; k < 8; ++k) n[k] = static_cast<char>((t >> (8 * k)) & 0xff);
    for (std::size_t k = 0; k < 8; ++k) n[8 + k] = static_cast<char>((++counter >> (8 * k)) & 0xff);
  }
  return n;
}

Result<std::string> readSecretFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("notify.secret_unreadable", "cannot read " + path);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  if (s.size() < kMinSecretBytes)
    return Status::InvalidArgument("notify.secret_short",
                                   path + " holds fewer than 16 bytes");
  return s;
}

ReplayGuard::ReplayGuard(std::int64_t window_seconds, std::size_t max_nonces)
    : window_(window_seconds), max_nonces_(max_nonces == 0 ? 1 : max_nonces) {}

namespace {
// Timestamps come off the wire (any value up to INT64_MAX), so the window
// edges saturate instead of overflowing.
std::int64_t saturatingAdd(std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  if (!__builtin_add_overflow(a, b, &r)) return r;
  return b > 0 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
}
}  // namespace

void ReplayGuard::expire(std::int64_t now) {
  const std::int64_t oldest = saturatingAdd(now, -window_);
  while (!order_.empty() && (order_.front().timestamp < oldest ||
                             order_.size() > max_nonces_)) {
    nonces_.erase(order_.front().nonce);
    order_.pop_front();
  }
}

Status ReplayGuard::admit(const Datagram& d, std::int64_t now) {
  if (d.timestamp < saturatingAdd(now, -window_))
    return Status::InvalidArgument("notify.too_old", "timestamp " + std::to_string(d.timestamp) +
                                                         " is older than the window");
  if (d.timestamp > saturatingAdd(now, window_))
    return Status::InvalidArgument("notify.from_future",
                                   "timestamp " + std::to_string(d.timestamp) + " is ahead");
  expire(now);
  if (nonces_.count(d.nonce) != 0)
    return Status::InvalidArgument("notify.replayed", "nonce seen before");
  nonces_.insert(d.nonce);
  order_.push_back({d.timestamp, d.nonce});
  if (order_.size() > max_nonces_) expire(now);
  return Status::Ok();
}

}  // namespace eas::notify
