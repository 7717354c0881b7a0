#include "fcgi/runtime/parking_lot.h"

#include <dirent.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "core/base/log.h"

namespace eas::runtime {

using commands::CommandReply;
using commands::WakeReason;

namespace {

constexpr std::uint64_t kEventFdId = 0;  // epoll data of the eventfd; entries start at 1
constexpr std::uint64_t kSiblingFdId = ~std::uint64_t{0};

// The abstract socket address of the lot of worker `pid` in `group`.
socklen_t siblingAddress(int group, int pid, sockaddr_un* a) {
  std::memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  const std::string name = "eas-fcgi-lot/" + std::to_string(group) + "/" + std::to_string(pid);
  std::memcpy(a->sun_path + 1, name.data(), name.size());  // sun_path[0] = 0: abstract
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
}

// Live children of `parent` other than us (the sibling workers).
std::vector<int> siblings(int parent) {
  std::vector<int> out;
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  const int self = ::getpid();
  while (dirent* e = ::readdir(d)) {
    const int pid = std::atoi(e->d_name);
    if (pid <= 0 || pid == self) continue;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    const auto paren = line.rfind(')');
    if (paren == std::string::npos || paren + 2 >= line.size()) continue;
    std::istringstream rest(line.substr(paren + 2));
    char state = 0;
    int ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent && state != 'Z') out.push_back(pid);
  }
  ::closedir(d);
  return out;
}
constexpr int kMaxIdleWaitMs = 60000;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// IMAP's INBOX is case-insensitive (RFC 3501 §5.1); every other name is exact.
bool sameFolder(const std::string& a, const std::string& b) {
  if (a.size() == 5 && b.size() == 5 && lower(a) == "inbox") return lower(b) == "inbox";
  return a == b;
}

int rank(WakeReason r) {
  switch (r) {
    case WakeReason::kEvent: return 0;
    case WakeReason::kHeartbeat: return 1;
    case WakeReason::kSuperseded: return 2;
    case WakeReason::kShutdown: return 3;
  }
  return 0;
}

CommandReply failure(Status s) {
  CommandReply r;
  r.status = std::move(s);
  return r;
}

}  // namespace

struct ParkingLot::Entry {
  std::uint64_t id = 0;
  commands::PushWatch watch;
  std::string user_key;  // lower-cased login
  // Touched only by the one thread that finishes the entry (after
  // detachLocked) or, for `request`, by the thread running its re-check.
  std::unique_ptr<commands::DeferredReply> reply;
  std::unique_ptr<commands::ParkedRequest> request;
  // Guarded by the lot's mu_:
  int fd = -1;  // in the epoll set while >= 0
  std::int64_t deadline_ms = 0;
  bool checking = false;  // a re-check is queued or running
  bool done = false;      // detached; answered or being answered
  bool gone = false;      // the client closed the connection
  bool pending_event = false;
  std::optional<WakeReason> pending_final;
};

ParkingLot::ParkingLot(ParkingLotOptions options) : options_(options) {}

ParkingLot::~ParkingLot() {
  shutdown();
  notify_client_.reset();  // joins its thread: no notify() after this
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (event_fd_ >= 0) ::close(event_fd_);
  if (sibling_fd_ >= 0) ::close(sibling_fd_);
}

Status ParkingLot::start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_) return Status::Ok();
  if (stopping_) return Status::Internal("runtime.parking_lot", "already shut down");
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return Status::Internal("runtime.parking_lot", std::strerror(errno));
  event_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (event_fd_ < 0) return Status::Internal("runtime.parking_lot", std::strerror(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kEventFdId;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, event_fd_, &ev) != 0)
    return Status::Internal("runtime.parking_lot", std::strerror(errno));
  if (options_.sibling_group > 0) {
    sibling_fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un a;
    const socklen_t len = siblingAddress(options_.sibling_group, ::getpid(), &a);
    if (sibling_fd_ < 0 || ::bind(sibling_fd_, reinterpret_cast<sockaddr*>(&a), len) != 0) {
      log::warn(std::string("push: no sibling socket (a newer Ping on another worker will not "
                            "end this worker's): ") + std::strerror(errno));
      if (sibling_fd_ >= 0) ::close(sibling_fd_);
      sibling_fd_ = -1;
    } else {
      epoll_event sev{};
      sev.events = EPOLLIN;
      sev.data.u64 = kSiblingFdId;
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, sibling_fd_, &sev);
    }
  }
  started_ = true;
  event_thread_ = std::thread([this] { eventLoop(); });
  const int n = std::max(1, options_.executor_threads);
  for (int i = 0; i < n; ++i) executor_.emplace_back([this] { executorLoop(); });
  return Status::Ok();
}

