// Expected failures as values. The codec, parsers and store never throw:
// they return Status or Result<T>. Exceptions are for bugs and start-up only.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace eas {

// A closed set of failure kinds. Which HTTP code / EAS status a failure
// becomes is decided in one table (core/status_map), not by the code that
// fails.
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,   // the caller's input is malformed (client error)
  kNotFound,          // the thing asked for does not exist
  kAlreadyExists,     // a create that collides
  kPermissionDenied,  // authenticated, but not allowed
  kUnauthenticated,   // credentials missing or wrong
  kLimitExceeded,     // a configured limit was hit (size, depth, count)
  kConflict,          // a concurrent update or a stale state
  kCorruption,        // stored or received data is inconsistent
  kNotSupported,      // valid but not implemented / not allowed by version
  kUnavailable,       // a backend is down; retrying later may work
  kIOError,           // an I/O operation failed
  kInternal,          // a bug or an unexpected condition
};

std::string_view statusCodeName(StatusCode code);

// Status carries a code, a stable reason token that tests assert (for
// example "wbxml.unknown_token") and a human message for the log line.
// OK is cheap: two empty strings, no allocation.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string reason, std::string message = {})
      : code_(code), reason_(std::move(reason)), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string reason, std::string msg = {}) {
    return {StatusCode::kInvalidArgument, std::move(reason), std::move(msg)};
  }
  static Status NotFound(std::string reason, std::string msg = {}) {
    return {StatusCode::kNotFound, std::move(reason), std::move(msg)};
  }
  static Status AlreadyExists(std::string reason, std::string msg = {}) {
    return {StatusCode::kAlreadyExists, std::move(reason), std::move(msg)};
  }
  static Status PermissionDenied(std::string reason, std::string msg = {}) {
    return {StatusCode::kPermissionDenied, std::move(reason), std::move(msg)};
  }
  static Status Unauthenticated(std::string reason, std::string msg = {}) {
    return {StatusCode::kUnauthenticated, std::move(reason), std::move(msg)};
  }
  static Status LimitExceeded(std::string reason, std::string msg = {}) {
    return {StatusCode::kLimitExceeded, std::move(reason), std::move(msg)};
  }
  static Status Conflict(std::string reason, std::string msg = {}) {
    return {StatusCode::kConflict, std::move(reason), std::move(msg)};
  }
  static Status Corruption(std::string reason, std::string msg = {}) {
    return {StatusCode::kCorruption, std::move(reason), std::move(msg)};
  }
  static Status NotSupported(std::string reason, std::string msg = {}) {
    return {StatusCode::kNotSupported, std::move(reason), std::move(msg)};
  }
  static Status Unavailable(std::string reason, std::string msg = {}) {
    return {StatusCode::kUnavailable, std::move(reason), std::move(msg)};
  }
  static Status IOError(std::string reason, std::string msg = {}) {
    return {StatusCode::kIOError, std::move(reason), std::move(msg)};
  }
  static Status Internal(std::string reason, std::string msg = {}) {
    return {StatusCode::kInternal, std::move(reason), std::move(msg)};
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  // Stable token for tests and log lines, e.g. "wbxml.truncated".
  const std::string& reason() const { return reason_; }
  const std::string& message() const { return message_; }
  bool isNotFound() const { return code_ == StatusCode::kNotFound; }
  bool isInvalidArgument() const { return code_ == StatusCode::kInvalidArgument; }

  // "reason: message" (or "ok"), for log lines.
  std::string toString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string reason_;
  std::string message_;
};

// Result<T> holds a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(implicit)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(implicit)
    assert(!std::get<Status>(v_).ok() && "Result built from an OK Status");
  }

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok()
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // OK status when ok(), the failure otherwise.
  Status status() const { return ok() ? Status() : std::get<1>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace eas

#define EAS_RETURN_IF_ERROR(expr)            \
  do {                                       \
    ::eas::Status eas_status_tmp_ = (expr);  \
    if (!eas_status_tmp_.ok()) return eas_status_tmp_; \
  } while (0)
