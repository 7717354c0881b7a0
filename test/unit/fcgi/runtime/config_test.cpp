#include "fcgi/runtime/config.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fcgi/runtime/ini.h"

using eas::runtime::ConfigLoad;
using eas::runtime::parseConfig;

namespace {

std::string joined(const ConfigLoad& l) {
  std::string s;
  for (const auto& e : l.errors) s += e.toString() + "\n";
  return s;
}

}  // namespace

TEST_CASE("empty file gives the documented defaults", "[config]") {
  ConfigLoad l = parseConfig("", "x.ini");
  REQUIRE(l.ok());
  CHECK(l.config.server.socket == "/run/eas-fcgi/eas-fcgi.sock");
  CHECK(l.config.server.workers == 0);
  CHECK(l.config.server.threads == 16);
  CHECK(l.config.server.socket_mode == 0660);
  CHECK(l.config.server.log == eas::runtime::ServerConfig::LogTarget::kStderr);
  CHECK(l.config.http.max_protocol_version == "16.1");
  CHECK(l.config.http.max_body_bytes == 32u * 1024u * 1024u);
  CHECK(l.config.auth.imap_port == 143);
  CHECK(l.config.auth.max_failures == 5);
  CHECK(l.config.auth.throttle_state_path == "/run/eas-fcgi/auth-throttle");
  CHECK(l.config.http.auth_realm == l.config.auth.realm);
  CHECK(l.config.store.url == "sqlite:/var/lib/eas-fcgi/eas.db");
  CHECK(l.config.autodiscover.extra_protocols.empty());
}

TEST_CASE("good values are taken", "[config]") {
  ConfigLoad l = parseConfig(
      "# comment\n"
      "; another\n"
      "[Server]\n"
      "socket = 127.0.0.1:9000\n"
      "Workers = 3\n"
      "threads=4\n"
      "log = syslog\n"
      "log_level = DEBUG\n"
      "syslog_facility = local3\n"
      "socket_mode = 0600\n"
      "pid_file = /tmp/x.pid\n"
      "[http]\n"
      "max_body_bytes = 2M\n"
      "max_protocol_version = 14.1\n"
      "debug_log_documents = yes\n"
      "server_version = \" 14.1 \"\n"
      "[auth]\n"
      "imap_tls = starttls\n"
      "tls_verify = off\n"
      "imap_port = 10143\n"
      "realm = Mail\n"
      "[autodiscover]\n"
      "mobilesync_url = https://m.example.test/Microsoft-Server-ActiveSync\n"
      "domains = Example.test, other.test\n"
      "protocol.imap = IMAP 127.0.0.1 143 %u off\n"
      "protocol.smtp = SMTP mail.example.test 465 %u on\n"
      "[store]\n"
      "url = mysql://eas:pw@127.0.0.1/eas\n",
      "good.ini");
  INFO(joined(l));
  REQUIRE(l.ok());
  const auto& c = l.config;
  CHECK(c.server.socket == "127.0.0.1:9000");
  CHECK(c.server.workers == 3);
  CHECK(c.server.threads == 4);
  CHECK(c.server.log == eas::runtime::ServerConfig::LogTarget::kSyslog);
  CHECK(c.server.log_level == eas::log::Level::kDebug);
  CHECK(c.server.socket_mode == 0600);
  CHECK(c.server.pid_file == "/tmp/x.pid");
  CHECK(c.http.max_body_bytes == 2u * 1024u * 1024u);
  CHECK(c.http.max_protocol_version == "14.1");
  CHECK(c.http.debug_log_documents);
  CHECK(c.http.server_version == " 14.1 ");
  CHECK(c.auth.imap_tls == eas::auth::AuthConfig::Tls::kStartTls);
  CHECK_FALSE(c.auth.tls_verify);
  CHECK(c.auth.imap_port == 10143);
  CHECK(c.auth.realm == "Mail");
  CHECK(c.http.auth_realm == "Mail");  // the HTTP layer's 401s use the configured realm
  REQUIRE(c.autodiscover.domains == std::vector<std::string>{"example.test", "other.test"});
  REQUIRE(c.autodiscover.extra_protocols.size() == 2);
  CHECK(c.autodiscover.extra_protocols[0].type == "IMAP");
  CHECK(c.autodiscover.extra_protocols[0].port == 143);
  CHECK(c.autodiscover.extra_protocols[0].login_name == "%u");
  CHECK_FALSE(c.autodiscover.extra_protocols[0].ssl);
  CHECK(c.autodiscover.extra_protocols[1].ssl);
  CHECK(c.store.url == "mysql://eas:pw@127.0.0.1/eas");
}

