// The folder hierarchy a device sees (FolderSync), computed from the mail
// backend's folder list and the hierarchy stored for the device. Pure: no
// I/O; the command (core/commands/folder_sync_command) does the calls.
//
// Identity: a folder keeps its ServerId while its IMAP name stays. IMAP has
// no folder identity, so a rename is recognised by name only: a vanished
// stored folder and a new backend folder are taken as one folder when
//  (1) exactly one vanished and one new folder have the same display name
//      (a folder moved to another parent), or else
//  (2) exactly one vanished and one new folder share the same parent (a
//      folder renamed in place);
// the children of a renamed folder follow it (prefix rewrite). Everything
// else is Delete + Add. A delete and a create in one parent between two
// FolderSyncs are therefore reported as an Update; the collection's Sync
// state then meets another UIDVALIDITY and is re-synced.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/backends/mail_backend.h"
#include "storage/metadata_store.h"

namespace eas::sync {

// MS-ASCMD §2.2.3.186.3 folder types used for mail.
inline constexpr int kTypeInbox = 2;
inline constexpr int kTypeDrafts = 3;
inline constexpr int kTypeDeleted = 4;
inline constexpr int kTypeSent = 5;
inline constexpr int kTypeOutbox = 6;
inline constexpr int kTypeUserMail = 12;

// Per-device setting "folder_mode": "all" (default) or "default" (only the
// default folders, types 2..6, all at the top level).
enum class FolderMode { kAll, kDefaultOnly };
inline constexpr std::string_view kFolderModeSetting = "folder_mode";
FolderMode folderModeFrom(std::string_view setting_value);

struct HierarchyPlan {
  // The hierarchy after this FolderSync, parents before children (what a
  // SyncKey 0 answer lists as Add).
  std::vector<storage::Folder> folders;
  // What the device is told, against the stored hierarchy: Adds (parents
  // first), Updates, Deletes.
  std::vector<storage::FolderChange> device_changes;
  // What the store applies: device_changes, plus Updates the device does
  // not see (the IMAP name of a child of a renamed folder).
  std::vector<storage::FolderChange> changes;
  std::size_t new_ids = 0;  // ServerIds minted
};

// `mint` gives a fresh ServerId each call (the command reserves them in the
// store). Folders that cannot be selected (\Noselect) are left out; their
// selectable children hang from the nearest listed ancestor, or the top.
HierarchyPlan planHierarchy(const std::vector<backend::FolderInfo>& backend,
                            const std::vector<storage::Folder>& stored, FolderMode mode,
                            const std::function<std::string()>& mint);

}  // namespace eas::sync
