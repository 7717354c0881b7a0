#include "core/commands/email_collection.h"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <set>

#include "core/commands/provision_command.h"
#include "core/commands/sync_request.h"
#include "core/items/email_item.h"
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

std::optional<std::int64_t> policyEmailCutoff(storage::MetadataStore& store,
                                              const storage::DeviceRef& ref, std::int64_t now) {
  auto policies = store.effectivePolicies(domainOf(ref.user), ref.user, ref.device_id);
  if (!policies.ok()) return std::nullopt;
  auto it = policies->find("MaxEmailAgeFilter");
  if (it == policies->end()) return std::nullopt;
  int v = 0;
  const std::string& text = it->second.value;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return emailFilterCutoff(v, now);
}

std::map<std::string, int> stickyFilterTypes(storage::MetadataStore& store,
                                             const storage::DeviceRef& ref) {
  std::map<std::string, int> out;
  auto cached = store.getRequestCache(ref, std::string(kSyncCacheName));
  if (!cached.ok()) return out;
  for (const CachedCollection& c : decodeSyncCache(*cached))
    if (c.params.has_options && c.params.options.filter_type)
      out.emplace(c.params.collection_id, *c.params.options.filter_type);
  return out;
}

std::optional<int> stickyFilterType(storage::MetadataStore& store, const storage::DeviceRef& ref,
                                    const std::string& collection_id) {
  const auto all = stickyFilterTypes(store, ref);
  auto it = all.find(collection_id);
  if (it == all.end()) return std::nullopt;
  return it->second;
}

namespace {

// The ConversationId core/items gives a message, from its header block
// alone (the thread root comes from Message-ID, References, In-Reply-To,
// else the subject): the same value the device is sent in email2.
std::string conversationIdOf(const backend::MessageData& m) {
  if (m.headers.empty()) return {};
  items::MessageMeta meta;
  meta.internal_date = m.internalDate;
  meta.file_reference_prefix = "conversation:" + std::to_string(m.uid);
  auto item = items::parseEmail(m.headers, meta);
  return item.ok() ? item->conversation_id : std::string();
}

// Of `uids` (ascending), the ones not in `in_window` (ascending) whose
// ConversationId is that of one in `in_window`, ascending. One UID FETCH
// of the header blocks of all of `uids`.
Result<std::vector<std::uint32_t>> olderOfSameConversations(
    backend::MailBackend& mail, const std::string& folder,
    const std::vector<std::uint32_t>& uids, const std::vector<std::uint32_t>& in_window) {
  backend::FetchRequest what;
  what.envelope = false;
  what.bodyStructure = false;
  what.headers = true;
  auto fetched = mail.fetchMessages(folder, uids, what);
  if (!fetched.ok()) return fetched.status();
  std::set<std::string> threads;
  std::vector<std::pair<std::uint32_t, std::string>> older;
  for (const backend::MessageData& m : *fetched) {
    std::string id = conversationIdOf(m);
    if (id.empty()) continue;
    if (std::binary_search(in_window.begin(), in_window.end(), m.uid)) {
      threads.insert(std::move(id));
    } else {
      older.emplace_back(m.uid, std::move(id));
    }
  }
  std::vector<std::uint32_t> out;
  for (const auto& [uid, id] : older)
    if (threads.count(id)) out.push_back(uid);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

Result<backend::Changes> pendingEmailChanges(backend::MailBackend& mail, const std::string& folder,
                                             const storage::SyncState& state,
                                             std::optional<std::int64_t> cutoff,
                                             bool conversation_mode) {
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
  if (conversation_mode && !kept.empty()) {
    // The older mail the device lacks: not only this time's `added` (with
    // CONDSTORE a new reply comes alone, its old original unchanged).
    backend::SearchCriteria old;
    old.before = *cutoff;
    auto before = mail.searchMessages(folder, old);
    if (!before.ok()) return before.status();
    std::vector<std::uint32_t> known;
    for (const backend::KnownItem& k : sync::knownItems(state.items)) known.push_back(k.uid);
    std::vector<std::uint32_t> candidates;
    std::set_difference(before->begin(), before->end(), known.begin(), known.end(),
                        std::back_inserter(candidates));
    if (!candidates.empty()) {
      std::vector<std::uint32_t> fetch;
      std::set_union(kept.begin(), kept.end(), candidates.begin(), candidates.end(),
                     std::back_inserter(fetch));
      auto pulled = olderOfSameConversations(mail, folder, fetch, kept);
      if (!pulled.ok()) return pulled.status();
      std::vector<std::uint32_t> merged;
      merged.reserve(kept.size() + pulled->size());
      std::set_union(kept.begin(), kept.end(), pulled->begin(), pulled->end(),
                     std::back_inserter(merged));
      kept = std::move(merged);
    }
  }
  changes->added = std::move(kept);
  return changes;
}

}  // namespace eas::commands
