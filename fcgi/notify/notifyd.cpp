#include "fcgi/notify/notifyd.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include "core/base/clock.h"
#include "core/base/log.h"
#include "fcgi/notify/notify_datagram.h"
#include "fcgi/notify/notify_relay.h"

namespace eas::notify {
namespace {

// A worker that does not read its socket is dropped rather than buffered
// without bound; it reconnects and re-registers.
constexpr std::size_t kMaxClientBacklog = 4 << 20;
// At most this many "dropped" lines per window; the rest are only counted.
constexpr int kDropLinesPerWindow = 20;
constexpr std::int64_t kDropWindowMs = 10'000;

std::string errnoText() { return std::strerror(errno); }

Result<int> parseInt(const std::string& s, long lo, long hi) {
  if (s.empty()) return Status::InvalidArgument("notifyd.usage", "empty number");
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || v < lo || v > hi)
    return Status::InvalidArgument("notifyd.usage", "bad number '" + s + "'");
  return static_cast<int>(v);
}

struct Client {
  int fd = -1;
  std::string in;
  std::string out;
  std::unordered_set<std::string> users;
};

class Daemon {
 public:
  explicit Daemon(const NotifydOptions& o) : opt_(o), guard_(o.replay_window_seconds) {}
  ~Daemon() {
    for (auto& [fd, c] : clients_) close(fd);
    for (int fd : {udp_fd_, listen_fd_, signal_fd_, epoll_fd_})
      if (fd >= 0) close(fd);
  }

  Status start();
  int loop();

 private:
  Status openUdp();
  Status openRelay();
  void onDatagram();
  void drop(const Status& why, const std::string& from, std::size_t bytes);
  void onAccept();
  void onClient(int fd, std::uint32_t events);
  void handleLine(Client& c, const std::string& line);
  void queue(Client& c, const std::string& line);
  bool flush(Client& c);
  void closeClient(int fd, const char* why);
  bool onSignal();  // false: stop
  std::string stats() const;
  void maybeLogStats(bool force);

  const NotifydOptions opt_;
  ReplayGuard guard_;
  std::string secret_;
  int udp_fd_ = -1, listen_fd_ = -1, signal_fd_ = -1, epoll_fd_ = -1;
  std::unordered_map<int, std::unique_ptr<Client>> clients_;
  std::unordered_map<std::string, std::unordered_set<int>> watchers_;  // userKey -> fds

