// The seam between the process runtime (libfcgi, threads, parking) and the
// HTTP layer (MS-ASHTTP parsing, auth, dispatch). The runtime builds an
// HttpRequest from the FastCGI params and body, hands it with a Responder
// to a RequestHandler, and writes whatever the Responder receives. A
// handler may keep the Responder and answer later from any thread (a
// parked Ping), so a request never needs to hold a thread while it waits.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eas::http {

struct HttpRequest {
  std::string method;        // REQUEST_METHOD
  std::string path;          // DOCUMENT_URI, else SCRIPT_NAME + PATH_INFO (no query)
  std::string query;         // QUERY_STRING, raw (not decoded)
  // Request headers from HTTP_* params (and CONTENT_TYPE / CONTENT_LENGTH), names
  // lower-case with '-' ("authorization", "ms-asprotocolversion", "content-type").
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote_addr;   // REMOTE_ADDR as nginx passes it
  std::int64_t received_ms = 0;  // monotonic ms when the request arrived

  // First header with this lower-case name, or empty.
  std::string_view header(std::string_view lower_name) const {
    for (const auto& [k, v] : headers)
      if (k == lower_name) return v;
    return {};
  }
  bool hasHeader(std::string_view lower_name) const {
    for (const auto& [k, v] : headers)
      if (k == lower_name) return true;
    return false;
  }
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Length is added by the runtime
  std::string body;

  // For the one log line per request (the seed's style: DeviceId first).
  std::string device_id;
  std::string user;
  std::string command;
  std::string protocol_version;
  std::string reason;  // stable token when rejected ("http.bad_device_id"), else empty
  std::string eas_status;  // the top-level EAS Status sent, if any
};

// Answers one request exactly once, from any thread.
class Responder {
 public:
  virtual ~Responder() = default;
  virtual void respond(HttpResponse&& response) = 0;
  // True once the client (nginx) has closed the connection; a parked
  // request checks it to free itself early.
  virtual bool clientGone() const { return false; }
  // The connection's descriptor for an event loop, or -1 (see
  // FcgiResponder::connectionFd).
  virtual int connectionFd() const { return -1; }
};

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // Called on a worker thread. Must call responder->respond() exactly once,
  // now or later (then from any thread).
  virtual void handle(std::unique_ptr<HttpRequest> request,
                      std::unique_ptr<Responder> responder) = 0;
};

}  // namespace eas::http