void ParkingLot::park(commands::PushWatch watch, std::unique_ptr<commands::DeferredReply> reply,
                      std::unique_ptr<commands::ParkedRequest> request) {
  if (!reply) return;
  // Before the entry exists, so that its unwatch can never come first.
  watchHook(watch.login, true);
  std::unique_lock<std::mutex> lock(mu_);
  if (!started_ || stopping_ || entries_.size() >= options_.max_parked) {
    const bool full = started_ && !stopping_;
    if (full) ++stats_.rejected_full;
    lock.unlock();
    watchHook(watch.login, false);
    if (full)
      log::warn("push: parking lot full (" + std::to_string(options_.max_parked) + "); user=" +
                watch.login + " device=" + watch.device_id + " answered 503");
    reply->send(failure(Status::Unavailable(full ? "push.lot_full" : "push.stopping")));
    return;
  }
  auto e = std::make_shared<Entry>();
  e->id = next_id_++;
  e->user_key = lower(watch.login);
  e->watch = std::move(watch);
  e->reply = std::move(reply);
  e->request = std::move(request);
  e->deadline_ms =
      options_.clock->monotonicMs() + static_cast<std::int64_t>(e->watch.heartbeat_seconds) * 1000;

  const auto device_key = std::make_pair(e->user_key, e->watch.device_id);
  if (auto it = by_device_.find(device_key); it != by_device_.end()) {
    auto old = entries_.find(it->second);
    by_device_.erase(it);
    if (old != entries_.end()) {
      ++stats_.superseded;
      wakeLocked(old->second, WakeReason::kSuperseded);
    }
  }
  by_device_[device_key] = e->id;
  entries_[e->id] = e;
  by_user_[e->user_key].push_back(e->id);
  timers_.emplace(e->deadline_ms, e->id);
  const int fd = e->reply->connectionFd();
  if (fd >= 0) {
    epoll_event ev{};
    ev.events = EPOLLRDHUP;  // HUP and ERR are always reported
    ev.data.u64 = e->id;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) == 0) {
      e->fd = fd;
    } else {
      log::warn(std::string("push: cannot watch a parked connection: ") + std::strerror(errno));
    }
  }
  ++stats_.parked;
  const bool nearest = timers_.top().second == e->id;
  lock.unlock();
  // The event thread sleeps until the nearest deadline it knew of.
  if (nearest) signalEventThread();
}

void ParkingLot::notify(const std::string& login, const std::string& folder) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_user_.find(lower(login));
  if (it == by_user_.end()) return;
  for (std::uint64_t id : it->second) {
    auto e = entries_.find(id);
    if (e == entries_.end()) continue;
    const auto& folders = e->second->watch.folders;
    if (folder.empty() || std::any_of(folders.begin(), folders.end(), [&](const std::string& f) {
          return sameFolder(f, folder);
        }))
      wakeLocked(e->second, WakeReason::kEvent);
  }
}

void ParkingLot::endDevice(const std::string& login, const std::string& device_id) {
  endDeviceLocal(login, device_id);
  tellSiblings(login, device_id);
}

void ParkingLot::tellSiblings(const std::string& login, const std::string& device_id) {
  if (sibling_fd_ < 0) return;
  // "end <login>\n<device>": one datagram per sibling; lost ones cost only
  // the older Ping's early answer (it still ends at its heartbeat).
  const std::string msg = "end " + login + "\n" + device_id;
  std::vector<int> pids;
  {
    std::lock_guard<std::mutex> lock(siblings_mu_);
    const std::int64_t now = Clock::real().monotonicMs();
    if (siblings_read_ms_ < 0 || now - siblings_read_ms_ >= 2000) {
      siblings_ = siblings(options_.sibling_group);
      siblings_read_ms_ = now;
    }
    pids = siblings_;
  }
  for (int pid : pids) {
    sockaddr_un a;
    const socklen_t len = siblingAddress(options_.sibling_group, pid, &a);
    ::sendto(sibling_fd_, msg.data(), msg.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&a), len);
  }
}