  std::uint64_t received_ = 0, relayed_ = 0, unwatched_ = 0;
  std::uint64_t malformed_ = 0, unauthenticated_ = 0, replayed_ = 0, suppressed_ = 0;
  std::uint64_t logged_generation_ = 0, generation_ = 0;
  std::int64_t drop_window_start_ = 0;
  int drop_lines_ = 0;
  std::int64_t last_stats_ms_ = 0;
};

Status Daemon::openUdp() {
  udp_fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (udp_fd_ < 0) return Status::IOError("notifyd.udp", "socket: " + errnoText());
  // Bursts (a mass expunge) must not overflow the default receive buffer.
  int size = 4 << 20;
  setsockopt(udp_fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(opt_.udp_port));
  if (inet_pton(AF_INET, opt_.udp_host.c_str(), &a.sin_addr) != 1)
    return Status::InvalidArgument("notifyd.udp", "not an IPv4 address: " + opt_.udp_host);
  if (bind(udp_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    return Status::IOError("notifyd.udp", "bind " + opt_.udp_host + ":" +
                                              std::to_string(opt_.udp_port) + ": " + errnoText());
  socklen_t len = sizeof a;
  getsockname(udp_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  const int port = ntohs(a.sin_port);
  if (!opt_.port_file.empty()) {
    const std::string tmp = opt_.port_file + ".tmp";
    std::ofstream(tmp) << port << "\n";
    if (rename(tmp.c_str(), opt_.port_file.c_str()) != 0)
      return Status::IOError("notifyd.port_file", opt_.port_file + ": " + errnoText());
  }
  log::info("notifyd.listening udp=" + opt_.udp_host + ":" + std::to_string(port));
  return Status::Ok();
}

Status Daemon::openRelay() {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (opt_.socket_path.size() >= sizeof a.sun_path)
    return Status::InvalidArgument("notifyd.socket", "socket path too long");
  std::memcpy(a.sun_path, opt_.socket_path.data(), opt_.socket_path.size());
  // A socket file left by a killed run is removed; a live notifyd on it is not.
  struct stat st;
  if (lstat(opt_.socket_path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return Status::AlreadyExists("notifyd.socket", opt_.socket_path + " exists, not a socket");
    const int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const bool live = connect(probe, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(probe);
    if (live)
      return Status::AlreadyExists("notifyd.socket",
                                   "another eas-notifyd serves " + opt_.socket_path);
    unlink(opt_.socket_path.c_str());
  }
  listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return Status::IOError("notifyd.socket", "socket: " + errnoText());
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    return Status::IOError("notifyd.socket", "bind " + opt_.socket_path + ": " + errnoText());
  chmod(opt_.socket_path.c_str(), opt_.socket_mode);
  if (listen(listen_fd_, 512) != 0)
    return Status::IOError("notifyd.socket", "listen: " + errnoText());
  log::info("notifyd.listening relay=" + opt_.socket_path);
  return Status::Ok();
}

Status Daemon::start() {
  auto secret = readSecretFile(opt_.secret_file);
  if (!secret.ok()) return secret.status();
  secret_ = std::move(secret).value();

  sigset_t mask;
  sigemptyset(&mask);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGUSR1}) sigaddset(&mask, s);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  signal(SIGPIPE, SIG_IGN);
  signal_fd_ = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd_ < 0) return Status::IOError("notifyd.signalfd", errnoText());

  EAS_RETURN_IF_ERROR(openUdp());
  EAS_RETURN_IF_ERROR(openRelay());
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return Status::IOError("notifyd.epoll", errnoText());
  for (int fd : {udp_fd_, listen_fd_, signal_fd_}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  }
  if (!opt_.pid_file.empty()) {
    const std::string tmp = opt_.pid_file + ".tmp";
    std::ofstream(tmp) << getpid() << "\n";
    if (rename(tmp.c_str(), opt_.pid_file.c_str()) != 0)
      return Status::IOError("notifyd.pid_file", opt_.pid_file + ": " + errnoText());
  }
  last_stats_ms_ = Clock::real().monotonicMs();
  return Status::Ok();
}

void Daemon::drop(const Status& why, const std::string& from, std::size_t bytes) {
  const std::string_view cat = dropCategory(why);
  if (cat == "unauthenticated") {
    ++unauthenticated_;
  } else if (cat == "replayed") {
    ++replayed_;
  } else {
    ++malformed_;
  }
  ++generation_;
  const std::int64_t now = Clock::real().monotonicMs();
  if (now - drop_window_start_ >= kDropWindowMs) {
    drop_window_start_ = now;
    drop_lines_ = 0;
  }
  if (drop_lines_++ >= kDropLinesPerWindow) {
    ++suppressed_;
    return;
  }
  log::warn("notifyd.dropped reason=" + why.reason() + " from=" + from +
            " bytes=" + std::to_string(bytes) + " malformed=" + std::to_string(malformed_) +
            " unauthenticated=" + std::to_string(unauthenticated_) +
            " replayed=" + std::to_string(replayed_) + " (" + why.message() + ")");
}

void Daemon::onDatagram() {
  // Drain everything queued; one datagram per recvfrom.
  char buf[kMaxDatagramBytes + 1];
  for (int i = 0; i < 1024; ++i) {
    sockaddr_in from{};
    socklen_t flen = sizeof from;
    const ssize_t n = recvfrom(udp_fd_, buf, sizeof buf, MSG_TRUNC,
                               reinterpret_cast<sockaddr*>(&from), &flen);
    if (n < 0) return;  // EAGAIN: drained
    char addr[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &from.sin_addr, addr, sizeof addr);
    const std::string peer = std::string(addr) + ":" + std::to_string(ntohs(from.sin_port));
    ++received_;
    ++generation_;
    // MSG_TRUNC returns the real length: an oversized datagram is seen as such.
    const auto len = static_cast<std::size_t>(n);
    const std::string_view bytes(buf, std::min(len, sizeof buf));
    auto d = len > kMaxDatagramBytes
                 ? Result<Datagram>(Status::LimitExceeded("notify.oversized",
                                                          std::to_string(len) + " bytes"))
                 : decodeDatagram(bytes, secret_);
    if (!d.ok()) {
      drop(d.status(), peer, len);
      continue;
    }
    if (Status s = guard_.admit(*d, Clock::real().unixSeconds()); !s.ok()) {
      drop(s, peer, len);
      continue;
    }
    auto w = watchers_.find(relay::userKey(d->event.user));
    if (w == watchers_.end()) {
      ++unwatched_;
      continue;
    }
    const std::string line = relay::eventLine(d->event);
    std::vector<int> fds(w->second.begin(), w->second.end());
    for (int fd : fds) {
      auto c = clients_.find(fd);
      if (c == clients_.end()) continue;
      queue(*c->second, line);
      ++relayed_;
    }
    log::debug("notifyd.relayed user=" + d->event.user + " kind=" + d->event.kind +
               " to=" + std::to_string(fds.size()));
  }
}

void Daemon::onAccept() {
  while (true) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    auto c = std::make_unique<Client>();
    c->fd = fd;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = fd;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    Client& ref = *c;
    clients_[fd] = std::move(c);
    ++generation_;
    queue(ref, std::string(relay::kGreeting) + "\n");
  }
}

void Daemon::queue(Client& c, const std::string& line) {
  const bool was_empty = c.out.empty();
  c.out += line;
  if (c.out.size() > kMaxClientBacklog) {
    closeClient(c.fd, "not reading (backlog over 4 MiB)");
    return;
  }
  if (was_empty && !flush(c)) return;
}

// Writes what the socket takes; arms EPOLLOUT for the rest. False when the
// client was closed.
bool Daemon::flush(Client& c) {
  while (!c.out.empty()) {
    const ssize_t n = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.out.erase(0, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    closeClient(c.fd, "write failed");
    return false;
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | (c.out.empty() ? 0u : static_cast<std::uint32_t>(EPOLLOUT));
  ev.data.fd = c.fd;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
  return true;
}

void Daemon::closeClient(int fd, const char* why) {
  auto it = clients_.find(fd);
  if (it == clients_.end()) return;
  for (const std::string& u : it->second->users) {
    auto w = watchers_.find(u);
    if (w == watchers_.end()) continue;
    w->second.erase(fd);
    if (w->second.empty()) watchers_.erase(w);
  }
  log::info(std::string("notifyd.client_closed fd=") + std::to_string(fd) + " users=" +
            std::to_string(it->second->users.size()) + " (" + why + ")");
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  close(fd);
  clients_.erase(it);
  ++generation_;
}

void Daemon::handleLine(Client& c, const std::string& line) {
  auto f = relay::splitLine(line);
  if (!f.ok() || f->empty()) {
    closeClient(c.fd, "bad line");
    return;
  }
  const std::string& verb = (*f)[0];
  if ((verb == "WATCH" || verb == "UNWATCH") && f->size() == 2 && !(*f)[1].empty()) {
    const std::string key = relay::userKey((*f)[1]);
    if (verb == "WATCH") {
      c.users.insert(key);
      watchers_[key].insert(c.fd);
    } else {
      c.users.erase(key);
      auto w = watchers_.find(key);
      if (w != watchers_.end()) {
        w->second.erase(c.fd);
        if (w->second.empty()) watchers_.erase(w);
      }
    }
    return;
  }
  if (verb == "STATS" && f->size() == 1) {
    queue(c, "STATS " + stats() + "\n");
    return;
  }
  closeClient(c.fd, "unknown command");
}

void Daemon::onClient(int fd, std::uint32_t events) {
  auto it = clients_.find(fd);
  if (it == clients_.end()) return;
  Client& c = *it->second;
  if (events & EPOLLOUT) {
    if (!flush(c)) return;
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    char buf[8192];
    while (true) {
      const ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n == 0) {
        closeClient(fd, "worker closed the connection");
        return;
      }
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == EINTR) continue;
        closeClient(fd, "read failed");
        return;
      }
      c.in.append(buf, static_cast<std::size_t>(n));
      std::size_t nl;
      while ((nl = c.in.find('\n')) != std::string::npos) {
        const std::string line = c.in.substr(0, nl);
        c.in.erase(0, nl + 1);
        handleLine(c, line);
        if (clients_.find(fd) == clients_.end()) return;
      }
      if (c.in.size() > relay::kMaxLineBytes) {
        closeClient(fd, "line too long");
        return;
      }
    }
  }
}

std::string Daemon::stats() const {
  return "received=" + std::to_string(received_) + " relayed=" + std::to_string(relayed_) +
         " unwatched=" + std::to_string(unwatched_) + " malformed=" + std::to_string(malformed_) +
         " unauthenticated=" + std::to_string(unauthenticated_) +
         " replayed=" + std::to_string(replayed_) + " suppressed_lines=" +
         std::to_string(suppressed_) + " clients=" + std::to_string(clients_.size()) +
         " watched_users=" + std::to_string(watchers_.size());
}

void Daemon::maybeLogStats(bool force) {
  const std::int64_t now = Clock::real().monotonicMs();
  if (!force && (logged_generation_ == generation_ ||
                 now - last_stats_ms_ < std::int64_t{opt_.stats_interval_seconds} * 1000))
    return;
  last_stats_ms_ = now;
  logged_generation_ = generation_;
  log::info("notifyd.stats " + stats());
}

bool Daemon::onSignal() {
  signalfd_siginfo si;
  while (read(signal_fd_, &si, sizeof si) == sizeof si) {
    if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) return false;
    if (si.ssi_signo == SIGUSR1) maybeLogStats(true);
    if (si.ssi_signo == SIGHUP) {
      auto s = readSecretFile(opt_.secret_file);
      if (s.ok()) {
        secret_ = std::move(s).value();
        log::info("notifyd.reloaded secret from " + opt_.secret_file);
      } else {
        log::error("notifyd.reload_refused " + s.status().toString() + " (old secret kept)");
      }
    }
  }
  return true;
}

