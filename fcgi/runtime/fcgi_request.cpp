#include "fcgi/runtime/fcgi_request.h"

#include <fcgiapp.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstring>

#include "core/base/clock.h"
#include "core/base/log.h"

namespace eas::runtime {
namespace {

std::string headerName(std::string_view cgi) {
  std::string out;
  out.reserve(cgi.size());
  for (char c : cgi)
    out += c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// Header names and values go out verbatim; a CR or LF would let a value
// start a header of its own, so such characters are replaced.
void appendClean(std::string& out, std::string_view s) {
  for (char c : s) out += (c == '\r' || c == '\n') ? ' ' : c;
}

const char* orDash(const std::string& s) { return s.empty() ? "-" : s.c_str(); }

constexpr int kConnectionIoTimeoutSeconds = 60;

}  // namespace

std::unique_ptr<http::HttpRequest> requestFromParams(const std::vector<std::string_view>& params) {
  auto req = std::make_unique<http::HttpRequest>();
  std::string_view document_uri, script_name, path_info, request_uri;
  bool have_document_uri = false;
  for (std::string_view p : params) {
    std::size_t eq = p.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view name = p.substr(0, eq);
    std::string_view value = p.substr(eq + 1);
    if (name == "REQUEST_METHOD") {
      req->method = std::string(value);
    } else if (name == "QUERY_STRING") {
      req->query = std::string(value);
    } else if (name == "REMOTE_ADDR") {
      req->remote_addr = std::string(value);
    } else if (name == "DOCUMENT_URI") {
      document_uri = value;
      have_document_uri = true;
    } else if (name == "SCRIPT_NAME") {
      script_name = value;
    } else if (name == "PATH_INFO") {
      path_info = value;
    } else if (name == "REQUEST_URI") {
      request_uri = value;
    } else if (name == "CONTENT_TYPE" || name == "CONTENT_LENGTH") {
      if (!value.empty()) req->headers.emplace_back(headerName(name), std::string(value));
    } else if (name.size() > 5 && name.substr(0, 5) == "HTTP_") {
      std::string h = headerName(name.substr(5));
      // nginx passes both; the CGI names above already carry them.
      if (h == "content-type" || h == "content-length") continue;
      req->headers.emplace_back(std::move(h), std::string(value));
    }
  }
  if (have_document_uri && !document_uri.empty()) {
    req->path = std::string(document_uri);
  } else if (!script_name.empty() || !path_info.empty()) {
    req->path = std::string(script_name) + std::string(path_info);
  } else {
    req->path = std::string(request_uri.substr(0, request_uri.find('?')));
  }
  return req;
}

std::string_view reasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 449:
      return "Retry With";
    case 451:
      return "Redirect";
    case 456:
      return "Account Blocked";
    case 457:
      return "Password Expired";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 507:
      return "Insufficient Storage";
    default:
      return status >= 500 ? "Server Error" : status >= 400 ? "Client Error" : "OK";
  }
}

std::string responseHead(const http::HttpResponse& response) {
  int status = (response.status >= 100 && response.status <= 999) ? response.status : 500;
  std::string out;
  out.reserve(128 + response.headers.size() * 48);
  out += "Status: ";
  out += std::to_string(status);
  out += ' ';
  out += reasonPhrase(status);
  out += "\r\n";
  for (const auto& [name, value] : response.headers) {
    if (name.empty() || iequals(name, "content-length") || iequals(name, "status")) continue;
    appendClean(out, name);
    out += ": ";
    appendClean(out, value);
    out += "\r\n";
  }
  out += "Content-Length: ";
  out += std::to_string(response.body.size());
  out += "\r\n\r\n";
  return out;
}

