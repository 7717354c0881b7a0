// Real Dovecot with the Lua push driver (deploy/dovecot/eas-notify.lua) ->
// the notifyd fixture -> a NotifyClient: LMTP deliveries, IMAP flag changes
// and folder operations arrive within 1 s; other users' events are not
// relayed; forged datagrams change nothing; `easctl notify send` works.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstdlib>

#include "test/integration/common/env_file.h"
#include "test/unit/fcgi/notify/notify_test_support.h"

namespace n = eas::notify;
namespace nt = eas::notify::testing;
using eas::testing::EnvFile;
using namespace std::chrono_literals;

namespace {

// A blocking line-oriented connection (LMTP on a unix socket, IMAP on TCP).
class Conn {
 public:
  explicit Conn(int fd) : fd_(fd) {
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~Conn() {
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  void send(const std::string& s) { REQUIRE(::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) > 0); }
  std::string line() {
    std::string l;
    char c;
    while (::recv(fd_, &c, 1, 0) == 1) {
      if (c == '\n') break;
      if (c != '\r') l.push_back(c);
    }
    return l;
  }
  // SMTP/LMTP: the last line of a (multi-line) reply.
  std::string reply() {
    std::string l;
    do l = line();
    while (l.size() >= 4 && l[3] == '-');
    return l;
  }
  // IMAP: lines up to the tagged completion; returns that line.
  std::string command(const std::string& tag, const std::string& cmd) {
    send(tag + " " + cmd + "\r\n");
    for (int i = 0; i < 1000; ++i) {
      std::string l = line();
      if (l.rfind(tag + " ", 0) == 0) return l;
      if (l.empty()) return "";
    }
    return "";
  }

 private:
  int fd_;
};

int unixConnect(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int tcpConnect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

void deliver(const EnvFile& dovecot, const std::string& rcpt, const std::string& subject) {
  Conn c(unixConnect(dovecot.get("LMTP_SOCKET")));
  REQUIRE(c.ok());
  REQUIRE(c.reply().rfind("220", 0) == 0);
  c.send("LHLO notify-test\r\n");
  REQUIRE(c.reply().rfind("250", 0) == 0);
  c.send("MAIL FROM:<notify-test@example.test>\r\n");
  REQUIRE(c.reply().rfind("250", 0) == 0);
  c.send("RCPT TO:<" + rcpt + ">\r\n");
  REQUIRE(c.reply().rfind("250", 0) == 0);
  c.send("DATA\r\n");
  REQUIRE(c.reply().rfind("354", 0) == 0);
  c.send("From: notify-test@example.test\r\nTo: " + rcpt + "\r\nSubject: " + subject +
         "\r\n\r\nbody\r\n.\r\n");
  REQUIRE(c.reply().rfind("250", 0) == 0);
  c.send("QUIT\r\n");
}

auto match(const std::string& user, const std::string& folder, const std::string& kind) {
  return [=](const n::ChangeEvent& e) {
    return e.user == user && e.folder == folder && e.kind == kind && e.source == "imap";
  };
}

struct Setup {
  EnvFile dovecot = EnvFile::loadFixture("dovecot");
  EnvFile notifyd = EnvFile::loadFixture("notifyd");
  std::string alice = dovecot.testUser(1);
  std::string bob = dovecot.testUser(2);
  nt::EventSink sink;
  std::unique_ptr<n::NotifyClient> client;

  Setup() {
    // The Dovecot fixture must have loaded the driver pointed at this notifyd.
    REQUIRE(dovecot.getOr("NOTIFY_UDP_PORT", "") == notifyd.get("NOTIFYD_UDP_PORT"));
    client = n::startNotifyClient(notifyd.get("NOTIFYD_SOCKET"), sink.handler());
    client->watchUser(alice);
    REQUIRE(nt::eventually([&] { return client->connected(); }, 2s));
    // The WATCH is on the wire once connected; give notifyd a moment to read it.
    std::this_thread::sleep_for(100ms);
  }
};

}  // namespace

TEST_CASE("an LMTP delivery reaches a registered NotifyClient within 1 s", "[notify]") {
  Setup s;
  const auto t0 = std::chrono::steady_clock::now();
  deliver(s.dovecot, s.alice, "notify lmtp");
  const auto got = s.sink.waitFor(match(s.alice, "INBOX", "new"), 1500ms);
  const auto took = std::chrono::steady_clock::now() - t0;
  REQUIRE(got.user == s.alice);
  CHECK(took < 1s);
  INFO("delivery to event: "
       << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
}

TEST_CASE("an IMAP flag change and folder operations reach the client", "[notify]") {
  Setup s;
  deliver(s.dovecot, s.alice, "notify flags");
  REQUIRE(s.sink.waitFor(match(s.alice, "INBOX", "new"), 2s).user == s.alice);

  Conn imap(tcpConnect(std::stoi(s.dovecot.get("IMAP_PORT"))));
  REQUIRE(imap.ok());
  REQUIRE(imap.line().rfind("* OK", 0) == 0);
  REQUIRE(imap.command("a1", "LOGIN \"" + s.alice + "\" \"" + s.dovecot.testPassword(1) + "\"")
              .rfind("a1 OK", 0) == 0);
  REQUIRE(imap.command("a2", "SELECT INBOX").rfind("a2 OK", 0) == 0);

  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(imap.command("a3", "STORE * +FLAGS (\\Flagged)").rfind("a3 OK", 0) == 0);
  REQUIRE(s.sink.waitFor(match(s.alice, "INBOX", "flags"), 1500ms).user == s.alice);
  CHECK(std::chrono::steady_clock::now() - t0 < 1s);

  // Folder create/rename/delete; the name reaches the worker in modified UTF-7.
  const std::string name = "Notify-" + std::to_string(getpid());
  REQUIRE(imap.command("a4", "CREATE \"" + name + "-Entw&APw-rfe\"").rfind("a4 OK", 0) == 0);
  CHECK(s.sink.waitFor(match(s.alice, name + "-Entw&APw-rfe", "folder_create"), 1500ms).user ==
        s.alice);
  REQUIRE(imap.command("a5", "RENAME \"" + name + "-Entw&APw-rfe\" \"" + name + "-R\"")
              .rfind("a5 OK", 0) == 0);
  CHECK(s.sink.waitFor(match(s.alice, name + "-R", "folder_rename"), 1500ms).user == s.alice);
  REQUIRE(imap.command("a6", "DELETE \"" + name + "-R\"").rfind("a6 OK", 0) == 0);
  CHECK(s.sink.waitFor(match(s.alice, name + "-R", "folder_delete"), 1500ms).user == s.alice);

  // Expunge.
  REQUIRE(imap.command("a7", "STORE * +FLAGS (\\Deleted)").rfind("a7 OK", 0) == 0);
  REQUIRE(imap.command("a8", "EXPUNGE").rfind("a8 OK", 0) == 0);
  CHECK(s.sink.waitFor(match(s.alice, "INBOX", "expunge"), 1500ms).user == s.alice);
  imap.command("a9", "LOGOUT");
}

TEST_CASE("another user's changes are not relayed to this client", "[notify]") {
  Setup s;
  const long unwatched_before = nt::queryStats(s.notifyd.get("NOTIFYD_SOCKET"))["unwatched"];
  deliver(s.dovecot, s.bob, "notify bob");
  // notifyd received bob's event and relayed it to nobody (unless another
  // test's worker happens to watch bob; then "unwatched" does not move, and
  // the client-side check below still holds).
  deliver(s.dovecot, s.alice, "notify alice after bob");
  REQUIRE(s.sink.waitFor(match(s.alice, "INBOX", "new"), 2s).user == s.alice);
  for (const auto& e : s.sink.all()) CHECK(e.user != s.bob);
  const long unwatched_after = nt::queryStats(s.notifyd.get("NOTIFYD_SOCKET"))["unwatched"];
  CHECK(unwatched_after >= unwatched_before);
}

TEST_CASE("forged and malformed datagrams to the fixture's notifyd change nothing", "[notify]") {
  Setup s;
  const std::string sock = s.notifyd.get("NOTIFYD_SOCKET");
  const int port = std::stoi(s.notifyd.get("NOTIFYD_UDP_PORT"));
  const auto before = nt::queryStats(sock);
  REQUIRE(nt::sendUdp(port, nt::signedEvent("forged-secret-forged-secret", s.alice, "Forged")));
  REQUIRE(nt::sendUdp(port, "EASN\x01 truncated"));
  REQUIRE(nt::eventually(
      [&] {
        auto st = nt::queryStats(sock);
        return st["unauthenticated"] >= before.at("unauthenticated") + 1 &&
               st["malformed"] >= before.at("malformed") + 1;
      },
      2s));
  std::this_thread::sleep_for(200ms);
  for (const auto& e : s.sink.all()) CHECK(e.folder != "Forged");
  const std::string log = nt::readFile(s.notifyd.get("NOTIFYD_LOG"));
  CHECK(log.find("notifyd.dropped reason=notify.bad_hmac") != std::string::npos);
  CHECK(log.find("notifyd.dropped reason=notify.truncated") != std::string::npos);
  // And notifyd still relays.
  deliver(s.dovecot, s.alice, "notify after forgery");
  CHECK(s.sink.waitFor(match(s.alice, "INBOX", "new"), 2s).user == s.alice);
}

TEST_CASE("easctl notify send reaches the client", "[notify]") {
  Setup s;
  const std::string cmd = std::string(EAS_BINARY_DIR) + "/policies/easctl notify send --user " +
                          s.alice + " --folder Contacts --kind change --source dav --udp 127.0.0.1:" +
                          s.notifyd.get("NOTIFYD_UDP_PORT") + " --secret-file " +
                          s.notifyd.get("NOTIFYD_SECRET_FILE") + " >/dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);
  const auto got = s.sink.waitFor(
      [&](const n::ChangeEvent& e) { return e.source == "dav" && e.folder == "Contacts"; }, 1s);
  CHECK(got.user == s.alice);
  CHECK(got.kind == "change");
  // Bad input is refused before anything is sent (exit 2).
  const std::string bad = std::string(EAS_BINARY_DIR) +
                          "/policies/easctl notify send --user a --kind nonsense --secret-file " +
                          s.notifyd.get("NOTIFYD_SECRET_FILE") + " 2>/dev/null";
  CHECK(WEXITSTATUS(std::system(bad.c_str())) == 2);
}
