// MoveItems (CMD §2.2.1.12; protocol.md §3.9): moves Email items between
// the device's mail folders with IMAP MOVE (UIDPLUS gives the new UID).
//
// Per Move, in request order, a Response with SrcMsgId, Status and, on
// success, DstMsgId "<DstFldId>:<new uid>". Status (CMD §2.2.3.177.10):
//   3 moved;
//   1 SrcFldId not a folder of this device (or gone from the server), or
//     SrcMsgId not "<SrcFldId>:<uid>", or no such message (already moved);
//   2 DstFldId not a folder of this device (or gone from the server);
//   4 SrcFldId == DstFldId;
//   5 more than one DstFldId, or the server refused the move;
//   7 the IMAP server is unreachable (transient: retry).
// MS-ASCMD defines no Status 6 for MoveItems. Ids are resolved in the
// authenticated user's own hierarchy (per device), so another user's ids
// name nothing here (Status 1 or 2). No body = 103 (HTTP 400 on 12.x); more
// than 1000 Move elements = 103 (CMD §3.1.5.10).
//
// Item maps: the Sync state of either collection is not touched (a state
// can only move with its SyncKey). The source's next Sync therefore sends a
// Delete of the SrcMsgId the device has already removed (harmless: the
// device no longer has that ServerId), and the destination's next Sync sends
// the message once, as an Add whose ServerId is the DstMsgId returned here.
#pragma once

#include <memory>

#include "core/commands/command.h"

namespace eas::commands {

std::unique_ptr<Command> makeMoveItemsCommand();

}  // namespace eas::commands
