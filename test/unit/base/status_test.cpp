#include <catch2/catch.hpp>

#include "core/base/status.h"

using eas::Result;
using eas::Status;
using eas::StatusCode;

TEST_CASE("Status OK is the default and has no reason", "[base]") {
  Status s;
  CHECK(s.ok());
  CHECK(s.reason().empty());
  CHECK(s.toString() == "ok");
}

TEST_CASE("Status carries code, reason token and message", "[base]") {
  Status s = Status::InvalidArgument("wbxml.truncated", "input ends inside STR_I");
  CHECK_FALSE(s.ok());
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(s.reason() == "wbxml.truncated");
  CHECK(s.toString() == "invalid_argument wbxml.truncated: input ends inside STR_I");
}

TEST_CASE("Result holds a value or a failure", "[base]") {
  Result<int> good = 7;
  REQUIRE(good.ok());
  CHECK(*good == 7);
  CHECK(good.status().ok());
  Result<int> bad = Status::NotFound("store.no_device");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().reason() == "store.no_device");
}

static Status failsWhen(bool fail) {
  EAS_RETURN_IF_ERROR(fail ? Status::Internal("x.fail") : Status::Ok());
  return Status::Ok();
}

TEST_CASE("EAS_RETURN_IF_ERROR returns the first failure", "[base]") {
  CHECK(failsWhen(false).ok());
  CHECK(failsWhen(true).reason() == "x.fail");
}
