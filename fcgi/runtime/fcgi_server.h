// The request threads of one worker process: each polls the shared
// listening socket and a stop event, accepts a connection, lets libfcgi
// (FCGX_Accept_r) read the FastCGI params and hands the request to the
// handler. Accepting ourselves (instead of blocking inside libfcgi's
// accept) lets a drain wake every thread at once through the stop event.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <vector>

#include "core/base/status.h"
#include "fcgi/http/http_types.h"
#include "fcgi/runtime/fcgi_request.h"

namespace eas::runtime {

class FcgiServer {
 public:
  // REQUIRES: listen_fd is a non-blocking listening socket; handler
  // outlives the server.
  FcgiServer(int listen_fd, int threads, std::size_t max_body_bytes, http::RequestHandler& handler);
  ~FcgiServer();
  FcgiServer(const FcgiServer&) = delete;
  FcgiServer& operator=(const FcgiServer&) = delete;

  // Initialises libfcgi (once per process) and starts the threads.
  Status start();
  // Stops accepting: every thread returns after the request it is in.
  // Async-signal-safe.
  void stopAccepting();
  // Waits for the threads to leave their accept loop.
  void joinThreads();
  // Requests accepted and not yet answered (including parked ones).
  InFlightRequests& inFlight() { return in_flight_; }

 private:
  void acceptLoop();

  const int listen_fd_;
  const int threads_;
  const std::size_t max_body_bytes_;
  http::RequestHandler& handler_;
  int stop_fd_ = -1;  // eventfd; readable once stopping (never drained)
  std::vector<std::thread> workers_;
  InFlightRequests in_flight_;
};

}  // namespace eas::runtime
