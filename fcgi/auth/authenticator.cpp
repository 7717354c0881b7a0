// The Authenticator: Basic parsing, a cache of verified credentials and the
// failure throttle in front of a CredentialVerifier (the IMAP server).
//
// Cache: one entry per login holding SHA-256(salt || login || NUL ||
// password) and an expiry; the salt is random per instance, so the digests
// are useless outside this process. A different password for the same login
// misses and goes to the verifier; a verified one replaces the entry.
//
// Throttle (FailureThrottle, per process or shared by the workers through a
// file): the failure times of each user and of each client address (an IPv6
// client by its /64) within failure_window_seconds. The failure that makes
// the count exceed max_failures locks that user / address for
// lockout_seconds; while locked, every attempt is refused with
// auth.locked_out without asking the verifier, even with the right password
// (else the lock-out would still answer the guesses), and a success
// elsewhere does not lift it. Each verification is admitted by the throttle
// first, so parallel attempts in other workers cannot overrun the limit.
//
// One mutex guards the cache; the verifier runs outside it, one
// verification per login at a time (others for that login wait and re-check).
#include "fcgi/auth/authenticator.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/base/log.h"
#include "fcgi/auth/failure_throttle.h"

namespace eas::auth {
namespace {

using Digest = std::array<unsigned char, 32>;

// For log lines: printable ASCII only, bounded; never given a password.
std::string printable(std::string_view s) {
  constexpr std::size_t kMax = 128;
  std::string out;
  out.reserve(std::min(s.size(), kMax) + 3);
  for (std::size_t i = 0; i < s.size() && i < kMax; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    out.push_back(c >= 0x20 && c < 0x7f && c != ' ' ? static_cast<char>(c) : '?');
  }
  if (s.size() > kMax) out += "...";
  if (out.empty()) out = "-";
  return out;
}

std::string lowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// The throttling key of a client address: IPv4 as is, IPv6 by its /64 (one
// host usually owns a whole /64 and could rotate through it), v4-mapped IPv6
// as the IPv4 address. Anything unparsable is used verbatim.
std::string addressKey(std::string_view address) {
  const std::string a(address);
  in6_addr v6{};
  if (a.find(':') == std::string::npos || inet_pton(AF_INET6, a.c_str(), &v6) != 1) return a;
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  char buf[INET6_ADDRSTRLEN] = {};
  if (std::memcmp(v6.s6_addr, kMapped, sizeof kMapped) == 0) {
    in_addr v4{};
    std::memcpy(&v4, v6.s6_addr + 12, 4);
    return inet_ntop(AF_INET, &v4, buf, sizeof buf) != nullptr ? std::string(buf) : a;
  }
  std::memset(v6.s6_addr + 8, 0, 8);
  if (inet_ntop(AF_INET6, &v6, buf, sizeof buf) == nullptr) return a;
  return std::string(buf) + "/64";
}

// Clears a std::string's bytes before it is freed.
class Wiper {
 public:
  explicit Wiper(std::string& s) : s_(s) {}
  ~Wiper() {
    if (!s_.empty()) OPENSSL_cleanse(s_.data(), s_.size());
  }
  Wiper(const Wiper&) = delete;
  Wiper& operator=(const Wiper&) = delete;

 private:
  std::string& s_;
};

class CachingAuthenticator final : public Authenticator {
 public:
  CachingAuthenticator(const AuthConfig& config, std::unique_ptr<CredentialVerifier> verifier,
                       Clock& clock, std::unique_ptr<FailureThrottle> throttle)
      : config_(config),
        verifier_(std::move(verifier)),
        clock_(clock),
        throttle_(std::move(throttle)) {
    if (RAND_bytes(salt_.data(), static_cast<int>(salt_.size())) != 1) {
      std::random_device rd;  // the OpenSSL RNG failing is unheard of; still salt
      for (auto& b : salt_) b = static_cast<unsigned char>(rd());
    }
  }

