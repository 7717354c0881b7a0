#include "policies/easctl/output.h"

#include <algorithm>
#include <cstdio>
#include <ostream>

namespace eas::easctl {
namespace {

bool looksLikeInteger(const std::string& s) {
  if (s.empty() || s.size() > 18) return false;
  size_t i = s[0] == '-' ? 1 : 0;
  if (i == s.size()) return false;
  if (s[i] == '0' && s.size() > i + 1) return false;
  return std::all_of(s.begin() + i, s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Table cells show control bytes as \xNN so a hostile value cannot move the cursor.
std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace

std::string jsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          // Bytes, not code points: keep JSON valid even for invalid UTF-8.
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

void printTable(std::ostream& out, const Table& t) {
  std::vector<size_t> width(t.header.size());
  for (size_t i = 0; i < t.header.size(); ++i) width[i] = t.header[i].size();
  std::vector<std::vector<std::string>> cells;
  for (const auto& row : t.rows) {
    std::vector<std::string> r;
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
      r.push_back(printable(row[i]));
      width[i] = std::max(width[i], r.back().size());
    }
    cells.push_back(std::move(r));
  }
  auto line = [&](const std::vector<std::string>& r) {
    for (size_t i = 0; i < r.size(); ++i) {
      out << r[i];
      if (i + 1 < r.size()) out << std::string(width[i] - r[i].size() + 2, ' ');
    }
    out << "\n";
  };
  line(t.header);
  std::vector<std::string> rule;
  for (size_t w : width) rule.push_back(std::string(w, '-'));
  line(rule);
  for (const auto& r : cells) line(r);
}

void printJson(std::ostream& out, const Table& t) {
  out << "[";
  for (size_t r = 0; r < t.rows.size(); ++r) {
    out << (r ? ",\n " : "\n ") << "{";
    for (size_t i = 0; i < t.header.size() && i < t.rows[r].size(); ++i) {
      const std::string& v = t.rows[r][i];
      out << (i ? ", " : "") << jsonString(t.header[i]) << ": "
          << (looksLikeInteger(v) ? v : jsonString(v));
    }
    out << "}";
  }
  out << (t.rows.empty() ? "]\n" : "\n]\n");
}

}  // namespace eas::easctl
