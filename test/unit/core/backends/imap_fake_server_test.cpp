// Error paths of the IMAP session against a scripted fake server on
// loopback (no Dovecot): garbage responses, a dropped connection, a refused
// login, a server without CONDSTORE.
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
#include "test/unit/core/backends/fake_imap_server.h"

using namespace eas;
using namespace eas::backend::imap;
using namespace eas::backend::imap::testenv;

TEST_CASE("a garbage STATUS response is imap.protocol and the session is dropped", "[imap][unit]") {
  FakeServer server([](FakeServer& s) {
    s.greetAndLogin();
    const std::string cmd = s.readLine();
    s.send("* STATUS INBOX (MESSAGES banana)\r\n" + FakeServer::tagOf(cmd) + " OK done\r\n");
    s.readLine();  // wait for the client to go
  });
  ImapSessionPool pool(fakeConfig(server));
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
  ImapSessionPool pool(fakeConfig(server));
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
  ImapSessionPool pool(fakeConfig(server));
  auto r = pool.backendFor("u", "p")->listFolders();
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().reason() == (unavailable ? "imap.unavailable" : "imap.auth_failed"));
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
  ImapSessionPool pool(fakeConfig(server));
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