void ParkingLot::readSiblingMessages() {
  char buf[2048];
  for (;;) {
    const ssize_t n = ::recv(sibling_fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (n <= 0) return;
    const std::string msg(buf, static_cast<std::size_t>(n));
    const auto nl = msg.find('\n');
    if (msg.compare(0, 4, "end ") != 0 || nl == std::string::npos) continue;
    endDeviceLocal(msg.substr(4, nl - 4), msg.substr(nl + 1));
  }
}

void ParkingLot::endDeviceLocal(const std::string& login, const std::string& device_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_device_.find(std::make_pair(lower(login), device_id));
  if (it == by_device_.end()) return;
  auto e = entries_.find(it->second);
  by_device_.erase(it);
  if (e == entries_.end()) return;
  ++stats_.superseded;
  wakeLocked(e->second, WakeReason::kSuperseded);
}

std::size_t ParkingLot::parkedCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

ParkingLot::Stats ParkingLot::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void ParkingLot::poke() { signalEventThread(); }

void ParkingLot::attachNotifyClient(std::unique_ptr<notify::NotifyClient> client) {
  notify_client_ = std::move(client);
}

void ParkingLot::watchHook(const std::string& login, bool watch) {
  if (options_.watch_hook) options_.watch_hook(login, watch);
  if (!notify_client_) return;
  if (watch) {
    notify_client_->watchUser(login);
  } else {
    notify_client_->unwatchUser(login);
  }
}

void ParkingLot::signalEventThread() {
  if (event_fd_ < 0) return;
  const std::uint64_t one = 1;
  ssize_t ignored = ::write(event_fd_, &one, sizeof one);  // EAGAIN: already signalled
  (void)ignored;
}

void ParkingLot::wakeLocked(const EntryPtr& e, WakeReason why) {
  if (e->done) return;
  if (e->checking) {
    if (why == WakeReason::kEvent) {
      e->pending_event = true;
    } else if (!e->pending_final || rank(why) > rank(*e->pending_final)) {
      e->pending_final = why;
    }
    return;
  }
  e->checking = true;
  tasks_.emplace_back([this, e, why] { runCheck(e, why); });
  work_cv_.notify_one();
}

void ParkingLot::detachLocked(Entry& e) {
  e.done = true;
  entries_.erase(e.id);
  if (auto u = by_user_.find(e.user_key); u != by_user_.end()) {
    auto& ids = u->second;
    ids.erase(std::remove(ids.begin(), ids.end(), e.id), ids.end());
    if (ids.empty()) by_user_.erase(u);
  }
  if (auto d = by_device_.find(std::make_pair(e.user_key, e.watch.device_id));
      d != by_device_.end() && d->second == e.id)
    by_device_.erase(d);
  // Before the reply is sent: send() closes the descriptor, and its number
  // may be reused by the next connection.
  if (e.fd >= 0) {
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, e.fd, nullptr);
    e.fd = -1;
  }
  if (entries_.empty()) empty_cv_.notify_all();
}

void ParkingLot::runCheck(EntryPtr e, WakeReason why) {
  for (;;) {
    bool gone = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      gone = e->gone;
    }
    std::optional<CommandReply> reply;
    if (!gone && e->request) reply = e->request->recheck(why);

    std::unique_lock<std::mutex> lock(mu_);
    if (e->gone) {
      ++stats_.client_gone;
      reply = failure(Status::Unavailable("push.client_gone"));
    } else if (!reply) {
      if (why == WakeReason::kEvent) {
        if (e->pending_final) {
          why = *e->pending_final;
          e->pending_final.reset();
          e->pending_event = false;
          continue;
        }
        if (e->pending_event) {
          e->pending_event = false;
          continue;
        }
        ++stats_.spurious;
        e->checking = false;
        return;  // back to waiting
      }
      reply = failure(Status::Internal("push.no_answer", "a parked request gave no answer"));
    }
    if (!e->gone) ++stats_.answered;
    detachLocked(*e);
    std::unique_ptr<commands::DeferredReply> out = std::move(e->reply);
    std::unique_ptr<commands::ParkedRequest> req = std::move(e->request);
    lock.unlock();
    if (out) out->send(std::move(*reply));
    watchHook(e->watch.login, false);
    return;
  }
}

