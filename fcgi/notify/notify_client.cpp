// NotifyClient over the relay socket: one thread per worker, poll() on the
// socket and an eventfd that watchUser/unwatchUser and the destructor use to
// wake it. See notify_client.h for the contract.
#include "fcgi/notify/notify_client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include "core/backends/imap/imap_util.h"
#include "core/base/log.h"
#include "fcgi/notify/notify_relay.h"

namespace eas::notify {
namespace {

constexpr int kFirstBackoffMs = 50;
// A restarted notifyd is found again within a second.
constexpr int kMaxBackoffMs = 1000;

class RelayClient final : public NotifyClient {
 public:
  RelayClient(std::string path, EventHandler on_event)
      : path_(std::move(path)), on_event_(std::move(on_event)) {
    wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    thread_ = std::thread([this] { run(); });
  }

  ~RelayClient() override {
    stop_.store(true);
    wake();
    thread_.join();
    if (wake_fd_ >= 0) close(wake_fd_);
  }

  void watchUser(const std::string& user) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto& spellings = watched_[relay::userKey(user)];
      if (++spellings[user] != 1 || spellings.size() != 1) return;
      // First watcher of this user: tell notifyd (if connected; a later
      // connect sends every watched user anyway).
      if (connected_.load()) out_ += relay::watchLine(relay::userKey(user));
    }
    wake();
  }

  void unwatchUser(const std::string& user) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = watched_.find(relay::userKey(user));
      if (it == watched_.end()) return;
      auto sp = it->second.find(user);
      if (sp == it->second.end()) return;
      if (--sp->second > 0) return;
      it->second.erase(sp);
      if (!it->second.empty()) return;
      watched_.erase(it);
      if (connected_.load()) out_ += relay::unwatchLine(relay::userKey(user));
    }
    wake();
  }

  bool connected() const override { return connected_.load(); }

 private:
  void wake() {
    const std::uint64_t one = 1;
    if (wake_fd_ >= 0) {
      ssize_t n = write(wake_fd_, &one, sizeof one);
      (void)n;
    }
  }

  void drainWake() {
    std::uint64_t v;
    while (read(wake_fd_, &v, sizeof v) > 0) {
    }
  }

  // Waits up to ms for stop or a wake; true when stopping.
  bool sleepMs(int ms) {
    pollfd p{wake_fd_, POLLIN, 0};
    poll(&p, 1, ms);
    drainWake();
    return stop_.load();
  }

  int connectOnce() {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path_.size() >= sizeof addr.sun_path) {
      close(fd);
      return -1;
    }
    std::memcpy(addr.sun_path, path_.data(), path_.size());
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(fd);
      return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
  }

  void run() {
    int backoff = kFirstBackoffMs;
    bool logged_down = false;
    while (!stop_.load()) {
      const int fd = connectOnce();
      if (fd < 0) {
        if (!logged_down) {
          log::warn("notify.client_disconnected cannot reach eas-notifyd at " + path_ +
                    " (retrying; Pings wake at their heartbeat meanwhile)");
          logged_down = true;
        }
        if (sleepMs(backoff)) break;
        backoff = std::min(backoff * 2, kMaxBackoffMs);
        continue;
      }
      {
        // Every watched user, then whatever comes later through out_.
        std::lock_guard<std::mutex> lock(mu_);
        out_.clear();
        for (const auto& [key, spellings] : watched_) out_ += relay::watchLine(key);
        connected_.store(true);
      }
      if (logged_down) log::info("notify.client_connected eas-notifyd at " + path_);
      logged_down = false;
      serve(fd);
      connected_.store(false);
      close(fd);
      if (stop_.load()) break;
      log::warn("notify.client_disconnected eas-notifyd at " + path_ + " went away; reconnecting");
      logged_down = true;
      backoff = kFirstBackoffMs;
      if (sleepMs(backoff)) break;
    }
  }

  // Until the peer goes away, a protocol error or stop.
  void serve(int fd) {
    std::string in, pending;
    bool greeted = false;
    char buf[8192];
    while (!stop_.load()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        pending += out_;
        out_.clear();
      }
      while (!pending.empty()) {
        const ssize_t n = send(fd, pending.data(), pending.size(), MSG_NOSIGNAL);
        if (n > 0) {
          pending.erase(0, static_cast<std::size_t>(n));
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          break;
        } else if (n < 0 && errno == EINTR) {
          continue;
        } else {
          return;
        }
      }
      pollfd p[2] = {{fd, static_cast<short>(POLLIN | (pending.empty() ? 0 : POLLOUT)), 0},
                     {wake_fd_, POLLIN, 0}};
      if (poll(p, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (p[1].revents != 0) drainWake();
      if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
        const ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n == 0) return;
        if (n < 0) {
          if (errno == EAGAIN || errno == EINTR) continue;
          return;
        }
        in.append(buf, static_cast<std::size_t>(n));
        std::size_t nl;
        while ((nl = in.find('\n')) != std::string::npos) {
          const std::string line = in.substr(0, nl);
          in.erase(0, nl + 1);
          if (!greeted) {
            if (line != relay::kGreeting) {
              log::error("notify.client_bad_greeting from " + path_ + ": not eas-notifyd");
              return;
            }
            greeted = true;
            continue;
          }
          deliver(line);
        }
        if (in.size() > relay::kMaxLineBytes) {
          log::error("notify.client_bad_line from eas-notifyd: line too long");
          return;
        }
      }
    }
  }

  void deliver(const std::string& line) {
    if (line.rfind("EVENT ", 0) != 0) return;  // other replies (STATS) are not ours
    auto e = relay::parseEventLine(line);
    if (!e.ok()) {
      log::warn("notify.client_bad_line " + e.status().toString());
      return;
    }
    // Dovecot reports folder names in UTF-8; the seam speaks IMAP's names.
    if (e->source == "imap") e->folder = backend::imap::encodeMailboxName(e->folder);
    std::vector<std::string> spellings;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = watched_.find(relay::userKey(e->user));
      if (it == watched_.end()) return;  // unwatched while in flight
      for (const auto& [spelling, count] : it->second) spellings.push_back(spelling);
    }
    // Each spelling the worker registered gets the event under that spelling.
    for (const std::string& s : spellings) {
      ChangeEvent copy = *e;
      copy.user = s;
      on_event_(copy);
    }
  }

  const std::string path_;
  const EventHandler on_event_;
  int wake_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<bool> connected_{false};

  std::mutex mu_;
  // userKey -> registered spelling -> count. GUARDED_BY(mu_)
  std::map<std::string, std::map<std::string, int>> watched_;
  std::string out_;  // lines not yet handed to the socket. GUARDED_BY(mu_)

  std::thread thread_;  // last: started after everything above exists
};

}  // namespace

std::unique_ptr<NotifyClient> startNotifyClient(std::string socket_path,
                                                NotifyClient::EventHandler on_event) {
  return std::make_unique<RelayClient>(std::move(socket_path), std::move(on_event));
}

}  // namespace eas::notify
