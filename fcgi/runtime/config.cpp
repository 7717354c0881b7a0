#include "fcgi/runtime/config.h"

#include <arpa/inet.h>
#include <syslog.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "fcgi/runtime/ini.h"

namespace eas::runtime {
namespace {

// A setter returns an error message, or nullopt when the value was taken.
using Setter = std::function<std::optional<std::string>(Config&, const std::string&)>;

struct KeySpec {
  const char* section;
  const char* key;
  Setter set;
};

std::string lowerCopy(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::optional<long long> toInt(std::string_view s) {
  long long v = 0;
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

Setter intSetter(long long min, long long max, std::function<int&(Config&)> field) {
  return [=](Config& c, const std::string& v) -> std::optional<std::string> {
    auto n = toInt(v);
    if (!n) return "'" + v + "' is not an integer";
    if (*n < min || *n > max)
      return std::to_string(*n) + " is out of range [" + std::to_string(min) + ", " +
             std::to_string(max) + "]";
    field(c) = static_cast<int>(*n);
    return std::nullopt;
  };
}

// A byte count with an optional K, M or G suffix (powers of 1024).
Setter sizeSetter(long long min, long long max, std::function<std::size_t&(Config&)> field) {
  return [=](Config& c, const std::string& v) -> std::optional<std::string> {
    std::string_view s = v;
    long long mult = 1;
    if (!s.empty()) {
      char last = static_cast<char>(std::toupper(static_cast<unsigned char>(s.back())));
      if (last == 'K') mult = 1024LL;
      if (last == 'M') mult = 1024LL * 1024;
      if (last == 'G') mult = 1024LL * 1024 * 1024;
      if (mult != 1) s.remove_suffix(1);
    }
    auto n = toInt(s);
    if (!n || *n < 0) return "'" + v + "' is not a size (bytes, or a number with K, M or G)";
    if (*n > max / mult || *n * mult < min || *n * mult > max)
      return "'" + v + "' is out of range [" + std::to_string(min) + ", " + std::to_string(max) +
             "] bytes";
    field(c) = static_cast<std::size_t>(*n * mult);
    return std::nullopt;
  };
}

Setter boolSetter(std::function<bool&(Config&)> field) {
  return [=](Config& c, const std::string& v) -> std::optional<std::string> {
    std::string l = lowerCopy(v);
    if (l == "true" || l == "yes" || l == "on" || l == "1") {
      field(c) = true;
    } else if (l == "false" || l == "no" || l == "off" || l == "0") {
      field(c) = false;
    } else {
      return "'" + v + "' is not a boolean (true|false|yes|no|on|off|1|0)";
    }
    return std::nullopt;
  };
}

Setter stringSetter(std::function<std::string&(Config&)> field, bool allow_empty = true) {
  return [=](Config& c, const std::string& v) -> std::optional<std::string> {
    if (!allow_empty && v.empty()) return std::string("must not be empty");
    field(c) = v;
    return std::nullopt;
  };
}

template <typename T>
Setter enumSetter(std::vector<std::pair<const char*, T>> names, std::function<T&(Config&)> field) {
  return [=](Config& c, const std::string& v) -> std::optional<std::string> {
    std::string l = lowerCopy(v);
    std::string all;
    for (const auto& [name, value] : names) {
      if (l == name) {
        field(c) = value;
        return std::nullopt;
      }
      if (!all.empty()) all += '|';
      all += name;
    }
    return "'" + v + "' is not one of " + all;
  };
}

std::vector<std::string> splitList(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    std::size_t b = cur.find_first_not_of(" \t");
    std::size_t e = cur.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(cur.substr(b, e - b + 1));
    cur.clear();
  };
  for (char ch : s) {
    if (ch == ',' || ch == ' ' || ch == '\t') {
      flush();
    } else {
      cur += ch;
    }
  }
  flush();
  return out;
}

const std::vector<KeySpec>& schema() {
  using LogTarget = ServerConfig::LogTarget;
  using Tls = auth::AuthConfig::Tls;
  using SmtpTls = SmtpConfig::Tls;
  static const std::vector<KeySpec> kSchema = {
      // [server]
      {"server", "socket",
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         auto a = parseSocketAddress(v);
         if (!a.ok()) return a.status().message();
         c.server.socket = v;
         return std::nullopt;
       }},
      {"server", "socket_mode",
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         int mode = 0;
         auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), mode, 8);
         if (v.empty() || ec != std::errc() || p != v.data() + v.size() || mode < 0 || mode > 0777)
           return "'" + v + "' is not an octal mode (e.g. 0660)";
         c.server.socket_mode = mode;
         return std::nullopt;
       }},
      {"server", "backlog",
       intSetter(1, 65535, [](Config& c) -> int& { return c.server.backlog; })},
      {"server", "workers", intSetter(0, 256, [](Config& c) -> int& { return c.server.workers; })},
      {"server", "threads", intSetter(1, 1024, [](Config& c) -> int& { return c.server.threads; })},
      {"server", "log",
       enumSetter<LogTarget>({{"stderr", LogTarget::kStderr}, {"syslog", LogTarget::kSyslog}},
                             [](Config& c) -> LogTarget& { return c.server.log; })},
      {"server", "log_level",
       enumSetter<log::Level>({{"debug", log::Level::kDebug},
                               {"info", log::Level::kInfo},
                               {"warn", log::Level::kWarn},
                               {"error", log::Level::kError}},
                              [](Config& c) -> log::Level& { return c.server.log_level; })},
      {"server", "syslog_facility",
       enumSetter<int>({{"daemon", LOG_DAEMON},
                        {"mail", LOG_MAIL},
                        {"user", LOG_USER},
                        {"local0", LOG_LOCAL0},
                        {"local1", LOG_LOCAL1},
                        {"local2", LOG_LOCAL2},
                        {"local3", LOG_LOCAL3},
                        {"local4", LOG_LOCAL4},
                        {"local5", LOG_LOCAL5},
                        {"local6", LOG_LOCAL6},
                        {"local7", LOG_LOCAL7}},
                       [](Config& c) -> int& { return c.server.syslog_facility; })},
      {"server", "pid_file",
       stringSetter([](Config& c) -> std::string& { return c.server.pid_file; })},
      {"server", "drain_timeout_seconds",
       intSetter(1, 86400, [](Config& c) -> int& { return c.server.drain_timeout_seconds; })},
      {"server", "restart_backoff_max_seconds",
       intSetter(1, 3600, [](Config& c) -> int& { return c.server.restart_backoff_max_seconds; })},
      {"server", "ready_timeout_seconds",
       intSetter(1, 600, [](Config& c) -> int& { return c.server.ready_timeout_seconds; })},
      // [http]
      {"http", "max_protocol_version",
       enumSetter<std::string>(
           {{"2.5", "2.5"},
            {"12.0", "12.0"},
            {"12.1", "12.1"},
            {"14.0", "14.0"},
            {"14.1", "14.1"},
            {"16.0", "16.0"},
            {"16.1", "16.1"}},
           [](Config& c) -> std::string& { return c.http.max_protocol_version; })},
      {"http", "max_body_bytes",
       sizeSetter(1024, 2047LL * 1024 * 1024,
                  [](Config& c) -> std::size_t& { return c.http.max_body_bytes; })},
      {"http", "wbxml_max_depth",
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         auto n = toInt(v);
         if (!n) return "'" + v + "' is not an integer";
         if (*n < 8 || *n > 1024) return std::to_string(*n) + " is out of range [8, 1024]";
         c.http.wbxml_max_depth = static_cast<std::size_t>(*n);
         return std::nullopt;
       }},
      {"http", "server_version",
       stringSetter([](Config& c) -> std::string& { return c.http.server_version; }, false)},
      {"http", "debug_log_documents",
       boolSetter([](Config& c) -> bool& { return c.http.debug_log_documents; })},
      // [auth]
      {"auth", "imap_host",
       stringSetter([](Config& c) -> std::string& { return c.auth.imap_host; }, false)},
      {"auth", "imap_port",
       intSetter(1, 65535, [](Config& c) -> int& { return c.auth.imap_port; })},
      {"auth", "imap_tls",
       enumSetter<Tls>({{"none", Tls::kNone}, {"starttls", Tls::kStartTls}, {"imaps", Tls::kImaps}},
                       [](Config& c) -> Tls& { return c.auth.imap_tls; })},
      {"auth", "tls_verify", boolSetter([](Config& c) -> bool& { return c.auth.tls_verify; })},
      {"auth", "default_domain",
       stringSetter([](Config& c) -> std::string& { return c.auth.default_domain; })},
      {"auth", "cache_ttl_seconds",
       intSetter(0, 86400, [](Config& c) -> int& { return c.auth.cache_ttl_seconds; })},
      {"auth", "max_failures",
       intSetter(1, 1000, [](Config& c) -> int& { return c.auth.max_failures; })},
      {"auth", "failure_window_seconds",
       intSetter(1, 86400, [](Config& c) -> int& { return c.auth.failure_window_seconds; })},
      {"auth", "lockout_seconds",
       intSetter(0, 86400, [](Config& c) -> int& { return c.auth.lockout_seconds; })},
      {"auth", "throttle_state_file",
       stringSetter([](Config& c) -> std::string& { return c.auth.throttle_state_path; })},
      {"auth", "realm",
       [](Config& c,
          const std::string& v) -> std::
                                    optional<std::string> {
                                      if (v.empty()) return std::string("must not be empty");
                                      if (v.find_first_of("\"\\\r\n") != std::string::npos)
                                        return std::string(
                                            "must not contain quotes, backslashes or line breaks");
                                      c.auth.realm = v;
                                      return std::nullopt;
                                    }},
      // [autodiscover]
      {"autodiscover", "mobilesync_url",
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         if (!v.empty() && v.rfind("https://", 0) != 0 && v.rfind("http://", 0) != 0)
           return "'" + v + "' is not an http:// or https:// URL";
         c.autodiscover.mobilesync_url = v;
         return std::nullopt;
       }},
      {"autodiscover", "domains",
       [](Config& c, const std::string& v) -> std::optional<std::string> {
         std::vector<std::string> list = splitList(v);
         for (auto& d : list) {
           if (d.find('@') != std::string::npos || d.find('.') == std::string::npos)
             return "'" + d + "' is not a domain name";
           d = lowerCopy(d);
         }
         c.autodiscover.domains = std::move(list);
         return std::nullopt;
       }},
      // [store]
      {"store", "url",
       [](Config& c, const std::string& v)
           -> std::
               optional<std::string> {
                 if (v.rfind("sqlite:", 0) == 0) {
                   if (v.size() == 7) return std::string("sqlite: needs a file path");
                 } else if (v.rfind("mysql://", 0) != 0 && v.rfind("mariadb://", 0) != 0) {
                   return "'" + v +
                          "' is not a store URL (sqlite:/path or mysql://user:pass@host/db)";
                 }
                 c.store.url = v;
                 return std::nullopt;
               }},
      // [smtp]
      {"smtp", "host", stringSetter([](Config& c) -> std::string& { return c.smtp.host; }, false)},
      {"smtp", "port", intSetter(1, 65535, [](Config& c) -> int& { return c.smtp.port; })},
      {"smtp", "tls",
       enumSetter<SmtpTls>(
           {{"none", SmtpTls::kNone}, {"starttls", SmtpTls::kStartTls}, {"smtps", SmtpTls::kSmtps}},
           [](Config& c) -> SmtpTls& { return c.smtp.tls; })},
      {"smtp", "tls_verify", boolSetter([](Config& c) -> bool& { return c.smtp.tls_verify; })},
      {"smtp", "tls_ca_file",
       stringSetter([](Config& c) -> std::string& { return c.smtp.tls_ca_file; })},
      {"smtp", "authenticate", boolSetter([](Config& c) -> bool& { return c.smtp.authenticate; })},
      {"smtp", "auth_login", stringSetter([](Config& c) -> std::string& { return c.smtp.auth_login; })},
      {"smtp", "auth_password",
       stringSetter([](Config& c) -> std::string& { return c.smtp.auth_password; })},
      {"smtp", "timeout_seconds",
       intSetter(1, 600, [](Config& c) -> int& { return c.smtp.timeout_seconds; })},
      {"smtp", "helo_name",
       stringSetter([](Config& c) -> std::string& { return c.smtp.helo_name; }, false)},
      {"smtp", "notice_from",
       stringSetter([](Config& c) -> std::string& { return c.smtp.notice_from; }, false)},
      {"smtp", "admin_address",
       stringSetter([](Config& c) -> std::string& { return c.smtp.admin_address; })},
      {"smtp", "notice_template_dir",
       stringSetter([](Config& c) -> std::string& { return c.smtp.notice_template_dir; })},
      {"smtp", "notice_interval_seconds",
       intSetter(0, 3600, [](Config& c) -> int& { return c.smtp.notice_interval_seconds; })},
      {"smtp", "notice_lock_file",
       stringSetter([](Config& c) -> std::string& { return c.smtp.notice_lock_file; })},
      // [push]
      {"push", "min_heartbeat_seconds",
       intSetter(1, 3540, [](Config& c) -> int& { return c.push.min_heartbeat_seconds; })},
      {"push", "max_heartbeat_seconds",
       intSetter(1, 3540, [](Config& c) -> int& { return c.push.max_heartbeat_seconds; })},
      {"push", "max_folders", intSetter(1, 10000, [](Config& c) -> int& { return c.push.max_folders; })},
      {"push", "notify_socket",
       stringSetter([](Config& c) -> std::string& { return c.push.notify_socket; })},
      {"push", "max_parked_per_worker",
       intSetter(1, 1000000, [](Config& c) -> int& { return c.push.max_parked_per_worker; })},
  };
  return kSchema;
}

