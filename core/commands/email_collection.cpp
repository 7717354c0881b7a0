#include "core/commands/email_collection.h"

#include <algorithm>

#include "core/sync/email_window.h"

namespace eas::commands {

std::optional<std::int64_t> emailFilterCutoff(int filter_type, std::int64_t now) {
  constexpr std::int64_t kDay = 86400;
  switch (filter_type) {
    case 1: return now - 1 * kDay;
    case 2: return now - 3 * kDay;
    case 3: return now - 7 * kDay;
    case 4: return now - 14 * kDay;
    case 5: return now - 31 * kDay;
    case 6: return now - 92 * kDay;
    case 7: return now - 183 * kDay;
    default: return std::nullopt;
  }
}

std::optional<std::int64_t> stricterCutoff(std::optional<std::int64_t> a,
                                           std::optional<std::int64_t> b) {
  if (!a) return b;
  if (!b) return a;
  return std::max(*a, *b);
}

Result<backend::Changes> pendingEmailChanges(backend::MailBackend& mail, const std::string& folder,
                                             const storage::SyncState& state,
                                             std::optional<std::int64_t> cutoff) {
  auto changes = mail.changesSince(folder, sync::toBackendWatermark(state.watermark),
                                   sync::knownItems(state.items));
  if (!changes.ok() || !cutoff || changes->added.empty()) return changes;
  backend::SearchCriteria recent;
  recent.since = *cutoff;
  auto in_window = mail.searchMessages(folder, recent);
  if (!in_window.ok()) return in_window.status();
  std::vector<std::uint32_t> kept;
  kept.reserve(std::min(changes->added.size(), in_window->size()));
  std::set_intersection(changes->added.begin(), changes->added.end(), in_window->begin(),
                        in_window->end(), std::back_inserter(kept));
  changes->added = std::move(kept);
  return changes;
}

}  // namespace eas::commands
