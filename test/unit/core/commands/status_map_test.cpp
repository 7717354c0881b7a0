// Pins every row of core/status_map.cpp: a change to the map must change
// this test too (userver custom_error_test.cpp does the same for its table).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/status_map.h"

using eas::Status;
using eas::StatusCode;
using C = eas::StatusCode;

namespace {

struct Pinned {
  StatusCode code;
  const char* reason;
  int http, eas;
};

const std::vector<Pinned> kPinned = {
    {C::kInvalidArgument, "http.missing_cmd", 400, 0},
    {C::kInvalidArgument, "http.bad_percent_encoding", 400, 0},
    {C::kInvalidArgument, "http.duplicate_param", 400, 0},
    {C::kInvalidArgument, "http.bad_param_value", 400, 0},
    {C::kInvalidArgument, "http.bad_base64", 400, 0},
    {C::kInvalidArgument, "http.truncated_base64", 400, 0},
    {C::kInvalidArgument, "http.bad_param_tag", 400, 0},
    {C::kInvalidArgument, "http.bad_options", 400, 0},
    {C::kInvalidArgument, "http.missing_protocol_version", 400, 0},
    {C::kNotSupported, "http.unsupported_version", 400, 0},
    {C::kInvalidArgument, "http.missing_device_id", 400, 108},
    {C::kInvalidArgument, "http.bad_device_id", 400, 108},
    {C::kInvalidArgument, "http.missing_device_type", 400, 109},
    {C::kInvalidArgument, "http.bad_device_type", 400, 109},
    {C::kInvalidArgument, "http.param_too_long", 400, 103},
    {C::kInvalidArgument, "http.bad_policy_key", 449, 144},
    {C::kInvalidArgument, "http.bad_content_type", 400, 101},
    {C::kInvalidArgument, "http.missing_body", 400, 101},
    {C::kLimitExceeded, "http.body_too_large", 413, 0},
    {C::kInvalidArgument, "wbxml.", 400, 102},
    {C::kCorruption, "wbxml.", 400, 102},
    {C::kLimitExceeded, "wbxml.", 400, 102},
    {C::kNotSupported, "wbxml.", 400, 102},
    {C::kInvalidArgument, "http.wrong_root", 400, 103},
    {C::kNotFound, "http.not_found", 404, 0},
    {C::kNotSupported, "http.method_not_allowed", 501, 0},
    {C::kNotSupported, "http.unknown_cmd", 501, 0},
    {C::kNotSupported, "http.command_not_supported", 501, 137},
    {C::kNotSupported, "http.command_not_implemented", 501, 137},
    {C::kUnauthenticated, "auth.", 401, 0},
    {C::kInvalidArgument, "auth.", 401, 0},
    {C::kPermissionDenied, "device.blocked", 403, 129},
    {C::kPermissionDenied, "user.disabled", 403, 126},
    {C::kPermissionDenied, "policy.remote_wipe", 449, 140},
    {C::kPermissionDenied, "policy.not_provisioned", 449, 142},
    {C::kPermissionDenied, "policy.refresh", 449, 143},
    {C::kPermissionDenied, "policy.invalid_key", 449, 144},
    {C::kNotFound, "attachment.not_found", 500, 0},
    {C::kUnavailable, "auth.backend_unavailable", 503, 0},
    {C::kUnavailable, "mailbox.offline", 503, 114},
    {C::kLimitExceeded, "mailbox.quota_exceeded", 507, 113},
    {C::kInvalidArgument, "", 400, 103},
    {C::kNotFound, "", 400, 106},
    {C::kAlreadyExists, "", 400, 103},
    {C::kPermissionDenied, "", 403, 130},
    {C::kUnauthenticated, "", 401, 0},
    {C::kLimitExceeded, "", 400, 103},
    {C::kNotSupported, "", 501, 137},
    {C::kConflict, "", 503, 111},
    {C::kUnavailable, "", 503, 111},
    {C::kIOError, "", 503, 111},
    {C::kCorruption, "", 500, 110},
    {C::kInternal, "", 500, 110},
};

}  // namespace

TEST_CASE("status map: every row pinned", "[status_map]") {
  const auto rows = eas::statusMapRows();
  REQUIRE(rows.size() == kPinned.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    INFO("row " << i << " " << kPinned[i].reason);
    CHECK(rows[i].code == kPinned[i].code);
    CHECK(rows[i].reason == kPinned[i].reason);
    CHECK(rows[i].http_status == kPinned[i].http);
    CHECK(rows[i].eas_status == kPinned[i].eas);
  }
}

TEST_CASE("status map: every row answers as pinned, per version", "[status_map]") {
  for (const Pinned& p : kPinned) {
    // A concrete reason for prefix and fallback rows.
    std::string reason = p.reason;
    if (reason.empty()) reason = "some.unlisted_reason";
    else if (reason.back() == '.') reason += "anything";
    const Status s(p.code, reason);
    INFO(reason);
    const eas::StatusAnswer legacy = eas::answerFor(s, /*wbxml_common_status=*/false);
    CHECK(legacy.http_status == p.http);
    CHECK(legacy.eas_status == 0);
    const eas::StatusAnswer modern = eas::answerFor(s, /*wbxml_common_status=*/true);
    if (p.eas != 0) {
      CHECK(modern.http_status == 200);
      CHECK(modern.eas_status == p.eas);
    } else {
      CHECK(modern.http_status == p.http);
      CHECK(modern.eas_status == 0);
    }
  }
}

TEST_CASE("status map: lookup order exact, prefix, code fallback", "[status_map]") {
  // The codec's tokens all reach 102 / 400.
  CHECK(eas::answerFor(Status::Corruption("wbxml.truncated"), true).eas_status == 102);
  CHECK(eas::answerFor(Status::LimitExceeded("wbxml.too_deep"), false).http_status == 400);
  // Same reason, other code: not the row's (codes are part of the key).
  CHECK(eas::answerFor(Status::Internal("http.missing_cmd"), false).http_status == 500);
  // Unlisted reasons use their code's fallback.
  CHECK(eas::answerFor(Status::Unavailable("imap.down"), true).eas_status == 111);
  CHECK(eas::answerFor(Status::Unauthenticated("auth.locked_out"), true).http_status == 401);
  CHECK(eas::answerFor(Status::InvalidArgument("auth.malformed"), true).http_status == 401);
  CHECK(eas::answerFor(Status::Unavailable("auth.backend_unavailable"), true).http_status == 503);
}