// "protocol.<name> = TYPE SERVER PORT LOGIN [on|off]"
std::optional<std::string> parseExtraProtocol(const std::string& v,
                                              autodiscover::ExtraProtocol& out) {
  std::vector<std::string> f;
  std::istringstream in(v);
  for (std::string w; in >> w;) f.push_back(w);
  if (f.size() < 4 || f.size() > 5)
    return std::string(
        "expected 'TYPE SERVER PORT LOGIN [on|off]' (e.g. IMAP 127.0.0.1 143 %u off)");
  auto port = toInt(f[2]);
  if (!port || *port < 1 || *port > 65535) return "port '" + f[2] + "' is not in [1, 65535]";
  out.type = f[0];
  out.server = f[1];
  out.port = static_cast<int>(*port);
  out.login_name = f[3];
  out.ssl = false;
  if (f.size() == 5) {
    std::string s = lowerCopy(f[4]);
    if (s == "on" || s == "ssl" || s == "true" || s == "yes") {
      out.ssl = true;
    } else if (s != "off" && s != "false" && s != "no") {
      return "ssl flag '" + f[4] + "' is not on|off";
    }
  }
  return std::nullopt;
}

}  // namespace

std::string ConfigError::toString() const {
  std::string s = file;
  if (line > 0) s += ":" + std::to_string(line);
  s += ": ";
  s += message;
  return s;
}