void ParkingLot::clientGone(std::uint64_t id) {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  EntryPtr e = it->second;
  if (e->done) return;
  if (e->fd >= 0) {
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, e->fd, nullptr);
    e->fd = -1;
  }
  e->gone = true;
  if (e->checking) return;  // the running re-check frees it
  ++stats_.client_gone;
  detachLocked(*e);
  std::unique_ptr<commands::DeferredReply> out = std::move(e->reply);
  std::unique_ptr<commands::ParkedRequest> req = std::move(e->request);
  lock.unlock();
  // Nothing reaches the device (nginx closed the connection); the reply
  // only finishes the FastCGI request and logs why.
  out->send(failure(Status::Unavailable("push.client_gone")));
  watchHook(e->watch.login, false);
}

void ParkingLot::runDueTimers() {
  std::lock_guard<std::mutex> lock(mu_);
  const std::int64_t now = options_.clock->monotonicMs();
  while (!timers_.empty() && timers_.top().first <= now) {
    const auto [deadline, id] = timers_.top();
    timers_.pop();
    auto it = entries_.find(id);
    if (it == entries_.end() || it->second->deadline_ms != deadline) continue;
    wakeLocked(it->second, WakeReason::kHeartbeat);
  }
}

void ParkingLot::eventLoop() {
  epoll_event events[128];
  for (;;) {
    int timeout = kMaxIdleWaitMs;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (threads_stop_) return;
      if (!timers_.empty()) {
        const std::int64_t wait = timers_.top().first - options_.clock->monotonicMs();
        timeout = static_cast<int>(std::clamp<std::int64_t>(wait, 0, kMaxIdleWaitMs));
      }
    }
    const int n = ::epoll_wait(epoll_fd_, events, 128, timeout);
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 == kSiblingFdId) {
        readSiblingMessages();
        continue;
      }
      if (events[i].data.u64 == kEventFdId) {
        std::uint64_t count = 0;
        ssize_t ignored = ::read(event_fd_, &count, sizeof count);
        (void)ignored;
        continue;
      }
      clientGone(events[i].data.u64);
    }
    runDueTimers();
  }
}

void ParkingLot::executorLoop() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [this] { return threads_stop_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping, and nothing left to run
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

void ParkingLot::shutdown(std::int64_t timeout_ms) {
  std::vector<EntryPtr> leftovers;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (threads_stop_ || (!started_ && stopping_)) return;
    stopping_ = true;
    if (started_) {
      if (!entries_.empty())
        log::info("push: answering " + std::to_string(entries_.size()) + " parked request(s)");
      std::vector<EntryPtr> all;
      all.reserve(entries_.size());
      for (auto& [id, e] : entries_) all.push_back(e);
      for (auto& e : all) wakeLocked(e, WakeReason::kShutdown);
      empty_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                         [this] { return entries_.empty(); });
      threads_stop_ = true;
      work_cv_.notify_all();
    }
  }
  if (event_thread_.joinable()) {
    signalEventThread();
    event_thread_.join();
  }
  for (auto& t : executor_)
    if (t.joinable()) t.join();
  executor_.clear();
  {
    std::lock_guard<std::mutex> lock(mu_);
    threads_stop_ = true;
    for (auto& [id, e] : entries_) leftovers.push_back(e);
    for (auto& e : leftovers) detachLocked(*e);
  }
  for (auto& e : leftovers) {
    if (e->reply) e->reply->send(failure(Status::Unavailable("push.stopping")));
    watchHook(e->watch.login, false);
  }
}

}  // namespace eas::runtime
