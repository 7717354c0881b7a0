// The parking lot with fake replies (a socketpair end as the "connection",
// so client-gone is the real EPOLLRDHUP path) and scripted re-checks, on a
// ManualClock for heartbeats.
#include "fcgi/runtime/parking_lot.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using eas::ManualClock;
using eas::commands::CommandReply;
using eas::commands::PushWatch;
using eas::commands::WakeReason;
using eas::runtime::ParkingLot;
using eas::runtime::ParkingLotOptions;

namespace {

// What one parked request saw, shared by its fake reply and fake re-check.
struct Trace {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<WakeReason> rechecks;
  std::optional<CommandReply> sent;
  int sends = 0;
  bool destroyed = false;

  bool waitSent(int ms = 3000) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::milliseconds(ms), [this] { return sends > 0; });
  }
  bool waitRechecks(std::size_t n, int ms = 3000) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::milliseconds(ms), [&] { return rechecks.size() >= n; });
  }
  int sendCount() {
    std::lock_guard<std::mutex> lock(mu);
    return sends;
  }
  std::vector<WakeReason> seen() {
    std::lock_guard<std::mutex> lock(mu);
    return rechecks;
  }
};

class FakeReply final : public eas::commands::DeferredReply {
 public:
  FakeReply(std::shared_ptr<Trace> t, int fd) : t_(std::move(t)), fd_(fd) {}
  ~FakeReply() override {
    if (fd_ >= 0) ::close(fd_);
  }
  void send(CommandReply&& reply) override {
    // Like the FastCGI responder: the connection closes with the answer.
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    std::lock_guard<std::mutex> lock(t_->mu);
    ++t_->sends;
    t_->sent = std::move(reply);
    t_->cv.notify_all();
  }
  bool clientGone() const override { return false; }
  int connectionFd() const override { return fd_; }

 private:
  std::shared_ptr<Trace> t_;
  int fd_;
};

// Answers with `eas_status` for every reason except kEvent, where it asks
// `on_event` (nullopt: spurious).
class FakeRequest final : public eas::commands::ParkedRequest {
 public:
  using OnEvent = std::function<std::optional<int>()>;
  FakeRequest(std::shared_ptr<Trace> t, OnEvent on_event) : t_(std::move(t)), on_event_(std::move(on_event)) {}
  ~FakeRequest() override {
    std::lock_guard<std::mutex> lock(t_->mu);
    t_->destroyed = true;
  }
  std::optional<CommandReply> recheck(WakeReason why) override {
    {
      std::lock_guard<std::mutex> lock(t_->mu);
      t_->rechecks.push_back(why);
      t_->cv.notify_all();
    }
    std::optional<int> status;
    switch (why) {
      case WakeReason::kEvent: status = on_event_ ? on_event_() : std::optional<int>(2); break;
      case WakeReason::kHeartbeat: status = 1; break;
      case WakeReason::kSuperseded: status = 1; break;
      case WakeReason::kShutdown: status = 1; break;
    }
    if (!status) return std::nullopt;
    CommandReply r;
    r.eas_status = *status;
    return r;
  }

 private:
  std::shared_ptr<Trace> t_;
  OnEvent on_event_;
};

struct Parked {
  std::shared_ptr<Trace> trace = std::make_shared<Trace>();
  int peer = -1;  // the "nginx" end of the connection
  ~Parked() {
    if (peer >= 0) ::close(peer);
  }
};

std::unique_ptr<Parked> parkOne(ParkingLot& lot, const std::string& login, const std::string& device,
                                std::vector<std::string> folders, int heartbeat,
                                FakeRequest::OnEvent on_event = {}, bool with_fd = true) {
  auto p = std::make_unique<Parked>();
  int fds[2] = {-1, -1};
  if (with_fd) REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  p->peer = fds[1];
  PushWatch w;
  w.login = login;
  w.device_id = device;
  w.folders = std::move(folders);
  w.heartbeat_seconds = heartbeat;
  lot.park(std::move(w), std::make_unique<FakeReply>(p->trace, fds[0]),
           std::make_unique<FakeRequest>(p->trace, std::move(on_event)));
  return p;
}

