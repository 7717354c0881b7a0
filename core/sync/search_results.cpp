#include "core/sync/search_results.h"

#include <algorithm>
#include <charconv>
#include <tuple>

namespace eas::sync {
namespace {

bool parseUint(std::string_view s, std::uint32_t* out) {
  if (s.empty() || s.size() > 9) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
std::int64_t daysFromCivil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int64_t>(era) * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

constexpr std::int64_t kDay = 86400;

std::int64_t floorDay(std::int64_t t) { return (t >= 0 ? t / kDay : (t - kDay + 1) / kDay) * kDay; }

}  // namespace

std::optional<std::pair<std::uint32_t, std::uint32_t>> parseSearchRange(std::string_view text) {
  const std::size_t dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  std::uint32_t a = 0, b = 0;
  if (!parseUint(text.substr(0, dash), &a) || !parseUint(text.substr(dash + 1), &b) || b < a)
    return std::nullopt;
  return std::make_pair(a, b);
}

std::pair<std::uint32_t, std::uint32_t> clampSearchRange(std::pair<std::uint32_t, std::uint32_t> r) {
  if (r.second - r.first >= kMaxSearchResults) r.second = r.first + kMaxSearchResults - 1;
  return r;
}

std::optional<std::int64_t> parseEasDateTime(std::string_view s) {
  int y, mo, d, h, mi, se;
  if (s.size() < 20 || !digits(s, 0, 4, &y) || s[4] != '-' || !digits(s, 5, 2, &mo) ||
      s[7] != '-' || !digits(s, 8, 2, &d) || s[10] != 'T' || !digits(s, 11, 2, &h) ||
      s[13] != ':' || !digits(s, 14, 2, &mi) || s[16] != ':' || !digits(s, 17, 2, &se))
    return std::nullopt;
  std::size_t pos = 19;
  if (s[pos] == '.') {
    ++pos;
    const std::size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == start || pos - start > 9) return std::nullopt;
  }
  if (pos + 1 != s.size() || s[pos] != 'Z') return std::nullopt;
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1] || h > 23 || mi > 59 || se > 60)
    return std::nullopt;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo == 2 && d == 29 && !leap) return std::nullopt;
  return daysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * kDay + h * 3600 +
         mi * 60 + se;
}

std::optional<std::int64_t> imapSinceFor(std::optional<std::int64_t> greater_than) {
  if (!greater_than) return std::nullopt;
  return floorDay(*greater_than);  // the day itself may hold later messages
}

std::optional<std::int64_t> imapBeforeFor(std::optional<std::int64_t> less_than) {
  if (!less_than) return std::nullopt;
  return floorDay(*less_than) + kDay;  // BEFORE the next day: the day itself is kept
}

void refineHits(std::vector<SearchHit>& hits, std::optional<std::int64_t> greater_than,
                std::optional<std::int64_t> less_than) {
  hits.erase(std::remove_if(hits.begin(), hits.end(),
                            [&](const SearchHit& h) {
                              return (greater_than && h.date <= *greater_than) ||
                                     (less_than && h.date >= *less_than);
                            }),
             hits.end());
  std::sort(hits.begin(), hits.end(), [](const SearchHit& a, const SearchHit& b) {
    return std::tie(b.date, b.uid, b.collection_id) < std::tie(a.date, a.uid, a.collection_id);
  });
}

std::pair<std::size_t, std::size_t> pageOf(std::size_t total,
                                           std::pair<std::uint32_t, std::uint32_t> range) {
  const std::size_t begin = std::min<std::size_t>(range.first, total);
  const std::size_t end = std::min<std::size_t>(static_cast<std::size_t>(range.second) + 1, total);
  return {begin, std::max(begin, end)};
}

}  // namespace eas::sync
