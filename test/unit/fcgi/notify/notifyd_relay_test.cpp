// eas-notifyd and NotifyClient together: a private daemon process per test
// (this build's binary), real UDP datagrams and the real relay socket.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/un.h>

#include "fcgi/notify/notify_relay.h"
#include "fcgi/notify/notifyd.h"
#include "test/unit/fcgi/notify/notify_test_support.h"

namespace n = eas::notify;
namespace nt = eas::notify::testing;
using namespace std::chrono_literals;

namespace {

std::string testDir(const char* name) {
  return std::string(EAS_BINARY_DIR) + "/run/notify-unit/" + name + "-" +
         std::to_string(getpid());
}

auto forUser(const std::string& user) {
  return [user](const n::ChangeEvent& e) { return e.user == user; };
}

// A raw relay connection (a "worker" we can kill without a destructor).
int rawConnect(const std::string& path) {
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

}  // namespace

TEST_CASE("relay lines: escaping round-trips, bad lines are rejected", "[notify]") {
  const n::ChangeEvent e{"alice@example.test", "imap", "Sent Items/100% done\tx", "new"};
  const std::string line = n::relay::eventLine(e);
  CHECK(line == "EVENT alice@example.test imap new Sent%20Items/100%25%20done%09x\n");
  auto back = n::relay::parseEventLine(line.substr(0, line.size() - 1));
  REQUIRE(back.ok());
  CHECK(back->folder == e.folder);
  CHECK(back->user == e.user);
  auto empty_folder = n::relay::parseEventLine("EVENT bob dav change ");
  REQUIRE(empty_folder.ok());
  CHECK(empty_folder->folder.empty());
  CHECK(n::relay::parseEventLine("EVENT bob dav").status().reason() == "relay.bad_line");
  CHECK(n::relay::parseEventLine("EVENT bob dav new %zz").status().reason() ==
        "relay.bad_escape");
  CHECK(n::relay::parseEventLine("EVENT bob dav new %2").status().reason() ==
        "relay.bad_escape");
  CHECK(n::relay::userKey("Alice@Example.TEST") == "alice@example.test");
}

TEST_CASE("a registered user's event is relayed within 1 s; others' are not", "[notify]") {
  nt::NotifydProcess d(testDir("relay"));
  REQUIRE(d.start(0));
  nt::EventSink sink;
  auto client = n::startNotifyClient(d.socketPath(), sink.handler());
  client->watchUser("Alice@Example.test");
  REQUIRE(nt::eventually([&] { return nt::queryStats(d.socketPath())["watched_users"] == 1; },
                         2s));
  CHECK(client->connected());

  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(nt::sendUdp(d.port(), nt::signedEvent(d.secret(), "bob@example.test")));
  REQUIRE(nt::sendUdp(d.port(), nt::signedEvent(d.secret(), "alice@example.test", "INBOX")));
  auto got = sink.waitFor(forUser("Alice@Example.test"), 1s);
  const auto took = std::chrono::steady_clock::now() - t0;
  CHECK(took < 1s);
  // Delivered under the spelling the worker registered.
  CHECK(got.user == "Alice@Example.test");
  CHECK(got.folder == "INBOX");
  CHECK(got.kind == "new");
  CHECK(got.source == "easctl");
  REQUIRE(nt::eventually([&] { return nt::queryStats(d.socketPath())["unwatched"] == 1; }, 2s));
  for (const auto& e : sink.all()) CHECK(e.user != "bob@example.test");

  // IMAP folder names reach the worker in modified UTF-7.
  REQUIRE(nt::sendUdp(d.port(), nt::signedEvent(d.secret(), "alice@example.test", "Entwürfe",
                                                "flags", "imap")));
  auto utf7 = sink.waitFor(forUser("Alice@Example.test"), 1s);
  CHECK(utf7.folder == "Entw&APw-rfe");
  CHECK(utf7.kind == "flags");

  // Counted watches: two watchers, one leaves, events still come; the last
  // leaves, they stop.
  client->watchUser("Alice@Example.test");
  client->unwatchUser("Alice@Example.test");
  REQUIRE(nt::sendUdp(d.port(), nt::signedEvent(d.secret(), "alice@example.test", "Sent")));
  CHECK(sink.waitFor(forUser("Alice@Example.test"), 1s).folder == "Sent");
  client->unwatchUser("Alice@Example.test");
  REQUIRE(nt::eventually([&] { return nt::queryStats(d.socketPath())["watched_users"] == 0; },
                         2s));
  REQUIRE(nt::sendUdp(d.port(), nt::signedEvent(d.secret(), "alice@example.test", "Late")));
  CHECK(sink.waitFor(forUser("Alice@Example.test"), 300ms).user.empty());
}

TEST_CASE("forged, malformed and replayed datagrams are dropped and counted", "[notify]") {
  nt::NotifydProcess d(testDir("drops"));
  REQUIRE(d.start(0));
  nt::EventSink sink;
  auto client = n::startNotifyClient(d.socketPath(), sink.handler());
  client->watchUser("alice@example.test");
  REQUIRE(nt::eventually([&] { return nt::queryStats(d.socketPath())["watched_users"] == 1; },
                         2s));

  const std::string good = nt::signedEvent(d.secret(), "alice@example.test", "INBOX");
  const std::string forged =
      nt::signedEvent("a-wrong-secret-that-is-long-enough", "alice@example.test", "Forged");
  std::string tampered = nt::signedEvent(d.secret(), "alice@example.test", "Tampered");
  tampered[tampered.size() - 40] ^= 1;  // a byte of the folder
  REQUIRE(nt::sendUdp(d.port(), forged));
  REQUIRE(nt::sendUdp(d.port(), tampered));
  REQUIRE(nt::sendUdp(d.port(), "garbage that is not a datagram"));
  REQUIRE(nt::sendUdp(d.port(), std::string(3000, 'E')));
  REQUIRE(nt::sendUdp(d.port(), good));
  REQUIRE(nt::sendUdp(d.port(), good));  // replayed

  CHECK(sink.waitFor(forUser("alice@example.test"), 1s).folder == "INBOX");
  std::map<std::string, long> st;
  REQUIRE(nt::eventually(
      [&] {
        st = nt::queryStats(d.socketPath());
        return st["received"] == 6;
      },
      2s));
  CHECK(st["unauthenticated"] == 2);
  CHECK(st["malformed"] == 2);
  CHECK(st["replayed"] == 1);
  CHECK(st["relayed"] == 1);
  // Nothing but the good one arrived.
  std::this_thread::sleep_for(200ms);
  REQUIRE(sink.all().size() == 1);
  CHECK(d.alive());
  const std::string log = d.log();
  CHECK(log.find("notifyd.dropped reason=notify.bad_hmac") != std::string::npos);
  CHECK(log.find("notifyd.dropped reason=notify.bad_magic") != std::string::npos);
  CHECK(log.find("notifyd.dropped reason=notify.oversized") != std::string::npos);
  CHECK(log.find("notifyd.dropped reason=notify.replayed") != std::string::npos);
  CHECK(log.find("unauthenticated=2") != std::string::npos);
}

TEST_CASE("notifyd restarted: the client reconnects, re-registers, events flow", "[notify]") {
  nt::NotifydProcess d(testDir("restart"));
  REQUIRE(d.start(0));
  nt::EventSink sink;
  auto client = n::startNotifyClient(d.socketPath(), sink.handler());
  client->watchUser("alice@example.test");
  client->watchUser("bob@example.test");
  REQUIRE(nt::eventually([&] { return nt::queryStats(d.socketPath())["watched_users"] == 2; },
                         2s));

  for (int sig : {SIGTERM, SIGKILL}) {
    INFO("stopped with signal " << sig);
    d.stop(sig);
    REQUIRE(nt::eventually([&] { return !client->connected(); }, 2s));
    // A user watched while notifyd is away is registered on reconnect too.
    client->watchUser("carol@example.test");
    REQUIRE(d.start());  // same port; after SIGKILL the stale socket is replaced
    REQUIRE(nt::eventually([&] { return nt::queryStats(d.socketPath())["watched_users"] == 3; },
                           3s));
    CHECK(client->connected());
    REQUIRE(nt::sendUdp(d.port(), nt::signedEvent(d.secret(), "carol@example.test", "C")));
    REQUIRE(nt::sendUdp(d.port(), nt::signedEvent(d.secret(), "bob@example.test", "B")));
    CHECK(sink.waitFor(forUser("carol@example.test"), 1s).folder == "C");
    CHECK(sink.waitFor(forUser("bob@example.test"), 1s).folder == "B");
    client->unwatchUser("carol@example.test");
  }
}

TEST_CASE("a worker that dies leaves notifyd healthy", "[notify]") {
  nt::NotifydProcess d(testDir("dying"));
  REQUIRE(d.start(0));
  nt::EventSink sink;
  auto survivor = n::startNotifyClient(d.socketPath(), sink.handler());
  survivor->watchUser("alice@example.test");

  // A worker process killed with SIGKILL while registered.
  const pid_t worker = fork();
  if (worker == 0) {
    const int fd = rawConnect(d.socketPath());
    const std::string w = "WATCH alice@example.test\nWATCH dave@example.test\n";
    if (fd < 0 || send(fd, w.data(), w.size(), 0) < 0) _exit(1);
    pause();
    _exit(0);
  }
  REQUIRE(nt::eventually([&] { return nt::queryStats(d.socketPath())["watched_users"] == 2; },
                         2s));
  kill(worker, SIGKILL);
  waitpid(worker, nullptr, 0);
  REQUIRE(nt::eventually([&] { return nt::queryStats(d.socketPath())["watched_users"] == 1; },
                         2s));

  // A worker that never reads, and one that sends junk: both disconnected or
  // ignored without harm to the others.
  const int junk = rawConnect(d.socketPath());
  REQUIRE(junk >= 0);
  const std::string bad = "FROBNICATE everything\n";
  REQUIRE(send(junk, bad.data(), bad.size(), 0) > 0);
  const std::string huge(10000, 'x');
  const int longline = rawConnect(d.socketPath());
  REQUIRE(send(longline, huge.data(), huge.size(), MSG_NOSIGNAL) > 0);

  for (int i = 0; i < 20; ++i)
    REQUIRE(nt::sendUdp(d.port(), nt::signedEvent(d.secret(), "dave@example.test")));
  REQUIRE(nt::sendUdp(d.port(), nt::signedEvent(d.secret(), "alice@example.test", "Still")));
  CHECK(sink.waitFor(forUser("alice@example.test"), 1s).folder == "Still");
  CHECK(d.alive());
  REQUIRE(nt::eventually([&] { return nt::queryStats(d.socketPath())["clients"] == 2; }, 2s));  // the survivor and the STATS query
  close(junk);
  close(longline);
  CHECK(d.stop() == 0);
}

TEST_CASE("eas-notifyd refuses a bad command line and a short secret", "[notify]") {
  CHECK(!n::parseNotifydArgs({"--socket", "/x"}).ok());
  CHECK(!n::parseNotifydArgs({"--socket", "/x", "--secret-file", "/y", "--udp", "nope"}).ok());
  CHECK(!n::parseNotifydArgs({"--socket", "/x", "--secret-file", "/y", "--bogus", "1"}).ok());
  auto ok = n::parseNotifydArgs({"--socket", "/x", "--secret-file", "/y", "--udp",
                                 "127.0.0.1:0", "--replay-window", "5"});
  REQUIRE(ok.ok());
  CHECK(ok->udp_port == 0);
  CHECK(ok->replay_window_seconds == 5);

  nt::NotifydProcess d(testDir("badsecret"));
  std::ofstream(d.secretFile()) << "short\n";
  CHECK(!d.start(0));
  CHECK(d.log().find("notify.secret_short") != std::string::npos);
}