Result<SocketAddress> parseSocketAddress(std::string_view value) {
  SocketAddress a;
  std::string_view v = value;
  if (v.rfind("unix:", 0) == 0) {
    v.remove_prefix(5);
    if (v.empty() || v.front() != '/')
      return Status::InvalidArgument("config.bad_socket", "unix socket path must be absolute");
    if (v.size() >= 108)
      return Status::InvalidArgument("config.bad_socket", "unix socket path too long");
    a.path = std::string(v);
    return a;
  }
  if (!v.empty() && v.front() == '/') {
    if (v.size() >= 108)
      return Status::InvalidArgument("config.bad_socket", "unix socket path too long");
    a.path = std::string(v);
    return a;
  }
  if (v.rfind("tcp:", 0) == 0) v.remove_prefix(4);
  std::size_t colon = v.rfind(':');
  if (colon == std::string_view::npos)
    return Status::InvalidArgument(
        "config.bad_socket",
        "'" + std::string(value) + "' is neither /path, unix:/path nor host:port");
  std::string host(v.substr(0, colon));
  auto port = toInt(v.substr(colon + 1));
  in_addr addr{};
  if (host.empty() || inet_pton(AF_INET, host.c_str(), &addr) != 1)
    return Status::InvalidArgument("config.bad_socket",
                                   "'" + host + "' is not a numeric IPv4 address");
  if (!port || *port < 1 || *port > 65535)
    return Status::InvalidArgument("config.bad_socket",
                                   "port in '" + std::string(value) + "' is not in [1, 65535]");
  a.kind = SocketAddress::Kind::kTcp;
  a.host = host;
  a.port = static_cast<int>(*port);
  return a;
}

