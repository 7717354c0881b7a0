// Sync of an Email collection, the pure part: from what the backend reports
// changed (backend::Changes) and the item map the store holds for the
// device, which Adds, Changes and Deletes go out in one window, whether more
// is available, and the item-map changes to commit with the new SyncKey.
// Used by core/commands/sync_command.
//
// Watermark rule: the backend position may only advance when the window
// took everything; otherwise the next Sync diffs again from the old
// position against the item map (which now holds what was sent), so with
// CONDSTORE nothing left out of a window is lost.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/backends/mail_backend.h"
#include "storage/metadata_store.h"

namespace eas::sync {

inline constexpr int kDefaultWindowSize = 100;
inline constexpr int kMaxWindowSize = 512;
// Absent or < 1: the default; above the maximum: the maximum (CMD §2.2.3.199).
int effectiveWindowSize(std::optional<int> requested);

// "<collection>:<uid>"; itemUid parses it back (nullopt unless it belongs to
// `collection_id` and has a decimal UID).
std::string itemServerId(std::string_view collection_id, std::uint32_t uid);
std::optional<std::uint32_t> itemUid(std::string_view collection_id, std::string_view server_id);

// MessageFlag bits and keywords <-> the item map's text ("\Seen \Flagged
// Work ..."): flag names first, then the keywords (IMAP atoms, so no
// spaces) sorted. flagsFromText reads the bits, keywordsFromText the rest.
std::string flagsText(std::uint32_t flags);
std::string flagsText(std::uint32_t flags, const std::vector<std::string>& keywords);
std::uint32_t flagsFromText(std::string_view text);
std::vector<std::string> keywordsFromText(std::string_view text);

// The item map as the backend's known items (sorted by UID ascending);
// rows whose backend_id is not a UID are skipped.
std::vector<backend::KnownItem> knownItems(const std::vector<storage::ItemEntry>& items);

storage::Watermark toStoreWatermark(const backend::FolderState& state);
backend::Watermark toBackendWatermark(const storage::Watermark& w);

struct EmailWindow {
  std::vector<std::uint32_t> adds;              // UIDs to fetch and send as Add, newest first
  std::vector<backend::KnownItem> changes;      // flag changes to send as Change (new flags)
  std::vector<std::string> deletes;             // ServerIds to send as Delete
  bool more_available = false;
  bool advance_watermark = true;                // false when something was left out
  // Deletes and flag changes for the commit. The caller adds a kPut per Add
  // it really sent (with the flags it fetched), so a message expunged
  // between the diff and the fetch is not recorded.
  std::vector<storage::ItemChange> item_changes;
};

// Deletes first, then flag changes, then adds, `window` entries in all. A
// flag change of a message flagged \Deleted is sent as a Delete (it is gone
// for the device; expunge follows).
EmailWindow planEmailWindow(const backend::Changes& changes,
                            const std::vector<storage::ItemEntry>& items, int window);

}  // namespace eas::sync
