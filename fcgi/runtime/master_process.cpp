#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/base/clock.h"
#include "core/base/log.h"
#include "fcgi/runtime/log_setup.h"
#include "fcgi/runtime/process.h"
#include "fcgi/runtime/request_pipeline.h"

namespace eas::runtime {
namespace {

std::int64_t nowMs() { return Clock::real().monotonicMs(); }

std::string describeExit(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return std::string("killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  return "stopped";
}

class Master {
 public:
  Master(std::string config_path, Config config)
      : config_path_(std::move(config_path)), config_(std::move(config)) {}

  int run();

 private:
  struct Child {
    pid_t pid = 0;
    int slot = -1;
    int ready_fd = -1;  // read end; -1 once ready (or closed)
    bool draining = false;
    std::int64_t started_ms = 0;
  };
  struct Slot {
    pid_t pid = 0;         // the worker that serves this slot; 0: none
    int quick_deaths = 0;  // consecutive deaths soon after start
    std::int64_t restart_at = 0;
  };

  pid_t spawn(int slot);
  void handleSignals();  // reads everything pending on sigfd_
  void reap();
  void reload();
  bool waitReady(pid_t pid);  // during reload
  void shutdown();
  Child* findChild(pid_t pid);
  void markReady(Child& c);
  void writePidFile();

  const std::string config_path_;
  Config config_;
  ListenSocket socket_;
  int sigfd_ = -1;
  std::vector<Child> children_;
  std::vector<Slot> slots_;
  bool terminating_ = false;
  bool reload_pending_ = false;
  bool pid_file_written_ = false;
};

void Master::writePidFile() {
  if (config_.server.pid_file.empty()) return;
  std::string tmp = config_.server.pid_file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << ::getpid() << "\n";
    if (!out) {
      log::error("cannot write pid file " + tmp);
      return;
    }
  }
  if (::rename(tmp.c_str(), config_.server.pid_file.c_str()) != 0) {
    log::error("cannot write pid file " + config_.server.pid_file + ": " + std::strerror(errno));
    return;
  }
  pid_file_written_ = true;
}

Master::Child* Master::findChild(pid_t pid) {
  for (auto& c : children_)
    if (c.pid == pid) return &c;
  return nullptr;
}

void Master::markReady(Child& c) {
  if (c.ready_fd >= 0) {
    ::close(c.ready_fd);
    c.ready_fd = -1;
  }
}

pid_t Master::spawn(int slot) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) {
    log::error(std::string("pipe: ") + std::strerror(errno));
    slots_[slot].restart_at = nowMs() + 1000;
    return 0;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    log::error(std::string("fork: ") + std::strerror(errno));
    ::close(p[0]);
    ::close(p[1]);
    slots_[slot].restart_at = nowMs() + 1000;
    return 0;
  }
  if (pid == 0) {
    // Child: nothing of the master's bookkeeping survives but the socket.
    int master = static_cast<int>(::getppid());
    ::close(sigfd_);
    ::close(p[0]);
    for (auto& c : children_)
      if (c.ready_fd >= 0) ::close(c.ready_fd);
    std::_Exit(runWorker(config_, socket_.fd, p[1], master));
  }
  ::close(p[1]);
  Child c;
  c.pid = pid;
  c.slot = slot;
  c.ready_fd = p[0];
  c.started_ms = nowMs();
  children_.push_back(c);
  slots_[slot].pid = pid;
  log::info("worker " + std::to_string(pid) + " started (slot " + std::to_string(slot) + ")");
  return pid;
}

void Master::reap() {
  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    Child* c = findChild(pid);
    if (!c) continue;
    Child dead = *c;
    if (dead.ready_fd >= 0) ::close(dead.ready_fd);
    children_.erase(std::remove_if(children_.begin(), children_.end(),
                                   [&](const Child& x) { return x.pid == pid; }),
                    children_.end());
    bool owner = dead.slot >= 0 && dead.slot < static_cast<int>(slots_.size()) &&
                 slots_[dead.slot].pid == pid;
    if (!owner || dead.draining || terminating_) {
      log::info("worker " + std::to_string(pid) + " " + describeExit(status) + " (drained)");
      continue;
    }
    Slot& s = slots_[dead.slot];
    s.pid = 0;
    std::int64_t lived = nowMs() - dead.started_ms;
    // A worker that dies within 10 s of starting counts as a crash loop.
    s.quick_deaths = lived < 10'000 ? s.quick_deaths + 1 : 1;
    std::int64_t delay = 0;
    if (s.quick_deaths > 1) {
      delay = 200;
      for (int i = 2; i < s.quick_deaths && delay < 3'600'000; ++i) delay *= 2;
      delay = std::min<std::int64_t>(
          delay, static_cast<std::int64_t>(config_.server.restart_backoff_max_seconds) * 1000);
    }
    s.restart_at = nowMs() + delay;
    log::error("worker " + std::to_string(pid) + " " + describeExit(status) + " after " +
               std::to_string(lived) + " ms; restarting in " + std::to_string(delay) + " ms");
  }
}