  Result<AuthenticatedUser> authenticate(std::string_view authorization_header,
                                         std::string_view client_address) override {
    Result<Credentials> parsed =
        parseBasicAuthorization(authorization_header, config_.default_domain);
    if (!parsed.ok()) {
      const Status& st = parsed.status();
      if (st.reason() == "auth.missing") {
        log::debug("auth: no credentials addr=" + printable(client_address));
      } else {
        log::info("auth: reject reason=" + st.reason() + " addr=" + printable(client_address));
      }
      return st;
    }
    Credentials& creds = parsed.value();
    Wiper wipe(creds.password);
    const std::string user_key = lowerAscii(creds.login);
    const std::string addr_key = addressKey(client_address);
    std::vector<std::string> keys = {"u:" + user_key};
    if (!addr_key.empty()) keys.push_back("a:" + addr_key);
    const auto lockedOut = [&](std::size_t key_index, std::int64_t until, std::int64_t now) {
      log::warn("auth: reject reason=auth.locked_out user=" + printable(creds.login) +
                " addr=" + printable(client_address) +
                " locked_by=" + (key_index == 0 ? "user" : "address") +
                " remaining_s=" + std::to_string((until - now + 999) / 1000));
      return Status::Unauthenticated("auth.locked_out", "too many failed logins");
    };

    const Digest digest = digestOf(creds.login, creds.password);
    std::unique_lock<std::mutex> lock(mu_);
    // One verification per login at a time: parallel requests of a device
    // wait for the first one (and then hit the cache), and parallel guesses
    // cannot overrun max_failures before the lock-out is recorded.
    for (;;) {
      const std::int64_t now = clock_.monotonicMs();
      std::size_t locked_by = 0;
      if (const std::int64_t until = throttle_->lockedUntil(keys, now, &locked_by); until != 0) {
        lock.unlock();  // never write log lines under the mutex
        return lockedOut(locked_by, until, now);
      }
      auto it = cache_.find(user_key);
      if (it != cache_.end() && now < it->second.expires_ms &&
          CRYPTO_memcmp(it->second.digest.data(), digest.data(), digest.size()) == 0) {
        return AuthenticatedUser{creds.login, creds.raw_user};
      }
      if (!in_flight_.insert(user_key).second) {
        in_flight_done_.wait(lock);
        continue;
      }
      const FailureThrottle::Admission admission = throttle_->admit(keys, now);
      if (admission.kind == FailureThrottle::Admission::Kind::kProceed) break;
      in_flight_.erase(user_key);
      in_flight_done_.notify_all();
      if (admission.kind == FailureThrottle::Admission::Kind::kLocked) {
        lock.unlock();
        return lockedOut(admission.key_index, admission.locked_until_ms, now);
      }
      // kBusy: attempts in flight (maybe in other workers) could reach the
      // limit; wait until they are decided.
      in_flight_done_.wait_for(lock, std::chrono::milliseconds(10));
    }
    InFlight in_flight(*this, lock, user_key, keys);

    lock.unlock();
    Status verified = creds.password.empty()
                          ? Status::Unauthenticated("auth.bad_credentials", "empty password")
                          : verifier_->verify(creds.login, creds.password);
    lock.lock();

    const std::int64_t now = clock_.monotonicMs();
    const bool bad_credentials = verified.reason() == "auth.bad_credentials";
    const FailureThrottle::Outcome outcome = in_flight.finish(now, bad_credentials);
    if (verified.ok()) {
      if (config_.cache_ttl_seconds > 0 && config_.cache_max_entries > 0) {
        if (cache_.size() >= config_.cache_max_entries && cache_.find(user_key) == cache_.end())
          evictCache(now);
        cache_[user_key] = CacheEntry{digest, now + config_.cache_ttl_seconds * 1000LL, now};
      }
      return AuthenticatedUser{creds.login, creds.raw_user};
    }
    if (bad_credentials) {
      const bool user_locked = outcome.locked_now[0];
      const bool addr_locked = keys.size() > 1 && outcome.locked_now[1];
      const int user_failures = outcome.failures[0];
      const int addr_failures = keys.size() > 1 ? outcome.failures[1] : 0;
      lock.unlock();
      if (user_locked)
        log::warn("auth: lock-out user=" + printable(user_key) +
                  " failures=" + std::to_string(user_failures) +
                  " seconds=" + std::to_string(config_.lockout_seconds));
      if (addr_locked)
        log::warn("auth: lock-out addr=" + printable(addr_key) +
                  " failures=" + std::to_string(addr_failures) +
                  " seconds=" + std::to_string(config_.lockout_seconds));
      log::warn("auth: reject reason=auth.bad_credentials user=" + printable(creds.login) +
                " addr=" + printable(client_address) + " user_failures=" +
                std::to_string(user_failures) + " addr_failures=" + std::to_string(addr_failures));
      return verified;
    }
    // The backend is down or answered something unexpected: not the user's
    // fault, so nothing is counted.
    lock.unlock();
    log::error("auth: reject reason=" + verified.reason() + " user=" + printable(creds.login) +
               " addr=" + printable(client_address) + " (" + verified.message() + ")");
    return verified;
  }

