// The IMAP verifier against the real Dovecot of the `dovecot` fixture
// (test/servers/dovecot, deploy/local/dovecot.sh).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <fstream>
#include <map>
#include <string>

#include "fcgi/auth/authenticator.h"

using eas::auth::AuthConfig;

namespace {

std::map<std::string, std::string> readEnv() {
  std::map<std::string, std::string> env;
  std::ifstream in(std::string(EAS_BINARY_DIR) + "/run/dovecot/env");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto eq = line.find('=');
    if (eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return env;
}

std::string fromHex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

// A loopback socket: bound and listening (accepts at the TCP level, never
// speaks) or closed again (so its port refuses connections).
struct Listener {
  int fd = -1;
  int port = 0;
  explicit Listener(bool listen_on) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port = ntohs(a.sin_port);
    if (listen_on) {
      REQUIRE(::listen(fd, 4) == 0);
    } else {
      ::close(fd);
      fd = -1;
    }
  }
  ~Listener() {
    if (fd >= 0) ::close(fd);
  }
};

AuthConfig configFor(const std::map<std::string, std::string>& env) {
  AuthConfig c;
  c.imap_host = env.at("IMAP_HOST");
  c.imap_port = std::stoi(env.at("IMAP_PORT"));
  c.imap_tls = AuthConfig::Tls::kNone;
  c.imap_timeout_seconds = 5;
  return c;
}

}  // namespace

TEST_CASE("the IMAP verifier against the real Dovecot") {
  std::signal(SIGPIPE, SIG_IGN);
  const auto env = readEnv();
  REQUIRE(env.count("IMAP_PORT") == 1);
  auto verifier = eas::auth::makeImapVerifier(configFor(env));

  SECTION("good passwords") {
    CHECK(verifier->verify(env.at("EAS_TEST_USER1"), env.at("EAS_TEST_PASS1")).ok());
    CHECK(verifier->verify(env.at("EAS_TEST_USER2"), env.at("EAS_TEST_PASS2")).ok());
  }
  SECTION("bad password and unknown user") {
    auto s = verifier->verify(env.at("EAS_TEST_USER1"), env.at("EAS_TEST_PASS2"));
    CHECK(s.reason() == "auth.bad_credentials");
    CHECK(s.code() == eas::StatusCode::kUnauthenticated);
    CHECK(verifier->verify("nobody@example.test", "x").reason() == "auth.bad_credentials");
    CHECK(verifier->verify(env.at("EAS_TEST_USER1"), env.at("EAS_TEST_PASS1") + " ").reason() ==
          "auth.bad_credentials");
  }
  SECTION("a password with quotes, a backslash, spaces and UTF-8") {
    REQUIRE(env.count("EAS_TEST_PASS3_HEX") == 1);
    const std::string pw = fromHex(env.at("EAS_TEST_PASS3_HEX"));
    REQUIRE(pw.find('"') != std::string::npos);
    REQUIRE(pw.find('\\') != std::string::npos);
    REQUIRE(pw.find(' ') != std::string::npos);
    REQUIRE(pw.find("\xc3\xa4") != std::string::npos);
    CHECK(verifier->verify(env.at("EAS_TEST_USER3"), pw).ok());
    // One byte off is refused: the quoting did not lose or merge characters.
    CHECK(verifier->verify(env.at("EAS_TEST_USER3"), pw.substr(0, pw.size() - 1)).reason() ==
          "auth.bad_credentials");
    std::string unescaped = pw;
    unescaped.erase(unescaped.find('\\'), 1);
    CHECK(verifier->verify(env.at("EAS_TEST_USER3"), unescaped).reason() == "auth.bad_credentials");
  }
  SECTION("a closed port is auth.backend_unavailable") {
    Listener closed(false);
    AuthConfig c = configFor(env);
    c.imap_port = closed.port;
    auto s =
        eas::auth::makeImapVerifier(c)->verify(env.at("EAS_TEST_USER1"), env.at("EAS_TEST_PASS1"));
    CHECK(s.reason() == "auth.backend_unavailable");
    CHECK(s.code() == eas::StatusCode::kUnavailable);
  }
  SECTION("a server that never greets times out as auth.backend_unavailable") {
    Listener silent(true);
    AuthConfig c = configFor(env);
    c.imap_port = silent.port;
    c.imap_timeout_seconds = 1;
    const auto start = std::chrono::steady_clock::now();
    auto s =
        eas::auth::makeImapVerifier(c)->verify(env.at("EAS_TEST_USER1"), env.at("EAS_TEST_PASS1"));
    const auto took = std::chrono::steady_clock::now() - start;
    CHECK(s.reason() == "auth.backend_unavailable");
    CHECK(took < std::chrono::seconds(10));
  }
  SECTION("the Authenticator over the real verifier") {
    AuthConfig c = configFor(env);
    c.default_domain = "example.test";
    auto auth = eas::auth::makeAuthenticator(c, eas::auth::makeImapVerifier(c));
    const std::string login = env.at("EAS_TEST_USER1");
    const std::string pair = login + ":" + env.at("EAS_TEST_PASS1");
    // base64 of the pair, by the shell-free route: the parser's inverse is tested elsewhere.
    static const char* kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string b;
    unsigned acc = 0;
    int bits = 0;
    for (unsigned char ch : pair) {
      acc = (acc << 8) | ch;
      bits += 8;
      while (bits >= 6) {
        bits -= 6;
        b += kAlphabet[(acc >> bits) & 63];
      }
    }
    if (bits > 0) b += kAlphabet[(acc << (6 - bits)) & 63];
    while (b.size() % 4) b += '=';
    auto r = auth->authenticate("Basic " + b, "127.0.0.1");
    REQUIRE(r.ok());
    CHECK(r->login == login);
  }
}
