// The one table from an internal failure (StatusCode + reason token) to what
// the device sees: an HTTP code on 2.5/12.x, or HTTP 200 with a common EAS
// Status (101-184, CMD §2.2.2) in the command's root element on 14.0+.
// Code that fails never picks HTTP codes or EAS statuses itself (style item
// 6). A unit test pins every row (test/unit/core/commands/status_map_test.cpp).
#pragma once

#include <span>
#include <string_view>

#include "core/base/status.h"

namespace eas {

struct StatusMapRow {
  StatusCode code;
  // Exact reason token; a token ending in '.' matches every reason with that
  // prefix ("wbxml."); empty matches any reason of `code` (the fallback).
  std::string_view reason;
  int http_status;  // the answer on 2.5/12.x, and on 14.0+ when eas_status is 0
  int eas_status;   // the common status on 14.0+; 0: the HTTP code in every version
};

// Client errors first, then server errors, then the per-code fallbacks.
std::span<const StatusMapRow> statusMapRows();

// The row for `status`: the exact reason if listed, else the longest
// listed prefix, else the fallback of its code. REQUIRES: !status.ok().
const StatusMapRow& statusMapRowFor(const Status& status);

struct StatusAnswer {
  int http_status = 200;
  int eas_status = 0;  // non-zero: answer HTTP 200 with this top-level Status
};

// `wbxml_common_status`: Capabilities::wbxml_common_status of the negotiated
// version and the command has a root element to carry the Status; false when
// the version is not known yet (then every answer is an HTTP code).
StatusAnswer answerFor(const Status& status, bool wbxml_common_status);

}  // namespace eas
