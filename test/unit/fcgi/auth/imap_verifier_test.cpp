// The IMAP verifier against a scripted fake server on loopback: how each
// server answer maps to a Status, and what goes over the wire.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include "fcgi/auth/authenticator.h"

namespace {

// Accepts one connection, sends `greeting`, answers the first command with
// `reply` ("%TAG%" replaced by the client's tag; empty: hang up) and records
// every line the client sent.
class FakeImap {
 public:
  FakeImap(std::string greeting, std::string reply)
      : greeting_(std::move(greeting)), reply_(std::move(reply)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port_ = ntohs(a.sin_port);
    REQUIRE(::listen(listen_fd_, 1) == 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeImap() {
    ::shutdown(listen_fd_, SHUT_RDWR);  // wakes a pending accept()
    if (thread_.joinable()) thread_.join();
    ::close(listen_fd_);
  }
  int port() const { return port_; }
  // REQUIRES: the verifier returned (the server thread is done with lines_).
  const std::vector<std::string>& lines() {
    if (thread_.joinable()) thread_.join();
    return lines_;
  }

 private:
  void serve() {
    const int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) return;
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sendAll(fd, greeting_ + "\r\n");
    std::string buf;
    bool answered = false;
    for (;;) {
      const auto nl = buf.find("\r\n");
      if (nl != std::string::npos) {
        const std::string line = buf.substr(0, nl);
        buf.erase(0, nl + 2);
        lines_.push_back(line);
        const std::string tag = line.substr(0, line.find(' '));
        if (!answered) {
          answered = true;
          if (reply_.empty()) break;  // hang up
          std::string r = reply_;
          r.replace(r.find("%TAG%"), 5, tag);
          sendAll(fd, r + "\r\n");
        } else {  // LOGOUT
          sendAll(fd, "* BYE bye\r\n" + tag + " OK bye\r\n");
          break;
        }
        continue;
      }
      char tmp[512];
      const ssize_t n = ::read(fd, tmp, sizeof tmp);
      if (n <= 0) break;
      buf.append(tmp, static_cast<std::size_t>(n));
    }
    ::close(fd);
  }
  static void sendAll(int fd, const std::string& s) {
    ssize_t ignored = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
    (void)ignored;
  }

  std::string greeting_, reply_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::vector<std::string> lines_;
};

eas::Status verifyAgainst(const FakeImap& server, const std::string& login,
                          const std::string& password) {
  eas::auth::AuthConfig c;
  c.imap_host = "127.0.0.1";
  c.imap_port = server.port();
  c.imap_timeout_seconds = 3;
  return eas::auth::makeImapVerifier(c)->verify(login, password);
}

std::string reasonOf(const eas::Status& s) { return s.ok() ? "ok" : s.reason(); }

}  // namespace

TEST_CASE("server answers map to verifier outcomes") {
  std::signal(SIGPIPE, SIG_IGN);
  struct Case {
    std::string name, greeting, reply, reason;
    bool login_sent;
  };
  const std::vector<Case> cases = {
      {"OK", "* OK ready", "%TAG% OK Logged in", "ok", true},
      {"OK with capabilities", "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready",
       "%TAG% OK [CAPABILITY IMAP4rev1 IDLE] Logged in", "ok", true},
      {"NO AUTHENTICATIONFAILED", "* OK ready",
       "%TAG% NO [AUTHENTICATIONFAILED] Authentication failed.", "auth.bad_credentials", true},
      {"plain NO", "* OK ready", "%TAG% NO go away", "auth.bad_credentials", true},
      {"NO UNAVAILABLE (Dovecot's backend trouble)", "* OK ready",
       "%TAG% NO [UNAVAILABLE] Temporary authentication failure.", "auth.backend_unavailable",
       true},
      {"LOGINDISABLED advertised", "* OK [CAPABILITY IMAP4rev1 LOGINDISABLED STARTTLS] ready",
       "%TAG% NO no", "auth.backend_unavailable", false},
      {"NO PRIVACYREQUIRED (Dovecot without TLS)", "* OK ready",
       "%TAG% NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) "
       "connections.",
       "auth.backend_unavailable", true},
      {"hang-up after LOGIN", "* OK ready", "", "auth.backend_unavailable", true},
      {"PREAUTH greeting", "* PREAUTH welcome", "%TAG% OK whatever", "auth.backend_unavailable",
       false},
      {"BYE greeting", "* BYE too busy", "%TAG% OK whatever", "auth.backend_unavailable", false},
      {"not IMAP", "HTTP/1.1 400 Bad Request", "%TAG% OK whatever", "auth.backend_unavailable",
       false},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    FakeImap server(c.greeting, c.reply);
    CHECK(reasonOf(verifyAgainst(server, "alice@example.test", "pw")) == c.reason);
    const auto& lines = server.lines();
    bool saw_login = false;
    for (const auto& l : lines) saw_login = saw_login || l.find(" LOGIN ") != std::string::npos;
    CHECK(saw_login == c.login_sent);
  }
}

TEST_CASE("the password goes over the wire quoted and escaped, once") {
  std::signal(SIGPIPE, SIG_IGN);
  FakeImap server("* OK ready", "%TAG% OK Logged in");
  REQUIRE(verifyAgainst(server, "alice@example.test", "a\"b\\c d ü").ok());
  const auto& lines = server.lines();
  REQUIRE(lines.size() >= 1);
  const std::string& login = lines[0];
  CHECK(login.substr(login.find(' ') + 1) ==
        "LOGIN \"alice@example.test\" \"a\\\"b\\\\c d \xc3\xbc\"");
  int mentions = 0;
  for (const auto& l : lines) mentions += l.find("b\\\\c") != std::string::npos ? 1 : 0;
  CHECK(mentions == 1);
}