std::string requestLogLine(const RequestSummary& request, const http::HttpResponse& response,
                           std::size_t body_bytes, std::int64_t duration_ms) {
  std::string line;
  line.reserve(160);
  line += orDash(response.device_id);
  line += ' ';
  line += orDash(response.user);
  line += " <<< ";
  line += response.command.empty() ? orDash(request.method) : response.command.c_str();
  line += ' ';
  line += orDash(response.protocol_version);
  line += ' ';
  line += std::to_string(response.status);
  if (!response.eas_status.empty()) {
    line += '/';
    line += response.eas_status;
  }
  line += ' ';
  line += std::to_string(body_bytes);
  line += "B ";
  line += std::to_string(duration_ms < 0 ? 0 : duration_ms);
  line += "ms";
  if (!response.reason.empty()) {
    line += " reason=";
    line += response.reason;
  }
  if (response.command.empty() && !request.path.empty()) {
    line += " path=";
    appendClean(line, request.path);
  }
  if (!request.remote_addr.empty()) {
    line += " from=";
    line += request.remote_addr;
  }
  return line;
}

// ---------------------------------------------------------------- in flight

void InFlightRequests::beginAccept() {
  std::lock_guard<std::mutex> lock(mu_);
  ++active_;
}

void InFlightRequests::endAccept() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    --active_;
  }
  cv_.notify_all();
}

void InFlightRequests::add(const std::shared_ptr<RequestState>& state) {
  std::lock_guard<std::mutex> lock(mu_);
  live_.emplace(state.get(), state);
}

void InFlightRequests::remove(RequestState* state) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    live_.erase(state);
  }
  cv_.notify_all();
}

std::size_t InFlightRequests::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return live_.size();
}

std::size_t InFlightRequests::active() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<std::size_t>(active_);
}

bool InFlightRequests::waitIdle(std::int64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return active_ == 0; });
}

std::size_t InFlightRequests::answerAll(int status, std::string_view reason) {
  std::vector<std::shared_ptr<RequestState>> open;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [ptr, state] : live_) open.push_back(state);
  }
  std::size_t n = 0;
  for (auto& state : open) {
    http::HttpResponse r;
    r.status = status;
    r.headers.emplace_back("Retry-After", "30");
    r.reason = std::string(reason);
    if (answerRequest(state, std::move(r))) ++n;
  }
  return n;
}

// ---------------------------------------------------------------- answering

bool answerRequest(const std::shared_ptr<RequestState>& state, http::HttpResponse&& response) {
  std::size_t bytes = response.body.size();
  {
    std::lock_guard<std::mutex> lock(state->mu);
    if (state->answered) return false;
    state->answered = true;
    FCGX_Request* req = state->fcgx;
    state->fcgx = nullptr;
    std::string head = responseHead(response);
    // A failed write means nginx is gone; there is nobody left to tell.
    FCGX_PutStr(head.data(), static_cast<int>(head.size()), req->out);
    if (!response.body.empty()) {
      const char* p = response.body.data();
      std::size_t left = response.body.size();
      while (left > 0) {
        int chunk = static_cast<int>(left > (1u << 30) ? (1u << 30) : left);
        if (FCGX_PutStr(p, chunk, req->out) < 0) break;
        p += chunk;
        left -= static_cast<std::size_t>(chunk);
      }
    }
    // libfcgi's close drains the socket with select(), which aborts on a
    // descriptor >= FD_SETSIZE (every connection sits up there, see
    // serveConnection); "detached" makes it a plain close().
    if (req->ipcFd >= FD_SETSIZE) req->detached = 1;
    FCGX_Finish_r(req);
    delete req;
  }
  if (log::enabled(log::Level::kInfo)) {
    log::info(requestLogLine(state->summary, response, bytes,
                             Clock::real().monotonicMs() - state->received_ms));
  }
  if (state->registry) state->registry->remove(state.get());
  return true;
}

FcgiResponder::~FcgiResponder() {
  if (!state_) return;
  http::HttpResponse r;
  r.status = 500;
  r.reason = "runtime.not_answered";
  if (answerRequest(state_, std::move(r))) {
    log::error("request " + state_->summary.method + " " + state_->summary.path +
               " was dropped by its handler without an answer; sent 500");
  }
}

void FcgiResponder::respond(http::HttpResponse&& response) {
  if (!answerRequest(state_, std::move(response))) {
    log::debug("response for " + state_->summary.path + " ignored: already answered (drain)");
  }
}

bool FcgiResponder::clientGone() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  if (state_->answered || !state_->fcgx) return true;
  pollfd p{};
  p.fd = state_->fcgx->ipcFd;
  p.events = POLLRDHUP;
  if (::poll(&p, 1, 0) <= 0) return false;
  return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

