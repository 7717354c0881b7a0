// Throttling over real HTTP: repeated bad passwords lock the user out, and
// then even the right password is refused until the lock-out ends. Uses
// user 4 (dave, kept for lock-out tests) and source addresses of its own,
// so that the tests running beside it are unaffected.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>

#include "test/integration/common/env_file.h"
#include "test/integration/common/test_client.h"

using eas::testing::EnvFile;
using eas::testing::HttpReply;
using eas::testing::TestClient;

TEST_CASE("many bad passwords lock the user out; the good one is then refused too",
          "[integration][throttling]") {
  const EnvFile env = EnvFile::loadFixture("eas_stack");
  const std::string user = env.testUser(4);
  const std::string pass = env.testPassword(4);
  const int max_failures = std::stoi(env.get("EAS_AUTH_MAX_FAILURES"));
  const int lockout = std::stoi(env.get("EAS_AUTH_LOCKOUT_SECONDS"));

  TestClient good(env.get("EAS_URL"));
  good.setSourceAddress("127.0.3.24");
  {
    HttpReply before = good.options(user, pass);
    INFO("before: " << before.status << " " << before.error);
    REQUIRE(before.status == 200);  // the user works before the attack (and is cached)
  }

  TestClient attacker(env.get("EAS_URL"));
  attacker.setSourceAddress("127.0.3.23");
  // eas-fcgi runs several worker processes; they share one failure table
  // (auth.throttle_state_file), so max_failures + 1 failures in all lock the
  // user out, whichever workers answered them.
  const int attempts = max_failures + 1;
  for (int i = 0; i < attempts; ++i) {
    HttpReply r = attacker.options(user, pass + "-wrong" + std::to_string(i));
    INFO("attempt " << i);
    CHECK(r.status == 401);
  }

  // Whichever worker answers, the right password is refused now.
  for (int i = 0; i < 6; ++i) {
    HttpReply locked = good.options(user, pass);
    INFO("locked, try " << i << ": " << locked.status);
    CHECK(locked.status == 401);
    CHECK(locked.header("WWW-Authenticate").rfind("Basic realm=", 0) == 0);
  }

  // After the lock-out the right password works again.
  std::this_thread::sleep_for(std::chrono::seconds(lockout + 1));
  HttpReply after = good.options(user, pass);
  INFO("after: " << after.status);
  CHECK(after.status == 200);
}