bool eventually(const std::function<bool()>& f, int ms = 3000) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < until) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return f();
}

struct LotFixture {
  ManualClock clock;
  std::unique_ptr<ParkingLot> lot;
  explicit LotFixture(std::size_t max_parked = 1000) {
    ParkingLotOptions o;
    o.clock = &clock;
    o.max_parked = max_parked;
    o.executor_threads = 2;
    lot = std::make_unique<ParkingLot>(o);
    REQUIRE(lot->start().ok());
  }
  void advance(std::int64_t ms) {
    clock.advanceMs(ms);
    lot->poke();
  }
};

}  // namespace

TEST_CASE("heartbeat end answers through recheck(kHeartbeat), not before", "[parking_lot]") {
  LotFixture f;
  auto p = parkOne(*f.lot, "alice@example.test", "dev1", {"INBOX"}, 30);
  REQUIRE(f.lot->parkedCount() == 1);
  f.advance(29'000);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(p->trace->sendCount() == 0);
  f.advance(1'000);
  REQUIRE(p->trace->waitSent());
  CHECK(p->trace->seen() == std::vector<WakeReason>{WakeReason::kHeartbeat});
  CHECK(p->trace->sent->eas_status == 1);
  CHECK(eventually([&] { return f.lot->parkedCount() == 0; }));
  CHECK(f.lot->stats().answered == 1);
}

TEST_CASE("heartbeats fire in deadline order, a later park with a nearer deadline wakes the loop",
          "[parking_lot]") {
  LotFixture f;
  auto slow = parkOne(*f.lot, "a@x", "d1", {"INBOX"}, 600);
  auto fast = parkOne(*f.lot, "b@x", "d2", {"INBOX"}, 5);
  f.advance(5'000);
  REQUIRE(fast->trace->waitSent());
  CHECK(slow->trace->sendCount() == 0);
  f.advance(595'000);
  REQUIRE(slow->trace->waitSent());
}

TEST_CASE("a change event for a watched folder wakes only that user's matching watches",
          "[parking_lot]") {
  LotFixture f;
  auto inbox = parkOne(*f.lot, "Alice@Example.test", "d1", {"INBOX", "Work"}, 600);
  auto other_folder = parkOne(*f.lot, "alice@example.test", "d2", {"Archive"}, 600);
  auto other_user = parkOne(*f.lot, "bob@example.test", "d1", {"INBOX"}, 600);
  f.lot->notify("alice@example.test", "inbox");  // INBOX is case-insensitive, users too
  REQUIRE(inbox->trace->waitSent());
  CHECK(inbox->trace->sent->eas_status == 2);
  CHECK(inbox->trace->seen() == std::vector<WakeReason>{WakeReason::kEvent});
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(other_folder->trace->sendCount() == 0);
  CHECK(other_user->trace->sendCount() == 0);
  CHECK(f.lot->parkedCount() == 2);
  // Other names are exact.
  f.lot->notify("alice@example.test", "archive");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(other_folder->trace->sendCount() == 0);
  // "" is the account: every watch of the user.
  f.lot->notify("alice@example.test", "");
  REQUIRE(other_folder->trace->waitSent());
  CHECK(other_user->trace->sendCount() == 0);
}

TEST_CASE("a spurious wake goes back to waiting until the heartbeat", "[parking_lot]") {
  LotFixture f;
  auto p = parkOne(*f.lot, "a@x", "d", {"INBOX"}, 60, [] { return std::optional<int>(); });
  f.lot->notify("a@x", "INBOX");
  REQUIRE(p->trace->waitRechecks(1));
  CHECK(eventually([&] { return f.lot->stats().spurious == 1; }));
  CHECK(p->trace->sendCount() == 0);
  CHECK(f.lot->parkedCount() == 1);
  f.lot->notify("a@x", "INBOX");  // and can be woken again
  REQUIRE(p->trace->waitRechecks(2));
  f.advance(60'000);
  REQUIRE(p->trace->waitSent());
  CHECK(p->trace->sent->eas_status == 1);
  CHECK(p->trace->seen() ==
        std::vector<WakeReason>{WakeReason::kEvent, WakeReason::kEvent, WakeReason::kHeartbeat});
}

TEST_CASE("wakes during a re-check are not lost and never run in parallel", "[parking_lot]") {
  LotFixture f;
  std::mutex m;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> inside{0}, max_inside{0}, calls{0};
  auto p = parkOne(*f.lot, "a@x", "d", {"INBOX"}, 600, [&]() -> std::optional<int> {
    int now = ++inside;
    max_inside = std::max(max_inside.load(), now);
    if (++calls == 1) {
      std::unique_lock<std::mutex> lock(m);
      cv.wait(lock, [&] { return release; });
    }
    --inside;
    return calls == 1 ? std::nullopt : std::optional<int>(2);  // the first finds nothing
  });
  f.lot->notify("a@x", "INBOX");
  REQUIRE(p->trace->waitRechecks(1));
  f.lot->notify("a@x", "INBOX");  // arrives while the first re-check runs
  f.lot->notify("a@x", "INBOX");
  {
    std::lock_guard<std::mutex> lock(m);
    release = true;
  }
  cv.notify_all();
  REQUIRE(p->trace->waitSent());
  CHECK(p->trace->sent->eas_status == 2);
  CHECK(calls == 2);  // the two late events folded into one re-check
  CHECK(max_inside == 1);
}

TEST_CASE("a newer park of the same device supersedes the older one", "[parking_lot]") {
  LotFixture f;
  auto first = parkOne(*f.lot, "a@x", "dev", {"INBOX"}, 600);
  auto other_device = parkOne(*f.lot, "a@x", "dev2", {"INBOX"}, 600);
  auto second = parkOne(*f.lot, "A@X", "dev", {"INBOX"}, 600);
  REQUIRE(first->trace->waitSent());
  CHECK(first->trace->seen() == std::vector<WakeReason>{WakeReason::kSuperseded});
  CHECK(second->trace->sendCount() == 0);
  CHECK(other_device->trace->sendCount() == 0);
  CHECK(eventually([&] { return f.lot->parkedCount() == 2; }));
  // endDevice (a Sync or Ping of the device) ends the current one.
  f.lot->endDevice("a@x", "dev");
  REQUIRE(second->trace->waitSent());
  CHECK(second->trace->seen() == std::vector<WakeReason>{WakeReason::kSuperseded});
  f.lot->endDevice("a@x", "nobody");  // no-op
  CHECK(eventually([&] { return f.lot->parkedCount() == 1; }));
  CHECK(f.lot->stats().superseded == 2);
}

TEST_CASE("the client going away frees the request without a re-check", "[parking_lot]") {
  LotFixture f;
  auto p = parkOne(*f.lot, "a@x", "d", {"INBOX"}, 600);
  auto stays = parkOne(*f.lot, "a@x", "d2", {"INBOX"}, 600);
  ::close(p->peer);  // nginx closes the connection
  p->peer = -1;
  REQUIRE(p->trace->waitSent());
  CHECK(p->trace->seen().empty());
  CHECK_FALSE(p->trace->sent->status.ok());
  CHECK(p->trace->sent->status.reason() == "push.client_gone");
  CHECK(eventually([&] { return f.lot->parkedCount() == 1; }));
  CHECK(f.lot->stats().client_gone == 1);
  CHECK(stays->trace->sendCount() == 0);
  // Events for it change nothing now.
  f.lot->notify("a@x", "INBOX");
  REQUIRE(stays->trace->waitSent());
  CHECK(p->trace->sendCount() == 1);
}

TEST_CASE("a full lot answers 503 at once", "[parking_lot]") {
  LotFixture f(2);
  auto a = parkOne(*f.lot, "a@x", "d1", {"INBOX"}, 600);
  auto b = parkOne(*f.lot, "a@x", "d2", {"INBOX"}, 600);
  auto c = parkOne(*f.lot, "a@x", "d3", {"INBOX"}, 600);
  REQUIRE(c->trace->sendCount() == 1);
  CHECK(c->trace->sent->status.reason() == "push.lot_full");
  CHECK(c->trace->seen().empty());
  CHECK(f.lot->parkedCount() == 2);
  CHECK(f.lot->stats().rejected_full == 1);
}

TEST_CASE("shutdown answers every parked request through recheck(kShutdown)", "[parking_lot]") {
  LotFixture f;
  std::vector<std::unique_ptr<Parked>> all;
  for (int i = 0; i < 50; ++i)
    all.push_back(parkOne(*f.lot, "u" + std::to_string(i % 7) + "@x", "d" + std::to_string(i),
                          {"INBOX"}, 600));
  f.lot->shutdown();
  for (auto& p : all) {
    CHECK(p->trace->sendCount() == 1);
    CHECK(p->trace->seen() == std::vector<WakeReason>{WakeReason::kShutdown});
    CHECK(p->trace->destroyed);
  }
  CHECK(f.lot->parkedCount() == 0);
  auto late = parkOne(*f.lot, "a@x", "d", {"INBOX"}, 600);
  REQUIRE(late->trace->sendCount() == 1);
  CHECK(late->trace->sent->status.reason() == "push.stopping");
}

TEST_CASE("a thousand parked requests with real short heartbeats all answer once", "[parking_lot]") {
  ParkingLotOptions o;
  o.executor_threads = 3;
  std::mutex wm;
  std::map<std::string, int> watched;  // what the notify client would be told
  bool went_negative = false;
  o.watch_hook = [&](const std::string& login, bool watch) {
    std::lock_guard<std::mutex> lock(wm);
    watched[login] += watch ? 1 : -1;
    if (watched[login] < 0) went_negative = true;  // Catch2 asserts only on the test thread
  };
  ParkingLot lot(o);
  REQUIRE(lot.start().ok());
  std::vector<std::unique_ptr<Parked>> all;
  for (int i = 0; i < 1000; ++i)
    all.push_back(parkOne(lot, "u" + std::to_string(i % 100) + "@x", "d" + std::to_string(i),
                          {"INBOX"}, 1, {}, /*with_fd=*/i % 2 == 0));
  // Half of them woken by events first.
  for (int u = 0; u < 50; ++u) lot.notify("u" + std::to_string(u) + "@x", "INBOX");
  REQUIRE(eventually([&] { return lot.parkedCount() == 0; }, 5000));
  int events = 0, heartbeats = 0;
  for (auto& p : all) {
    REQUIRE(p->trace->sendCount() == 1);
    (p->trace->sent->eas_status == 2 ? events : heartbeats)++;
  }
  CHECK(events == 500);
  CHECK(heartbeats == 500);
  CHECK(lot.stats().answered == 1000);
  std::lock_guard<std::mutex> lock(wm);
  CHECK(watched.size() == 100);
  CHECK_FALSE(went_negative);
  for (const auto& [login, n] : watched) CHECK(n == 0);  // every watch was undone
}

TEST_CASE("a sibling worker's 'end' datagram ends this lot's parked request of the device",
          "[parking_lot]") {
  ManualClock clock;
  ParkingLotOptions o;
  o.clock = &clock;
  o.sibling_group = 1'000'000 + static_cast<int>(::getpid());  // a group of its own
  ParkingLot lot(o);
  REQUIRE(lot.start().ok());
  auto p = parkOne(lot, "alice@example.test", "dev", {"INBOX"}, 600);
  auto other = parkOne(lot, "alice@example.test", "dev2", {"INBOX"}, 600);
  // What a sibling's tellSiblings() sends to "@eas-fcgi-lot/<group>/<pid>".
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  const std::string name =
      "eas-fcgi-lot/" + std::to_string(o.sibling_group) + "/" + std::to_string(::getpid());
  std::memcpy(a.sun_path + 1, name.data(), name.size());
  const socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  for (const std::string& msg : {std::string("garbage"), std::string("end alice@example.test\ndev")})
    REQUIRE(::sendto(fd, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&a), len) ==
            static_cast<ssize_t>(msg.size()));
  ::close(fd);
  REQUIRE(p->trace->waitSent());
  CHECK(p->trace->seen() == std::vector<WakeReason>{WakeReason::kSuperseded});
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(other->trace->sendCount() == 0);
  CHECK(lot.parkedCount() == 1);
}