int FcgiResponder::connectionFd() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->answered || !state_->fcgx ? -1 : state_->fcgx->ipcFd;
}

// ---------------------------------------------------------------- serving

void serveConnection(int fd, std::size_t max_body_bytes, InFlightRequests& registry,
                     http::RequestHandler& handler) {
  // Thousands of parked Pings hold their connections: keep those above
  // FD_SETSIZE so that the descriptors below it stay free for libraries
  // that still use select() (libetpan's IMAP sockets abort above it).
  if (fd < FD_SETSIZE) {
    const int high = ::fcntl(fd, F_DUPFD_CLOEXEC, FD_SETSIZE);
    if (high >= 0) {
      ::close(fd);
      fd = high;
    }
  }
  // A peer that connects and then stalls must not hold a request thread
  // forever: reads and writes on the connection time out. nginx sends the
  // whole buffered request at once, so this only ever hits a broken peer.
  timeval tv{};
  tv.tv_sec = kConnectionIoTimeoutSeconds;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  auto* req = new FCGX_Request;
  // listen_sock -1: should libfcgi ever fall back to accepting on its own
  // (after a broken connection) it fails at once instead of blocking.
  FCGX_InitRequest(req, -1, 0);
  req->ipcFd = fd;
  // FCGX_Accept_r finishes the "previous" request first; keepConnection
  // stops that from closing the connection we hand it.
  req->keepConnection = 1;
  if (FCGX_Accept_r(req) != 0) {
    if (req->ipcFd >= 0) ::close(req->ipcFd);
    req->ipcFd = -1;
    FCGX_Free(req, 0);
    delete req;
    registry.endAccept();
    return;
  }
  std::int64_t received = Clock::real().monotonicMs();
  std::vector<std::string_view> params;
  for (char** e = req->envp; e && *e; ++e) params.emplace_back(*e);
  std::unique_ptr<http::HttpRequest> request = requestFromParams(params);
  request->received_ms = received;

  // Read the body whole (protocol.md §1.8), at most one byte over the limit.
  std::size_t limit = max_body_bytes + 1;
  std::string_view cl = request->header("content-length");
  std::size_t expect = 0;
  for (char c : cl) {
    if (c < '0' || c > '9') break;
    expect = expect * 10 + static_cast<std::size_t>(c - '0');
    if (expect > limit) break;
  }
  request->body.reserve(expect < limit ? expect : limit);
  char buf[16384];
  while (request->body.size() < limit) {
    std::size_t want = limit - request->body.size();
    int n = FCGX_GetStr(buf, static_cast<int>(want < sizeof buf ? want : sizeof buf), req->in);
    if (n <= 0) break;
    request->body.append(buf, static_cast<std::size_t>(n));
  }

  auto state = std::make_shared<RequestState>();
  state->fcgx = req;
  state->received_ms = received;
  state->summary.method = request->method;
  state->summary.path = request->path;
  state->summary.remote_addr = request->remote_addr;
  state->registry = &registry;
  registry.add(state);

  // A body cut short (the web server gave up, or stalled past the socket
  // timeout) never reaches the handler: it would be decoded as garbage.
  bool short_body = FCGX_GetError(req->in) != 0 ||
                    (expect > 0 && expect <= max_body_bytes && request->body.size() < expect);
  if (short_body) {
    log::warn("request body incomplete (" + std::to_string(request->body.size()) + " of " +
              std::string(cl) + " bytes) for " + request->path);
    http::HttpResponse r;
    r.status = 400;
    r.reason = "runtime.incomplete_body";
    answerRequest(state, std::move(r));
    registry.endAccept();
    return;
  }

  auto responder = std::make_unique<FcgiResponder>(state);
  try {
    handler.handle(std::move(request), std::move(responder));
  } catch (const std::exception& e) {
    // Handlers should not throw; if one does, the request still gets an answer.
    log::error(std::string("handler threw: ") + e.what());
    http::HttpResponse r;
    r.status = 500;
    r.reason = "runtime.handler_exception";
    answerRequest(state, std::move(r));
  }
  registry.endAccept();
}

}  // namespace eas::runtime
