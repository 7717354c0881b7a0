// One FastCGI request as an object: built from the FCGX params and body,
// answered through an http::Responder that may be handed to any thread and
// used later (a parked Ping). Each request owns its own FCGX_Request, so a
// request thread is free again as soon as the handler returns.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "fcgi/http/http_types.h"

struct FCGX_Request;

namespace eas::runtime {

// ---- pure helpers (unit tested without sockets) ----

// Builds the request (without body) from CGI params "NAME=value".
// Path: DOCUMENT_URI (nginx), else SCRIPT_NAME + PATH_INFO, else REQUEST_URI
// up to '?' (Apache's mod_proxy_fcgi). Headers come from HTTP_* and
// CONTENT_TYPE/CONTENT_LENGTH, lower-cased with '-'.
std::unique_ptr<http::HttpRequest> requestFromParams(const std::vector<std::string_view>& params);

// The CGI response head: "Status: NNN Reason", the handler's headers (a
// Content-Length or Status header from the handler is dropped), then
// "Content-Length: <body size>", then the blank line.
std::string responseHead(const http::HttpResponse& response);
std::string_view reasonPhrase(int status);

// The one line per request (the seed's style: DeviceId first):
// "<DeviceId> <user> <<< <Command> <version> <http>[/<eas>] <bytes>B <ms>ms [<reason>] [<addr>]"
// with "-" for what is unknown.
struct RequestSummary {
  std::string method;
  std::string path;
  std::string remote_addr;
};
std::string requestLogLine(const RequestSummary& request, const http::HttpResponse& response,
                           std::size_t body_bytes, std::int64_t duration_ms);

// ---- live requests ----

class InFlightRequests;

// What a live request shares between its Responder and the registry that
// the drain uses; guarded by mu.
struct RequestState {
  std::mutex mu;
  FCGX_Request* fcgx = nullptr;  // owned; null once answered
  bool answered = false;
  RequestSummary summary;
  std::int64_t received_ms = 0;
  InFlightRequests* registry = nullptr;
};

// Writes the response and finishes the FastCGI request. False if it was
// already answered (the later call is a no-op).
bool answerRequest(const std::shared_ptr<RequestState>& state, http::HttpResponse&& response);

// Every request of this process that was accepted and not yet answered.
// "Active" ones have a request thread working on them (reading params,
// inside the handler); the others are parked (the handler returned and
// keeps the Responder). The drain waits for the active ones, then answers
// what is still parked.
class InFlightRequests {
 public:
  void beginAccept();  // before accept(): a thread starts on a request
  void endAccept();    // the thread is done (handler returned, or the connection was dropped)
  void add(const std::shared_ptr<RequestState>& state);
  void remove(RequestState* state);
  std::size_t size() const;    // unanswered, active or parked
  std::size_t active() const;  // with a thread on them
  // True when no thread works on a request before `timeout_ms` passes.
  bool waitIdle(std::int64_t timeout_ms);
  // Answers every request still open with `status` (and Retry-After) and
  // returns how many. Used at the end of a drain for parked requests.
  std::size_t answerAll(int status, std::string_view reason);

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int active_ = 0;                                                         // guarded by mu_
  std::unordered_map<RequestState*, std::shared_ptr<RequestState>> live_;  // guarded by mu_
};

// The Responder the handler receives. Destroying it unanswered answers
// 500 (reason runtime.not_answered) so that nginx never waits forever.
class FcgiResponder final : public http::Responder {
 public:
  explicit FcgiResponder(std::shared_ptr<RequestState> state) : state_(std::move(state)) {}
  ~FcgiResponder() override;
  void respond(http::HttpResponse&& response) override;
  bool clientGone() const override;
  // The request's connection to the web server, for an event loop that
  // watches many parked requests at once (EPOLLRDHUP when nginx closes it).
  // -1 once answered. REQUIRES: the watcher stops watching before it calls
  // respond(), which closes the descriptor.
  int connectionFd() const override;

 private:
  std::shared_ptr<RequestState> state_;
};

// Takes an accepted connection, reads params and body (at most
// max_body_bytes + 1 bytes, so the HTTP layer can answer 413), registers
// it with `registry` and calls the handler. Closes `fd` on failure.
// REQUIRES: the caller called registry.beginAccept() before accepting `fd`;
// this function calls endAccept() once the handler returns.
void serveConnection(int fd, std::size_t max_body_bytes, InFlightRequests& registry,
                     http::RequestHandler& handler);

}  // namespace eas::runtime