// One bad line per row: the error must name the line and say what is wrong.
TEST_CASE("each bad key or value is reported with its line", "[config]") {
  struct Row {
    const char* text;
    int line;
    const char* needle;
  };
  const std::vector<Row> rows = {
      {"[server]\nworkers = many\n", 2, "not an integer"},
      {"[server]\nworkers = -1\n", 2, "out of range"},
      {"[server]\nworkers = 257\n", 2, "out of range"},
      {"[server]\nthreads = 0\n", 2, "out of range"},
      {"[server]\nthreads = 4x\n", 2, "not an integer"},
      {"[server]\nlog = file\n", 2, "not one of stderr|syslog"},
      {"[server]\nlog_level = loud\n", 2, "not one of"},
      {"[server]\nsyslog_facility = local9\n", 2, "not one of"},
      {"[server]\nsocket = somewhere\n", 2, "neither"},
      {"[server]\nsocket = 127.0.0.1:0\n", 2, "port"},
      {"[server]\nsocket = localhost:9000\n", 2, "numeric IPv4"},
      {"[server]\nsocket = unix:relative\n", 2, "absolute"},
      {"[server]\nsocket_mode = 0999\n", 2, "octal"},
      {"[server]\nbogus = 1\n", 2, "unknown key"},
      {"[bogus]\nx = 1\n", 1, "unknown section"},
      {"workers = 1\n", 1, "outside any [section]"},
      {"[server]\njust words\n", 2, "expected 'key = value'"},
      {"[server\n", 1, "closing ']'"},
      {"[server]\nthreads = 2\nthreads = 3\n", 3, "duplicate key"},
      {"[http]\nmax_body_bytes = 10Q\n", 2, "not a size"},
      {"[http]\nmax_body_bytes = 100\n", 2, "out of range"},
      {"[http]\nmax_body_bytes = 3G\n", 2, "out of range"},
      {"[http]\nmax_protocol_version = 15.0\n", 2, "not one of"},
      {"[http]\nwbxml_max_depth = 2\n", 2, "out of range"},
      {"[http]\ndebug_log_documents = maybe\n", 2, "not a boolean"},
      {"[http]\nserver_version =\n", 2, "must not be empty"},
      {"[auth]\nimap_port = 65536\n", 2, "out of range"},
      {"[auth]\nimap_tls = ssl\n", 2, "not one of none|starttls|imaps"},
      {"[auth]\ntls_verify = 2\n", 2, "not a boolean"},
      {"[auth]\nmax_failures = 0\n", 2, "out of range"},
      {"[auth]\nrealm = a\"b\n", 2, "quotes"},
      {"[auth]\nimap_host =\n", 2, "must not be empty"},
      {"[autodiscover]\nmobilesync_url = ftp://x\n", 2, "not an http"},
      {"[autodiscover]\ndomains = user@example.test\n", 2, "not a domain"},
      {"[autodiscover]\nprotocol.imap = IMAP host\n", 2, "expected 'TYPE SERVER PORT LOGIN"},
      {"[autodiscover]\nprotocol.imap = IMAP host 0 %u\n", 2, "port"},
      {"[autodiscover]\nprotocol.imap = IMAP host 143 %u maybe\n", 2, "ssl flag"},
      {"[store]\nurl = postgres://x\n", 2, "not a store URL"},
      {"[store]\nurl = sqlite:\n", 2, "needs a file path"},
  };
  for (const auto& row : rows) {
    ConfigLoad l = parseConfig(row.text, "t.ini");
    INFO("input: " << row.text << "errors: " << joined(l));
    REQUIRE(l.errors.size() == 1);
    CHECK(l.errors[0].line == row.line);
    CHECK(l.errors[0].file == "t.ini");
    CHECK(l.errors[0].message.find(row.needle) != std::string::npos);
    CHECK(l.errors[0].toString().rfind("t.ini:" + std::to_string(row.line) + ": ", 0) == 0);
  }
}

TEST_CASE("every problem of a file is reported at once, in line order", "[config]") {
  ConfigLoad l = parseConfig(
      "[server]\n"          // 1
      "workers = x\n"       // 2
      "threads = 9999\n"    // 3
      "[nope]\n"            // 4
      "[auth]\n"            // 5
      "imap_tls = maybe\n"  // 6
      "mystery = 1\n"       // 7
      "garbage\n",          // 8
      "all.ini");
  REQUIRE(l.errors.size() == 6);
  std::vector<int> lines;
  for (const auto& e : l.errors) lines.push_back(e.line);
  CHECK(lines == std::vector<int>{2, 3, 4, 6, 7, 8});
  // Good keys next to bad ones are still taken.
  ConfigLoad m = parseConfig("[server]\nworkers = x\nthreads = 3\n", "m.ini");
  CHECK(m.errors.size() == 1);
  CHECK(m.config.server.threads == 3);
}

