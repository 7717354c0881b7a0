// SmartReply (protocol.md §3.14): the shared compose command (compose_command.h)
// with kind ComposeKind::kSmartReply.
#pragma once

#include <memory>

#include "core/commands/command.h"

namespace eas::commands {

std::unique_ptr<Command> makeSmartReplyCommand();

}  // namespace eas::commands
