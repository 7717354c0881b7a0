// The web server configurations in deploy/ keep what the runtime relies on:
// timeouts above the longest Ping/Sync hold, body limits above eas-fcgi's
// own, both endpoints matched case-insensitively, credentials passed.
#include <catch2/catch.hpp>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "fcgi/runtime/config.h"

namespace {

std::string readDeploy(const std::string& rel) {
  std::ifstream in(std::string(EAS_SOURCE_DIR) + "/deploy/" + rel);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

long long firstNumberAfter(const std::string& text, const std::string& directive) {
  std::smatch m;
  std::regex re("(^|\\n)\\s*" + directive + "\\s+(\\d+)");
  if (!std::regex_search(text, m, re)) return -1;
  return std::stoll(m[2].str());
}

}  // namespace

TEST_CASE("nginx locations: long timeouts, body limit, both endpoints, Authorization", "[deploy]") {
  std::string conf = readDeploy("nginx/eas-fcgi-locations.conf");
  constexpr long long kLongestHold = 3600;  // 3540 s heartbeat, 59 min Wait
  CHECK(firstNumberAfter(conf, "fastcgi_read_timeout") > kLongestHold);
  CHECK(firstNumberAfter(conf, "fastcgi_send_timeout") > kLongestHold);
  CHECK(firstNumberAfter(conf, "send_timeout") > kLongestHold);
  long long body_mb = firstNumberAfter(conf, "client_max_body_size");
  eas::http::HttpLayerConfig defaults;
  CHECK(body_mb * 1024 * 1024 > static_cast<long long>(defaults.max_body_bytes));
  CHECK(conf.find("location ~* ^/microsoft-server-activesync/?$") != std::string::npos);
  CHECK(conf.find("location ~* ^/autodiscover/autodiscover\\.xml$") != std::string::npos);
  CHECK(conf.find("fastcgi_param HTTP_AUTHORIZATION $http_authorization;") != std::string::npos);
  CHECK(conf.find("fastcgi_param QUERY_STRING      $query_string;") != std::string::npos);
  CHECK(conf.find("fastcgi_param REMOTE_ADDR       $remote_addr;") != std::string::npos);
  CHECK(conf.find("fastcgi_keep_conn off;") != std::string::npos);
}

TEST_CASE("Apache locations: long timeouts, body limit, both endpoints, CGIPassAuth", "[deploy]") {
  std::string conf = readDeploy("apache/eas-fcgi-locations.conf");
  CHECK(firstNumberAfter(conf, "ProxyTimeout") > 3600);
  CHECK(firstNumberAfter(conf, "Timeout") > 3600);
  eas::http::HttpLayerConfig defaults;
  CHECK(firstNumberAfter(conf, "LimitRequestBody") >
        static_cast<long long>(defaults.max_body_bytes));
  CHECK(conf.find("<LocationMatch \"(?i)^/microsoft-server-activesync/?$\">") != std::string::npos);
  CHECK(conf.find("<LocationMatch \"(?i)^/autodiscover/autodiscover\\.xml$\">") !=
        std::string::npos);
  std::size_t n = 0;
  for (std::size_t p = conf.find("CGIPassAuth On"); p != std::string::npos;
       p = conf.find("CGIPassAuth On", p + 1))
    ++n;
  CHECK(n == 2);
}
