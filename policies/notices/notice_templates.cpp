#include "policies/notices/notice_templates.h"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

namespace eas::policies {

Result<NoticeTemplate> parseNoticeTemplate(std::string_view text) {
  constexpr std::string_view kSubject = "Subject:";
  if (text.substr(0, kSubject.size()) != kSubject)
    return Status::InvalidArgument("notice.bad_template", "the first line must be 'Subject: ...'");
  size_t nl = text.find('\n');
  std::string_view subject = text.substr(kSubject.size(), nl == std::string_view::npos
                                                              ? std::string_view::npos
                                                              : nl - kSubject.size());
  while (!subject.empty() && (subject.front() == ' ' || subject.front() == '\t'))
    subject.remove_prefix(1);
  while (!subject.empty() && (subject.back() == '\r' || subject.back() == ' '))
    subject.remove_suffix(1);
  NoticeTemplate t;
  t.subject = std::string(subject);
  if (nl != std::string_view::npos) t.body = std::string(text.substr(nl + 1));
  return t;
}

Result<NoticeTemplate> loadNoticeTemplate(const std::string& dir, std::string_view kind) {
  // A kind is a file name: nothing that could leave the directory.
  for (char c : kind)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'))
      return Status::InvalidArgument("notice.unknown_kind", "bad notice kind");
  if (!dir.empty()) {
    const std::filesystem::path path = std::filesystem::path(dir) / (std::string(kind) + ".txt");
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) {
      std::ifstream in(path, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      if (!in.good() && !in.eof())
        return Status::InvalidArgument("notice.bad_template", "cannot read " + path.string());
      auto t = parseNoticeTemplate(ss.str());
      if (!t.ok())
        return Status::InvalidArgument("notice.bad_template",
                                       path.string() + ": " + t.status().message());
      return t;
    }
  }
  const std::string_view builtin = builtinNoticeTemplate(kind);
  if (builtin.empty())
    return Status::NotFound("notice.unknown_kind", "no template for '" + std::string(kind) + "'");
  return parseNoticeTemplate(builtin);
}

std::string fillPlaceholders(std::string_view text,
                             const std::map<std::string, std::string>& values) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) break;
    const size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) break;
    out.append(text.substr(pos, open - pos));
    auto it = values.find(std::string(text.substr(open + 2, close - open - 2)));
    if (it != values.end()) out += it->second;
    pos = close + 2;
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace eas::policies
