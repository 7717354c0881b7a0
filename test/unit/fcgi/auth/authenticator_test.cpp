#include "fcgi/auth/authenticator.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/base/clock.h"
#include "core/base/log.h"

using eas::ManualClock;
using eas::Status;
using eas::auth::AuthConfig;
using eas::auth::CredentialVerifier;

namespace {

std::string b64(const std::string& in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
  while (out.size() % 4 != 0) out += '=';
  return out;
}

std::string basic(const std::string& user, const std::string& password) {
  return "Basic " + b64(user + ":" + password);
}

// A verifier with a table of good passwords that counts its calls.
class FakeVerifier final : public CredentialVerifier {
 public:
  struct State {
    std::mutex mu;
    std::map<std::string, std::string> passwords;
    bool down = false;
    bool throw_once = false;
    std::atomic<int> calls{0};
    std::atomic<int> delay_ms{0};
  };
  explicit FakeVerifier(State& s) : s_(s) {}
  Status verify(const std::string& login, const std::string& password) override {
    ++s_.calls;
    if (s_.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(s_.delay_ms.load()));
    std::lock_guard<std::mutex> lock(s_.mu);
    if (s_.throw_once) {
      s_.throw_once = false;
      throw std::runtime_error("verifier bug");
    }
    if (s_.down) return Status::Unavailable("auth.backend_unavailable", "fake down");
    auto it = s_.passwords.find(login);
    if (it == s_.passwords.end() || it->second != password)
      return Status::Unauthenticated("auth.bad_credentials", "fake says no");
    return Status::Ok();
  }

 private:
  State& s_;
};

void quietSink(eas::log::Level, std::string_view) {}
// The failure lines are asserted in one test; elsewhere they are noise.
const bool kQuiet = [] {
  eas::log::setSink(quietSink);
  return true;
}();

struct Fixture {
  Fixture() {
    state.passwords["alice@example.test"] = "alice-pw";
    state.passwords["bob@example.test"] = "bob-pw";
    config.default_domain = "example.test";
    config.cache_ttl_seconds = 60;
    config.max_failures = 3;
    config.failure_window_seconds = 100;
    config.lockout_seconds = 600;
  }
  std::unique_ptr<eas::auth::Authenticator> make() {
    return eas::auth::makeAuthenticator(config, std::make_unique<FakeVerifier>(state), clock);
  }
  FakeVerifier::State state;
  AuthConfig config;
  ManualClock clock;
};

// The same suite runs with the throttle in process memory and in a file
// shared by processes (fresh per test).
struct InProcessFixture : Fixture {};

std::string freshStatePath() {
  static int counter = 0;
  const std::string dir = std::string(EAS_BINARY_DIR) + "/test-tmp";
  ::mkdir(dir.c_str(), 0700);
  const std::string path = dir + "/auth-throttle-" + std::to_string(::getpid()) + "-" +
                           std::to_string(++counter);
  ::unlink(path.c_str());
  return path;
}

struct SharedFixture : Fixture {
  SharedFixture() { config.throttle_state_path = freshStatePath(); }
  ~SharedFixture() { ::unlink(config.throttle_state_path.c_str()); }
};

std::string reasonOf(const eas::Result<eas::auth::AuthenticatedUser>& r) {
  return r.ok() ? "ok" : r.status().reason();
}

}  // namespace

