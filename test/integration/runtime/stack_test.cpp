// The runtime through real nginx (eas_stack fixture): routing of both
// endpoints in any case, headers passed both ways, Content-Length, the
// body limit, and the one log line per request.
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "test/integration/common/env_file.h"
#include "test/integration/common/test_client.h"

using eas::testing::EasRequest;
using eas::testing::EnvFile;
using eas::testing::HttpReply;
using eas::testing::TestClient;

namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Waits for a log line containing every needle (the log is written as the
// response goes out, nginx may hand the reply over a moment earlier).
std::string waitLogLine(const std::string& path, const std::vector<std::string>& needles) {
  for (int i = 0; i < 50; ++i) {
    std::istringstream in(readFile(path));
    for (std::string line; std::getline(in, line);) {
      bool all = true;
      for (const auto& n : needles) all = all && line.find(n) != std::string::npos;
      if (all) return line;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return {};
}

}  // namespace

TEST_CASE("OPTIONS through nginx answers the EAS headers with Content-Length",
          "[runtime][integration]") {
  EnvFile env = EnvFile::loadFixture("eas_stack");
  TestClient client(env.get("EAS_URL"));
  // An address of its own: other tests' failed logins from 127.0.0.1 must
  // not lock this one out (throttling is per client address too).
  client.setSourceAddress("127.0.4.1");
  const std::string user = env.get("EAS_TEST_USER1");
  const std::string pass = env.get("EAS_TEST_PASS1");

  HttpReply r = client.options(user, pass);
  INFO(r.error << " " << r.body);
  REQUIRE(r.status == 200);
  CHECK(r.header("MS-ASProtocolVersions").find("14.1") != std::string::npos);
  CHECK(r.header("MS-ASProtocolCommands").find("Sync") != std::string::npos);
  CHECK(r.hasHeader("MS-Server-ActiveSync"));
  CHECK(r.header("Content-Length") == "0");
  CHECK_FALSE(r.hasHeader("Transfer-Encoding"));

  // Any case of the path reaches eas-fcgi.
  HttpReply lower = client.request("OPTIONS", "/microsoft-server-activesync",
                                   {{"Authorization", TestClient::basicAuth(user, pass)}});
  CHECK(lower.status == 200);
  CHECK(lower.hasHeader("MS-ASProtocolVersions"));

  // The Authorization header reaches eas-fcgi: without it, its 401 challenge.
  HttpReply none = client.options("", "");
  CHECK(none.status == 401);
  CHECK(none.header("WWW-Authenticate").find("Basic") == 0);

  // One line per request, with the user and the client address.
  std::string line =
      waitLogLine(env.get("EAS_FCGI_LOG"), {"<<< OPTIONS", " 200 ", "from=127.0.4.1"});
  CHECK_FALSE(line.empty());
}

TEST_CASE("nginx routes only the two endpoints", "[runtime][integration]") {
  EnvFile env = EnvFile::loadFixture("eas_stack");
  TestClient client(env.get("EAS_URL"));
  client.setSourceAddress("127.0.4.2");
  // Autodiscover in any case of the path is eas-fcgi's (its 401, not nginx's 404).
  HttpReply ad = client.request("POST", "/AutoDiscover/AutoDiscover.XML",
                                {{"Content-Type", "text/xml"}}, "<x/>");
  CHECK(ad.status == 401);
  CHECK(ad.hasHeader("WWW-Authenticate"));
  HttpReply other = client.request("GET", "/index.html");
  CHECK(other.status == 404);
  CHECK_FALSE(other.hasHeader("WWW-Authenticate"));
  HttpReply prefix = client.request("OPTIONS", "/Microsoft-Server-ActiveSyncX");
  CHECK(prefix.status == 404);
}

TEST_CASE("request bodies: nginx passes them whole, eas-fcgi enforces its limit",
          "[runtime][integration]") {
  EnvFile env = EnvFile::loadFixture("eas_stack");
  TestClient client(env.get("EAS_URL"));
  client.setSourceAddress("127.0.4.3");
  EasRequest req;
  req.user = env.get("EAS_TEST_USER1");
  req.password = env.get("EAS_TEST_PASS1");
  req.cmd = "FolderSync";
  // Above [http] max_body_bytes (32M) but below nginx's client_max_body_size (48M): eas-fcgi's 413.
  req.body = std::string(33u * 1024u * 1024u, '\x03');
  HttpReply big = client.post(req);
  INFO(big.error);
  CHECK(big.status == 413);
  std::string line = waitLogLine(env.get("EAS_FCGI_LOG"), {" 413 "});
  CHECK_FALSE(line.empty());
  // Above nginx's own limit: nginx answers before eas-fcgi sees it.
  req.body = std::string(49u * 1024u * 1024u, '\x03');
  HttpReply huge = client.post(req);
  CHECK(huge.status == 413);
}
