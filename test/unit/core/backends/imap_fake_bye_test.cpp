// A BYE greeting. Its own binary because libetpan 1.9.4 leaks the parsed
// greeting (49 bytes) when mailimap_connect refuses it; ctest runs this one
// with LeakSanitizer off (see CMakeLists.txt).
#include <catch2/catch.hpp>

#include "core/backends/imap/imap_backend.h"
#include "test/unit/core/backends/fake_imap_server.h"

using namespace eas;
using namespace eas::backend::imap;
using namespace eas::backend::imap::testenv;

TEST_CASE("a BYE greeting is imap.unavailable", "[imap][unit]") {
  FakeServer server([](FakeServer& s) { s.send("* BYE too busy\r\n"); });
  ImapSessionPool pool(fakeConfig(server));
  auto r = pool.backendFor("u", "p")->listFolders();
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().reason() == "imap.unavailable");
}