int Daemon::loop() {
  epoll_event evs[64];
  while (true) {
    const int n = epoll_wait(epoll_fd_, evs, 64, 1000);
    if (n < 0 && errno != EINTR) {
      log::error("notifyd.epoll " + errnoText());
      return 1;
    }
    for (int i = 0; i < n; ++i) {
      const int fd = evs[i].data.fd;
      if (fd == udp_fd_) {
        onDatagram();
      } else if (fd == listen_fd_) {
        onAccept();
      } else if (fd == signal_fd_) {
        if (!onSignal()) {
          maybeLogStats(true);
          log::info("notifyd.stopping");
          return 0;
        }
      } else {
        onClient(fd, evs[i].events);
      }
    }
    maybeLogStats(false);
  }
}

}  // namespace

std::string notifydUsage() {
  return "usage: eas-notifyd --socket PATH --secret-file FILE [--udp HOST:PORT]\n"
         "                   [--pid-file FILE] [--port-file FILE] [--replay-window SECONDS]\n"
         "                   [--stats-interval SECONDS] [--socket-mode OCTAL] [--debug]\n"
         "  --udp          where sources send datagrams (default 127.0.0.1:4610; port 0 = any)\n"
         "  --socket       the relay socket the eas-fcgi workers connect to ([push] notify_socket)\n"
         "  --secret-file  the shared HMAC secret (at least 16 bytes; SIGHUP re-reads it)\n"
         "  --port-file    written with the bound UDP port\n"
         "  --replay-window  accepted clock skew and nonce memory (default 60 s)\n";
}

