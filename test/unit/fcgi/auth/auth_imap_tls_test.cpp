// The IMAP verifier over STARTTLS and IMAPS against the `dovecot_tls`
// fixture, whose certificate (private CA) names DNS:localhost only.
#include <catch2/catch.hpp>
#include <csignal>
#include <fstream>
#include <map>
#include <string>

#include "fcgi/auth/authenticator.h"

using eas::auth::AuthConfig;

namespace {

std::map<std::string, std::string> readEnv() {
  std::map<std::string, std::string> env;
  std::ifstream in(std::string(EAS_BINARY_DIR) + "/run/dovecot-tls/env");
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (!line.empty() && line[0] != '#' && eq != std::string::npos)
      env[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return env;
}

int countLogins(const std::map<std::string, std::string>& env, const std::string& user) {
  const std::string log =
      env.at("DOVECOT_CONF").substr(0, env.at("DOVECOT_CONF").rfind('/')) + "/dovecot.log";
  std::ifstream in(log);
  std::string line;
  int n = 0;
  while (std::getline(in, line))
    if (line.find("user=<" + user + ">") != std::string::npos) ++n;
  return n;
}

}  // namespace

TEST_CASE("the IMAP verifier over TLS") {
  std::signal(SIGPIPE, SIG_IGN);
  const auto env = readEnv();
  REQUIRE(env.count("IMAPS_PORT") == 1);
  const std::string user = env.at("EAS_TEST_USER1"), pass = env.at("EAS_TEST_PASS1");
  AuthConfig base;
  base.imap_host = "localhost";
  base.imap_timeout_seconds = 5;
  base.tls_verify = true;
  base.tls_ca_file = env.at("IMAP_CA_FILE");

  struct Case {
    std::string name;
    AuthConfig::Tls tls;
    std::string host;
    bool verify;
    bool use_ca;
    std::string password;
    std::string reason;  // "ok" for success
  };
  const std::vector<Case> cases = {
      {"IMAPS, verified", AuthConfig::Tls::kImaps, "localhost", true, true, pass, "ok"},
      {"IMAPS, verified, bad password", AuthConfig::Tls::kImaps, "localhost", true, true,
       pass + "x", "auth.bad_credentials"},
      {"STARTTLS, verified", AuthConfig::Tls::kStartTls, "localhost", true, true, pass, "ok"},
      {"STARTTLS, verified, bad password", AuthConfig::Tls::kStartTls, "localhost", true, true,
       "nope", "auth.bad_credentials"},
      {"IMAPS, unverified", AuthConfig::Tls::kImaps, "127.0.0.1", false, false, pass, "ok"},
      {"STARTTLS, unverified", AuthConfig::Tls::kStartTls, "127.0.0.1", false, false, pass, "ok"},
      {"IMAPS, name mismatch", AuthConfig::Tls::kImaps, "127.0.0.1", true, true, pass,
       "auth.backend_unavailable"},
      {"STARTTLS, name mismatch", AuthConfig::Tls::kStartTls, "127.0.0.1", true, true, pass,
       "auth.backend_unavailable"},
      {"IMAPS, untrusted CA", AuthConfig::Tls::kImaps, "localhost", true, false, pass,
       "auth.backend_unavailable"},
      {"IMAPS on the plain port", AuthConfig::Tls::kImaps, "localhost", false, false, pass,
       "auth.backend_unavailable"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    AuthConfig cfg = base;
    cfg.imap_tls = c.tls;
    cfg.imap_host = c.host;
    cfg.tls_verify = c.verify;
    if (!c.use_ca) cfg.tls_ca_file.clear();
    const bool plain_port =
        c.name == "IMAPS on the plain port" || c.tls == AuthConfig::Tls::kStartTls;
    cfg.imap_port = std::stoi(env.at(plain_port ? "IMAP_PORT" : "IMAPS_PORT"));
    const int logins_before = countLogins(env, user);
    const eas::Status s = eas::auth::makeImapVerifier(cfg)->verify(user, c.password);
    CHECK((s.ok() ? std::string("ok") : s.reason()) == c.reason);
    if (c.reason == "auth.backend_unavailable") {
      // The password was never offered to a server we did not trust.
      CHECK(countLogins(env, user) == logins_before);
    }
  }
}
