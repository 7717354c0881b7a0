// The RFC 5322 message of a 16.x draft (MS-ASEMAIL / MS-ASAIRS 16.0: Sync
// Add and Change in the Drafts folder). Pure (GMime, no I/O); never throws.
//   - From is the user, To/Cc/Bcc/Subject as the device gave them (RFC 2047
//     where needed), Date now, a Message-ID (kept from the previous draft);
//   - the body is one UTF-8 text part (plain or HTML);
//   - attachments the device adds (airsyncbase:Attachments/Add) are base64
//     parts in a multipart/mixed after the body, in request order;
//   - on a Change, the previous draft's attachments are kept as they are
//     (the parts are copied, so their bytes stay identical) except those the
//     device deletes (Attachments/Delete names them by FileReference, which
//     the caller turns into IMAP sections); its body is kept when the device
//     sent none (AIRS: an omitted Body is not deleted).
// Failures (InvalidArgument): draft.bad_previous (the previous draft cannot
// be read as MIME), draft.unknown_attachment (a section to drop that is not
// one of the previous draft's attachments).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"

namespace eas::items {

struct DraftAttachment {
  std::string client_id;     // the device's temporary id, answered with a FileReference
  std::string display_name;  // the file name
  std::string content_type;  // "" -> application/octet-stream
  std::string content;       // decoded bytes
  std::string content_id;    // without angle brackets, "" if none
  std::string content_location;
  bool is_inline = false;
  int method = 1;  // AIRS Method (1 normal, 5 embedded message, 6 OLE)
};

struct DraftFields {
  std::string from;  // the user's address
  std::string to, cc, bcc, subject;
  // nullopt: keep the previous draft's body (or none on an Add).
  std::optional<std::string> body;
  bool html = false;  // the body is HTML (airsyncbase:Type 2)
  std::int64_t now = 0;
  std::string message_id_host;  // right-hand side of a new Message-ID
};

struct DraftMessage {
  std::string message;  // CRLF line ends, Bcc kept (a draft keeps its Bcc)
  // The IMAP section of each added attachment, in the order given.
  std::vector<std::string> added_sections;
};

// `previous`: the draft being replaced (raw RFC 5322), empty on an Add.
// `drop_sections`: IMAP sections of the previous draft's attachments to leave out.
Result<DraftMessage> buildDraft(const DraftFields& fields, std::string_view previous,
                                const std::vector<std::string>& drop_sections,
                                const std::vector<DraftAttachment>& add);

}  // namespace eas::items
