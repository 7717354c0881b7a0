// Test helpers for eas-notifyd: a private daemon process, a datagram sender,
// an event sink that waits with a deadline, and the daemon's counters (its
// STATS command). Header-only; used by the unit and integration tests.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fcgi/notify/notify_client.h"
#include "fcgi/notify/notify_datagram.h"

namespace eas::notify::testing {

inline std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// eas-notifyd of this build, run in `dir` with its own socket and secret.
class NotifydProcess {
 public:
  explicit NotifydProcess(std::string dir) : dir_(std::move(dir)) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    secret_ = "unit-test-secret-" + std::to_string(getpid()) + "-0123456789";
    std::ofstream(secretFile()) << secret_ << "\n";
  }
  ~NotifydProcess() { stop(); }

  std::string socketPath() const { return dir_ + "/relay.sock"; }
  std::string secretFile() const { return dir_ + "/secret"; }
  std::string logPath() const { return dir_ + "/notifyd.log"; }
  const std::string& secret() const { return secret_; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string log() const { return readFile(logPath()); }

  // Starts on `port` (0: any; the port of a previous start is reused, so a
  // restart keeps the address). True once the socket and port file exist.
  bool start(int port = -1, std::vector<std::string> extra = {}) {
    if (port < 0) port = port_;
    std::filesystem::remove(dir_ + "/port");
    // Everything allocated before fork(): the test process has other threads.
    std::vector<std::string> args = {std::string(EAS_BINARY_DIR) + "/fcgi/eas-notifyd",
                                     "--udp", "127.0.0.1:" + std::to_string(port),
                                     "--socket", socketPath(), "--secret-file", secretFile(),
                                     "--port-file", dir_ + "/port", "--stats-interval", "1"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string log_path = logPath();
    pid_ = fork();
    if (pid_ == 0) {
      const int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      execv(argv[0], argv.data());
      _exit(127);
    }
    for (int i = 0; i < 200; ++i) {
      struct stat st;
      const std::string p = readFile(dir_ + "/port");
      if (!p.empty() && stat(socketPath().c_str(), &st) == 0) {
        port_ = std::stoi(p);
        return true;
      }
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  // SIGTERM (or the given signal) and reap; the exit status, -1 if none ran.
  int stop(int sig = SIGTERM) {
    if (pid_ <= 0) return -1;
    kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

  bool alive() const { return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }

 private:
  std::string dir_;
  std::string secret_;
  int port_ = 0;
  pid_t pid_ = -1;
};

inline bool sendUdp(int port, const std::string& bytes) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const ssize_t n = sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&a),
                           sizeof a);
  close(fd);
  return n == static_cast<ssize_t>(bytes.size());
}

inline std::string signedEvent(const std::string& secret, const std::string& user,
                               const std::string& folder = "INBOX",
                               const std::string& kind = "new",
                               const std::string& source = "easctl") {
  auto d = encodeDatagram(ChangeEvent{user, source, folder, kind},
                          std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count(),
                          randomNonce(), secret);
  return d.ok() ? *d : std::string();
}

// Collects events from a NotifyClient's thread.
class EventSink {
 public:
  NotifyClient::EventHandler handler() {
    return [this](const ChangeEvent& e) {
      std::lock_guard<std::mutex> lock(mu_);
      events_.push_back(e);
      cv_.notify_all();
    };
  }
  // Waits until an event matches; returns it (user empty on timeout).
  ChangeEvent waitFor(const std::function<bool(const ChangeEvent&)>& match,
                      std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    ChangeEvent found;
    cv_.wait_for(lock, timeout, [&] {
      for (std::size_t i = seen_; i < events_.size(); ++i) {
        if (match(events_[i])) {
          found = events_[i];
          seen_ = i + 1;
          return true;
        }
      }
      return false;
    });
    return found;
  }
  std::vector<ChangeEvent> all() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }
  void clear() {
    std::lock_guard<std::mutex> lock(mu_);
    events_.clear();
    seen_ = 0;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<ChangeEvent> events_;
  std::size_t seen_ = 0;
};

// The daemon's counters over its own STATS command; empty on failure.
inline std::map<std::string, long> queryStats(const std::string& socket_path) {
  std::map<std::string, long> out;
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, socket_path.c_str(), sizeof a.sun_path - 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return out;
  }
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const std::string cmd = "STATS\n";
  if (send(fd, cmd.data(), cmd.size(), MSG_NOSIGNAL) < 0) {
    close(fd);
    return out;
  }
  std::string buf;
  char chunk[4096];
  while (buf.find("STATS ") == std::string::npos ||
         buf.find('\n', buf.find("STATS ")) == std::string::npos) {
    const ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    buf.append(chunk, static_cast<std::size_t>(n));
  }
  close(fd);
  const auto at = buf.find("STATS ");
  if (at == std::string::npos) return out;
  std::istringstream line(buf.substr(at + 6, buf.find('\n', at) - at - 6));
  std::string kv;
  while (line >> kv) {
    const auto eq = kv.find('=');
    if (eq != std::string::npos) out[kv.substr(0, eq)] = std::stol(kv.substr(eq + 1));
  }
  return out;
}

// Polls `cond` every 10 ms until true or the timeout.
inline bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

}  // namespace eas::notify::testing
