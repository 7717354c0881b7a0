// A scripted fake IMAP server on loopback for the error-path unit tests.
#pragma once

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "core/backends/imap/imap_backend.h"

namespace eas::backend::imap::testenv {

// Accepts one connection and hands it to `script`, which reads commands
// with readLine() and answers with send().
class FakeServer {
 public:
  explicit FakeServer(std::function<void(FakeServer&)> script) {
    std::signal(SIGPIPE, SIG_IGN);
    listen_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listen_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listen_, 1) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(listen_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this, script = std::move(script)] {
      conn_ = ::accept(listen_, nullptr, nullptr);
      accepted_ = true;
      // One connection only: a reconnect is refused at once.
      ::close(listen_);
      listen_ = -1;
      if (conn_ >= 0) {
        script(*this);
        ::close(conn_);
      }
    });
  }
  ~FakeServer() {
    if (!accepted_.load()) {
      // Nobody connected: wake the accept() with a connection of our own.
      const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(static_cast<std::uint16_t>(port_));
      (void)::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
      ::close(fd);
    }
    thread_.join();
  }
  int port() const { return port_; }

  void send(const std::string& s) { (void)!::write(conn_, s.data(), s.size()); }
  // One command line; "" at EOF.
  std::string readLine() {
    std::string line;
    char c = 0;
    while (::read(conn_, &c, 1) == 1) {
      line += c;
      if (c == '\n') break;
    }
    return line;
  }
  static std::string tagOf(const std::string& line) { return line.substr(0, line.find(' ')); }
  // Answers LOGIN with OK and the capabilities.
  void greetAndLogin(const std::string& caps = "IMAP4rev1 UIDPLUS") {
    send("* OK [CAPABILITY " + caps + "] fake ready\r\n");
    const std::string login = readLine();
    send(tagOf(login) + " OK [CAPABILITY " + caps + "] Logged in\r\n");
  }

 private:
  std::atomic<bool> accepted_{false};
  int listen_ = -1;
  int conn_ = -1;
  int port_ = 0;
  std::thread thread_;
};

inline ImapConfig fakeConfig(const FakeServer& s) {
  ImapConfig c;
  c.port = s.port();
  c.timeoutSeconds = 5;
  c.acquireWaitMs = 0;
  return c;
}

}  // namespace eas::backend::imap::testenv
