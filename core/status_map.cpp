#include "core/status_map.h"

#include <cassert>

namespace eas {
namespace {

using C = StatusCode;

// Sources: HTTP §2.2.2.1.1 (HTTP codes), CMD §2.2.2 (common statuses and
// their 12.x HTTP equivalents, in brackets in protocol.md §3.0).
constexpr StatusMapRow kRows[] = {
    // --- client errors: the request line and headers (MS-ASHTTP) ---
    {C::kInvalidArgument, "http.missing_cmd", 400, 0},
    {C::kInvalidArgument, "http.bad_percent_encoding", 400, 0},
    {C::kInvalidArgument, "http.duplicate_param", 400, 0},
    {C::kInvalidArgument, "http.bad_param_value", 400, 0},
    {C::kInvalidArgument, "http.bad_base64", 400, 0},
    {C::kInvalidArgument, "http.truncated_base64", 400, 0},
    {C::kInvalidArgument, "http.bad_param_tag", 400, 0},
    {C::kInvalidArgument, "http.bad_options", 400, 0},
    {C::kInvalidArgument, "http.missing_protocol_version", 400, 0},
    // IT MSASHTTP_S02_TC01: an unsupported MS-ASProtocolVersion is 400; the
    // version is unknown, so no WBXML answer is possible.
    {C::kNotSupported, "http.unsupported_version", 400, 0},
    {C::kInvalidArgument, "http.missing_device_id", 400, 108},
    {C::kInvalidArgument, "http.bad_device_id", 400, 108},
    {C::kInvalidArgument, "http.missing_device_type", 400, 109},
    {C::kInvalidArgument, "http.bad_device_type", 400, 109},
    {C::kInvalidArgument, "http.param_too_long", 400, 103},
    {C::kInvalidArgument, "http.bad_policy_key", 449, 144},
    // --- client errors: the body ---
    {C::kInvalidArgument, "http.bad_content_type", 400, 101},
    {C::kInvalidArgument, "http.missing_body", 400, 101},
    {C::kLimitExceeded, "http.body_too_large", 413, 0},
    {C::kInvalidArgument, "wbxml.", 400, 102},
    {C::kCorruption, "wbxml.", 400, 102},
    {C::kLimitExceeded, "wbxml.", 400, 102},
    {C::kNotSupported, "wbxml.", 400, 102},
    {C::kInvalidArgument, "http.wrong_root", 400, 103},
    // --- client errors: routing, method, command (IT S02_TC04, S02_TC05) ---
    {C::kNotFound, "http.not_found", 404, 0},
    {C::kNotSupported, "http.method_not_allowed", 501, 0},
    {C::kNotSupported, "http.unknown_cmd", 501, 0},
    // Known command, not in this version or not implemented yet: 137
    // CommandNotSupported on 14.0+, 501 on 12.x (CMD §2.2.2).
    {C::kNotSupported, "http.command_not_supported", 501, 137},
    {C::kNotSupported, "http.command_not_implemented", 501, 137},
    // --- client errors: authentication, device and policy gates ---
    {C::kUnauthenticated, "auth.", 401, 0},
    {C::kInvalidArgument, "auth.", 401, 0},  // a malformed Authorization header
    {C::kPermissionDenied, "device.blocked", 403, 129},
    {C::kPermissionDenied, "user.disabled", 403, 126},
    {C::kPermissionDenied, "policy.remote_wipe", 449, 140},
    {C::kPermissionDenied, "policy.not_provisioned", 449, 142},
    {C::kPermissionDenied, "policy.refresh", 449, 143},
    {C::kPermissionDenied, "policy.invalid_key", 449, 144},
    // GetAttachment of an attachment that is gone (or not the device's):
    // MS-ASCMD §2.2.1.8 answers 500 (GetAttachment has no WBXML to carry a Status).
    {C::kNotFound, "attachment.not_found", 500, 0},
    // --- server errors ---
    // IMAP down while verifying a password: retry later, not "wrong
    // password" (a 401 would make devices ask the user again).
    {C::kUnavailable, "auth.backend_unavailable", 503, 0},
    {C::kUnavailable, "mailbox.offline", 503, 114},
    {C::kLimitExceeded, "mailbox.quota_exceeded", 507, 113},
    // --- fallbacks per code ---
    {C::kInvalidArgument, "", 400, 103},   // InvalidXML: not per protocol
    {C::kNotFound, "", 400, 106},          // InvalidIDs
    {C::kAlreadyExists, "", 400, 103},
    {C::kPermissionDenied, "", 403, 130},  // AccessDenied
    {C::kUnauthenticated, "", 401, 0},
    {C::kLimitExceeded, "", 400, 103},     // CMD §3.1.5.10 request limits
    {C::kNotSupported, "", 501, 137},
    {C::kConflict, "", 503, 111},          // ServerErrorRetryLater
    {C::kUnavailable, "", 503, 111},
    {C::kIOError, "", 503, 111},
    {C::kCorruption, "", 500, 110},        // ServerError
    {C::kInternal, "", 500, 110},
};

bool matches(const StatusMapRow& row, const Status& s, bool exact) {
  if (row.code != s.code()) return false;
  if (exact) return row.reason == s.reason();
  return !row.reason.empty() && row.reason.back() == '.' &&
         s.reason().compare(0, row.reason.size(), row.reason) == 0;
}

}  // namespace

std::span<const StatusMapRow> statusMapRows() { return kRows; }

const StatusMapRow& statusMapRowFor(const Status& s) {
  assert(!s.ok());
  for (const StatusMapRow& r : kRows)
    if (matches(r, s, /*exact=*/true)) return r;
  const StatusMapRow* best = nullptr;
  for (const StatusMapRow& r : kRows)
    if (matches(r, s, /*exact=*/false) && (!best || r.reason.size() > best->reason.size())) best = &r;
  if (best) return *best;
  for (const StatusMapRow& r : kRows)
    if (r.code == s.code() && r.reason.empty()) return r;
  return kRows[std::size(kRows) - 1];  // kOk passed by mistake: treat as internal
}

StatusAnswer answerFor(const Status& s, bool wbxml_common_status) {
  const StatusMapRow& r = statusMapRowFor(s);
  if (wbxml_common_status && r.eas_status != 0) return {200, r.eas_status};
  return {r.http_status, 0};
}

}  // namespace eas