TEST_CASE("unreadable file is one error without a line", "[config]") {
  ConfigLoad l = eas::runtime::loadConfigFile("/nonexistent/eas-fcgi.ini");
  REQUIRE(l.errors.size() == 1);
  CHECK(l.errors[0].line == 0);
  CHECK(l.errors[0].toString().find("/nonexistent/eas-fcgi.ini: cannot read") == 0);
}

TEST_CASE("socket addresses", "[config]") {
  auto u = eas::runtime::parseSocketAddress("/run/x.sock");
  REQUIRE(u.ok());
  CHECK(u->kind == eas::runtime::SocketAddress::Kind::kUnix);
  CHECK(u->path == "/run/x.sock");
  auto u2 = eas::runtime::parseSocketAddress("unix:/run/y.sock");
  REQUIRE(u2.ok());
  CHECK(u2->path == "/run/y.sock");
  auto t = eas::runtime::parseSocketAddress("tcp:127.0.0.1:9001");
  REQUIRE(t.ok());
  CHECK(t->kind == eas::runtime::SocketAddress::Kind::kTcp);
  CHECK(t->host == "127.0.0.1");
  CHECK(t->port == 9001);
  auto bad = eas::runtime::parseSocketAddress("127.0.0.1:99999");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().reason() == "config.bad_socket");
  CHECK_FALSE(eas::runtime::parseSocketAddress(std::string("/") + std::string(120, 'a')).ok());
}

TEST_CASE("ini reader keeps lines and strips quotes", "[config]") {
  auto doc = eas::runtime::parseIni("\xEF\xBB\xBF[a]\r\nk = \"  v  \"\r\n\r\n  [B]  \nx=1");
  REQUIRE(doc.errors.empty());
  REQUIRE(doc.entries.size() == 2);
  CHECK(doc.entries[0].section == "a");
  CHECK(doc.entries[0].value == "  v  ");
  CHECK(doc.entries[0].line == 2);
  CHECK(doc.entries[1].section == "b");
  CHECK(doc.entries[1].line == 5);
}

// The example file is the documentation: it must be valid and name every key.
TEST_CASE("deploy/eas-fcgi.ini.example is valid and documents every key", "[config]") {
  std::string path = std::string(EAS_SOURCE_DIR) + "/deploy/eas-fcgi.ini.example";
  ConfigLoad l = eas::runtime::loadConfigFile(path);
  INFO(joined(l));
  REQUIRE(l.ok());
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto doc = eas::runtime::parseIni(ss.str());
  std::string text = ss.str();
  for (const std::string& key : eas::runtime::knownConfigKeys()) {
    std::string section = key.substr(0, key.find('.'));
    std::string name = key.substr(key.find('.') + 1);
    if (name == "protocol.<name>") {
      CHECK(text.find("protocol.<name> =") != std::string::npos);
      continue;
    }
    bool found = false;
    for (const auto& e : doc.entries)
      if (e.section == section && e.key == name) found = true;
    INFO("key " << key);
    CHECK(found);
  }
}

TEST_CASE("[smtp] and [push] sections", "[config]") {
  ConfigLoad d = parseConfig("", "x.ini");
  CHECK(d.config.smtp.port == 25);
  CHECK(d.config.push.max_heartbeat_seconds == 1800);
  ConfigLoad l = parseConfig(
      "[smtp]\nhost = mx.example.test\nport = 587\ntls = starttls\nauthenticate = true\n"
      "admin_address = admin@example.test\n"
      "[push]\nmin_heartbeat_seconds = 120\nmax_heartbeat_seconds = 900\nmax_folders = 50\n"
      "notify_socket =\n",
      "x.ini");
  REQUIRE(l.ok());
  CHECK(l.config.smtp.host == "mx.example.test");
  CHECK(l.config.smtp.port == 587);
  CHECK(l.config.smtp.tls == eas::runtime::SmtpConfig::Tls::kStartTls);
  CHECK(l.config.smtp.authenticate);
  CHECK(l.config.smtp.admin_address == "admin@example.test");
  CHECK(l.config.push.min_heartbeat_seconds == 120);
  CHECK(l.config.push.max_heartbeat_seconds == 900);
  CHECK(l.config.push.max_folders == 50);
  CHECK(l.config.push.notify_socket.empty());
  ConfigLoad bad = parseConfig(
      "[smtp]\ntls = ssl\nport = 0\n[push]\nmin_heartbeat_seconds = 600\nmax_heartbeat_seconds = 300\n",
      "x.ini");
  REQUIRE(bad.errors.size() == 3);
  CHECK(bad.errors[0].toString().find("x.ini: [push] min_heartbeat_seconds") == 0);
  CHECK(bad.errors[1].toString().find("x.ini:2: [smtp] tls") == 0);
  CHECK(bad.errors[2].toString().find("x.ini:3: [smtp] port") == 0);
}