 private:
  // Marks a login as being verified and holds its admission by the
  // throttle. The destructor runs before `lock` is released (declared after
  // it), also when the verifier throws: it takes the lock back if needed,
  // ends the admission if finish() was not called, clears the mark and wakes
  // the waiters.
  class InFlight {
   public:
    InFlight(CachingAuthenticator& a, std::unique_lock<std::mutex>& lock, const std::string& key,
             const std::vector<std::string>& throttle_keys)
        : a_(a), lock_(lock), key_(key), throttle_keys_(throttle_keys) {}
    ~InFlight() {
      if (!lock_.owns_lock()) lock_.lock();
      if (!finished_) (void)a_.throttle_->finish(throttle_keys_, a_.clock_.monotonicMs(), false);
      a_.in_flight_.erase(key_);
      a_.in_flight_done_.notify_all();
    }
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;

    FailureThrottle::Outcome finish(std::int64_t now, bool failed) {
      finished_ = true;
      return a_.throttle_->finish(throttle_keys_, now, failed);
    }

   private:
    CachingAuthenticator& a_;
    std::unique_lock<std::mutex>& lock_;
    const std::string& key_;
    const std::vector<std::string>& throttle_keys_;
    bool finished_ = false;
  };

  struct CacheEntry {
    Digest digest;
    std::int64_t expires_ms = 0;
    std::int64_t inserted_ms = 0;
  };

  Digest digestOf(const std::string& login, const std::string& password) const {
    Digest out{};
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    unsigned int len = 0;
    const unsigned char nul = 0;
    bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1 &&
              EVP_DigestUpdate(ctx, salt_.data(), salt_.size()) == 1 &&
              EVP_DigestUpdate(ctx, login.data(), login.size()) == 1 &&
              EVP_DigestUpdate(ctx, &nul, 1) == 1 &&
              EVP_DigestUpdate(ctx, password.data(), password.size()) == 1 &&
              EVP_DigestFinal_ex(ctx, out.data(), &len) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) out.fill(0xff);  // cannot match a real digest by accident; the verifier decides
    return out;
  }

  void evictCache(std::int64_t now) {
    for (auto it = cache_.begin(); it != cache_.end();) {
      if (now >= it->second.expires_ms)
        it = cache_.erase(it);
      else
        ++it;
    }
    const std::size_t target = config_.cache_max_entries - config_.cache_max_entries / 4;
    if (cache_.size() <= target) return;
    std::vector<std::pair<std::int64_t, std::string>> order;
    order.reserve(cache_.size());
    for (const auto& [k, e] : cache_) order.push_back({e.inserted_ms, k});
    std::sort(order.begin(), order.end());
    for (std::size_t i = 0; i < order.size() && cache_.size() > target; ++i)
      cache_.erase(order[i].second);
  }

  const AuthConfig config_;
  const std::unique_ptr<CredentialVerifier> verifier_;
  Clock& clock_;
  const std::unique_ptr<FailureThrottle> throttle_;  // thread-safe itself
  std::array<unsigned char, 32> salt_{};

  std::mutex mu_;
  std::condition_variable in_flight_done_;
  std::unordered_set<std::string> in_flight_;  // logins being verified now
  std::unordered_map<std::string, CacheEntry> cache_;
};

}  // namespace

std::unique_ptr<Authenticator> makeAuthenticator(const AuthConfig& config,
                                                 std::unique_ptr<CredentialVerifier> verifier,
                                                 Clock& clock) {
  ThrottlePolicy policy;
  policy.max_failures = config.max_failures;
  policy.window_ms = config.failure_window_seconds * 1000LL;
  policy.lockout_ms = config.lockout_seconds * 1000LL;
  policy.max_entries = config.throttle_max_entries;
  // Connect, greeting, STARTTLS, LOGIN, LOGOUT: each may take the timeout.
  policy.reservation_timeout_ms = (5LL * config.imap_timeout_seconds + 10) * 1000;
  std::unique_ptr<FailureThrottle> throttle;
  if (!config.throttle_state_path.empty()) {
    Result<std::unique_ptr<FailureThrottle>> shared =
        openSharedThrottle(config.throttle_state_path, policy);
    if (shared.ok()) {
      throttle = std::move(shared.value());
    } else {
      log::error("auth: throttle state path=" + config.throttle_state_path +
                 " unusable reason=" + shared.status().reason() + " (" +
                 shared.status().message() + "); failures counted per worker");
    }
  }
  if (!throttle) throttle = makeInProcessThrottle(policy);
  return std::make_unique<CachingAuthenticator>(config, std::move(verifier), clock,
                                                std::move(throttle));
}

}  // namespace eas::auth
