// Smoke test through Apache 2.4 + mod_proxy_fcgi (apache fixture): the
// same endpoints, headers both ways, Content-Length.
#include <catch2/catch.hpp>
#include <string>

#include "test/integration/common/env_file.h"
#include "test/integration/common/test_client.h"

using eas::testing::EnvFile;
using eas::testing::HttpReply;
using eas::testing::TestClient;

TEST_CASE("OPTIONS through Apache reaches eas-fcgi with the credentials",
          "[runtime][integration]") {
  EnvFile env = EnvFile::loadFixture("apache");
  TestClient client(env.get("APACHE_URL"));
  const std::string user = env.get("EAS_TEST_USER1");
  const std::string pass = env.get("EAS_TEST_PASS1");

  HttpReply r = client.options(user, pass);
  INFO(r.error << " " << r.body);
  REQUIRE(r.status == 200);
  CHECK(r.header("MS-ASProtocolVersions").find("14.1") != std::string::npos);
  CHECK(r.header("MS-ASProtocolCommands").find("FolderSync") != std::string::npos);
  CHECK(r.hasHeader("MS-Server-ActiveSync"));
  CHECK(r.header("Content-Length") == "0");

  HttpReply lower = client.request("OPTIONS", "/microsoft-server-activesync",
                                   {{"Authorization", TestClient::basicAuth(user, pass)}});
  CHECK(lower.status == 200);

  // Without credentials: eas-fcgi's challenge (so CGIPassAuth really passes them when present).
  HttpReply none = client.options("", "");
  CHECK(none.status == 401);
  CHECK(none.header("WWW-Authenticate").find("Basic") == 0);

  HttpReply bad = client.options(user, "wrong-password");
  CHECK(bad.status == 401);

  HttpReply ad = client.request("POST", "/Autodiscover/Autodiscover.xml",
                                {{"Content-Type", "text/xml"}}, "<x/>");
  CHECK(ad.status == 401);
  HttpReply other = client.request("GET", "/elsewhere");
  CHECK(other.status == 404);
}
