// Search (Mailbox store), the pure part: the Range and dateTime values of
// the request, and the ordering, date refinement and paging of the hits the
// IMAP searches returned. No I/O; core/commands/search_command does it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eas::sync {

inline constexpr std::uint32_t kMaxSearchResults = 100;  // Mailbox: 0-99 (CMD §2.2.3.142.2)

// "first-last", zero-based and inclusive ("0-9" = ten results). nullopt when
// malformed or last < first. The caller clamps the span to kMaxSearchResults.
std::optional<std::pair<std::uint32_t, std::uint32_t>> parseSearchRange(std::string_view text);
// The span after clamping: at most kMaxSearchResults results.
std::pair<std::uint32_t, std::uint32_t> clampSearchRange(std::pair<std::uint32_t, std::uint32_t> r);

// MS-ASDTYPE dateTime "YYYY-MM-DDTHH:MM:SS[.mmm]Z" -> unix seconds (UTC).
std::optional<std::int64_t> parseEasDateTime(std::string_view text);

// The IMAP day bounds for exclusive time bounds: SINCE (on or after a day)
// and BEFORE (before a day). IMAP compares days only, so the caller keeps
// the exact test (refineHits) after the search.
std::optional<std::int64_t> imapSinceFor(std::optional<std::int64_t> greater_than);
std::optional<std::int64_t> imapBeforeFor(std::optional<std::int64_t> less_than);

struct SearchHit {
  std::string collection_id;  // the device's folder ServerId
  std::string folder;         // IMAP name
  std::uint32_t uid = 0;
  std::int64_t date = 0;  // INTERNALDATE, unix seconds
};

// Keeps the hits strictly inside (greater_than, less_than) and orders them
// newest first (then by collection id and UID, descending UID first), so
// paging is stable between requests.
void refineHits(std::vector<SearchHit>& hits, std::optional<std::int64_t> greater_than,
                std::optional<std::int64_t> less_than);

// The [begin, end) indexes of `range` within `total` hits (empty when the
// range starts past the end).
std::pair<std::size_t, std::size_t> pageOf(std::size_t total,
                                           std::pair<std::uint32_t, std::uint32_t> range);

}  // namespace eas::sync
