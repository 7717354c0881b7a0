// FolderSync (CMD §2.2.1.5; protocol.md §3.3): the mail folder hierarchy
// with EAS types, incremental Add/Update/Delete against the hierarchy stored
// for the device (core/sync/folder_hierarchy), stable ServerIds.
//
// SyncKey rules: 0 = the whole hierarchy (ServerIds kept); the current key =
// the changes since (the same key again when nothing changed); the previous
// key (its answer was lost) = the very bytes sent then; anything else,
// including an empty or non-numeric key = Status 9. No SyncKey element = 10.
// The store or the IMAP server unavailable = 6 (server error, retry), with
// nothing committed.
#pragma once

#include <memory>

#include "core/commands/command.h"

namespace eas::commands {

std::unique_ptr<Command> makeFolderSyncCommand();

}  // namespace eas::commands
