// GetAttachment (CMD §2.2.1.8; 2.5 to 12.1 only, the command table's range):
// Cmd=GetAttachment&AttachmentName=<FileReference>, no request body. The
// reply is the attachment's decoded bytes with the part's Content-Type.
//
// An attachment that does not exist (or is not this device's: see
// itemops_access.h) is HTTP 500, as MS-ASCMD §2.2.1.8 says for a deleted
// attachment (reason attachment.not_found in core/status_map); an empty
// AttachmentName is 400 (getattachment.missing_name). IMAP down: the
// backend's status (503, retry later).
#pragma once

#include <memory>

#include "core/commands/command.h"

namespace eas::commands {

std::unique_ptr<Command> makeGetAttachmentCommand();

}  // namespace eas::commands
