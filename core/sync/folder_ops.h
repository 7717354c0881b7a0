// FolderCreate, FolderDelete and FolderUpdate, the pure part: from the
// request, the hierarchy stored for the device and the backend's folder list,
// either the EAS status that refuses the request or the IMAP operation to do
// and the stored-hierarchy changes to commit with the new FolderSync key.
// Pure: no I/O; core/commands/folder_ops_command does the calls.
//
// Consistency with FolderSync (core/sync/folder_hierarchy): the changes put
// exactly what the device now believes into the stored hierarchy (backend
// name, parent ServerId, display name, type), so the next incremental
// FolderSync finds the folder by its backend name and reports nothing for
// it (no echo). Children of a moved or renamed folder get their new backend
// names quietly (the device moved them itself).
//
// Rules (seed: "default folders cannot be deleted or changed"; "creating
// mail folders is refused when only default folders are synchronized"):
// a special folder is a default one (FolderSync type other than 12) or one
// with a backend role (Junk, Archive).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/backends/mail_backend.h"
#include "core/sync/folder_hierarchy.h"
#include "storage/metadata_store.h"

namespace eas::sync {

// Modified UTF-7 (RFC 3501 §5.1.3) of a UTF-8 folder name; nullopt when the
// input is not valid UTF-8 (or holds a NUL).
std::optional<std::string> encodeMailboxName(std::string_view utf8);

// What a folder operation will do, or why it is refused.
struct FolderOpPlan {
  int status = 1;      // the command's EAS Status; 1 = go ahead
  std::string reason;  // stable token when refused, e.g. "folderops.special_folder"

  // The IMAP side, in this order: deletes (deepest first), then a create or
  // a rename (from -> to).
  std::vector<std::string> imap_deletes;
  std::string imap_create;
  std::string imap_rename_from, imap_rename_to;

  // The stored hierarchy: every change for commitFolderSync, and the part
  // the device is told in a replayed FolderSync (its own change).
  std::vector<storage::FolderChange> changes;
  std::vector<storage::FolderChange> device_changes;
  // Collections whose sync state goes away with them.
  std::vector<std::string> reset_collections;
};

bool isSpecialFolder(const storage::Folder& folder,
                     const std::vector<backend::FolderInfo>& backend);

// FolderCreate (CMD §2.2.1.3). `new_server_id` is used for the new folder.
// Refusals: 10 bad name or a type other than 1/12 (13-17 need a groupware
// backend we do not have); 3 folder_mode "default" (the device would never
// see the folder); 5 unknown parent; 2 the name exists under the parent.
FolderOpPlan planFolderCreate(const std::vector<storage::Folder>& stored,
                              const std::vector<backend::FolderInfo>& backend, FolderMode mode,
                              std::string_view parent_id, std::string_view display_name, int type,
                              const std::string& new_server_id);

// FolderDelete (CMD §2.2.1.4): the folder and its subfolders. Refusals: 4
// unknown ServerId; 3 a special folder (or one with a special subfolder).
FolderOpPlan planFolderDelete(const std::vector<storage::Folder>& stored,
                              const std::vector<backend::FolderInfo>& backend,
                              std::string_view server_id);

// FolderUpdate (CMD §2.2.1.6): rename and/or move. Refusals: 4 unknown
// ServerId; 2 a special folder, or the name exists under the new parent; 5
// unknown parent; 10 bad name, or a move into the folder's own subtree.
FolderOpPlan planFolderUpdate(const std::vector<storage::Folder>& stored,
                              const std::vector<backend::FolderInfo>& backend,
                              std::string_view server_id, std::string_view parent_id,
                              std::string_view display_name);

}  // namespace eas::sync
