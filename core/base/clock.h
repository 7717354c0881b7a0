// The clock seam: real time in production, a settable clock in tests, so
// that lifetimes, lock-outs and heartbeats are tested without sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace eas {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic milliseconds, for durations and deadlines.
  virtual std::int64_t monotonicMs() const = 0;
  // Wall-clock seconds since the epoch, for stored timestamps.
  virtual std::int64_t unixSeconds() const = 0;
  // The process-wide real clock. Thread-safe.
  static Clock& real();
};

class RealClock final : public Clock {
 public:
  std::int64_t monotonicMs() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
  }
  std::int64_t unixSeconds() const override {
    using namespace std::chrono;
    return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
  }
};

inline Clock& Clock::real() {
  static RealClock clock;
  return clock;
}

// A clock that moves only when told. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t unix_seconds = 1'800'000'000) : unix_ms_(unix_seconds * 1000) {}
  std::int64_t monotonicMs() const override { return unix_ms_.load(); }
  std::int64_t unixSeconds() const override { return unix_ms_.load() / 1000; }
  void advanceMs(std::int64_t ms) { unix_ms_ += ms; }
 private:
  std::atomic<std::int64_t> unix_ms_;
};

}  // namespace eas