static_assert(LOG_DAEMON == (3 << 3), "ServerConfig's default facility");

ConfigLoad parseConfig(std::string_view text, std::string_view filename) {
  ConfigLoad out;
  // Failure counts shared by every worker, so the limit holds across the pool.
  out.config.auth.throttle_state_path = "/run/eas-fcgi/auth-throttle";
  std::string file(filename);
  IniDocument doc = parseIni(text);
  for (const auto& e : doc.errors) out.errors.push_back({file, e.line, e.message});

  static const std::set<std::string> kSections = {"server", "http", "auth", "autodiscover",
                                                  "store", "smtp", "push"};
  for (const auto& [name, line] : doc.sections)
    if (!kSections.count(name))
      out.errors.push_back({file, line, "unknown section [" + name + "]"});

  std::map<std::string, int> seen;  // "section.key" -> first line
  std::vector<std::pair<std::string, autodiscover::ExtraProtocol>> protocols;
  for (const auto& e : doc.entries) {
    if (!kSections.count(e.section)) continue;  // already reported
    std::string full = e.section + "." + e.key;
    auto [it, inserted] = seen.emplace(full, e.line);
    if (!inserted) {
      out.errors.push_back({file, e.line,
                            "[" + e.section + "] " + e.key + ": duplicate key (first set on line " +
                                std::to_string(it->second) + ")"});
      continue;
    }
    if (e.section == "autodiscover" && e.key.rfind("protocol.", 0) == 0 && e.key.size() > 9) {
      autodiscover::ExtraProtocol p;
      if (auto err = parseExtraProtocol(e.value, p)) {
        out.errors.push_back({file, e.line, "[autodiscover] " + e.key + ": " + *err});
      } else {
        protocols.emplace_back(e.key.substr(9), std::move(p));
      }
      continue;
    }
    const KeySpec* spec = nullptr;
    for (const auto& s : schema())
      if (e.section == s.section && e.key == s.key) spec = &s;
    if (!spec) {
      out.errors.push_back({file, e.line, "[" + e.section + "] " + e.key + ": unknown key"});
      continue;
    }
    if (auto err = spec->set(out.config, e.value))
      out.errors.push_back({file, e.line, "[" + e.section + "] " + e.key + ": " + *err});
  }
  for (auto& [name, p] : protocols) out.config.autodiscover.extra_protocols.push_back(std::move(p));
  // One realm for both places that challenge: the HTTP layer's 401s.
  out.config.http.auth_realm = out.config.auth.realm;
  if (out.config.push.min_heartbeat_seconds > out.config.push.max_heartbeat_seconds)
    out.errors.push_back({file, 0, "[push] min_heartbeat_seconds is above max_heartbeat_seconds"});
  std::stable_sort(out.errors.begin(), out.errors.end(),
                   [](const ConfigError& a, const ConfigError& b) { return a.line < b.line; });
  return out;
}

ConfigLoad loadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ConfigLoad out;
    out.errors.push_back({path, 0, std::string("cannot read: ") + std::strerror(errno)});
    return out;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return parseConfig(ss.str(), path);
}

std::vector<std::string> knownConfigKeys() {
  std::vector<std::string> keys;
  for (const auto& s : schema()) keys.push_back(std::string(s.section) + "." + s.key);
  keys.push_back("autodiscover.protocol.<name>");
  return keys;
}

}  // namespace eas::runtime
