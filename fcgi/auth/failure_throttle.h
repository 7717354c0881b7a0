// The failure throttle behind the Authenticator: failures counted per key
// (the Authenticator uses one key for the user and one for the client
// address) in a sliding window; more than max_failures locks the key out.
//
// Two backings of one fixed-size table: private memory (one process) and a
// file mapped MAP_SHARED by every worker of a server, so the limit holds
// across workers, worker restarts and reloads. The table stores salted
// 64-bit hashes of the keys, never the keys. Thread-safe and, for the shared
// backing, process-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/base/status.h"

namespace eas::auth {

struct ThrottlePolicy {
  int max_failures = 5;                   // <= 0: no throttling
  std::int64_t window_ms = 300'000;
  std::int64_t lockout_ms = 900'000;      // <= 0: no throttling
  std::size_t max_entries = 100'000;      // keys tracked; the table's fixed size
  // An admitted attempt that is not finished within this time (its process
  // died mid-verification) stops counting as pending.
  std::int64_t reservation_timeout_ms = 60'000;
};

// Above this max_failures a key keeps a failure count in a window that
// starts at its first failure instead of every failure time (bounded slot
// size); below or at it the window slides exactly.
inline constexpr int kMaxExactFailures = 64;

class FailureThrottle {
 public:
  virtual ~FailureThrottle() = default;

  // The end of the lock-out of the first locked key (keys in order), or 0;
  // `key_index` (may be null) gets that key's index.
  virtual std::int64_t lockedUntil(const std::vector<std::string>& keys, std::int64_t now_ms,
                                   std::size_t* key_index) = 0;

  // Before asking the verifier: reserves one attempt on every key, so that
  // attempts running in parallel (other threads, other workers) cannot
  // together overrun max_failures. kBusy: the attempts in flight could
  // already reach the limit; try again shortly.
  struct Admission {
    enum class Kind { kProceed, kLocked, kBusy } kind = Kind::kProceed;
    std::size_t key_index = 0;       // the key that is locked or busy
    std::int64_t locked_until_ms = 0;
  };
  virtual Admission admit(const std::vector<std::string>& keys, std::int64_t now_ms) = 0;

  // Ends an admitted attempt. `failed`: counts a failure on every key.
  struct Outcome {
    std::vector<int> failures;      // per key: failures within the window, this one included
    std::vector<bool> locked_now;   // per key: this failure started a lock-out
  };
  virtual Outcome finish(const std::vector<std::string>& keys, std::int64_t now_ms,
                         bool failed) = 0;

  struct Stats {
    std::size_t capacity = 0;  // slots
    std::size_t used = 0;      // slots holding a key
    std::uint64_t evictions = 0;
    std::uint64_t owner_deaths = 0;  // robust-mutex recoveries
    std::size_t bytes = 0;           // table memory (the file size when shared)
    bool shared = false;
  };
  virtual Stats stats() = 0;
};

// The table in this process's memory.
std::unique_ptr<FailureThrottle> makeInProcessThrottle(const ThrottlePolicy& policy);

// The table in `path`, created 0600 if missing; a file with a wrong magic,
// version, geometry (max_entries, max_failures), boot id or size is
// replaced atomically (logged). Failures: auth.throttle_open (I/O),
// auth.throttle_owner (the file belongs to another user).
Result<std::unique_ptr<FailureThrottle>> openSharedThrottle(const std::string& path,
                                                            const ThrottlePolicy& policy);

// Test hook: takes the table's mutex and never releases it (a forked child
// then dies holding it). No-op for other implementations.
void holdMutexForTesting(FailureThrottle& throttle);

}  // namespace eas::auth
