// Ping (CMD §2.2.1.13, §3.1.5.8; protocol.md §3.7), 2.5 and 12.0+.
//
// Parameters: HeartbeatInterval within [push] min..max (else Status 5 with
// the limit), at most max_folders folders (else 6 with MaxFolders); parts
// the request leaves out come from the device's last Ping (request cache
// "ping"), with none cached Status 3; malformed Status 4.
// Folders: checked against the device's stored hierarchy. No hierarchy, or
// an id it does not know: Status 7 -- at most three times per id, after
// which the id is left out of the device's Pings and a
// "folder_push_request" notice is queued for the user (the seed's rule).
// A folder that vanished on the IMAP server: 7.
// Changes: an Email folder has changed when the backend has new, changed
// or expunged messages against the collection's current SyncKey state
// (pendingEmailChanges); folders never synced (no state) and other classes
// (no backend yet) never report changes. Status 2 lists the changed ids.
// Otherwise the request parks (Services::push) until a change event for
// one of its folders (re-checked first: a spurious event waits on), its
// heartbeat (re-checked, then 1), a newer Ping or Sync of the device
// (re-checked: 2 or 1), the client leaving (freed) or the worker draining
// (1). Store or IMAP errors: Status 8. Without a push hub, nothing parks:
// no change means Status 1 at once.
#pragma once

#include <memory>

#include "core/commands/command.h"

namespace eas::commands {

std::unique_ptr<Command> makePingCommand();

}  // namespace eas::commands
