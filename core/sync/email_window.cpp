#include "core/sync/email_window.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <map>

namespace eas::sync {
namespace {

struct FlagName {
  std::uint32_t bit;
  std::string_view name;
};
constexpr FlagName kFlagNames[] = {
    {backend::kFlagSeen, "\\Seen"},         {backend::kFlagFlagged, "\\Flagged"},
    {backend::kFlagAnswered, "\\Answered"}, {backend::kFlagDeleted, "\\Deleted"},
    {backend::kFlagDraft, "\\Draft"},       {backend::kFlagForwarded, "$Forwarded"},
};

std::optional<std::uint32_t> parseUid(std::string_view text) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  std::uint32_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v == 0) return std::nullopt;
  return v;
}

}  // namespace

int effectiveWindowSize(std::optional<int> requested) {
  if (!requested || *requested < 1) return kDefaultWindowSize;
  return std::min(*requested, kMaxWindowSize);
}

std::string itemServerId(std::string_view collection_id, std::uint32_t uid) {
  return std::string(collection_id) + ":" + std::to_string(uid);
}

std::optional<std::uint32_t> itemUid(std::string_view collection_id, std::string_view server_id) {
  if (server_id.size() <= collection_id.size() + 1 ||
      server_id.substr(0, collection_id.size()) != collection_id ||
      server_id[collection_id.size()] != ':')
    return std::nullopt;
  return parseUid(server_id.substr(collection_id.size() + 1));
}

std::string flagsText(std::uint32_t flags) {
  std::string out;
  for (const FlagName& f : kFlagNames) {
    if (!(flags & f.bit)) continue;
    if (!out.empty()) out += ' ';
    out += f.name;
  }
  return out;
}

std::string flagsText(std::uint32_t flags, const std::vector<std::string>& keywords) {
  std::string out = flagsText(flags);
  std::vector<std::string> sorted = keywords;
  std::sort(sorted.begin(), sorted.end());
  for (const std::string& k : sorted) {
    if (k.empty() || k.find(' ') != std::string::npos) continue;  // not an atom
    if (!out.empty()) out += ' ';
    out += k;
  }
  return out;
}

std::vector<std::string> keywordsFromText(std::string_view text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view word = text.substr(pos, end - pos);
    pos = end + 1;
    if (word.empty() || word[0] == '\\') continue;
    bool is_flag = false;
    for (const FlagName& f : kFlagNames) is_flag = is_flag || word == f.name;
    if (!is_flag) out.emplace_back(word);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::uint32_t flagsFromText(std::string_view text) {
  std::uint32_t flags = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view word = text.substr(pos, end - pos);
    for (const FlagName& f : kFlagNames)
      if (word == f.name) flags |= f.bit;
    pos = end + 1;
  }
  return flags;
}

std::vector<backend::KnownItem> knownItems(const std::vector<storage::ItemEntry>& items) {
  std::vector<backend::KnownItem> out;
  out.reserve(items.size());
  for (const storage::ItemEntry& e : items) {
    auto uid = parseUid(e.backend_id);
    if (!uid) continue;
    out.push_back({*uid, flagsFromText(e.flags), keywordsFromText(e.flags)});
  }
  std::sort(out.begin(), out.end(),
            [](const backend::KnownItem& a, const backend::KnownItem& b) { return a.uid < b.uid; });
  return out;
}

storage::Watermark toStoreWatermark(const backend::FolderState& state) {
  storage::Watermark w;
  w.uidvalidity = state.uidValidity;
  w.uidnext = state.uidNext;
  w.highestmodseq = state.highestModseq ? static_cast<std::int64_t>(*state.highestModseq) : 0;
  return w;
}

backend::Watermark toBackendWatermark(const storage::Watermark& w) {
  backend::Watermark b;
  b.uidValidity = static_cast<std::uint32_t>(w.uidvalidity);
  b.uidNext = static_cast<std::uint32_t>(w.uidnext);
  if (w.highestmodseq > 0) b.modseq = static_cast<std::uint64_t>(w.highestmodseq);
  return b;
}

EmailWindow planEmailWindow(const backend::Changes& changes,
                            const std::vector<storage::ItemEntry>& items, int window) {
  EmailWindow out;
  std::map<std::uint32_t, const storage::ItemEntry*> by_uid;
  for (const storage::ItemEntry& e : items)
    if (auto uid = parseUid(e.backend_id)) by_uid.emplace(*uid, &e);
  std::size_t room = static_cast<std::size_t>(std::max(window, 1));
  bool left_out = false;

  auto remove = [&](std::uint32_t uid) {
    auto it = by_uid.find(uid);
    if (it == by_uid.end()) return;  // the device never had it
    if (out.deletes.size() + out.changes.size() + out.adds.size() >= room) {
      left_out = true;
      return;
    }
    out.deletes.push_back(it->second->server_id);
    storage::ItemChange c;
    c.kind = storage::ItemChange::Kind::kDelete;
    c.item.server_id = it->second->server_id;
    out.item_changes.push_back(std::move(c));
  };
  for (std::uint32_t uid : changes.expunged) remove(uid);
  for (const backend::KnownItem& k : changes.flagsChanged)
    if (k.flags & backend::kFlagDeleted) remove(k.uid);
  for (const backend::KnownItem& k : changes.flagsChanged) {
    if (k.flags & backend::kFlagDeleted) continue;
    auto it = by_uid.find(k.uid);
    if (it == by_uid.end()) continue;
    if (out.deletes.size() + out.changes.size() + out.adds.size() >= room) {
      left_out = true;
      continue;
    }
    out.changes.push_back(k);
    storage::ItemEntry e = *it->second;
    e.flags = flagsText(k.flags, k.keywords);
    out.item_changes.push_back({storage::ItemChange::Kind::kPut, std::move(e)});
  }
  // Newest first: a phone shows the latest mail before the window ends.
  std::vector<std::uint32_t> added = changes.added;
  std::sort(added.begin(), added.end(), std::greater<>());
  for (std::uint32_t uid : added) {
    if (by_uid.count(uid)) continue;  // already sent (an earlier window)
    if (out.deletes.size() + out.changes.size() + out.adds.size() >= room) {
      left_out = true;
      break;
    }
    out.adds.push_back(uid);
  }
  out.more_available = left_out;
  out.advance_watermark = !left_out;
  return out;
}

}  // namespace eas::sync
