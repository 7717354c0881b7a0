#include "core/backends/imap/imap_util.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

#include "core/base/modified_utf7.h"

namespace eas::backend {

std::string_view folderRoleName(FolderRole role) {
  switch (role) {
    case FolderRole::kNone: return "none";
    case FolderRole::kInbox: return "inbox";
    case FolderRole::kDrafts: return "drafts";
    case FolderRole::kSent: return "sent";
    case FolderRole::kTrash: return "trash";
    case FolderRole::kJunk: return "junk";
    case FolderRole::kArchive: return "archive";
  }
  return "none";
}

std::string Address::toString() const {
  std::string addr = mailbox;
  if (!host.empty()) addr += "@" + host;
  if (name.empty()) return addr;
  std::string quoted = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\" <" + addr + ">";
}

namespace {
std::string lookup(const std::vector<std::pair<std::string, std::string>>& params,
                   std::string_view name) {
  for (const auto& [k, v] : params) {
    if (k.size() == name.size() &&
        std::equal(k.begin(), k.end(), name.begin(),
                   [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) ==
                                               std::tolower(static_cast<unsigned char>(b)); }))
      return v;
  }
  return {};
}
}  // namespace

std::string BodyPart::param(std::string_view name) const { return lookup(params, name); }
std::string BodyPart::dispositionParam(std::string_view name) const {
  return lookup(dispositionParams, name);
}

namespace imap {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

std::string_view lastLevel(std::string_view name, char delimiter) {
  if (delimiter == 0) return name;
  const auto pos = name.rfind(delimiter);
  return pos == std::string_view::npos ? name : name.substr(pos + 1);
}

std::size_t depth(std::string_view name, char delimiter) {
  return delimiter == 0 ? 0 : static_cast<std::size_t>(std::count(name.begin(), name.end(), delimiter));
}

bool parseU32(std::string_view s, std::uint32_t& out) {
  if (s.empty() || s.size() > 10) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v > 0xffffffffu) return false;
  out = static_cast<std::uint32_t>(v);
  return true;
}

}  // namespace

std::vector<std::pair<std::uint32_t, std::uint32_t>> uidRanges(std::vector<std::uint32_t> uids) {
  std::sort(uids.begin(), uids.end());
  uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
  std::vector<std::pair<std::uint32_t, std::uint32_t>> ranges;
  for (std::uint32_t uid : uids) {
    if (uid == 0) continue;
    if (!ranges.empty() && ranges.back().second + 1 == uid) {
      ranges.back().second = uid;
    } else {
      ranges.emplace_back(uid, uid);
    }
  }
  return ranges;
}

std::string uidSetString(const std::vector<std::uint32_t>& uids) {
  std::string out;
  for (const auto& [first, last] : uidRanges(uids)) {
    if (!out.empty()) out += ',';
    out += std::to_string(first);
    if (last != first) out += ':' + std::to_string(last);
  }
  return out;
}

