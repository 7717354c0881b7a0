// Notice mail templates (policies/templates/README.md): one per notice kind,
// "Subject: ..." on the first line, then the body, with {{name}}
// placeholders. The administrator's directory wins over the built-in texts
// (the files in policies/templates, compiled in).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/base/status.h"

namespace eas::policies {

struct NoticeTemplate {
  std::string subject;
  std::string body;
};

// The built-in text of `kind` ("" for an unknown kind).
std::string_view builtinNoticeTemplate(std::string_view kind);

// `dir`/<kind>.txt when `dir` is set and the file exists, else the built-in.
// Failures: notice.unknown_kind (no file, no built-in), notice.bad_template
// (unreadable, or no "Subject:" first line).
Result<NoticeTemplate> loadNoticeTemplate(const std::string& dir, std::string_view kind);
// Parses template text (the first line must be "Subject: ...").
Result<NoticeTemplate> parseNoticeTemplate(std::string_view text);

// {{name}} -> values[name]; unknown names become empty. Single pass: a
// value that itself contains {{x}} is not expanded again.
std::string fillPlaceholders(std::string_view text, const std::map<std::string, std::string>& values);

}  // namespace eas::policies
