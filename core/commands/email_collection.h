// What Sync and GetItemEstimate share about an Email collection: from the
// state a SyncKey stands for, the changes the backend has for the device,
// restricted by the FilterType in force. I/O glue (backend calls); the
// window arithmetic is core/sync/email_window.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/backends/mail_backend.h"
#include "core/base/status.h"
#include "storage/metadata_store.h"

namespace eas::commands {

// AirSync FilterType for Email (CMD §2.2.3.69): 0 all, 1 one day, 2 three
// days, 3 one week, 4 two weeks, 5 one month, 6 three months, 7 six months.
// Returns the oldest time to sync, or nullopt for "all" (0) and values
// that do not apply to Email (8 incomplete tasks). The caller rejects
// values outside 0..8 (Sync Status 4 / GetItemEstimate Status 2... per spec).
std::optional<std::int64_t> emailFilterCutoff(int filter_type, std::int64_t now);

// The stricter (more recent) of two cutoffs, e.g. the device's FilterType
// and the policy's "past mail items".
std::optional<std::int64_t> stricterCutoff(std::optional<std::int64_t> a,
                                           std::optional<std::int64_t> b);

// The Sync request cache's name in the store (core/commands/sync_request.h
// has its format).
inline constexpr std::string_view kSyncCacheName = "sync";

// The "past mail items" policy (MaxEmailAgeFilter, a FilterType value) in
// effect for the device, as a cutoff; nullopt when none is set or the
// policies cannot be read (the device's own filter then applies alone).
std::optional<std::int64_t> policyEmailCutoff(storage::MetadataStore& store,
                                              const storage::DeviceRef& ref, std::int64_t now);

// The FilterType the device's next Sync of `collection_id` applies: the one
// of its last Sync that had Options (the Sync request cache); nullopt = all
// mail. For commands that carry none (Ping; GetItemEstimate without one).
std::optional<int> stickyFilterType(storage::MetadataStore& store, const storage::DeviceRef& ref,
                                    const std::string& collection_id);
// The same for every collection at once (one store read): collection id ->
// FilterType, for those whose last Sync with Options set one.
std::map<std::string, int> stickyFilterTypes(storage::MetadataStore& store,
                                             const storage::DeviceRef& ref);

// changesSince(folder, state's watermark, state's items), with the added
// messages older than `cutoff` left out (UID SEARCH SINCE). Flag changes
// and expunges of items the device holds are kept whatever their age.
// With `conversation_mode` (Sync ConversationMode=1, 14.0+), a message older
// than the cutoff that the device does not hold is added when it shares its
// ConversationId (as core/items computes it) with an added message inside
// the window; that costs, only when something new is inside the window, one
// UID SEARCH BEFORE and, if older mail is missing on the device, one UID
// FETCH of header blocks (those and the new ones). Without a cutoff the flag
// changes nothing.
// Errors are the backend's (imap.uidvalidity_changed: re-sync the folder).
Result<backend::Changes> pendingEmailChanges(backend::MailBackend& mail, const std::string& folder,
                                             const storage::SyncState& state,
                                             std::optional<std::int64_t> cutoff,
                                             bool conversation_mode = false);

}  // namespace eas::commands
