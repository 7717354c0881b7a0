// Category names <-> IMAP keywords. A keyword is an atom: bytes outside
// printable ASCII, atom-specials and '&' become "&XX" (hex), as does a
// leading '$' or '\\' and the first letter of a name the backend reads as
// a Junk marker, so a category never turns into a system keyword. Plain
// names ("Work") are the same on both sides, so other IMAP clients' tags
// show as categories. Decoding leaves anything that is not "&XX" as is.
// Header-only: metaFromBackend (backend_meta.h) decodes with it, the Sync
// command encodes a device's Categories with it.
#pragma once

#include <cctype>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace eas::items {

inline std::string categoryKeyword(std::string_view category) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string lower;
  for (char c : category) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const bool junk_name = lower == "junk" || lower == "nonjunk" || lower == "notjunk";
  std::string out;
  for (std::size_t i = 0; i < category.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(category[i]);
    const bool special =
        c <= 0x20 || c >= 0x7f ||
        std::string_view("(){%*\"\\]&").find(static_cast<char>(c)) != std::string_view::npos;
    const bool first = i == 0 && (c == '$' || junk_name);
    if (special || first) {
      out += '&';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// A keyword other clients or the server use as a marker ("$MDNSent",
// "$Junk", "NonJunk", a system flag) is not a category. Judged on the raw
// keyword: "&24Label" (a device's "$Label") is one.
inline bool isCategoryKeyword(std::string_view keyword) {
  if (keyword.empty() || keyword[0] == '\\' || keyword[0] == '$') return false;
  std::string lower;
  for (char c : keyword) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower != "junk" && lower != "nonjunk" && lower != "notjunk";
}

std::string categoryFromKeyword(std::string_view keyword);

// The device's categories for a message's keywords, in their order.
inline std::vector<std::string> categoriesOfKeywords(const std::vector<std::string>& keywords) {
  std::vector<std::string> out;
  for (const std::string& k : keywords)
    if (isCategoryKeyword(k)) out.push_back(categoryFromKeyword(k));
  return out;
}

inline std::string categoryFromKeyword(std::string_view keyword) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < keyword.size(); ++i) {
    if (keyword[i] == '&' && i + 2 < keyword.size() && hex(keyword[i + 1]) >= 0 &&
        hex(keyword[i + 2]) >= 0) {
      out += static_cast<char>(hex(keyword[i + 1]) * 16 + hex(keyword[i + 2]));
      i += 2;
    } else {
      out += keyword[i];
    }
  }
  return out;
}

}  // namespace eas::items