TEMPLATE_TEST_CASE("a verified credential is cached until its lifetime ends", "[auth]", InProcessFixture, SharedFixture) {
  TestType f;
  auto auth = f.make();
  auto r = auth->authenticate(basic("alice@example.test", "alice-pw"), "10.0.0.1");
  REQUIRE(r.ok());
  CHECK(r->login == "alice@example.test");
  CHECK(f.state.calls == 1);

  // Other forms of the same login and another address hit the same entry.
  CHECK(auth->authenticate(basic("alice@example.test", "alice-pw"), "10.0.0.1").ok());
  CHECK(auth->authenticate(basic("CORP\\alice", "alice-pw"), "10.0.0.2").ok());
  CHECK(auth->authenticate(basic("alice@EXAMPLE.test", "alice-pw"), "10.0.0.2").ok());
  CHECK(f.state.calls == 1);

  f.clock.advanceMs(59'999);
  CHECK(auth->authenticate(basic("alice", "alice-pw"), "10.0.0.1").ok());
  CHECK(f.state.calls == 1);
  f.clock.advanceMs(1);
  CHECK(auth->authenticate(basic("alice", "alice-pw"), "10.0.0.1").ok());
  CHECK(f.state.calls == 2);
}

TEMPLATE_TEST_CASE("a changed password misses the cache", "[auth]", InProcessFixture, SharedFixture) {
  TestType f;
  auto auth = f.make();
  REQUIRE(auth->authenticate(basic("alice", "alice-pw"), "10.0.0.1").ok());
  CHECK(f.state.calls == 1);
  {
    std::lock_guard<std::mutex> lock(f.state.mu);
    f.state.passwords["alice@example.test"] = "new-pw";
  }
  auto r = auth->authenticate(basic("alice", "new-pw"), "10.0.0.1");
  CHECK(r.ok());
  CHECK(f.state.calls == 2);
  // The new password replaced the old entry: the old one is asked again (and fails).
  CHECK(reasonOf(auth->authenticate(basic("alice", "alice-pw"), "10.0.0.1")) ==
        "auth.bad_credentials");
  CHECK(f.state.calls == 3);
  CHECK(auth->authenticate(basic("alice", "new-pw"), "10.0.0.1").ok());
  CHECK(f.state.calls == 3);
}

TEMPLATE_TEST_CASE("failures are not cached and a wrong password never hits the cache", "[auth]", InProcessFixture, SharedFixture) {
  TestType f;
  auto auth = f.make();
  REQUIRE(auth->authenticate(basic("alice", "alice-pw"), "10.0.0.1").ok());
  CHECK(reasonOf(auth->authenticate(basic("alice", "alice-pwX"), "10.0.0.1")) ==
        "auth.bad_credentials");
  CHECK(reasonOf(auth->authenticate(basic("alice", "alice-p"), "10.0.0.1")) ==
        "auth.bad_credentials");
  CHECK(f.state.calls == 3);
  // A login that is a prefix shift of another ("a" + "bc" vs "ab" + "c") differs.
  CHECK(reasonOf(auth->authenticate(basic("alice@example.tes", "talice-pw"), "10.0.0.9")) ==
        "auth.bad_credentials");
}

TEMPLATE_TEST_CASE("parse failures are returned without asking the verifier", "[auth]", InProcessFixture, SharedFixture) {
  TestType f;
  auto auth = f.make();
  CHECK(reasonOf(auth->authenticate("", "10.0.0.1")) == "auth.missing");
  CHECK(reasonOf(auth->authenticate("Bearer x", "10.0.0.1")) == "auth.not_basic");
  CHECK(reasonOf(auth->authenticate("Basic !!!", "10.0.0.1")) == "auth.malformed");
  CHECK(reasonOf(auth->authenticate(basic("alice", ""), "10.0.0.1")) == "auth.bad_credentials");
  CHECK(f.state.calls == 0);
}

TEMPLATE_TEST_CASE("too many failures lock the user out, without asking the verifier", "[auth]", InProcessFixture, SharedFixture) {
  TestType f;
  auto auth = f.make();
  // max_failures = 3: the 4th failure within the window locks.
  for (int i = 0; i < 4; ++i) {
    const std::string addr = "10.1.0." + std::to_string(i);  // different addresses: per-user lock
    CHECK(reasonOf(auth->authenticate(basic("alice", "guess" + std::to_string(i)), addr)) ==
          "auth.bad_credentials");
  }
  CHECK(f.state.calls == 4);
  // Even the right password is refused now, and the verifier is not asked.
  auto r = auth->authenticate(basic("alice", "alice-pw"), "10.9.9.9");
  CHECK(reasonOf(r) == "auth.locked_out");
  CHECK(r.status().code() == eas::StatusCode::kUnauthenticated);
  CHECK(f.state.calls == 4);
  // Other users are unaffected.
  CHECK(auth->authenticate(basic("bob", "bob-pw"), "10.9.9.9").ok());
  CHECK(f.state.calls == 5);

  // The lock-out ends after lockout_seconds.
  f.clock.advanceMs(599'999);
  CHECK(reasonOf(auth->authenticate(basic("alice", "alice-pw"), "10.9.9.9")) == "auth.locked_out");
  f.clock.advanceMs(1);
  CHECK(auth->authenticate(basic("alice", "alice-pw"), "10.9.9.9").ok());
  CHECK(f.state.calls == 6);
}

TEMPLATE_TEST_CASE("a lock-out also hides a cached credential", "[auth]", InProcessFixture, SharedFixture) {
  TestType f;
  auto auth = f.make();
  REQUIRE(auth->authenticate(basic("alice", "alice-pw"), "10.0.0.1").ok());
  for (int i = 0; i < 4; ++i) (void)auth->authenticate(basic("alice", "bad"), "10.0.0.2");
  const int calls = f.state.calls;
  CHECK(reasonOf(auth->authenticate(basic("alice", "alice-pw"), "10.0.0.1")) == "auth.locked_out");
  CHECK(f.state.calls == calls);
}

TEMPLATE_TEST_CASE("failures outside the window do not add up", "[auth]", InProcessFixture, SharedFixture) {
  TestType f;
  auto auth = f.make();
  for (int i = 0; i < 10; ++i) {
    CHECK(reasonOf(auth->authenticate(basic("alice", "bad"), "10.0.0.1")) ==
          "auth.bad_credentials");
    f.clock.advanceMs(34'000);  // 3 failures span 68 s < 100 s; the 4th drops the 1st
  }
  CHECK(auth->authenticate(basic("alice", "alice-pw"), "10.0.0.1").ok());
  CHECK(f.state.calls == 11);
}

TEMPLATE_TEST_CASE("too many failures from one address lock that address for every user", "[auth]", InProcessFixture, SharedFixture) {
  TestType f;
  f.config.max_failures = 2;
  auto auth = f.make();
  const std::vector<std::string> users = {"u1", "u2", "u3"};
  for (const auto& u : users)
    CHECK(reasonOf(auth->authenticate(basic(u, "x"), "192.0.2.7")) == "auth.bad_credentials");
  CHECK(f.state.calls == 3);
  // A good user from the locked address is refused; a success elsewhere does not unlock it.
  CHECK(reasonOf(auth->authenticate(basic("bob", "bob-pw"), "192.0.2.7")) == "auth.locked_out");
  CHECK(auth->authenticate(basic("bob", "bob-pw"), "192.0.2.8").ok());
  CHECK(reasonOf(auth->authenticate(basic("bob", "bob-pw"), "192.0.2.7")) == "auth.locked_out");
  CHECK(reasonOf(auth->authenticate(basic("alice", "alice-pw"), "192.0.2.7")) == "auth.locked_out");
  CHECK(f.state.calls == 4);
  f.clock.advanceMs(600'000);
  CHECK(auth->authenticate(basic("alice", "alice-pw"), "192.0.2.7").ok());
}

TEMPLATE_TEST_CASE("an unavailable backend is reported and not counted as a failure", "[auth]", InProcessFixture, SharedFixture) {
  TestType f;
  auto auth = f.make();
  f.state.down = true;
  for (int i = 0; i < 10; ++i)
    CHECK(reasonOf(auth->authenticate(basic("alice", "alice-pw"), "10.0.0.1")) ==
          "auth.backend_unavailable");
  f.state.down = false;
  CHECK(auth->authenticate(basic("alice", "alice-pw"), "10.0.0.1").ok());
  CHECK(f.state.calls == 11);
}

TEMPLATE_TEST_CASE("a cache TTL of zero disables the cache", "[auth]", InProcessFixture, SharedFixture) {
  TestType f;
  f.config.cache_ttl_seconds = 0;
  auto auth = f.make();
  CHECK(auth->authenticate(basic("alice", "alice-pw"), "10.0.0.1").ok());
  CHECK(auth->authenticate(basic("alice", "alice-pw"), "10.0.0.1").ok());
  CHECK(f.state.calls == 2);
}

TEMPLATE_TEST_CASE("memory stays bounded under many users and addresses", "[auth]", InProcessFixture, SharedFixture) {
  TestType f;
  f.config.cache_max_entries = 8;
  f.config.throttle_max_entries = 16;
  for (int i = 0; i < 100; ++i)
    f.state.passwords["user" + std::to_string(i) + "@example.test"] = "pw";
  auto auth = f.make();
  for (int i = 0; i < 100; ++i)
    CHECK(auth->authenticate(basic("user" + std::to_string(i), "pw"), "10.0.0.1").ok());
  CHECK(f.state.calls == 100);
  // The most recent ones are still cached, the oldest were evicted.
  CHECK(auth->authenticate(basic("user99", "pw"), "10.0.0.1").ok());
  CHECK(f.state.calls == 100);
  CHECK(auth->authenticate(basic("user0", "pw"), "10.0.0.1").ok());
  CHECK(f.state.calls == 101);

  // Spraying failures over many addresses: a fresh lock-out still holds after the
  // tables were trimmed (locked entries are evicted last).
  f.config.max_failures = 1;
  auto auth2 = f.make();
  (void)auth2->authenticate(basic("alice", "x"), "203.0.113.1");
  (void)auth2->authenticate(basic("alice", "x"), "203.0.113.1");
  for (int i = 0; i < 200; ++i)
    (void)auth2->authenticate(basic("spray" + std::to_string(i), "x"),
                              "198.51.100." + std::to_string(i));
  CHECK(reasonOf(auth2->authenticate(basic("alice", "alice-pw"), "10.0.0.1")) == "auth.locked_out");
}

TEMPLATE_TEST_CASE("log lines name user and address but never the password", "[auth]", InProcessFixture, SharedFixture) {
  std::vector<std::string> lines;
  std::mutex mu;
  eas::log::setLevel(eas::log::Level::kDebug);
  eas::log::setSink([&](eas::log::Level, std::string_view line) {
    std::lock_guard<std::mutex> lock(mu);
    lines.emplace_back(line);
  });
  {
    TestType f;
    f.config.max_failures = 1;
    auto auth = f.make();
    (void)auth->authenticate(basic("alice", "S3cr3t-Guess"), "10.0.0.5");
    (void)auth->authenticate(basic("alice", "S3cr3t-Guess"), "10.0.0.5");
    (void)auth->authenticate(basic("alice", "alice-pw"), "10.0.0.5");
    f.state.down = true;
    (void)auth->authenticate(basic("bob", "bob-pw"), "10.0.0.6");
  }
  eas::log::setSink(quietSink);
  eas::log::setLevel(eas::log::Level::kInfo);
  REQUIRE(lines.size() >= 3);
  bool saw_failure = false, saw_lockout = false;
  for (const auto& l : lines) {
    saw_lockout = saw_lockout || l.find("lock-out user=alice@example.test") != std::string::npos;
    INFO(l);
    CHECK(l.find("S3cr3t") == std::string::npos);
    CHECK(l.find("alice-pw") == std::string::npos);
    CHECK(l.find("bob-pw") == std::string::npos);
    if (l.find("auth.bad_credentials") != std::string::npos) {
      saw_failure = true;
      CHECK(l.find("alice@example.test") != std::string::npos);
      CHECK(l.find("10.0.0.5") != std::string::npos);
    }
  }
  CHECK(saw_failure);
  CHECK(saw_lockout);
}

TEMPLATE_TEST_CASE("concurrent requests are safe", "[auth]", InProcessFixture, SharedFixture) {
  TestType f;
  f.config.max_failures = 1000000;
  auto auth = f.make();
  std::atomic<int> ok{0}, bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        const bool good = (i + t) % 3 != 0;
        auto r = auth->authenticate(
            basic(i % 2 ? "alice" : "bob", good ? (i % 2 ? "alice-pw" : "bob-pw") : "no"),
            "10.0.0." + std::to_string(t));
        (r.ok() ? ok : bad)++;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(ok + bad == 4000);
  CHECK(bad > 0);
  CHECK(ok > 0);
}

TEMPLATE_TEST_CASE("parallel requests of one device are verified once", "[auth]", InProcessFixture, SharedFixture) {
  TestType f;
  f.state.delay_ms = 50;
  auto auth = f.make();
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      if (auth->authenticate(basic("alice", "alice-pw"), "10.0.0.1").ok()) ++ok;
    });
  for (auto& th : threads) th.join();
  CHECK(ok == 8);
  CHECK(f.state.calls == 1);
}

TEMPLATE_TEST_CASE("parallel guesses cannot overrun the failure limit", "[auth]", InProcessFixture, SharedFixture) {
  TestType f;  // max_failures = 3: the 4th failure locks
  f.state.delay_ms = 20;
  auto auth = f.make();
  std::atomic<int> bad{0}, locked{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 12; ++t)
    threads.emplace_back([&, t] {
      auto r = auth->authenticate(basic("alice", "guess" + std::to_string(t)),
                                  "10.2.0." + std::to_string(t));
      if (reasonOf(r) == "auth.bad_credentials") ++bad;
      if (reasonOf(r) == "auth.locked_out") ++locked;
    });
  for (auto& th : threads) th.join();
  CHECK(f.state.calls == 4);
  CHECK(bad == 4);
  CHECK(locked == 8);
}

TEMPLATE_TEST_CASE("a verifier that throws does not wedge the login", "[auth]", InProcessFixture, SharedFixture) {
  TestType f;
  f.state.throw_once = true;
  auto auth = f.make();
  CHECK_THROWS_AS(auth->authenticate(basic("alice", "alice-pw"), "10.0.0.1"), std::runtime_error);
  CHECK(auth->authenticate(basic("alice", "alice-pw"), "10.0.0.1").ok());
  CHECK(f.state.calls == 2);
}

TEMPLATE_TEST_CASE("IPv6 clients are throttled by their /64, v4-mapped ones as IPv4", "[auth]", InProcessFixture, SharedFixture) {
  TestType f;
  f.config.max_failures = 2;
  auto auth = f.make();
  // Three failures from three addresses of one /64 lock the whole /64.
  int n = 0;
  for (const char* a :
       {"2001:db8:1:2::1", "2001:db8:1:2::dead:beef", "2001:db8:1:2:ffff:ffff:ffff:ffff"})
    CHECK(reasonOf(auth->authenticate(basic("u" + std::to_string(++n), "x"), a)) ==
          "auth.bad_credentials");
  CHECK(reasonOf(auth->authenticate(basic("bob", "bob-pw"), "2001:db8:1:2::77")) ==
        "auth.locked_out");
  CHECK(auth->authenticate(basic("bob", "bob-pw"), "2001:db8:1:3::1").ok());  // another /64
  // ::ffff:192.0.2.9 and 192.0.2.9 are one client.
  for (const char* a : {"::ffff:192.0.2.9", "192.0.2.9", "::FFFF:192.0.2.9"})
    CHECK(reasonOf(auth->authenticate(basic("v" + std::to_string(++n), "x"), a)) ==
          "auth.bad_credentials");
  CHECK(reasonOf(auth->authenticate(basic("bob", "bob-pw"), "192.0.2.9")) == "auth.locked_out");
  CHECK(auth->authenticate(basic("bob", "bob-pw"), "192.0.2.10").ok());
}

namespace {

// Refuses every password; counts its calls in memory shared with forked children.
class SharedCountingVerifier final : public CredentialVerifier {
 public:
  explicit SharedCountingVerifier(std::atomic<int>& calls) : calls_(calls) {}
  Status verify(const std::string&, const std::string&) override {
    ++calls_;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // let the workers overlap
    return Status::Unauthenticated("auth.bad_credentials", "never");
  }

 private:
  std::atomic<int>& calls_;
};

}  // namespace

TEST_CASE("the failure limit holds across worker processes sharing the state file") {
  const std::string path = freshStatePath();
  void* mem = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  REQUIRE(mem != MAP_FAILED);
  auto* counters = static_cast<std::atomic<int>*>(mem);
  for (int i = 0; i < 4; ++i) new (&counters[i]) std::atomic<int>(0);
  std::atomic<int>& calls = counters[0];
  std::atomic<int>& go = counters[1];
  std::atomic<int>& bad = counters[2];
  std::atomic<int>& locked = counters[3];
  AuthConfig config;
  config.default_domain = "example.test";
  config.max_failures = 3;
  config.failure_window_seconds = 100;
  config.lockout_seconds = 600;
  config.throttle_state_path = path;

  std::vector<pid_t> workers;
  for (int w = 0; w < 4; ++w) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ManualClock clock;  // every worker at the same instant
      auto auth = eas::auth::makeAuthenticator(
          config, std::make_unique<SharedCountingVerifier>(calls), clock);
      while (go.load() == 0) std::this_thread::yield();
      for (int i = 0; i < 5; ++i) {
        const std::string r = reasonOf(auth->authenticate(
            basic("alice", "guess"), "10.3." + std::to_string(w) + "." + std::to_string(i)));
        if (r == "auth.bad_credentials") ++bad;
        if (r == "auth.locked_out") ++locked;
      }
      ::_exit(0);
    }
    workers.push_back(pid);
  }
  go = 1;
  for (pid_t pid : workers) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  // max_failures + 1 verifications in all, not per worker.
  CHECK(calls == 4);
  CHECK(bad == 4);
  CHECK(locked == 16);
  // A worker started later (a restart, a reload) sees the lock-out.
  ManualClock clock;
  FakeVerifier::State state;
  state.passwords["alice@example.test"] = "alice-pw";
  auto auth = eas::auth::makeAuthenticator(config, std::make_unique<FakeVerifier>(state), clock);
  CHECK(reasonOf(auth->authenticate(basic("alice", "alice-pw"), "10.9.9.9")) == "auth.locked_out");
  CHECK(state.calls == 0);
  clock.advanceMs(600'000);
  CHECK(auth->authenticate(basic("alice", "alice-pw"), "10.9.9.9").ok());
  ::munmap(mem, 4096);
  ::unlink(path.c_str());
}

TEST_CASE("an unusable throttle state file is logged and failures are counted per process") {
  std::vector<std::string> lines;
  std::mutex mu;
  eas::log::setSink([&](eas::log::Level, std::string_view line) {
    std::lock_guard<std::mutex> lock(mu);
    lines.emplace_back(line);
  });
  InProcessFixture f;
  f.config.throttle_state_path = std::string(EAS_BINARY_DIR) + "/no/such/dir/auth-throttle";
  auto auth = f.make();
  eas::log::setSink(quietSink);
  bool saw = false;
  for (const auto& l : lines)
    saw = saw || (l.find("unusable reason=auth.throttle_open") != std::string::npos &&
                  l.find("no/such/dir/auth-throttle") != std::string::npos);
  CHECK(saw);
  for (int i = 0; i < 4; ++i) (void)auth->authenticate(basic("alice", "bad"), "10.0.0.1");
  CHECK(reasonOf(auth->authenticate(basic("alice", "alice-pw"), "10.0.0.1")) == "auth.locked_out");
  CHECK(f.state.calls == 4);
}
