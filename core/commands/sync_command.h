// Sync (CMD §2.2.1.21) for Email collections: SyncKey rules with the
// store's per-collection replay, windows with MoreAvailable, the empty and
// Partial requests of 12.1+ (request cache), Options (sticky), device
// commands (Change Read/Flag, Delete with DeletesAsMoves, Fetch) and every
// Sync status that applies. A Sync with Wait / HeartbeatInterval (validated:
// 14 with Limit) that finds nothing in any collection is parked in the
// Services' PushHub until a change event for one of its folders (re-run;
// still nothing: keeps waiting) or its interval ends (the same "nothing"
// answer); without a hub it is answered at once. Every Sync ends the
// device's parked Ping or Sync (PushHub::endDevice).
#pragma once

#include <memory>

#include "core/commands/command.h"

namespace eas::commands {

std::unique_ptr<Command> makeSyncCommand();

}  // namespace eas::commands
