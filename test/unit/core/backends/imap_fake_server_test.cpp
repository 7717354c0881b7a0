// Error paths of the IMAP session against a scripted fake server on
// loopback (no Dovecot): garbage responses, a dropped connection, a refused
// login, a BYE greeting.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <functional>
#include <string>
#include <thread>

#include "core/backends/imap/imap_backend.h"

using namespace eas;
using namespace eas::backend::imap;

namespace {

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

ImapConfig configFor(const FakeServer& s) {
  ImapConfig c;
  c.port = s.port();
  c.timeoutSeconds = 5;
  c.acquireWaitMs = 0;
  return c;
}

}  // namespace

TEST_CASE("a garbage STATUS response is imap.protocol and the session is dropped", "[imap][unit]") {
  FakeServer server([](FakeServer& s) {
    s.greetAndLogin();
    const std::string cmd = s.readLine();
    s.send("* STATUS INBOX (MESSAGES banana)\r\n" + FakeServer::tagOf(cmd) + " OK done\r\n");
    s.readLine();  // wait for the client to go
  });
  ImapSessionPool pool(configFor(server));
  {
    auto b = pool.backendFor("u", "p");
    auto r = b->folderState("INBOX");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().reason() == "imap.protocol");
  }
  CHECK(pool.stats().idle == 0);
  CHECK(pool.stats().discarded == 1);
}

TEST_CASE("a connection dropped mid-command is imap.unavailable after one retry", "[imap][unit]") {
  // The fake server accepts once: the transparent retry cannot connect again.
  FakeServer server([](FakeServer& s) {
    s.greetAndLogin();
    s.readLine();  // the STATUS: hang up without an answer
  });
  ImapSessionPool pool(configFor(server));
  auto r = pool.backendFor("u", "p")->folderState("INBOX");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().reason() == "imap.unavailable");
  CHECK(pool.stats().logins == 1);
}

TEST_CASE("a refused LOGIN is imap.auth_failed, [UNAVAILABLE] is imap.unavailable", "[imap][unit]") {
  const bool unavailable = GENERATE(false, true);
  FakeServer server([unavailable](FakeServer& s) {
    s.send("* OK [CAPABILITY IMAP4rev1] fake ready\r\n");
    const std::string login = s.readLine();
    s.send(FakeServer::tagOf(login) +
           (unavailable ? " NO [UNAVAILABLE] Temporary authentication failure\r\n"
                        : " NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"));
    s.readLine();
  });
  ImapSessionPool pool(configFor(server));
  auto r = pool.backendFor("u", "p")->listFolders();
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().reason() == (unavailable ? "imap.unavailable" : "imap.auth_failed"));
}

TEST_CASE("a BYE greeting is imap.unavailable", "[imap][unit]") {
  FakeServer server([](FakeServer& s) { s.send("* BYE too busy\r\n"); });
  ImapSessionPool pool(configFor(server));
  auto r = pool.backendFor("u", "p")->listFolders();
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().reason() == "imap.unavailable");
}

TEST_CASE("a server without ENABLE/CONDSTORE: no modseq, changes by UID + FLAGS", "[imap][unit]") {
  FakeServer server([](FakeServer& s) {
    s.greetAndLogin();  // no ENABLE, no CONDSTORE: the client must not send ENABLE
    // (No Catch assertions in this thread: a command other than the expected
    // one gets a BAD, which fails the client side.)
    auto expect = [&s](const char* what) {
      const std::string cmd = s.readLine();
      if (cmd.find(what) == std::string::npos || cmd.find("HIGHESTMODSEQ") != std::string::npos ||
          cmd.find("ENABLE") != std::string::npos) {
        s.send(FakeServer::tagOf(cmd) + " BAD unexpected\r\n");
        return std::string();
      }
      return FakeServer::tagOf(cmd);
    };
    std::string tag = expect("STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY)");
    if (tag.empty()) return;
    s.send("* STATUS INBOX (MESSAGES 2 UIDNEXT 8 UIDVALIDITY 42)\r\n" + tag + " OK done\r\n");
    if ((tag = expect("SELECT INBOX")).empty()) return;
    s.send("* 2 EXISTS\r\n* OK [UIDVALIDITY 42] ok\r\n* OK [UIDNEXT 8] ok\r\n" + tag +
           " OK [READ-WRITE] selected\r\n");
    if ((tag = expect("UID FETCH 1:* (UID FLAGS)")).empty()) return;
    s.send("* 1 FETCH (UID 3 FLAGS (\\Seen))\r\n* 2 FETCH (UID 7 FLAGS ($Forwarded Foo))\r\n" + tag +
           " OK fetched\r\n");
    s.readLine();
  });
  ImapSessionPool pool(configFor(server));
  auto b = pool.backendFor("u", "p");
  auto c = b->changesSince("INBOX", {42, 5, std::nullopt}, {{1, 0}, {3, 0}});
  REQUIRE(c.ok());
  CHECK_FALSE(c->state.highestModseq.has_value());
  CHECK_FALSE(c->byModseq);
  CHECK(c->added == std::vector<std::uint32_t>{7});
  REQUIRE(c->flagsChanged.size() == 1);
  CHECK(c->flagsChanged[0].uid == 3);
  CHECK(c->flagsChanged[0].flags == eas::backend::kFlagSeen);
  CHECK(c->expunged == std::vector<std::uint32_t>{1});
}