std::optional<std::vector<std::uint32_t>> parseUidSet(std::string_view set, std::uint32_t star,
                                                      std::size_t limit) {
  std::vector<std::uint32_t> out;
  if (set.empty()) return std::nullopt;
  while (!set.empty()) {
    const auto comma = set.find(',');
    std::string_view item = set.substr(0, comma);
    set = comma == std::string_view::npos ? std::string_view() : set.substr(comma + 1);
    if (comma != std::string_view::npos && set.empty()) return std::nullopt;  // trailing comma
    const auto colon = item.find(':');
    auto value = [star](std::string_view s, std::uint32_t& v) {
      if (s == "*") { v = star; return star != 0; }
      return parseU32(s, v) && v != 0;
    };
    std::uint32_t a = 0, b = 0;
    if (colon == std::string_view::npos) {
      if (!value(item, a)) return std::nullopt;
      b = a;
    } else if (!value(item.substr(0, colon), a) || !value(item.substr(colon + 1), b)) {
      return std::nullopt;
    }
    if (a > b) std::swap(a, b);  // RFC 3501: 4:2 is 2:4
    if (out.size() + (static_cast<std::size_t>(b) - a + 1) > limit) return std::nullopt;
    for (std::uint64_t u = a; u <= b; ++u) out.push_back(static_cast<std::uint32_t>(u));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::uint32_t flagBit(std::string_view name) {
  if (iequals(name, "\\Seen")) return kFlagSeen;
  if (iequals(name, "\\Flagged")) return kFlagFlagged;
  if (iequals(name, "\\Answered")) return kFlagAnswered;
  if (iequals(name, "\\Deleted")) return kFlagDeleted;
  if (iequals(name, "\\Draft")) return kFlagDraft;
  if (iequals(name, "$Forwarded")) return kFlagForwarded;
  return 0;
}

std::vector<std::string> flagNames(std::uint32_t bits) {
  static constexpr std::array<std::pair<std::uint32_t, const char*>, 6> kNames = {{
      {kFlagSeen, "\\Seen"}, {kFlagFlagged, "\\Flagged"}, {kFlagAnswered, "\\Answered"},
      {kFlagDeleted, "\\Deleted"}, {kFlagDraft, "\\Draft"}, {kFlagForwarded, "$Forwarded"},
  }};
  std::vector<std::string> out;
  for (const auto& [bit, name] : kNames) {
    if ((bits & bit) != 0) out.emplace_back(name);
  }
  return out;
}

FolderRole roleFromAttributes(const std::vector<std::string>& attributes) {
  for (const std::string& a : attributes) {
    std::string_view v = a;
    if (!v.empty() && v.front() == '\\') v.remove_prefix(1);
    if (iequals(v, "Sent")) return FolderRole::kSent;
    if (iequals(v, "Drafts")) return FolderRole::kDrafts;
    if (iequals(v, "Trash")) return FolderRole::kTrash;
    if (iequals(v, "Junk")) return FolderRole::kJunk;
    if (iequals(v, "Archive")) return FolderRole::kArchive;
  }
  return FolderRole::kNone;
}

FolderRole roleFromName(std::string_view name, char delimiter) {
  if (iequals(name, "INBOX")) return FolderRole::kInbox;
  // Only top-level folders and direct children of INBOX (Courier-style
  // "INBOX.Sent") carry a role by name.
  const std::size_t d = depth(name, delimiter);
  if (d > 1) return FolderRole::kNone;
  if (d == 1) {
    const std::string_view parent = name.substr(0, name.find(delimiter));
    if (!iequals(parent, "INBOX")) return FolderRole::kNone;
  }
  const std::string_view leaf = lastLevel(name, delimiter);
  static constexpr std::array<std::pair<const char*, FolderRole>, 14> kNames = {{
      {"Sent", FolderRole::kSent}, {"Sent Items", FolderRole::kSent},
      {"Sent Messages", FolderRole::kSent}, {"Sent Mail", FolderRole::kSent},
      {"Drafts", FolderRole::kDrafts}, {"Draft", FolderRole::kDrafts},
      {"Trash", FolderRole::kTrash}, {"Deleted Items", FolderRole::kTrash},
      {"Deleted Messages", FolderRole::kTrash},
      {"Junk", FolderRole::kJunk}, {"Spam", FolderRole::kJunk}, {"Junk E-mail", FolderRole::kJunk},
      {"Archive", FolderRole::kArchive}, {"Archives", FolderRole::kArchive},
  }};
  for (const auto& [n, role] : kNames) {
    if (iequals(leaf, n)) return role;
  }
  return FolderRole::kNone;
}

FolderRole detectRole(std::string_view name, char delimiter,
                      const std::vector<std::string>& attributes) {
  if (iequals(name, "INBOX")) return FolderRole::kInbox;
  const FolderRole byUse = roleFromAttributes(attributes);
  return byUse != FolderRole::kNone ? byUse : roleFromName(name, delimiter);
}

void resolveRoleConflicts(std::vector<FolderInfo>& folders) {
  auto rank = [](const FolderInfo& f) {
    const bool byUse = roleFromAttributes(f.attributes) == f.role;
    return std::make_pair(byUse ? 0 : 1, depth(f.name, f.delimiter));
  };
  for (std::size_t i = 0; i < folders.size(); ++i) {
    if (folders[i].role == FolderRole::kNone) continue;
    for (std::size_t j = i + 1; j < folders.size(); ++j) {
      if (folders[j].role != folders[i].role) continue;
      if (rank(folders[j]) < rank(folders[i])) {
        folders[i].role = FolderRole::kNone;
        break;
      }
      folders[j].role = FolderRole::kNone;
    }
  }
}

std::optional<Section> parseSection(std::string_view spec) {
  Section s;
  if (spec.empty()) return s;
  std::size_t pos = 0;
  while (pos < spec.size() && spec[pos] >= '0' && spec[pos] <= '9') {
    const std::size_t dot = spec.find('.', pos);
    const std::string_view num = spec.substr(pos, dot == std::string_view::npos ? spec.npos : dot - pos);
    std::uint32_t n = 0;
    if (!parseU32(num, n) || n == 0) return std::nullopt;
    s.part.push_back(n);
    if (dot == std::string_view::npos) {
      pos = spec.size();
      break;
    }
    pos = dot + 1;
    if (pos == spec.size()) return std::nullopt;  // "1."
  }
  const std::string_view rest = spec.substr(pos);
  if (rest.empty()) {
    s.kind = s.part.empty() ? Section::Kind::kAll : Section::Kind::kPart;
  } else if (iequals(rest, "HEADER")) {
    s.kind = Section::Kind::kHeader;
  } else if (iequals(rest, "TEXT")) {
    s.kind = Section::Kind::kText;
  } else if (iequals(rest, "MIME") && !s.part.empty()) {
    s.kind = Section::Kind::kMime;
  } else {
    return std::nullopt;
  }
  return s;
}

std::string sectionString(const Section& section) {
  std::string out;
  for (std::uint32_t n : section.part) {
    if (!out.empty()) out += '.';
    out += std::to_string(n);
  }
  const char* suffix = nullptr;
  switch (section.kind) {
    case Section::Kind::kAll:
    case Section::Kind::kPart: break;
    case Section::Kind::kHeader: suffix = "HEADER"; break;
    case Section::Kind::kText: suffix = "TEXT"; break;
    case Section::Kind::kMime: suffix = "MIME"; break;
  }
  if (suffix != nullptr) {
    if (!out.empty()) out += '.';
    out += suffix;
  }
  return out;
}

namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

int b64Value(char c) {
  const char* p = std::strchr(kB64, c);
  return (p == nullptr || c == '\0') ? -1 : static_cast<int>(p - kB64);
}

void appendUtf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

std::optional<std::string> decodeMailboxName(std::string_view name) {
  std::string out;
  std::size_t i = 0;
  while (i < name.size()) {
    const char c = name[i];
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e)
      return std::nullopt;
    if (c != '&') {
      out += c;
      ++i;
      continue;
    }
    const std::size_t end = name.find('-', i + 1);
    if (end == std::string_view::npos) return std::nullopt;
    if (end == i + 1) {  // "&-" is a literal '&'
      out += '&';
      i = end + 1;
      continue;
    }
    std::uint32_t bits = 0;
    int nbits = 0;
    std::vector<std::uint16_t> units;
    for (std::size_t k = i + 1; k < end; ++k) {
      const int v = b64Value(name[k]);
      if (v < 0) return std::nullopt;
      bits = (bits << 6) | static_cast<std::uint32_t>(v);
      nbits += 6;
      if (nbits >= 16) {
        nbits -= 16;
        units.push_back(static_cast<std::uint16_t>(bits >> nbits));
        bits &= (1u << nbits) - 1;
      }
    }
    if (bits != 0 || units.empty()) return std::nullopt;  // non-zero padding
    for (std::size_t k = 0; k < units.size(); ++k) {
      std::uint32_t u = units[k];
      if (u >= 0xD800 && u <= 0xDBFF) {
        if (k + 1 >= units.size() || units[k + 1] < 0xDC00 || units[k + 1] > 0xDFFF)
          return std::nullopt;
        u = 0x10000 + ((u - 0xD800) << 10) + (units[++k] - 0xDC00);
      } else if (u >= 0xDC00 && u <= 0xDFFF) {
        return std::nullopt;
      } else if (u >= 0x20 && u <= 0x7e) {
        return std::nullopt;  // printable ASCII must not be encoded
      }
      appendUtf8(out, u);
    }
    i = end + 1;
  }
  return out;
}

std::string encodeMailboxName(std::string_view utf8) { return encodeModifiedUtf7Lenient(utf8); }

std::string displayNameOf(std::string_view name, char delimiter) {
  const std::string_view leaf = lastLevel(name, delimiter);
  auto decoded = decodeMailboxName(leaf);
  return decoded ? *decoded : std::string(leaf);
}

}  // namespace imap
}  // namespace eas::backend
