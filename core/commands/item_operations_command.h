// ItemOperations (CMD §2.2.1.10, 12.0+; protocol.md §3.8).
//
// Fetch from Store "Mailbox":
//  - by CollectionId + ServerId ("<collection>:<uid>"), or 14.0+ LongId in
//    the same form: the whole Email item (Options: BodyPreference,
//    MIMESupport) in Properties, as Sync writes ApplicationData;
//  - by airsyncbase:FileReference: the attachment's decoded bytes, with an
//    optional Range "m-n" (Properties carry the Range actually sent and Total).
// EmptyFolderContents (with Options/DeleteSubFolders) deletes every message
// of the folder (and its subfolders). Move is answered Status 3 (not done).
//
// Per-operation Status (CMD §2.2.3.177.8): 1 ok, 2 malformed operation,
// 3 server error (IMAP failed), 6 item or collection not found (another
// user's ids included), 8 bad Range, 9 store other than Mailbox,
// 15 attachment or FileReference not found. Top level: 2 for a request that
// is not ItemOperations-shaped or has no operation, 11 for more than 100
// operations (CMD §3.1.5.10).
//
// Multipart (MS-ASAcceptMultiPart: T or the AcceptMultiPart query flag):
// application/vnd.ms-sync.multipart, part 0 the WBXML, each attachment's
// ItemOperations:Data replaced by <Part>n</Part>, and an item's
// airsyncbase:Body/Data by ItemOperations:Part the same way.
#pragma once

#include <memory>

#include "core/commands/command.h"

namespace eas::commands {

std::unique_ptr<Command> makeItemOperationsCommand();

}  // namespace eas::commands