void Master::handleSignals() {
  signalfd_siginfo si{};
  while (::read(sigfd_, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
    switch (si.ssi_signo) {
      case SIGCHLD:
        reap();
        break;
      case SIGTERM:
      case SIGINT:
      case SIGQUIT:
        if (!terminating_)
          log::info("master: signal " + std::to_string(si.ssi_signo) + ", draining");
        terminating_ = true;
        break;
      case SIGHUP:
        reload_pending_ = true;
        break;
      default:
        break;
    }
  }
  // A SIGCHLD can be merged with another; reaping is cheap, so always try.
  reap();
}

bool Master::waitReady(pid_t pid) {
  std::int64_t deadline =
      nowMs() + static_cast<std::int64_t>(config_.server.ready_timeout_seconds) * 1000;
  for (;;) {
    Child* c = findChild(pid);
    if (!c) return false;  // died during start-up
    if (c->ready_fd < 0) return true;
    std::int64_t left = deadline - nowMs();
    if (left <= 0 || terminating_) return false;
    pollfd fds[2] = {{sigfd_, POLLIN, 0}, {c->ready_fd, POLLIN, 0}};
    int n = ::poll(fds, 2, static_cast<int>(left));
    if (n < 0 && errno != EINTR) return false;
    if (fds[1].revents) {
      char b = 0;
      bool got = ::read(c->ready_fd, &b, 1) == 1;
      markReady(*c);
      if (!got) return false;  // closed without the byte: the worker failed
      return true;
    }
    if (fds[0].revents) handleSignals();
  }
}

void Master::reload() {
  reload_pending_ = false;
  log::info("master: SIGHUP, reloading " + config_path_);
  ConfigLoad load = loadConfigFile(config_path_);
  if (!load.ok()) {
    for (const auto& e : load.errors) log::error("reload: " + e.toString());
    log::error("reload refused: " + std::to_string(load.errors.size()) +
               " error(s); the running workers stay");
    return;
  }
  if (Status s = checkStore(load.config.store); !s.ok()) {
    log::error("reload refused: metadata store " + load.config.store.url + ": " + s.toString() +
               "; the running workers stay");
    return;
  }
  Config next = std::move(load.config);
  if (next.server.socket != config_.server.socket && !socket_.inherited) {
    log::warn("reload: server.socket changed; the socket is kept until a restart");
  }
  next.server.socket = config_.server.socket;
  if (next.server.pid_file != config_.server.pid_file) {
    log::warn("reload: server.pid_file changed; kept until a restart");
    next.server.pid_file = config_.server.pid_file;
  }
  config_ = std::move(next);
  applyLogConfig(config_.server);

  int want = effectiveWorkerCount(config_.server.workers);
  int have = static_cast<int>(slots_.size());
  // Replace the existing slots one by one: start the new worker, wait until
  // it accepts on the shared socket, then drain the old one.
  for (int i = 0; i < std::min(want, have) && !terminating_; ++i) {
    pid_t old = slots_[i].pid;
    if (old == 0) {
      slots_[i].restart_at = 0;  // a pending restart now starts with the new config
      continue;
    }
    pid_t fresh = spawn(i);
    bool ready = fresh != 0 && waitReady(fresh);
    if (terminating_) return;  // shutdown() drains every worker, old and new alike
    if (!ready) {
      log::error("reload: new worker for slot " + std::to_string(i) +
                 " did not come up; keeping the old workers");
      if (fresh != 0 && findChild(fresh)) {
        ::kill(fresh, SIGKILL);
        if (Child* c = findChild(fresh)) c->draining = true;
      }
      if (findChild(old)) {
        slots_[i].pid = old;
      } else {
        slots_[i].pid = 0;
        slots_[i].restart_at = nowMs() + 1000;
      }
      return;
    }
    if (Child* c = findChild(old)) {
      c->draining = true;
      ::kill(old, SIGTERM);
    }
    slots_[i].quick_deaths = 0;
  }
  if (want > have) {
    slots_.resize(static_cast<std::size_t>(want));
    for (int i = have; i < want; ++i) spawn(i);
  } else if (want < have) {
    for (int i = want; i < have; ++i) {
      if (Child* c = findChild(slots_[i].pid)) {
        c->draining = true;
        ::kill(c->pid, SIGTERM);
      }
    }
    slots_.resize(static_cast<std::size_t>(want));
  }
  log::info("master: reloaded; " + std::to_string(want) + " worker(s)");
}

void Master::shutdown() {
  for (auto& c : children_) {
    c.draining = true;
    ::kill(c.pid, SIGTERM);
  }
  std::int64_t deadline =
      nowMs() + static_cast<std::int64_t>(config_.server.drain_timeout_seconds) * 1000 + 5000;
  while (!children_.empty()) {
    std::int64_t left = deadline - nowMs();
    if (left <= 0) break;
    pollfd fd{sigfd_, POLLIN, 0};
    ::poll(&fd, 1, static_cast<int>(std::min<std::int64_t>(left, 1000)));
    handleSignals();
  }
  for (auto& c : children_) {
    log::warn("worker " + std::to_string(c.pid) + " did not drain in time; killing it");
    ::kill(c.pid, SIGKILL);
  }
  for (auto& c : children_) ::waitpid(c.pid, nullptr, 0);
  children_.clear();
  if (!socket_.created_path.empty()) ::unlink(socket_.created_path.c_str());
  if (pid_file_written_) ::unlink(config_.server.pid_file.c_str());
  log::info("master " + std::to_string(::getpid()) + " stopped");
}

int Master::run() {
  ::signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGQUIT, SIGHUP}) sigaddset(&set, s);
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return 1;
  sigfd_ = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sigfd_ < 0) {
    log::error(std::string("signalfd: ") + std::strerror(errno));
    return 1;
  }
  // Every parked request holds its FastCGI connection open: allow as many
  // descriptors as the hard limit permits.
  rlimit nofile{};
  if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    rlim_t before = nofile.rlim_cur;
    nofile.rlim_cur = nofile.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &nofile) == 0)
      log::info("master: open-file limit raised from " + std::to_string(before) + " to " +
                std::to_string(nofile.rlim_cur));
  }
  auto sock = openListenSocket(config_.server);
  if (!sock.ok()) {
    log::error("cannot open the FastCGI socket: " + sock.status().toString());
    return 1;
  }
  socket_ = std::move(sock.value());
  writePidFile();
  int n = effectiveWorkerCount(config_.server.workers);
  log::info("master " + std::to_string(::getpid()) + " listening on " + socket_.description + ", " +
            std::to_string(n) + " worker(s) x " + std::to_string(config_.server.threads) +
            " threads");
  slots_.resize(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) spawn(i);

  // Children inherit the blocked mask across fork; the worker sets its own.
  while (!terminating_) {
    std::int64_t now = nowMs();
    std::int64_t timeout = -1;
    for (auto& s : slots_) {
      if (s.pid != 0) continue;
      std::int64_t wait = std::max<std::int64_t>(0, s.restart_at - now);
      timeout = timeout < 0 ? wait : std::min(timeout, wait);
    }
    std::vector<pollfd> fds;
    fds.push_back({sigfd_, POLLIN, 0});
    for (auto& c : children_)
      if (c.ready_fd >= 0) fds.push_back({c.ready_fd, POLLIN, 0});
    int rc = ::poll(fds.data(), fds.size(),
                    timeout < 0 ? -1 : static_cast<int>(std::min<std::int64_t>(timeout, 60'000)));
    if (rc < 0 && errno != EINTR) {
      log::error(std::string("master poll: ") + std::strerror(errno));
      break;
    }
    for (std::size_t i = 1; i < fds.size(); ++i) {
      if (!fds[i].revents) continue;
      for (auto& c : children_) {
        if (c.ready_fd != fds[i].fd) continue;
        char b = 0;
        if (::read(c.ready_fd, &b, 1) != 1) { /* died before ready: SIGCHLD follows */
        }
        markReady(c);
      }
    }
    if (fds[0].revents) handleSignals();
    if (terminating_) break;
    if (reload_pending_) reload();
    now = nowMs();
    for (int i = 0; i < static_cast<int>(slots_.size()) && !terminating_; ++i)
      if (slots_[i].pid == 0 && slots_[i].restart_at <= now) spawn(i);
  }
  shutdown();
  return 0;
}

}  // namespace

int runMaster(const std::string& config_path, const Config& config) {
  Master m(config_path, config);
  return m.run();
}

}  // namespace eas::runtime
