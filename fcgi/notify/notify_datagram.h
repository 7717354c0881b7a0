// The change-event datagram (wire format: fcgi/notify/README.md). Sources
// (Dovecot's Lua script, `easctl notify`) encode it; eas-notifyd decodes,
// authenticates (HMAC-SHA256 over a shared secret) and checks it against a
// replay window. Pure functions and one small stateful guard; nothing here
// throws or does I/O except readSecretFile() and randomNonce().
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_set>

#include "core/base/status.h"
#include "fcgi/notify/notify_client.h"

namespace eas::notify {

inline constexpr std::string_view kDatagramMagic = "EASN";
inline constexpr std::uint8_t kDatagramVersion = 1;
inline constexpr std::size_t kNonceBytes = 16;
inline constexpr std::size_t kMacBytes = 32;
// magic, version, timestamp, nonce
inline constexpr std::size_t kHeaderBytes = 4 + 1 + 8 + kNonceBytes;
inline constexpr std::size_t kMaxUserBytes = 256;
inline constexpr std::size_t kMaxSourceBytes = 16;
inline constexpr std::size_t kMaxFolderBytes = 1024;
inline constexpr std::size_t kMaxKindBytes = 32;
// Header + the four length-prefixed fields at their limits + MAC.
inline constexpr std::size_t kMaxDatagramBytes = kHeaderBytes + 2 + kMaxUserBytes + 1 +
                                                 kMaxSourceBytes + 2 + kMaxFolderBytes + 1 +
                                                 kMaxKindBytes + kMacBytes;
inline constexpr std::size_t kMinSecretBytes = 16;

struct Datagram {
  ChangeEvent event;
  std::int64_t timestamp = 0;  // unix seconds at the source
  std::string nonce;           // kNonceBytes raw bytes
};

// True for the kinds ChangeEvent documents ("new", "flags", ...).
bool isKnownKind(std::string_view kind);

// Checks the fields a datagram may carry: user 1..256 bytes, source 1..16 of
// [a-z0-9_-], folder 0..1024, kind one of the known kinds; all valid UTF-8
// without control characters. Reasons: notify.bad_field, notify.bad_utf8,
// notify.bad_kind, notify.oversized.
Status validateEvent(const ChangeEvent& event);

// REQUIRES: nonce.size() == kNonceBytes, secret non-empty. Fails with the
// validateEvent() reasons (nothing is encoded that notifyd would drop).
Result<std::string> encodeDatagram(const ChangeEvent& event, std::int64_t timestamp,
                                   std::string_view nonce, std::string_view secret);

// Structure and MAC only (no clock): the replay window is ReplayGuard's.
// Reasons: notify.truncated, notify.oversized, notify.bad_magic,
// notify.bad_version, notify.bad_hmac (unauthenticated), notify.trailing,
// and the validateEvent() ones. The MAC is checked before any field is read.
Result<Datagram> decodeDatagram(std::string_view bytes, std::string_view secret);

// "unauthenticated" for notify.bad_hmac, "replayed" for notify.replayed and
// notify.too_old / notify.from_future, "malformed" for everything else.
std::string_view dropCategory(const Status& s);

// kNonceBytes from the OpenSSL RNG.
std::string randomNonce();

// The secret: the file's bytes with trailing CR/LF removed; at least
// kMinSecretBytes. Reasons: notify.secret_unreadable, notify.secret_short.
Result<std::string> readSecretFile(const std::string& path);

// Rejects datagrams outside [now - window, now + window] (notify.too_old,
// notify.from_future) and any nonce seen within the window (notify.replayed).
// Remembers at most max_nonces (the oldest are forgotten first; a flood can
// then only replay what is older than the flood). Not thread-safe.
class ReplayGuard {
 public:
  explicit ReplayGuard(std::int64_t window_seconds, std::size_t max_nonces = 100000);
  Status admit(const Datagram& d, std::int64_t now_unix_seconds);
  std::size_t remembered() const { return order_.size(); }

 private:
  void expire(std::int64_t now);

  const std::int64_t window_;
  const std::size_t max_nonces_;
  struct Seen {
    std::int64_t timestamp;
    std::string nonce;
  };
  std::deque<Seen> order_;  // in arrival order
  std::unordered_set<std::string> nonces_;
};

}  // namespace eas::notify