Result<NotifydOptions> parseNotifydArgs(const std::vector<std::string>& args) {
  NotifydOptions o;
  o.udp_port = 4610;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--debug") {
      log::setLevel(log::Level::kDebug);
      continue;
    }
    if (i + 1 >= args.size())
      return Status::InvalidArgument("notifyd.usage", a + " needs a value (or is unknown)");
    const std::string& v = args[++i];
    if (a == "--udp") {
      const auto colon = v.rfind(':');
      if (colon == std::string::npos)
        return Status::InvalidArgument("notifyd.usage", "--udp wants HOST:PORT");
      o.udp_host = v.substr(0, colon);
      auto p = parseInt(v.substr(colon + 1), 0, 65535);
      if (!p.ok()) return p.status();
      o.udp_port = *p;
    } else if (a == "--socket") {
      o.socket_path = v;
    } else if (a == "--secret-file") {
      o.secret_file = v;
    } else if (a == "--pid-file") {
      o.pid_file = v;
    } else if (a == "--port-file") {
      o.port_file = v;
    } else if (a == "--replay-window") {
      auto p = parseInt(v, 1, 3600);
      if (!p.ok()) return p.status();
      o.replay_window_seconds = *p;
    } else if (a == "--stats-interval") {
      auto p = parseInt(v, 1, 86400);
      if (!p.ok()) return p.status();
      o.stats_interval_seconds = *p;
    } else if (a == "--socket-mode") {
      char* end = nullptr;
      const unsigned long m = std::strtoul(v.c_str(), &end, 8);
      if (*end != '\0' || m > 0777)
        return Status::InvalidArgument("notifyd.usage", "--socket-mode wants octal like 0660");
      o.socket_mode = static_cast<unsigned>(m);
    } else {
      return Status::InvalidArgument("notifyd.usage", "unknown option " + a);
    }
  }
  if (o.socket_path.empty()) return Status::InvalidArgument("notifyd.usage", "--socket missing");
  if (o.secret_file.empty())
    return Status::InvalidArgument("notifyd.usage", "--secret-file missing");
  return o;
}

int runNotifyd(const NotifydOptions& options) {
  Daemon d(options);
  if (Status s = d.start(); !s.ok()) {
    log::error("notifyd.start_failed " + s.toString());
    return 1;
  }
  const int rc = d.loop();
  unlink(options.socket_path.c_str());
  if (!options.pid_file.empty()) unlink(options.pid_file.c_str());
  return rc;
}

}  // namespace eas::notify
