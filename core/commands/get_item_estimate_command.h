// GetItemEstimate (CMD §2.2.1.9; protocol.md §3.6): for each collection,
// how many items the next Sync from its SyncKey would send: the Deletes,
// Changes and Adds of core/sync/email_window planned over one unbounded
// window, from core/commands/email_collection's pendingEmailChanges under
// the FilterType cutoff (the same two functions Sync uses, so both agree).
//
// Request: Collections/Collection with airsync:SyncKey and CollectionId;
// FilterType directly under Collection (2.5/12.x) or in airsync:Options
// (12.1+), both accepted in every version; without one, the FilterType of
// the collection's sticky Sync Options (request cache "sync") applies, and
// the MaxEmailAgeFilter policy bounds either, as in Sync. Class is
// accepted and ignored; ConversationMode (sent, else the cached Sync's)
// counts older mail of a thread in the window, as Sync sends it.
// Per-collection Status: 1 ok, 2 collection not in the device's folder map
// (another user's ids included), 3 SyncKey 0 (not primed), 4 SyncKey neither
// current nor previous. A FilterType outside 0..8, a missing SyncKey or
// CollectionId, or more than 1000 collections fail the whole request
// (InvalidXML: Status 103 on 14.0+, HTTP 400 before). The SyncKey is never
// advanced.
#pragma once

#include <memory>

#include "core/commands/command.h"

namespace eas::commands {

std::unique_ptr<Command> makeGetItemEstimateCommand();

}  // namespace eas::commands
