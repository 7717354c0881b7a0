// Authentication seam of the HTTP layer (MS-ASHTTP §2.2.1.1.2.2, Basic).
// The runtime calls Authenticator::authenticate() once per request; the
// implementation verifies against the IMAP server through a
// CredentialVerifier, caches successes by a salted hash and throttles
// failures per user and per client address. Clear passwords are never
// logged or stored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/base/clock.h"
#include "core/base/status.h"

namespace eas::auth {

// What "Authorization: Basic ..." carried, normalised.
struct Credentials {
  std::string raw_user;  // as the device sent it: "DOMAIN\\user", "user@domain", "user"
  std::string login;     // the address used everywhere else: "user@domain"
  std::string password;  // never logged, never stored
};

// Parses an Authorization header value. Failures: auth.missing (empty),
// auth.not_basic, auth.malformed (bad base64, no colon, empty user, NUL/CR/LF
// in the decoded pair, a header longer than kMaxAuthorizationBytes).
// The user is normalised into `login`: "DOMAIN\\user" -> user@default_domain
// (or the part after the backslash when it holds an '@'), "user@Domain" ->
// user@domain, "user" -> user@default_domain (just "user" when
// default_domain is empty). The password is split off at the first colon.
inline constexpr std::size_t kMaxAuthorizationBytes = 8192;
Result<Credentials> parseBasicAuthorization(std::string_view header_value,
                                            std::string_view default_domain);

struct AuthenticatedUser {
  std::string login;  // "user@domain", lower-cased domain
  std::string raw_user;
};

// Checks one login/password pair against the authority (the IMAP server).
// OK, or Unauthenticated("auth.bad_credentials"), or
// Unavailable("auth.backend_unavailable") when the server cannot be reached.
class CredentialVerifier {
 public:
  virtual ~CredentialVerifier() = default;
  virtual Status verify(const std::string& login, const std::string& password) = 0;
};

struct AuthConfig {
  std::string imap_host = "127.0.0.1";
  int imap_port = 143;
  enum class Tls { kNone, kStartTls, kImaps } imap_tls = Tls::kNone;
  bool tls_verify = true;
  std::string default_domain;        // appended to a bare "user"
  int cache_ttl_seconds = 300;       // lifetime of a verified credential
  int max_failures = 5;              // per user and per client address ...
  int failure_window_seconds = 300;  // ... within this window ...
  int lockout_seconds = 900;         // ... locks out for this long
  std::string realm = "eas-fcgi";    // WWW-Authenticate realm
  int imap_timeout_seconds = 10;     // connect, TLS handshake and each read
  std::string tls_ca_file;           // extra CA bundle (PEM) for tls_verify; empty: system store
  std::size_t cache_max_entries = 10000;      // verified logins kept (oldest evicted)
  std::size_t throttle_max_entries = 100000;  // users + addresses tracked (idle evicted first)
  // Failure throttle state shared by every worker of a server: a file that
  // each worker maps (created 0600 if missing, its directory must exist).
  // Empty, or a file that cannot be used (an error line): each process
  // counts on its own. See fcgi/auth/README.md.
  std::string throttle_state_path;
};

// Thread-safe: one instance per worker, called from every request thread.
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // `client_address` is what nginx passes (REMOTE_ADDR).
  // Failures: the parse failures above, auth.bad_credentials, auth.locked_out
  // (throttled; answered like a bad password), auth.backend_unavailable.
  virtual Result<AuthenticatedUser> authenticate(std::string_view authorization_header,
                                                 std::string_view client_address) = 0;
};

std::unique_ptr<CredentialVerifier> makeImapVerifier(const AuthConfig& config);
std::unique_ptr<Authenticator> makeAuthenticator(const AuthConfig& config,
                                                 std::unique_ptr<CredentialVerifier> verifier,
                                                 Clock& clock = Clock::real());

}  // namespace eas::auth
