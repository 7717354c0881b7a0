#include "storage/store_url.h"

#include <charconv>

namespace eas::storage {
namespace {

Status bad(const std::string& why) {
  return Status::InvalidArgument("store.bad_url",
                                 why +
                                     " (expected sqlite:/path/file.db or "
                                     "mysql://user:pass@host[:port]/db[?socket=/path])");
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> percentDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return bad("truncated %-escape");
    int hi = hexValue(s[i + 1]);
    int lo = hexValue(s[i + 2]);
    if (hi < 0 || lo < 0) return bad("bad %-escape");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

}  // namespace

Result<StoreUrl> parseStoreUrl(const std::string& url) {
  StoreUrl out;
  const std::string sqlite_prefix = "sqlite:";
  const std::string mysql_prefix = "mysql://";
  if (url.compare(0, sqlite_prefix.size(), sqlite_prefix) == 0) {
    std::string path = url.substr(sqlite_prefix.size());
    if (path.compare(0, 2, "//") == 0) path = path.substr(2);  // sqlite:///abs/path
    if (path.empty()) return bad("empty SQLite path");
    out.kind = StoreUrl::Kind::kSqlite;
    out.sqlite_path = path;
    out.redacted = "sqlite:" + path;
    return out;
  }
  if (url.compare(0, mysql_prefix.size(), mysql_prefix) != 0)
    return bad("unknown store URL '" + url + "'");
  std::string rest = url.substr(mysql_prefix.size());
  std::string query;
  if (size_t q = rest.find('?'); q != std::string::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  size_t at = rest.rfind('@');
  if (at == std::string::npos) return bad("mysql URL needs user@host");
  std::string userinfo = rest.substr(0, at);
  std::string hostpart = rest.substr(at + 1);
  size_t slash = hostpart.find('/');
  if (slash == std::string::npos || slash + 1 >= hostpart.size())
    return bad("mysql URL needs /database");
  out.mysql.database = hostpart.substr(slash + 1);
  std::string hostport = hostpart.substr(0, slash);
  std::string user = userinfo, pass;
  if (size_t colon = userinfo.find(':'); colon != std::string::npos) {
    user = userinfo.substr(0, colon);
    pass = userinfo.substr(colon + 1);
  }
  Result<std::string> du = percentDecode(user);
  if (!du.ok()) return du.status();
  Result<std::string> dp = percentDecode(pass);
  if (!dp.ok()) return dp.status();
  if (du->empty()) return bad("mysql URL needs a user");
  out.mysql.user = *du;
  out.mysql.password = *dp;
  std::string host = hostport;
  if (size_t colon = hostport.rfind(':'); colon != std::string::npos) {
    host = hostport.substr(0, colon);
    const std::string p = hostport.substr(colon + 1);
    int port = 0;
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec != std::errc() || ptr != p.data() + p.size() || port <= 0 || port > 65535) {
      return bad("bad port '" + p + "'");
    }
    out.mysql.port = port;
  }
  if (host.empty()) return bad("mysql URL needs a host");
  out.mysql.host = host;
  // Query: only socket=PATH is known.
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string kv = query.substr(0, amp);
    query = amp == std::string::npos ? "" : query.substr(amp + 1);
    if (kv.compare(0, 7, "socket=") == 0) {
      Result<std::string> s = percentDecode(kv.substr(7));
      if (!s.ok()) return s.status();
      out.mysql.socket = *s;
    } else if (!kv.empty()) {
      return bad("unknown mysql URL option '" + kv + "'");
    }
  }
  out.kind = StoreUrl::Kind::kMysql;
  out.redacted = "mysql://" + out.mysql.user + "@" + hostport + "/" + out.mysql.database +
                 (out.mysql.socket.empty() ? "" : "?socket=" + out.mysql.socket);
  return out;
}

}  // namespace eas::storage
