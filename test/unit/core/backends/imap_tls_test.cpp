// STARTTLS and IMAPS against the TLS Dovecot fixture, with the chain
// checked against the fixture's private CA.
#include <catch2/catch.hpp>

#include <csignal>

#include "test/unit/core/backends/imap_test_env.h"

using namespace eas;
using namespace eas::backend::imap;
using namespace eas::backend::imap::testenv;

TEST_CASE("STARTTLS and IMAPS with a verified certificate", "[imap][tls]") {
  std::signal(SIGPIPE, SIG_IGN);
  const auto env = loadEnv("dovecot-tls");
  const Account alice = account(env, 1);
  ImapConfig c = configFor(env);
  c.host = "localhost";  // the certificate names DNS:localhost only
  c.tlsCaFile = env.at("IMAP_CA_FILE");

  SECTION("STARTTLS") {
    c.tls = TlsMode::kStartTls;
    ImapSessionPool pool(c);
    auto s = pool.backendFor(alice.login, alice.password)->folderState("INBOX");
    REQUIRE(s.ok());
    CHECK(s->highestModseq.has_value());
  }
  SECTION("IMAPS") {
    c.tls = TlsMode::kImaps;
    c.port = std::stoi(env.at("IMAPS_PORT"));
    ImapSessionPool pool(c);
    CHECK(pool.backendFor(alice.login, alice.password)->listFolders().ok());
  }
  SECTION("an untrusted chain is refused before the password is sent") {
    c.tls = TlsMode::kImaps;
    c.port = std::stoi(env.at("IMAPS_PORT"));
    c.tlsCaFile.clear();  // system store: does not know the private CA
    ImapSessionPool pool(c);
    auto r = pool.backendFor(alice.login, alice.password)->listFolders();
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().reason() == "imap.unavailable");
    CHECK(pool.stats().logins == 0);
  }
  SECTION("a name mismatch is refused") {
    c.tls = TlsMode::kStartTls;
    c.host = "127.0.0.1";
    ImapSessionPool pool(c);
    auto r = pool.backendFor(alice.login, alice.password)->folderState("INBOX");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().reason() == "imap.unavailable");
  }
}
