// A scripted SMTP server on 127.0.0.1:<ephemeral> for the submitter's unit
// tests: one connection, a reply per command chosen by a callback, the
// transcript (commands and the DATA payload) kept for assertions.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace eas::testing {

class FakeSmtpServer {
 public:
  // Reply for a command line (without CRLF); "" closes the connection.
  using Script = std::function<std::string(const std::string& command)>;

  explicit FakeSmtpServer(Script script, std::string greeting = "220 fake ESMTP")
      : script_(std::move(script)), greeting_(std::move(greeting)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 1);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeSmtpServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return port_; }
  std::vector<std::string> commands() {
    std::lock_guard<std::mutex> l(mu_);
    return commands_;
  }
  std::string data() {
    std::lock_guard<std::mutex> l(mu_);
    return data_;
  }

 private:
  void serve() {
    int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0) return;
    std::string buf;
    auto send = [c](const std::string& s) {
      std::string out = s + "\r\n";
      return ::send(c, out.data(), out.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(out.size());
    };
    auto line = [&](std::string* out) {
      for (;;) {
        std::size_t nl = buf.find("\r\n");
        if (nl != std::string::npos) {
          *out = buf.substr(0, nl);
          buf.erase(0, nl + 2);
          return true;
        }
        char tmp[4096];
        ssize_t n = ::recv(c, tmp, sizeof tmp, 0);
        if (n <= 0) return false;
        buf.append(tmp, static_cast<std::size_t>(n));
      }
    };
    bool in_data = false;
    if (send(greeting_)) {
      std::string l;
      while (line(&l)) {
        if (in_data) {
          if (l == ".") {
            in_data = false;
            std::string r = script_(".");
            if (r.empty() || !send(r)) break;
          } else {
            std::lock_guard<std::mutex> g(mu_);
            data_ += l + "\r\n";
          }
          continue;
        }
        {
          std::lock_guard<std::mutex> g(mu_);
          commands_.push_back(l);
        }
        std::string r = script_(l);
        if (r.empty() || !send(r)) break;
        if (r.rfind("354", 0) == 0) in_data = true;
      }
    }
    ::close(c);
  }

  Script script_;
  std::string greeting_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> commands_;
  std::string data_;
};

// The replies of a willing server: EHLO with AUTH PLAIN, 250/354/221.
inline std::string willing(const std::string& cmd) {
  if (cmd.rfind("EHLO", 0) == 0) return "250-fake\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME";
  if (cmd.rfind("AUTH", 0) == 0) return "235 2.7.0 ok";
  if (cmd.rfind("MAIL", 0) == 0 || cmd.rfind("RCPT", 0) == 0) return "250 2.1.0 ok";
  if (cmd == "DATA") return "354 go ahead";
  if (cmd == ".") return "250 2.0.0 queued";
  if (cmd == "QUIT") return "221 bye";
  return "502 unknown";
}

}  // namespace eas::testing
