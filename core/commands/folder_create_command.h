// FolderCreate (CMD §2.2.1.3; protocol.md §3.4). Shared flow and SyncKey
// rules: core/commands/folder_ops_common.h; decisions: core/sync/folder_ops.h.
#pragma once

#include <memory>

#include "core/commands/command.h"

namespace eas::commands {

std::unique_ptr<Command> makeFolderCreateCommand();

}  // namespace eas::commands
