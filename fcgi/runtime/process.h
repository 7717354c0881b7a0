// The eas-fcgi processes: a master that owns the FastCGI socket and a pool
// of forked workers, each running FcgiServer threads.
//
// Signals to the master:
//   SIGTERM, SIGINT  drain: workers stop accepting, finish what is in
//                    flight (up to server.drain_timeout_seconds), answer
//                    what is still parked with 503 + Retry-After, exit.
//   SIGHUP           reload: re-read the file; if it is valid, replace the
//                    workers one by one (the new one accepts on the shared
//                    socket before the old one is told to drain). An
//                    invalid file is logged and the old workers stay.
// A worker that dies is restarted; quick repeated deaths back off
// exponentially up to server.restart_backoff_max_seconds.
#pragma once

#include <string>

#include "fcgi/runtime/config.h"
#include "fcgi/runtime/listen_socket.h"

namespace eas::runtime {

// Runs until drained; returns the process exit status.
int runMaster(const std::string& config_path, const Config& config);

// Body of one worker process (after fork). Writes one byte to ready_fd
// once its threads accept, drains on SIGTERM. Returns the exit status.
int runWorker(const Config& config, int listen_fd, int ready_fd, int master_pid);

// Worker processes for `workers` (0: one per online core).
int effectiveWorkerCount(int workers);

}  // namespace eas::runtime
