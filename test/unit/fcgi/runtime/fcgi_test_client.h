// A minimal FastCGI client (the web server's side of the protocol) for
// tests that talk to eas-fcgi's socket directly, without nginx. One request
// per connection, like nginx with fastcgi_keep_conn off.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace eas::testing {

struct FcgiReply {
  bool ok = false;    // a complete reply (END_REQUEST) was read
  std::string error;  // why not
  std::string stdout_data;
  int status = 0;  // from the "Status:" line
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  std::string header(const std::string& lower) const {
    for (const auto& [k, v] : headers) {
      std::string l = k;
      for (char& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (l == lower) return v;
    }
    return {};
  }
};

class FcgiTestClient {
 public:
  explicit FcgiTestClient(std::string socket_path) : path_(std::move(socket_path)) {}

  // Connects; false on failure. Then send(), then read().
  bool connect() {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strncpy(sa.sun_path, path_.c_str(), sizeof(sa.sun_path) - 1);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
      ::close(fd_);
      fd_ = -1;
      return false;
    }
    return true;
  }

  bool send(const std::vector<std::pair<std::string, std::string>>& params,
            const std::string& body) {
    std::string out;
    // BEGIN_REQUEST: role RESPONDER, flags 0 (close after the request).
    std::string begin("\x00\x01\x00\x00\x00\x00\x00\x00", 8);
    record(out, 1, begin);
    std::string p;
    for (const auto& [k, v] : params) {
      length(p, k.size());
      length(p, v.size());
      p += k;
      p += v;
    }
    for (std::size_t i = 0; i < p.size(); i += 65535) record(out, 4, p.substr(i, 65535));
    record(out, 4, "");
    for (std::size_t i = 0; i < body.size(); i += 65535) record(out, 5, body.substr(i, 65535));
    record(out, 5, "");
    return writeAll(out);
  }

  // Reads records until END_REQUEST or EOF (timeout per read in ms).
  FcgiReply read(int timeout_ms = 10000) {
    FcgiReply r;
    std::string buf;
    for (;;) {
      while (buf.size() >= 8) {
        auto len = static_cast<std::size_t>((static_cast<unsigned char>(buf[4]) << 8) |
                                            static_cast<unsigned char>(buf[5]));
        auto pad = static_cast<std::size_t>(static_cast<unsigned char>(buf[6]));
        if (buf.size() < 8 + len + pad) break;
        int type = static_cast<unsigned char>(buf[1]);
        std::string content = buf.substr(8, len);
        buf.erase(0, 8 + len + pad);
        if (type == 6) r.stdout_data += content;
        if (type == 3) {
          r.ok = true;
          parse(r);
          return r;
        }
      }
      pollfd pfd{fd_, POLLIN, 0};
      int n = ::poll(&pfd, 1, timeout_ms);
      if (n <= 0) {
        r.error = "timeout";
        return r;
      }
      char tmp[65536];
      ssize_t got = ::recv(fd_, tmp, sizeof tmp, 0);
      if (got <= 0) {
        r.error = "connection closed before END_REQUEST";
        return r;
      }
      buf.append(tmp, static_cast<std::size_t>(got));
    }
  }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  ~FcgiTestClient() { close(); }

  // One request on a fresh connection.
  static FcgiReply request(const std::string& socket_path,
                           const std::vector<std::pair<std::string, std::string>>& params,
                           const std::string& body = {}, int timeout_ms = 10000) {
    FcgiTestClient c(socket_path);
    FcgiReply r;
    if (!c.connect()) {
      r.error = "connect failed";
      return r;
    }
    if (!c.send(params, body)) {
      r.error = "send failed";
      return r;
    }
    return c.read(timeout_ms);
  }

 private:
  static void length(std::string& out, std::size_t n) {
    if (n < 128) {
      out += static_cast<char>(n);
    } else {
      out += static_cast<char>(((n >> 24) & 0x7f) | 0x80);
      out += static_cast<char>((n >> 16) & 0xff);
      out += static_cast<char>((n >> 8) & 0xff);
      out += static_cast<char>(n & 0xff);
    }
  }
  static void record(std::string& out, int type, const std::string& content) {
    out += '\x01';
    out += static_cast<char>(type);
    out += '\x00';
    out += '\x01';  // request id 1
    out += static_cast<char>((content.size() >> 8) & 0xff);
    out += static_cast<char>(content.size() & 0xff);
    out += '\x00';  // padding
    out += '\x00';
    out += content;
  }
  bool writeAll(const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }
  static void parse(FcgiReply& r) {
    const std::string& s = r.stdout_data;
    std::size_t end = s.find("\r\n\r\n");
    if (end == std::string::npos) return;
    std::size_t pos = 0;
    while (pos < end) {
      std::size_t eol = s.find("\r\n", pos);
      std::string line = s.substr(pos, eol - pos);
      pos = eol + 2;
      std::size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string k = line.substr(0, colon);
      std::string v = line.substr(colon + 1);
      while (!v.empty() && v.front() == ' ') v.erase(0, 1);
      if (k == "Status") r.status = std::atoi(v.c_str());
      r.headers.emplace_back(k, v);
    }
    r.body = s.substr(end + 4);
  }

  std::string path_;
  int fd_ = -1;
};

}  // namespace eas::testing
