// FailureThrottle: one contract suite over both backings, then what only the
// shared file has (processes, a dead lock owner, bad files, bounds).
#include "fcgi/auth/failure_throttle.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "core/base/clock.h"
#include "core/base/log.h"

using eas::ManualClock;
using eas::auth::FailureThrottle;
using eas::auth::ThrottlePolicy;
using Kind = FailureThrottle::Admission::Kind;

namespace {

std::vector<std::string> gLines;
std::mutex gLinesMu;
void captureSink(eas::log::Level, std::string_view line) {
  std::lock_guard<std::mutex> lock(gLinesMu);
  gLines.emplace_back(line);
}
const bool kCapture = [] {
  eas::log::setSink(captureSink);
  return true;
}();
bool logged(const std::string& needle) {
  std::lock_guard<std::mutex> lock(gLinesMu);
  for (const auto& l : gLines)
    if (l.find(needle) != std::string::npos) return true;
  return false;
}
void clearLog() {
  std::lock_guard<std::mutex> lock(gLinesMu);
  gLines.clear();
}

std::string freshPath() {
  static int counter = 0;
  const std::string dir = std::string(EAS_BINARY_DIR) + "/test-tmp";
  ::mkdir(dir.c_str(), 0700);
  const std::string path = dir + "/throttle-" + std::to_string(::getpid()) + "-" +
                           std::to_string(++counter);
  ::unlink(path.c_str());
  return path;
}

ThrottlePolicy smallPolicy() {
  ThrottlePolicy p;
  p.max_failures = 3;
  p.window_ms = 100'000;
  p.lockout_ms = 600'000;
  p.max_entries = 1000;
  p.reservation_timeout_ms = 30'000;
  return p;
}

struct InProcess {
  std::unique_ptr<FailureThrottle> make(const ThrottlePolicy& p) {
    return eas::auth::makeInProcessThrottle(p);
  }
};
struct SharedFile {
  std::string path = freshPath();
  ~SharedFile() { ::unlink(path.c_str()); }
  std::unique_ptr<FailureThrottle> make(const ThrottlePolicy& p) {
    auto r = eas::auth::openSharedThrottle(path, p);
    REQUIRE(r.ok());
    return std::move(r.value());
  }
};

// One admitted attempt that fails; returns what finish() said for key 0.
std::pair<int, bool> fail(FailureThrottle& t, const std::vector<std::string>& keys,
                          std::int64_t now) {
  const auto a = t.admit(keys, now);
  REQUIRE(a.kind == Kind::kProceed);
  const auto out = t.finish(keys, now, true);
  return {out.failures[0], out.locked_now[0]};
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEMPLATE_TEST_CASE("the (max_failures+1)th failure in the window locks until the lock-out ends",
                   "[throttle]", InProcess, SharedFile) {
  TestType backing;
  auto t = backing.make(smallPolicy());
  ManualClock clock;
  const std::vector<std::string> keys = {"u:alice", "a:10.0.0.1"};
  for (int i = 1; i <= 3; ++i) {
    const auto [count, locked] = fail(*t, keys, clock.monotonicMs());
    CHECK(count == i);
    CHECK_FALSE(locked);
  }
  CHECK(t->lockedUntil(keys, clock.monotonicMs(), nullptr) == 0);
  const auto [count, locked] = fail(*t, keys, clock.monotonicMs());
  CHECK(count == 4);
  CHECK(locked);
  const std::int64_t until = clock.monotonicMs() + 600'000;
  std::size_t index = 9;
  CHECK(t->lockedUntil({"u:alice"}, clock.monotonicMs(), &index) == until);
  CHECK(index == 0);
  CHECK(t->lockedUntil({"u:bob", "a:10.0.0.1"}, clock.monotonicMs(), &index) == until);
  CHECK(index == 1);
  CHECK(t->lockedUntil({"u:bob", "a:10.0.0.2"}, clock.monotonicMs(), nullptr) == 0);
  CHECK(t->admit(keys, clock.monotonicMs()).kind == Kind::kLocked);

  clock.advanceMs(599'999);
  CHECK(t->lockedUntil(keys, clock.monotonicMs(), nullptr) == until);
  clock.advanceMs(1);
  CHECK(t->lockedUntil(keys, clock.monotonicMs(), nullptr) == 0);
  // Counting starts afresh after a lock-out.
  CHECK(fail(*t, keys, clock.monotonicMs()).first == 1);
}

TEMPLATE_TEST_CASE("failures slide out of the window", "[throttle]", InProcess, SharedFile) {
  TestType backing;
  auto t = backing.make(smallPolicy());
  ManualClock clock;
  const std::vector<std::string> keys = {"u:alice"};
  CHECK(fail(*t, keys, clock.monotonicMs()).first == 1);  // t = 0
  clock.advanceMs(34'000);
  CHECK(fail(*t, keys, clock.monotonicMs()).first == 2);  // 34 s
  clock.advanceMs(34'000);
  CHECK(fail(*t, keys, clock.monotonicMs()).first == 3);  // 68 s
  clock.advanceMs(32'000);
  CHECK(fail(*t, keys, clock.monotonicMs()).first == 3);  // 100 s: the first is out
  clock.advanceMs(1'000);
  const auto [count, locked] = fail(*t, keys, clock.monotonicMs());  // 101 s: 34, 68, 100, 101
  CHECK(count == 4);
  CHECK(locked);
}

TEMPLATE_TEST_CASE("above kMaxExactFailures the window starts at the first failure", "[throttle]",
                   InProcess, SharedFile) {
  TestType backing;
  ThrottlePolicy p = smallPolicy();
  p.max_failures = 100;
  auto t = backing.make(p);
  ManualClock clock;
  const std::vector<std::string> keys = {"u:alice"};
  for (int i = 1; i <= 100; ++i) REQUIRE(fail(*t, keys, clock.monotonicMs()).first == i);
  clock.advanceMs(100'000);  // the window of the first failure has ended
  CHECK(fail(*t, keys, clock.monotonicMs()).first == 1);
  for (int i = 2; i <= 100; ++i) REQUIRE(fail(*t, keys, clock.monotonicMs()).first == i);
  const auto [count, locked] = fail(*t, keys, clock.monotonicMs());
  CHECK(count == 101);
  CHECK(locked);
}

TEMPLATE_TEST_CASE("attempts in flight are admitted only while they cannot overrun the limit",
                   "[throttle]", InProcess, SharedFile) {
  TestType backing;
  auto t = backing.make(smallPolicy());  // max_failures = 3: at most 4 failures
  ManualClock clock;
  const std::int64_t now = clock.monotonicMs();
  const std::vector<std::string> keys = {"u:alice"};
  for (int i = 0; i < 4; ++i) REQUIRE(t->admit(keys, now).kind == Kind::kProceed);
  const auto busy = t->admit({"u:other", "u:alice"}, now);
  CHECK(busy.kind == Kind::kBusy);
  CHECK(busy.key_index == 1);
  // A success frees its place; a failure keeps it.
  (void)t->finish(keys, now, false);
  CHECK(t->admit(keys, now).kind == Kind::kProceed);
  (void)t->finish(keys, now, true);
  CHECK(t->admit(keys, now).kind == Kind::kBusy);
  // An attempt whose process died stops counting after the reservation timeout.
  clock.advanceMs(30'000);
  CHECK(t->admit(keys, clock.monotonicMs()).kind == Kind::kProceed);
}

TEMPLATE_TEST_CASE("no throttling when max_failures or lockout is zero", "[throttle]", InProcess,
                   SharedFile) {
  TestType backing;
  ThrottlePolicy p = smallPolicy();
  p.lockout_ms = 0;
  auto t = backing.make(p);
  for (int i = 0; i < 20; ++i) {
    REQUIRE(t->admit({"u:a"}, 1).kind == Kind::kProceed);
    CHECK_FALSE(t->finish({"u:a"}, 1, true).locked_now[0]);
  }
  CHECK(t->lockedUntil({"u:a"}, 1, nullptr) == 0);
}

TEMPLATE_TEST_CASE("the table stays bounded under 100k distinct keys and keeps a fresh lock-out",
                   "[throttle]", InProcess, SharedFile) {
  TestType backing;
  ThrottlePolicy p = smallPolicy();
  p.max_entries = 4096;
  auto t = backing.make(p);
  ManualClock clock;
  for (int i = 0; i < 4; ++i) (void)fail(*t, {"u:victim"}, clock.monotonicMs());
  const std::size_t bytes = t->stats().bytes;
  for (int i = 0; i < 100'000; ++i) {
    const std::vector<std::string> keys = {"u:spray" + std::to_string(i),
                                           "a:198.51." + std::to_string(i)};
    (void)t->admit(keys, clock.monotonicMs());
    (void)t->finish(keys, clock.monotonicMs(), true);
  }
  const FailureThrottle::Stats st = t->stats();
  CHECK(st.capacity == 4096);
  CHECK(st.used <= 4096);
  CHECK(st.used > 4000);
  CHECK(st.evictions >= 200'000 - 4096);
  CHECK(st.bytes == bytes);
  CHECK(t->lockedUntil({"u:victim"}, clock.monotonicMs(), nullptr) != 0);
}

TEST_CASE("the shared file: mode 0600, salted hashes only, state survives a reopen") {
  SharedFile f;
  {
    auto t = f.make(smallPolicy());
    for (int i = 0; i < 4; ++i) (void)fail(*t, {"u:alice@example.test"}, 1000);
    CHECK(t->stats().shared);
    CHECK(t->stats().bytes == slurp(f.path).size());
  }
  struct stat st {};
  REQUIRE(::stat(f.path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  const std::string bytes = slurp(f.path);
  CHECK(bytes.find("alice") == std::string::npos);
  CHECK(bytes.compare(0, 8, "EASTHRO1") == 0);
  // Another process (a restarted worker) opens the same file: still locked.
  auto again = f.make(smallPolicy());
  CHECK(again->lockedUntil({"u:alice@example.test"}, 2000, nullptr) == 1000 + 600'000);
  // A file made wider is narrowed on open.
  again.reset();
  REQUIRE(::chmod(f.path.c_str(), 0644) == 0);
  auto third = f.make(smallPolicy());
  REQUIRE(::stat(f.path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(third->lockedUntil({"u:alice@example.test"}, 2000, nullptr) != 0);
}

// Regression: a worker that has the file mapped must not keep its flock, or
// every later worker (a restart, a reload, a second worker on an existing
// file) hangs in openSharedThrottle.
TEST_CASE("opening the shared file while other openers keep it mapped does not wait") {
  SharedFile f;
  auto first = f.make(smallPolicy());  // creates the file
  auto second = f.make(smallPolicy());  // opens the file it created
  (void)fail(*first, {"u:dave@example.test"}, 1000);
  auto third = std::async(std::launch::async, [&] {
    return eas::auth::openSharedThrottle(f.path, smallPolicy());
  });
  REQUIRE(third.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  auto opened = third.get();
  REQUIRE(opened.ok());
  // All three see one table.
  CHECK((*opened)->stats().shared);
  (void)fail(*second, {"u:dave@example.test"}, 1001);
  (void)fail(**opened, {"u:dave@example.test"}, 1002);
  CHECK(fail(*first, {"u:dave@example.test"}, 1003).second);  // 4th failure in all locks
}

TEST_CASE("a corrupt, truncated or differently sized file is recreated, with a log line") {
  struct Case {
    const char* name;
    void (*damage)(const std::string& path);
    const char* reason;
  };
  const Case cases[] = {
      {"bad magic",
       [](const std::string& path) {
         const int fd = ::open(path.c_str(), O_WRONLY);
         REQUIRE(::pwrite(fd, "XXXX", 4, 0) == 4);
         ::close(fd);
       },
       "reason=bad_magic"},
      {"truncated into the header",
       [](const std::string& path) { REQUIRE(::truncate(path.c_str(), 100) == 0); },
       "reason=truncated"},
      {"truncated into the slots",
       [](const std::string& path) { REQUIRE(::truncate(path.c_str(), 5000) == 0); },
       "reason=truncated"},
      {"grown",
       [](const std::string& path) { REQUIRE(::truncate(path.c_str(), 10'000'000) == 0); },
       "reason=size"},
      {"junk",
       [](const std::string& path) {
         std::ofstream out(path, std::ios::binary | std::ios::trunc);
         out << std::string(200'000, '\x5a');
       },
       "reason=bad_magic"},
      {"another version",
       [](const std::string& path) {
         const int fd = ::open(path.c_str(), O_WRONLY);
         const std::uint32_t v = 99;
         REQUIRE(::pwrite(fd, &v, sizeof v, 8) == static_cast<ssize_t>(sizeof v));
         ::close(fd);
       },
       "reason=version"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    SharedFile f;
    {
      auto t = f.make(smallPolicy());
      for (int i = 0; i < 4; ++i) (void)fail(*t, {"u:alice"}, 1000);
    }
    c.damage(f.path);
    clearLog();
    auto t = f.make(smallPolicy());
    CHECK(logged("recreated " + std::string(c.reason)));
    CHECK(t->lockedUntil({"u:alice"}, 2000, nullptr) == 0);  // a fresh table
    CHECK(fail(*t, {"u:alice"}, 2000).first == 1);
    CHECK(slurp(f.path).size() == t->stats().bytes);
  }
  // Another geometry (a reload changed max_failures) replaces the file; a
  // worker still on the old mapping keeps working on the old inode.
  SharedFile f;
  auto old_worker = f.make(smallPolicy());
  ThrottlePolicy other = smallPolicy();
  other.max_failures = 10;
  clearLog();
  auto new_worker = f.make(other);
  CHECK(logged("recreated reason=geometry"));
  CHECK(fail(*old_worker, {"u:x"}, 1).first == 1);
  CHECK(fail(*new_worker, {"u:x"}, 1).first == 1);
}

TEST_CASE("four processes recording failures for one user share one limit") {
  SharedFile f;
  ThrottlePolicy p = smallPolicy();
  p.max_failures = 5;
  void* mem = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  REQUIRE(mem != MAP_FAILED);
  auto* c = static_cast<std::atomic<int>*>(mem);
  for (int i = 0; i < 4; ++i) new (&c[i]) std::atomic<int>(0);
  std::atomic<int>& go = c[0];
  std::atomic<int>& recorded = c[1];
  std::atomic<int>& locked_now = c[2];
  std::atomic<int>& refused = c[3];
  std::vector<pid_t> kids;
  for (int k = 0; k < 4; ++k) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      auto r = eas::auth::openSharedThrottle(f.path, p);  // every child opens: the creation race
      if (!r.ok()) ::_exit(2);
      FailureThrottle& t = *r.value();
      while (go.load() == 0) std::this_thread::yield();
      for (int i = 0; i < 10; ++i) {
        const std::vector<std::string> keys = {
            "u:alice", "a:10." + std::to_string(k) + ".0." + std::to_string(i)};
        FailureThrottle::Admission a;
        while ((a = t.admit(keys, 1000)).kind == Kind::kBusy) std::this_thread::yield();
        if (a.kind == Kind::kLocked) {
          ++refused;
          continue;
        }
        const auto out = t.finish(keys, 1000, true);
        ++recorded;
        if (out.locked_now[0]) ++locked_now;
      }
      ::_exit(0);
    }
    kids.push_back(pid);
  }
  go = 1;
  for (pid_t pid : kids) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  CHECK(recorded == 6);  // max_failures + 1 in total
  CHECK(locked_now == 1);
  CHECK(refused == 34);
  ::munmap(mem, 4096);
}

TEST_CASE("a process killed while holding the table's mutex does not wedge the others") {
  SharedFile f;
  auto t = f.make(smallPolicy());
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    auto r = eas::auth::openSharedThrottle(f.path, smallPolicy());
    if (!r.ok()) ::_exit(2);
    eas::auth::holdMutexForTesting(*r.value());
    (void)!::write(ready[1], "x", 1);
    for (;;) ::pause();
  }
  char byte = 0;
  REQUIRE(::read(ready[0], &byte, 1) == 1);
  ::close(ready[0]);
  ::close(ready[1]);
  REQUIRE(::kill(pid, SIGKILL) == 0);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFSIGNALED(status));
  clearLog();
  // Would block forever without a robust mutex (ctest's timeout fails it).
  CHECK(fail(*t, {"u:alice"}, 1000).first == 1);
  CHECK(t->stats().owner_deaths == 1);
  CHECK(logged("died holding its lock"));
  for (int i = 0; i < 3; ++i) (void)fail(*t, {"u:alice"}, 1000);
  CHECK(t->lockedUntil({"u:alice"}, 1000, nullptr) != 0);
}

TEST_CASE("an unusable state path is reported") {
  auto r = eas::auth::openSharedThrottle(std::string(EAS_BINARY_DIR) + "/no/such/dir/file",
                                         smallPolicy());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().reason() == "auth.throttle_open");
}
