// What FolderCreate, FolderDelete and FolderUpdate share (CMD §2.2.1.3,
// §2.2.1.4, §2.2.1.6; protocol.md §3.4): the FolderSync SyncKey check, the
// device's folder mode, the stored and the backend hierarchy, the IMAP
// operation, the commit of the new FolderSync key with the device's own
// change, and the reply. The decisions are core/sync/folder_ops (pure).
//
// SyncKey: no element (or no body) = 10; empty, non-numeric, 0, unknown or
// the previous key = 9 (the device runs FolderSync first). On success the
// reply carries key+1 and the stored hierarchy holds the device's change, so
// the next FolderSync with key+1 does not echo it; a FolderSync with the old
// key (the reply was lost) gets a FolderSync answer that carries key+1 and
// the change. A refusal carries no SyncKey and changes nothing.
// Failures: store or IMAP unreachable = 6; a create or rename onto an
// existing name = 2; another IMAP refusal = 11.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/commands/command.h"
#include "core/sync/folder_ops.h"

namespace eas::commands {

struct FolderOpInputs {
  const std::vector<storage::Folder>& stored;
  const std::vector<backend::FolderInfo>& backend;
  sync::FolderMode mode;
};

struct FolderOpSpec {
  wbxml::Tag root;  // FolderCreate / FolderDelete / FolderUpdate
  const char* name;  // for log lines: "foldercreate"
  bool needs_new_id = false;  // FolderCreate: a ServerId is minted
  // Parses the command's own elements; nullopt = malformed (Status 10).
  // Then plans against the hierarchies; `new_id` is "" until reserved.
  std::function<std::optional<sync::FolderOpPlan>(const wbxml::Element& root,
                                                  const FolderOpInputs& in,
                                                  const std::string& new_id)>
      plan;
};

CommandReply runFolderOp(CommandContext& ctx, const FolderOpSpec& spec);

}  // namespace eas::commands
