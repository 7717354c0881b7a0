// SendMail (protocol.md §3.14): the shared compose command (compose_command.h)
// with kind ComposeKind::kSendMail.
#pragma once

#include <memory>

#include "core/commands/command.h"

namespace eas::commands {

std::unique_ptr<Command> makeSendMailCommand();

}  // namespace eas::commands
