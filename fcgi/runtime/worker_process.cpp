#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "core/base/log.h"
#include "fcgi/runtime/fcgi_server.h"
#include "fcgi/runtime/process.h"
#include "fcgi/runtime/request_pipeline.h"

namespace eas::runtime {

int effectiveWorkerCount(int workers) {
  if (workers > 0) return workers;
  long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
  return cores > 0 ? static_cast<int>(cores) : 1;
}

int runWorker(const Config& config, int listen_fd, int ready_fd, int master_pid) {
  // A worker whose master is gone drains too (it cannot be supervised).
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != master_pid) return 0;
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGCHLD, SIG_DFL);
  // Signals are taken by this thread with sigwait; request threads
  // inherit the blocked mask and never see them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGQUIT);
  ::pthread_sigmask(SIG_SETMASK, &set, nullptr);

  auto pipeline = makeRequestPipeline(config);
  if (!pipeline.ok()) {
    log::error("worker cannot start: " + pipeline.status().toString());
    return 3;
  }
  FcgiServer server(listen_fd, config.server.threads, config.http.max_body_bytes,
                    *pipeline->handler);
  Status started = server.start();
  if (!started.ok()) {
    log::error("worker cannot start: " + started.toString());
    return 3;
  }
  if (ready_fd >= 0) {
    char r = 'R';
    ssize_t ignored = ::write(ready_fd, &r, 1);
    (void)ignored;
    ::close(ready_fd);
  }
  log::info("worker " + std::to_string(::getpid()) + " accepting with " +
            std::to_string(config.server.threads) + " threads");

  for (;;) {
    int sig = 0;
    if (::sigwait(&set, &sig) != 0) continue;
    if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) break;
    // SIGHUP: the master reloads by replacing workers; nothing to do here.
  }

  server.stopAccepting();
  const std::string me = "worker " + std::to_string(::getpid());
  log::info(me + " draining (" + std::to_string(server.inFlight().active()) + " active, " +
            std::to_string(server.inFlight().size()) + " unanswered)");
  // Requests a thread works on may finish; parked ones are answered after.
  bool idle = server.inFlight().waitIdle(
      static_cast<std::int64_t>(config.server.drain_timeout_seconds) * 1000);
  std::size_t parked = server.inFlight().answerAll(503, "runtime.draining");
  if (parked > 0)
    log::info(me + ": answered " + std::to_string(parked) +
              " parked request(s) with 503 Retry-After");
  if (!idle) {
    log::warn(me + ": drain timeout with requests still in handlers; exiting anyway");
    // Threads still inside a handler are abandoned with the process.
    std::_Exit(0);
  }
  server.joinThreads();
  log::info(me + " drained");
  std::_Exit(0);
}

}  // namespace eas::runtime
