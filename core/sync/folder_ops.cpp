#include "core/sync/folder_ops.h"

#include <algorithm>
#include <cstdint>
#include <map>

#include "core/base/modified_utf7.h"

namespace eas::sync {
namespace {

constexpr int kCreateSpecialParent = 3;
constexpr int kCreateNameExists = 2;
constexpr int kCreateParentNotFound = 5;
constexpr int kMalformed = 10;
constexpr int kDeleteSpecial = 3;
constexpr int kNotFound = 4;  // FolderDelete and FolderUpdate
constexpr int kUpdateSpecialOrExists = 2;
constexpr int kUpdateParentNotFound = 5;
constexpr std::size_t kMaxNameBytes = 255;

FolderOpPlan refuse(int status, std::string reason) {
  FolderOpPlan p;
  p.status = status;
  p.reason = std::move(reason);
  return p;
}

std::string normParent(std::string_view id) { return id.empty() ? "0" : std::string(id); }

const storage::Folder* findStored(const std::vector<storage::Folder>& stored, std::string_view id) {
  for (const storage::Folder& f : stored)
    if (f.server_id == id) return &f;
  return nullptr;
}

const backend::FolderInfo* findBackend(const std::vector<backend::FolderInfo>& backend,
                                       std::string_view name) {
  for (const backend::FolderInfo& f : backend)
    if (f.name == name) return &f;
  return nullptr;
}

// The hierarchy delimiter of the mailbox: INBOX's, else the first folder's.
char mailboxDelimiter(const std::vector<backend::FolderInfo>& backend) {
  for (const backend::FolderInfo& f : backend)
    if (f.delimiter != 0) return f.delimiter;
  return 0;
}

// Every stored folder below `root` (by ParentId), parents before children.
std::vector<const storage::Folder*> descendants(const std::vector<storage::Folder>& stored,
                                                const std::string& root) {
  std::vector<const storage::Folder*> out;
  std::vector<std::string> frontier{root};
  while (!frontier.empty() && out.size() < stored.size()) {
    std::vector<std::string> next;
    for (const storage::Folder& f : stored) {
      if (std::find(frontier.begin(), frontier.end(), normParent(f.parent_id)) != frontier.end() &&
          f.server_id != root) {
        out.push_back(&f);
        next.push_back(f.server_id);
      }
    }
    frontier = std::move(next);
  }
  return out;
}

// A device-given display name: non-empty, short, valid UTF-8, no IMAP
// wildcard, no hierarchy delimiter (it would create a hierarchy level).
bool validName(std::string_view name, char delimiter, std::string* encoded) {
  if (name.empty() || name.size() > kMaxNameBytes) return false;
  if (name.find_first_of("*%") != std::string_view::npos) return false;
  if (delimiter != 0 && name.find(delimiter) != std::string_view::npos) return false;
  if (name == "." || name == "..") return false;
  auto e = encodeMailboxName(name);
  if (!e) return false;
  *encoded = std::move(*e);
  return true;
}

// Whether a sibling under `parent_id` already has this display name, in the
// stored hierarchy (ignoring `self`) or under that backend name on the server.
bool nameTaken(const std::vector<storage::Folder>& stored,
               const std::vector<backend::FolderInfo>& backend, const std::string& parent_id,
               std::string_view display_name, const std::string& backend_name,
               std::string_view self) {
  for (const storage::Folder& f : stored)
    if (f.server_id != self && normParent(f.parent_id) == parent_id &&
        f.display_name == display_name)
      return true;
  const backend::FolderInfo* b = findBackend(backend, backend_name);
  if (!b) return false;
  const storage::Folder* s = findStored(stored, self);
  return !(s && s->backend_id == backend_name);
}

// Backend name of a new child of `parent_id` ("0" = top level).
bool childName(const std::vector<storage::Folder>& stored,
               const std::vector<backend::FolderInfo>& backend, const std::string& parent_id,
               const std::string& encoded_leaf, std::string* out, int* status,
               std::string* reason) {
  if (parent_id == "0") {
    *out = encoded_leaf;
    return true;
  }
  const storage::Folder* parent = findStored(stored, parent_id);
  const backend::FolderInfo* pinfo = parent ? findBackend(backend, parent->backend_id) : nullptr;
  if (!parent || !pinfo) {  // unknown to the device, or gone from the server
    *reason = "folderops.parent_not_found";
    return false;
  }
  if (pinfo->delimiter == 0) {
    *status = kMalformed;
    *reason = "folderops.flat_namespace";
    return false;
  }
  *out = pinfo->name + pinfo->delimiter + encoded_leaf;
  return true;
}

}  // namespace

std::optional<std::string> encodeMailboxName(std::string_view in) { return encodeModifiedUtf7(in); }

bool isSpecialFolder(const storage::Folder& folder,
                     const std::vector<backend::FolderInfo>& backend) {
  if (folder.type != kTypeUserMail) return true;
  const backend::FolderInfo* b = findBackend(backend, folder.backend_id);
  return b && b->role != backend::FolderRole::kNone;
}

FolderOpPlan planFolderCreate(const std::vector<storage::Folder>& stored,
                              const std::vector<backend::FolderInfo>& backend, FolderMode mode,
                              std::string_view parent_id_in, std::string_view display_name,
                              int type, const std::string& new_server_id) {
  // Type 1 (generic) and 12 (mail) are IMAP folders; 13-17 would be DAV
  // collections (no groupware backend yet); 2-11, 18, 19 are default folders.
  if (type != 1 && type != kTypeUserMail)
    return refuse(kMalformed, type >= 13 && type <= 17 ? "folderops.type_unsupported"
                                                       : "folderops.default_type");
  // The device syncs default folders only: a new mail folder would never
  // reach it (FolderSync leaves it out).
  if (mode == FolderMode::kDefaultOnly)
    return refuse(kCreateSpecialParent, "folderops.default_folders_only");
  const std::string parent_id = normParent(parent_id_in);
  const storage::Folder* parent = parent_id == "0" ? nullptr : findStored(stored, parent_id);
  if (parent_id != "0" && !parent)
    return refuse(kCreateParentNotFound, "folderops.parent_not_found");
  if (parent && parent->type == 19)  // the Recipient information cache
    return refuse(kCreateSpecialParent, "folderops.special_parent");
  char delimiter = mailboxDelimiter(backend);
  if (parent)
    if (const backend::FolderInfo* pi = findBackend(backend, parent->backend_id))
      delimiter = pi->delimiter;
  std::string leaf;
  if (!validName(display_name, delimiter, &leaf)) return refuse(kMalformed, "folderops.bad_name");
  std::string name;
  int status = kCreateParentNotFound;
  std::string reason;
  if (!childName(stored, backend, parent_id, leaf, &name, &status, &reason))
    return refuse(status, reason);
  if (nameTaken(stored, backend, parent_id, display_name, name, {}))
    return refuse(kCreateNameExists, "folderops.name_exists");

  FolderOpPlan p;
  p.imap_create = name;
  storage::Folder f;
  f.server_id = new_server_id;
  f.backend_id = name;
  f.parent_id = parent_id;
  f.type = type;
  f.display_name = std::string(display_name);
  p.changes.push_back({storage::FolderChange::Kind::kAdd, f});
  p.device_changes = p.changes;
  return p;
}

FolderOpPlan planFolderDelete(const std::vector<storage::Folder>& stored,
                              const std::vector<backend::FolderInfo>& backend,
                              std::string_view server_id) {
  const storage::Folder* f = findStored(stored, server_id);
  if (!f) return refuse(kNotFound, "folderops.not_found");
  if (isSpecialFolder(*f, backend)) return refuse(kDeleteSpecial, "folderops.special_folder");
  std::vector<const storage::Folder*> below = descendants(stored, f->server_id);
  for (const storage::Folder* d : below)
    if (isSpecialFolder(*d, backend)) return refuse(kDeleteSpecial, "folderops.special_child");

  FolderOpPlan p;
  // Children first (deepest last in `below`), so no server keeps a
  // \Noselect parent behind; only names the server still has.
  for (auto it = below.rbegin(); it != below.rend(); ++it)
    if (findBackend(backend, (*it)->backend_id)) p.imap_deletes.push_back((*it)->backend_id);
  if (findBackend(backend, f->backend_id)) p.imap_deletes.push_back(f->backend_id);
  storage::FolderChange del;
  del.kind = storage::FolderChange::Kind::kDelete;
  del.folder = *f;
  p.device_changes.push_back(del);
  p.changes.push_back(del);
  p.reset_collections.push_back(f->server_id);
  for (const storage::Folder* d : below) {
    storage::FolderChange c;
    c.kind = storage::FolderChange::Kind::kDelete;
    c.folder = *d;
    p.changes.push_back(c);
    p.reset_collections.push_back(d->server_id);
  }
  return p;
}

FolderOpPlan planFolderUpdate(const std::vector<storage::Folder>& stored,
                              const std::vector<backend::FolderInfo>& backend,
                              std::string_view server_id, std::string_view parent_id_in,
                              std::string_view display_name) {
  const storage::Folder* f = findStored(stored, server_id);
  if (!f) return refuse(kNotFound, "folderops.not_found");
  if (isSpecialFolder(*f, backend))
    return refuse(kUpdateSpecialOrExists, "folderops.special_folder");
  const backend::FolderInfo* info = findBackend(backend, f->backend_id);
  if (!info) return refuse(kNotFound, "folderops.gone_from_server");
  const std::string parent_id = normParent(parent_id_in);
  const storage::Folder* parent = parent_id == "0" ? nullptr : findStored(stored, parent_id);
  if (parent_id != "0" && !parent)
    return refuse(kUpdateParentNotFound, "folderops.parent_not_found");
  if (parent && parent->type == 19) return refuse(3, "folderops.special_parent");
  std::vector<const storage::Folder*> below = descendants(stored, f->server_id);
  if (parent_id == f->server_id ||
      std::any_of(below.begin(), below.end(),
                  [&](const storage::Folder* d) { return d->server_id == parent_id; }))
    return refuse(kMalformed, "folderops.move_into_itself");
  char delimiter = info->delimiter != 0 ? info->delimiter : mailboxDelimiter(backend);
  std::string leaf;
  if (!validName(display_name, delimiter, &leaf)) return refuse(kMalformed, "folderops.bad_name");
  std::string name;
  int status = kUpdateParentNotFound;
  std::string reason;
  if (!childName(stored, backend, parent_id, leaf, &name, &status, &reason))
    return refuse(status, reason);
  if (nameTaken(stored, backend, parent_id, display_name, name, f->server_id))
    return refuse(kUpdateSpecialOrExists, "folderops.name_exists");

  FolderOpPlan p;
  storage::Folder moved = *f;
  moved.parent_id = parent_id;
  moved.display_name = std::string(display_name);
  moved.backend_id = name;
  if (name != f->backend_id) {
    p.imap_rename_from = f->backend_id;
    p.imap_rename_to = name;
  }
  p.changes.push_back({storage::FolderChange::Kind::kUpdate, moved});
  p.device_changes = p.changes;
  // IMAP RENAME takes the children along: their backend names follow.
  if (name != f->backend_id && info->delimiter != 0) {
    const std::string from = f->backend_id + info->delimiter;
    const std::string to = name + info->delimiter;
    for (const storage::Folder* d : below) {
      if (d->backend_id.rfind(from, 0) != 0) continue;
      storage::Folder c = *d;
      c.backend_id = to + d->backend_id.substr(from.size());
      p.changes.push_back({storage::FolderChange::Kind::kUpdate, c});
    }
  }
  return p;
}

}  // namespace eas::sync
