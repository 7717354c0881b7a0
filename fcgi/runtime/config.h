// The eas-fcgi configuration: one INI file, every key documented in
// deploy/eas-fcgi.ini.example. Parsing never stops at the first problem:
// every unknown key, bad number, out-of-range or bad enum value is
// reported with file:line, so that --check-config shows them all at once.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/base/log.h"
#include "fcgi/auth/authenticator.h"
#include "fcgi/autodiscover/autodiscover.h"
#include "fcgi/http/eas_request_handler.h"

namespace eas::runtime {

struct ServerConfig {
  // Where the FastCGI socket is: "/path" or "unix:/path" (a Unix socket),
  // "127.0.0.1:9000" or "tcp:127.0.0.1:9000" (loopback TCP). A listening
  // socket inherited on fd 0 (spawn-fcgi) or via LISTEN_FDS (systemd) wins.
  std::string socket = "/run/eas-fcgi/eas-fcgi.sock";
  int socket_mode = 0660;  // permissions of a Unix socket we create
  int backlog = 1024;
  int workers = 0;   // worker processes; 0: one per core
  int threads = 16;  // request threads per worker
  enum class LogTarget { kStderr, kSyslog } log = LogTarget::kStderr;
  log::Level log_level = log::Level::kInfo;
  int syslog_facility = 3 << 3;          // LOG_DAEMON (syslog.h is kept out of this header)
  std::string pid_file;                  // empty: none
  int drain_timeout_seconds = 30;        // SIGTERM / reload: how long in-flight requests may take
  int restart_backoff_max_seconds = 30;  // crash-loop back-off cap
  int ready_timeout_seconds = 10;        // reload: how long a new worker may take to come up
};

struct StoreConfig {
  std::string url = "sqlite:/var/lib/eas-fcgi/eas.db";
};

// [smtp]: where SendMail, SmartReply, SmartForward and notices are submitted.
struct SmtpConfig {
  std::string host = "127.0.0.1";
  int port = 25;
  enum class Tls { kNone, kStartTls, kSmtps } tls = Tls::kNone;
  bool tls_verify = true;
  std::string tls_ca_file;  // empty: the system's CAs
  // AUTH PLAIN/LOGIN with the device user's own credentials (a submission
  // port); off: the server trusts us by address (loopback Postfix).
  bool authenticate = false;
  // With authenticate: one account for every submit (notices included)
  // instead of the device user's; empty auth_login: the device user's.
  std::string auth_login, auth_password;
  int timeout_seconds = 30;
  std::string helo_name = "localhost";
  // Sender and Cc of notices to users (wipe confirmation, quarantine...).
  std::string notice_from = "postmaster@localhost";
  std::string admin_address;  // empty: no administrator Cc
  // Notice mails (policies/notices): the administrator's template folder
  // (empty: the built-in texts), how often a worker drains the queue (0: the
  // workers never send; `easctl notices send` does), and the lock that lets
  // one worker of this host send at a time.
  std::string notice_template_dir;
  int notice_interval_seconds = 5;
  std::string notice_lock_file = "/run/eas-fcgi/notices.lock";
};

// [push]: Ping limits and the link to eas-notifyd.
struct PushConfig {
  // HeartbeatInterval bounds (CMD §2.2.3.84: 60..3540; the seed caps it at 30 min).
  int min_heartbeat_seconds = 60;
  int max_heartbeat_seconds = 1800;
  int max_folders = 300;  // more folders in one Ping: status 6 with this limit
  // The relay socket of eas-notifyd; empty: no sidecar (Pings wake at the
  // heartbeat and re-check the backend then).
  std::string notify_socket = "/run/eas-fcgi/notifyd.sock";
  int max_parked_per_worker = 20000;
};

struct Config {
  ServerConfig server;
  http::HttpLayerConfig http;
  auth::AuthConfig auth;
  autodiscover::AutodiscoverConfig autodiscover;
  StoreConfig store;
  SmtpConfig smtp;
  PushConfig push;
};

struct ConfigError {
  std::string file;
  int line = 0;  // 0: the file as a whole
  std::string message;
  // "file:line: message"
  std::string toString() const;
};

struct ConfigLoad {
  Config config;                    // defaults where a value was bad
  std::vector<ConfigError> errors;  // empty: valid
  bool ok() const { return errors.empty(); }
};

// Parses INI text (`filename` only labels the errors).
ConfigLoad parseConfig(std::string_view text, std::string_view filename);
// Reads and parses a file; an unreadable file is one error with line 0.
ConfigLoad loadConfigFile(const std::string& path);

// Parsed forms of server.socket.
struct SocketAddress {
  enum class Kind { kUnix, kTcp } kind = Kind::kUnix;
  std::string path;  // kUnix
  std::string host;  // kTcp: numeric IPv4 address
  int port = 0;      // kTcp
};
// Failure: config.bad_socket.
Result<SocketAddress> parseSocketAddress(std::string_view value);

// Every key the parser knows, "section.key" (protocol.* as "autodiscover.protocol.<name>"),
// for the documentation test that checks deploy/eas-fcgi.ini.example.
std::vector<std::string> knownConfigKeys();

}  // namespace eas::runtime
