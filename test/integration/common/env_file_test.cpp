// The shared test client's env reader: a missing fixture env must fail the
// test (throw), never let it pass.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>

#include "test/integration/common/env_file.h"
#include "test/integration/common/test_client.h"

using eas::testing::EnvFile;

TEST_CASE("EnvFile: values, quotes, comments, hex passwords", "[test_client]") {
  const std::string path = std::string(EAS_BINARY_DIR) + "/env_file_test.env";
  {
    std::ofstream out(path);
    out << "# comment\n\nEAS_URL=http://127.0.0.1:1234\nexport QUOTED=\"a b\"\n"
        << "EAS_TEST_USER1=alice@example.test\nEAS_TEST_PASS1=pw1\n"
        << "EAS_TEST_USER3=carol@example.test\nEAS_TEST_PASS3_HEX=24617a27\n";
  }
  const EnvFile env = EnvFile::load(path);
  CHECK(env.get("EAS_URL") == "http://127.0.0.1:1234");
  CHECK(env.get("QUOTED") == "a b");
  CHECK(env.testUser(1) == "alice@example.test");
  CHECK(env.testPassword(1) == "pw1");
  CHECK(env.testPassword(3) == "$az'");
  CHECK(env.getOr("NOPE", "fallback") == "fallback");
  CHECK_THROWS_AS(env.get("NOPE"), std::runtime_error);
  CHECK_THROWS_AS(env.testPassword(2), std::runtime_error);
  std::remove(path.c_str());
}

TEST_CASE("EnvFile: a missing fixture env throws", "[test_client]") {
  CHECK_THROWS_AS(EnvFile::load("/nonexistent/run/eas_stack/env"), std::runtime_error);
  CHECK_THROWS_AS(EnvFile::loadFixture("no_such_fixture"), std::runtime_error);
}

TEST_CASE("TestClient helpers and a refused connection", "[test_client]") {
  using eas::testing::TestClient;
  CHECK(TestClient::basicAuth("a@b", "p:w") == "Basic YUBiOnA6dw==");
  CHECK(TestClient::percentEncode("a@b c/+") == "a%40b%20c%2F%2B");
  eas::testing::EasRequest r;
  r.user = "u@x";
  CHECK(TestClient::plainQuery(r) ==
        "Cmd=FolderSync&User=u%40x&DeviceId=EASTEST0001&DeviceType=TestDevice");
  // Port 1 on loopback: nothing listens; a transport error, not an exception.
  TestClient client("http://127.0.0.1:1");
  const auto reply = client.options("u", "p");
  CHECK(reply.status == -1);
  CHECK_FALSE(reply.error.empty());
}
