#include <catch2/catch.hpp>

#include "fcgi/http/request_path.h"

TEST_CASE("endpoint paths match in any case", "[http]") {
  using eas::http::isAutodiscoverPath;
  using eas::http::isEasPath;
  CHECK(isEasPath("/Microsoft-Server-ActiveSync"));
  CHECK(isEasPath("/microsoft-server-activesync"));
  CHECK(isEasPath("/MICROSOFT-SERVER-ACTIVESYNC/"));
  CHECK_FALSE(isEasPath("/Microsoft-Server-ActiveSync/x"));
  CHECK_FALSE(isEasPath("/NotSupport/Microsoft-Server-ActiveSync"));
  CHECK_FALSE(isEasPath(""));
  CHECK(isAutodiscoverPath("/autodiscover/autodiscover.xml"));
  CHECK(isAutodiscoverPath("/AutoDiscover/AutoDiscover.xml"));
  CHECK_FALSE(isAutodiscoverPath("/autodiscover/autodiscover.json"));
}
