#include "core/commands/send_mail_command.h"

#include "core/commands/compose_command.h"

namespace eas::commands {

std::unique_ptr<Command> makeSendMailCommand() { return makeComposeCommand(ComposeKind::kSendMail); }

}  // namespace eas::commands
