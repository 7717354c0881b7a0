// Pure helpers of the IMAP backend (no I/O, no libetpan): UID sets, flag
// names, folder roles, section specs, modified UTF-7 mailbox names.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/backends/mail_backend.h"

namespace eas::backend::imap {

// Sorted, de-duplicated, merged ranges; 0 is dropped (not a UID).
std::vector<std::pair<std::uint32_t, std::uint32_t>> uidRanges(std::vector<std::uint32_t> uids);
// "1:3,7,9:10" (empty for no UIDs).
std::string uidSetString(const std::vector<std::uint32_t>& uids);
// Parses "1:3,7" / "5:*" (with * as `star`) into ascending UIDs; nullopt when
// malformed or when it would expand to more than `limit` UIDs.
std::optional<std::vector<std::uint32_t>> parseUidSet(std::string_view set, std::uint32_t star,
                                                      std::size_t limit = 1u << 20);

// System flags and $Forwarded <-> MessageFlag bits. Case-insensitive.
std::uint32_t flagBit(std::string_view name);  // 0 for any other keyword
std::vector<std::string> flagNames(std::uint32_t bits);

// SPECIAL-USE attributes (RFC 6154) first, then the usual names of the
// last hierarchy level; INBOX is always the Inbox.
FolderRole roleFromAttributes(const std::vector<std::string>& attributes);
FolderRole roleFromName(std::string_view name, char delimiter);
FolderRole detectRole(std::string_view name, char delimiter,
                      const std::vector<std::string>& attributes);
// Keeps at most one folder per role (SPECIAL-USE beats a name match, then
// the shallower, then the first listed), clearing the role of the others.
void resolveRoleConflicts(std::vector<FolderInfo>& folders);

// A section spec of FETCH BODY[...], parsed.
struct Section {
  enum class Kind { kAll, kHeader, kText, kMime, kPart };
  std::vector<std::uint32_t> part;  // empty for the whole message
  Kind kind = Kind::kAll;
};
std::optional<Section> parseSection(std::string_view spec);
std::string sectionString(const Section& section);

// Modified UTF-7 (RFC 3501 §5.1.3) <-> UTF-8. nullopt on malformed input.
std::optional<std::string> decodeMailboxName(std::string_view name);
std::string encodeMailboxName(std::string_view utf8);
// Last hierarchy level of `name`, decoded (the raw level when undecodable).
std::string displayNameOf(std::string_view name, char delimiter);

}  // namespace eas::backend::imap
