#include "fcgi/runtime/ini.h"

#include <cctype>

namespace eas::runtime {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool validName(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

}  // namespace

IniDocument parseIni(std::string_view text) {
  IniDocument doc;
  std::string section;
  int line_no = 0;
  std::size_t pos = 0;
  // A UTF-8 byte order mark is tolerated at the very start.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") pos = 3;
  while (pos <= text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view raw = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') {
      if (end == text.size()) break;
      continue;
    }
    if (line.front() == '[') {
      if (line.back() != ']') {
        doc.errors.push_back({line_no, "section header without closing ']'"});
      } else {
        std::string_view name = trim(line.substr(1, line.size() - 2));
        if (!validName(name)) {
          doc.errors.push_back({line_no, "bad section name '" + std::string(name) + "'"});
        } else {
          section = lower(name);
          doc.sections.emplace_back(section, line_no);
        }
      }
    } else {
      std::size_t eq = line.find('=');
      if (eq == std::string_view::npos) {
        doc.errors.push_back({line_no, "expected 'key = value'"});
      } else {
        std::string_view key = trim(line.substr(0, eq));
        std::string_view value = trim(line.substr(eq + 1));
        if (!validName(key)) {
          doc.errors.push_back({line_no, "bad key name '" + std::string(key) + "'"});
        } else if (section.empty()) {
          doc.errors.push_back({line_no, "key '" + std::string(key) + "' outside any [section]"});
        } else {
          if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
            value = value.substr(1, value.size() - 2);
          }
          doc.entries.push_back({section, lower(key), std::string(value), line_no});
        }
      }
    }
    if (end == text.size()) break;
  }
  return doc;
}

}  // namespace eas::runtime
