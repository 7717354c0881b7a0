// Sync (CMD §2.2.1.21) for Email collections: SyncKey rules with the
// store's per-collection replay, windows with MoreAvailable, the empty and
// Partial requests of 12.1+ (request cache), Options (sticky), device
// commands (Change Read/Flag, Delete with DeletesAsMoves, Fetch) and every
// Sync status that applies. Wait / HeartbeatInterval are validated and the
// request is answered at once (never parked).
#pragma once

#include <memory>

#include "core/commands/command.h"

namespace eas::commands {

std::unique_ptr<Command> makeSyncCommand();

}  // namespace eas::commands
