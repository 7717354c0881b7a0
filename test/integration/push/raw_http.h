// A bare HTTP/1.1 client over one blocking socket for long-held requests:
// the Ping tests and the ping_scale benchmark need to hold, time, and drop
// connections themselves (TestClient's session has a fixed 30 s timeout).
// Header-only, POSIX sockets, loopback only.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>

namespace eas::testing::raw {

inline std::string base64(const std::string& in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += k[(v >> 6) & 63];
    out += k[v & 63];
  }
  if (i + 1 == in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += k[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

inline std::string percent(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// "http://127.0.0.1:PORT" -> port (host is always 127.0.0.1 here).
inline int portOf(const std::string& url) {
  auto colon = url.rfind(':');
  return colon == std::string::npos ? 80 : std::atoi(url.c_str() + colon + 1);
}

// A whole EAS POST with "Connection: close".
inline std::string easPost(const std::string& cmd, const std::string& user, const std::string& password,
                           const std::string& device, const std::string& version, const std::string& body) {
  std::string q = "Cmd=" + percent(cmd) + "&User=" + percent(user) + "&DeviceId=" + percent(device) +
                  "&DeviceType=TestDevice";
  std::string r = "POST /Microsoft-Server-ActiveSync?" + q + " HTTP/1.1\r\n";
  r += "Host: 127.0.0.1\r\n";
  r += "Authorization: Basic " + base64(user + ":" + password) + "\r\n";
  r += "MS-ASProtocolVersion: " + version + "\r\n";
  r += "User-Agent: eas-ping-test\r\n";
  if (!body.empty()) r += "Content-Type: application/vnd.ms-sync.wbxml\r\n";
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  r += "Connection: close\r\n\r\n";
  r += body;
  return r;
}

// Connected, request sent; -1 on failure.
inline int openAndSend(int port, const std::string& request, const char* source_address = nullptr) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (source_address) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, source_address, &local.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
      ::close(fd);
      return -1;
    }
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  std::size_t off = 0;
  while (off < request.size()) {
    ssize_t n = ::send(fd, request.data() + off, request.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      ::close(fd);
      return -1;
    }
    off += static_cast<std::size_t>(n);
  }
  return fd;
}

struct Reply {
  int status = -1;  // -1: no complete answer (see error)
  std::string error;
  std::string head;
  std::string body;
  long long elapsed_ms = 0;
};

// Splits a complete "Connection: close" answer.
inline Reply parse(const std::string& raw) {
  Reply r;
  auto end = raw.find("\r\n\r\n");
  if (raw.compare(0, 9, "HTTP/1.1 ") != 0 || end == std::string::npos) {
    r.error = "no HTTP answer (" + std::to_string(raw.size()) + " bytes)";
    return r;
  }
  r.status = std::atoi(raw.c_str() + 9);
  r.head = raw.substr(0, end);
  r.body = raw.substr(end + 4);
  return r;
}

// Reads until the server closes (at most timeout_ms), then closes fd.
inline Reply finish(int fd, int timeout_ms) {
  auto start = std::chrono::steady_clock::now();
  std::string raw;
  char buf[8192];
  for (;;) {
    auto left = timeout_ms - std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now() - start)
                                 .count();
    if (left <= 0) break;
    pollfd p{fd, POLLIN, 0};
    int k = ::poll(&p, 1, static_cast<int>(left));
    if (k <= 0) break;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      ::close(fd);
      Reply r = parse(raw);
      r.elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - start)
                         .count();
      return r;
    }
    raw.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  Reply r;
  r.error = "timeout after " + std::to_string(timeout_ms) + " ms";
  return r;
}

inline Reply roundTrip(int port, const std::string& request, int timeout_ms) {
  int fd = openAndSend(port, request);
  if (fd < 0) {
    Reply r;
    r.error = std::string("connect/send: ") + std::strerror(errno);
    return r;
  }
  return finish(fd, timeout_ms);
}

}  // namespace eas::testing::raw
