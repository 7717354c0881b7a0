#include "core/commands/smart_reply_command.h"

#include "core/commands/compose_command.h"

namespace eas::commands {

std::unique_ptr<Command> makeSmartReplyCommand() { return makeComposeCommand(ComposeKind::kSmartReply); }

}  // namespace eas::commands
