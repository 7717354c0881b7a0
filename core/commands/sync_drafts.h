// 16.x drafts in a Sync of the Drafts collection (CMD §2.2.3.7.2/.24,
// EMAIL §2.2.2.69 Send, AIRS §2.2.2.2 Add / §2.2.2.21 Delete):
//   - an Add or a Change with message fields builds the draft
//     (core/items/draft_mime) from To, Cc, email2:Bcc, Subject,
//     airsyncbase:Body and airsyncbase:Attachments (Add: ClientId,
//     DisplayName, Method, Content as WBXML opaque (base64 text accepted),
//     ContentType, ContentId, ContentLocation, IsInline; Delete: FileReference
//     of this draft) and APPENDs it with \Draft \Seen; a Change expunges the
//     old draft (the device then gets Delete old + Add new). Each added
//     attachment is answered {ClientId, FileReference} (AIRS §2.2.2.7).
//   - email2:Send (beside ApplicationData) then submits the stored draft
//     over SMTP (From the user, envelope To/Cc/Bcc, no Bcc header), APPENDs
//     the copy (with Bcc) to Sent Items \Seen and expunges the draft.
// Item statuses, each with a log line and reason token:
//   6   sync.bad_attachment (an Add without ClientId/DisplayName/Method/
//       Content, a Delete in an Add, too many), sync.draft_not_stored
//   8   sync.unknown_attachment (a FileReference not of this draft's
//       attachments), sync.draft_gone (the draft to change is not there)
//   183 sync.draft_no_recipients (Send without a usable To/Cc/Bcc; kept)
//   120 / 122 / 110 the submission failed (smtp.* reasons as ComposeMail
//       answers them; not configured: sync.send_not_configured); kept.
// Only an unreachable IMAP server (imap.unavailable) is returned as an
// error: the whole collection then answers 16 with nothing committed.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/backends/mail_backend.h"
#include "core/backends/mail_submitter.h"
#include "core/base/status.h"
#include "core/commands/sync_request.h"

namespace eas::commands {

struct DraftContext {
  backend::MailBackend* mail = nullptr;  // REQUIRES: non-null
  std::string folder;                    // IMAP name of the Drafts collection
  std::string collection_id;
  std::string sent_folder;               // IMAP name of Sent Items; "" -> by SPECIAL-USE
  std::string user_address, password;    // From / MAIL FROM; SMTP AUTH if configured
  std::int64_t now = 0;                  // Date: (unix seconds)
  backend::MailSubmitter* smtp = nullptr;  // null: a Send answers 110
};

struct DraftOutcome {
  int status = 1;          // the item's Status
  std::uint32_t uid = 0;   // the draft stored by this command (0: none)
  bool sent = false;       // submitted (and removed from Drafts)
  // Added attachments: {ClientId, FileReference} (empty once sent).
  std::vector<std::pair<std::string, std::string>> attachments;
};

// Whether a Drafts Change carries message fields (then the draft is rebuilt);
// a Change with only Read/Flag/Categories (and maybe Send) is not one.
bool changesDraftContent(const wbxml::Element& application_data);

// An Add (`previous_uid` 0) or a Change of the draft at `previous_uid`.
// REQUIRES: command.application_data is set.
Result<DraftOutcome> applyDraftCommand(const DraftContext& ctx, const SyncClientCommand& command,
                                       std::uint32_t previous_uid);

}  // namespace eas::commands
