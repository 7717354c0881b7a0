#include "core/sync/folder_hierarchy.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

namespace eas::sync {
namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// One selectable backend folder with what the device is told about it.
struct Entry {
  const backend::FolderInfo* info = nullptr;
  int type = kTypeUserMail;
  std::string parent_name;  // backend name of the nearest listed ancestor; "" = top
  std::string server_id;    // assigned below
  std::size_t depth = 0;
};

std::string parentName(const std::string& name, char delimiter) {
  if (delimiter == 0) return {};
  std::size_t pos = name.rfind(delimiter);
  if (pos == std::string::npos || pos == 0) return {};
  return name.substr(0, pos);
}

std::string normParent(const std::string& id) { return id.empty() ? "0" : id; }

}  // namespace

FolderMode folderModeFrom(std::string_view value) {
  return equalsIgnoreCase(value, "default") ? FolderMode::kDefaultOnly : FolderMode::kAll;
}

HierarchyPlan planHierarchy(const std::vector<backend::FolderInfo>& backend,
                            const std::vector<storage::Folder>& stored, FolderMode mode,
                            const std::function<std::string()>& mint) {
  // 1. The folders to show, with their types (each default type once).
  std::vector<Entry> entries;
  std::set<int> used_defaults;
  for (const backend::FolderInfo& f : backend) {
    if (!f.selectable || f.name.empty()) continue;
    int type = kTypeUserMail;
    switch (f.role) {
      case backend::FolderRole::kInbox: type = kTypeInbox; break;
      case backend::FolderRole::kDrafts: type = kTypeDrafts; break;
      case backend::FolderRole::kTrash: type = kTypeDeleted; break;
      case backend::FolderRole::kSent: type = kTypeSent; break;
      default:
        if (equalsIgnoreCase(f.name, "INBOX")) {
          type = kTypeInbox;
        } else if (equalsIgnoreCase(f.name, "Outbox")) {
          type = kTypeOutbox;  // only when the store really has one
        }
    }
    if (type != kTypeUserMail && !used_defaults.insert(type).second) type = kTypeUserMail;
    if (mode == FolderMode::kDefaultOnly && type == kTypeUserMail) continue;
    Entry e;
    e.info = &f;
    e.type = type;
    entries.push_back(e);
  }
  std::map<std::string, std::size_t> by_name;  // backend name -> entries index
  for (std::size_t i = 0; i < entries.size(); ++i) by_name.emplace(entries[i].info->name, i);
  for (Entry& e : entries) {
    if (mode == FolderMode::kDefaultOnly) continue;  // all at the top
    std::string p = parentName(e.info->name, e.info->delimiter);
    while (!p.empty() && !by_name.count(p)) p = parentName(p, e.info->delimiter);
    e.parent_name = p;
  }
  for (Entry& e : entries) {
    std::size_t d = 0;
    for (std::string p = e.parent_name; !p.empty() && d < entries.size(); ++d)
      p = entries[by_name.at(p)].parent_name;
    e.depth = d;
  }

  // 2. Match with the stored hierarchy: by backend name, then renames.
  std::map<std::string, const storage::Folder*> stored_by_name;
  for (const storage::Folder& s : stored) {
    stored_by_name.emplace(s.backend_id, &s);
  }
  std::map<std::size_t, const storage::Folder*> match;  // entry index -> stored
  std::set<const storage::Folder*> matched;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    auto it = stored_by_name.find(entries[i].info->name);
    if (it != stored_by_name.end()) {
      match[i] = it->second;
      matched.insert(it->second);
    }
  }
  auto vanished = [&] {
    std::vector<const storage::Folder*> v;
    for (const storage::Folder& s : stored)
      if (!matched.count(&s)) v.push_back(&s);
    return v;
  };
  auto unmatchedNew = [&] {
    std::vector<std::size_t> v;
    for (std::size_t i = 0; i < entries.size(); ++i)
      if (!match.count(i)) v.push_back(i);
    return v;
  };
  auto pair = [&](std::size_t i, const storage::Folder* s) {
    match[i] = s;
    matched.insert(s);
    // The children follow: old prefix -> new prefix.
    const char delim = entries[i].info->delimiter;
    if (delim == 0) return;
    const std::string from = s->backend_id + delim;
    const std::string to = entries[i].info->name + delim;
    for (const storage::Folder& child : stored) {
      if (matched.count(&child) || child.backend_id.rfind(from, 0) != 0) continue;
      auto it = by_name.find(to + child.backend_id.substr(from.size()));
      if (it != by_name.end() && !match.count(it->second)) {
        match[it->second] = &child;
        matched.insert(&child);
      }
    }
  };
  // (1) same display name, one candidate on each side.
  for (std::size_t i : unmatchedNew()) {
    if (match.count(i)) continue;
    const std::string& dn = entries[i].info->displayName;
    std::vector<const storage::Folder*> cands;
    for (const storage::Folder* s : vanished())
      if (s->display_name == dn) cands.push_back(s);
    std::size_t same_new = 0;
    for (std::size_t j : unmatchedNew())
      if (entries[j].info->displayName == dn) ++same_new;
    if (cands.size() == 1 && same_new == 1) pair(i, cands[0]);
  }
  // (2) same parent, one candidate on each side. The stored parent is a
  // ServerId; the new folder's parent is compared through its match.
  auto storedParentOf = [&](std::size_t i) -> std::string {
    const std::string& pn = entries[i].parent_name;
    if (pn.empty()) return "0";
    auto m = match.find(by_name.at(pn));
    return m == match.end() ? std::string() : m->second->server_id;  // "" = parent is new
  };
  for (std::size_t i : unmatchedNew()) {
    if (match.count(i)) continue;
    std::string parent = storedParentOf(i);
    if (parent.empty()) continue;
    std::vector<const storage::Folder*> cands;
    for (const storage::Folder* s : vanished())
      if (normParent(s->parent_id) == parent && s->type == entries[i].type) cands.push_back(s);
    std::size_t same_new = 0;
    for (std::size_t j : unmatchedNew())
      if (storedParentOf(j) == parent && entries[j].type == entries[i].type) ++same_new;
    if (cands.size() == 1 && same_new == 1) pair(i, cands[0]);
  }

  // 3. ServerIds: kept, or minted for new folders (parents first).
  HierarchyPlan plan;
  std::vector<std::size_t> order(entries.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return entries[a].depth < entries[b].depth;
  });
  for (std::size_t i : order) {
    auto m = match.find(i);
    if (m != match.end()) {
      entries[i].server_id = m->second->server_id;
    } else {
      entries[i].server_id = mint();
      ++plan.new_ids;
    }
  }

  // 4. The new hierarchy and the changes.
  std::vector<storage::FolderChange> adds, updates, quiet_updates, deletes;
  for (std::size_t i : order) {
    const Entry& e = entries[i];
    storage::Folder f;
    f.server_id = e.server_id;
    f.backend_id = e.info->name;
    f.parent_id = e.parent_name.empty() ? "0" : entries[by_name.at(e.parent_name)].server_id;
    f.type = e.type;
    f.display_name = e.info->displayName.empty() ? e.info->name : e.info->displayName;
    auto m = match.find(i);
    if (m == match.end()) {
      adds.push_back({storage::FolderChange::Kind::kAdd, f});
    } else {
      storage::Folder old = *m->second;
      old.parent_id = normParent(old.parent_id);
      if (old.parent_id != f.parent_id || old.type != f.type || old.display_name != f.display_name)
        updates.push_back({storage::FolderChange::Kind::kUpdate, f});
      else if (old.backend_id != f.backend_id)  // a child of a renamed folder
        quiet_updates.push_back({storage::FolderChange::Kind::kUpdate, f});
    }
    plan.folders.push_back(std::move(f));
  }
  for (const storage::Folder& s : stored) {
    if (matched.count(&s)) continue;
    storage::FolderChange d;
    d.kind = storage::FolderChange::Kind::kDelete;
    d.folder = s;
    deletes.push_back(std::move(d));
  }
  plan.device_changes = std::move(adds);
  plan.device_changes.insert(plan.device_changes.end(), updates.begin(), updates.end());
  plan.device_changes.insert(plan.device_changes.end(), deletes.begin(), deletes.end());
  plan.changes = plan.device_changes;
  plan.changes.insert(plan.changes.end(), quiet_updates.begin(), quiet_updates.end());
  return plan;
}

}  // namespace eas::sync
