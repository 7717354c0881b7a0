#include "core/commands/smart_forward_command.h"

#include "core/commands/compose_command.h"

namespace eas::commands {

std::unique_ptr<Command> makeSmartForwardCommand() { return makeComposeCommand(ComposeKind::kSmartForward); }

}  // namespace eas::commands
