// The Email item class (MS-ASEMAIL, MS-ASAIRS): an RFC 5322 message plus its
// IMAP flags, turned into what a Sync, ItemOperations or Search response puts
// in ApplicationData / Properties, for every protocol version.
//
// parseEmail() never throws and never fails on a broken message: it returns
// what it could read with a list of warnings (one log line per message). Only
// an empty input is an error ("mime.empty").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "core/protocol/protocol_version.h"  // the enum only (header-only use)

namespace eas::wbxml {
class Writer;
}

namespace eas::items {

// Follow-up flag details IMAP cannot hold (only \Flagged); the metadata store
// may keep them. Times are unix seconds, UTC.
struct FlagDetails {
  int status = 2;  // 0 cleared, 1 complete, 2 active (EMAIL §2.2.2.74)
  std::string flag_type = "for Follow Up";
  std::optional<std::int64_t> start_date, due_date, complete_time, reminder_time;
};

// What IMAP (and the metadata store) says about the message besides its bytes.
struct MessageMeta {
  std::int64_t internal_date = 0;  // unix seconds; 0: unknown, Date: is used
  bool seen = false, flagged = false, answered = false, forwarded = false, draft = false;
  // The message's categories, decoded from its IMAP keywords, markers such
  // as $MDNSent or NonJunk left out (metaFromBackend does both).
  std::vector<std::string> keywords;
  // FileReference = escaped "<prefix>:<MIME part>", e.g. "5:17" -> "5:17:2".
  std::string file_reference_prefix;
  // The user's own addresses (lower case compare); empty: ReceivedAsBcc unknown.
  std::vector<std::string> user_addresses;
  bool in_drafts_folder = false;
  std::optional<FlagDetails> flag_details;     // overrides what \Flagged implies
  std::optional<std::int64_t> last_verb_time;  // when \Answered/$Forwarded was set
};

struct EmailFlag {
  int status = 0;  // 0: no flag (an empty <Flag/> is written)
  std::string flag_type;
  std::optional<std::int64_t> start_date, due_date, complete_time, reminder_time;
};

struct EmailAttachment {
  std::string display_name;
  std::string file_reference;        // opaque, <= 64 characters (see fileReference())
  std::string part;                  // IMAP section number, e.g. "2" or "1.2"
  std::string content_type;          // "image/png"
  int method = 1;                    // 1 normal, 5 embedded message (AIRS §2.2.2.31)
  std::uint64_t estimated_size = 0;  // decoded bytes
  bool is_inline = false;
  std::string content_id;  // without the angle brackets
  std::string content_location;
};

// Every property the Email class can send, already decoded to UTF-8.
struct EmailItem {
  std::string to, cc, from, reply_to, sender, bcc;  // "Name" <addr>, comma separated
  std::string display_to;                           // display names, "; " separated
  std::string subject, thread_topic;
  std::optional<std::int64_t> date_received;  // unix seconds
  int importance = 1;                         // 0 low, 1 normal, 2 high
  bool read = false;
  EmailFlag flag;
  std::string content_class = "urn:content-classes:message";
  std::string message_class = "IPM.Note";
  int internet_cpid = 65001;  // all text is sent as UTF-8
  int native_body_type = 1;   // 1 plain, 2 HTML
  std::vector<std::string> categories;
  std::vector<EmailAttachment> attachments;
  // Email2 (14.0+)
  std::string conversation_id;     // 16 bytes, OPAQUE
  std::string conversation_index;  // 5 bytes per thread level, OPAQUE
  int last_verb_executed = 0;      // 0 unknown, 1 reply to sender, 3 forward
  std::optional<std::int64_t> last_verb_time;
  std::optional<bool> received_as_bcc;  // absent when the user's addresses are unknown
  bool is_draft = false;
  // Threading inputs, kept for callers (Search, conversation mode).
  std::string message_id;
  std::vector<std::string> references;
  // Body candidates (UTF-8). A missing one is derived from the other on output.
  bool has_plain = false, has_html = false;
  std::string plain_body, html_body;
  std::string mime;  // the raw message, for Type 4 / MIMEData
  bool is_smime = false;
  std::vector<std::string> warnings;  // what could not be read, e.g. "mime.bad_charset:foo"
};

Result<EmailItem> parseEmail(std::string_view rfc822, const MessageMeta& meta);

// "5:17" + "2" -> "5:17:2": bytes outside [A-Za-z0-9._~:-] percent-encoded. A
// result longer than 64 characters becomes "~<32 hex of SHA-256(prefix)>:<part>"
// (or "~<40 hex>" when even that is too long), which the caller must map back.
std::string fileReference(std::string_view prefix, std::string_view part);
// The inverse for the unhashed form: {prefix, part}; nullopt for a hashed or
// malformed reference.
std::optional<std::pair<std::string, std::string>> parseFileReference(std::string_view ref);

// ---- Output -------------------------------------------------------------------

// The negotiated protocol version as the encoder sees it.
struct ProtocolVersionView {
  int major = 14;
  int minor = 1;
  static ProtocolVersionView of(protocol::ProtocolVersion v) {
    switch (v) {
      case protocol::ProtocolVersion::k25:
        return {2, 5};
      case protocol::ProtocolVersion::k120:
        return {12, 0};
      case protocol::ProtocolVersion::k121:
        return {12, 1};
      case protocol::ProtocolVersion::k140:
        return {14, 0};
      case protocol::ProtocolVersion::k141:
        return {14, 1};
      case protocol::ProtocolVersion::k160:
        return {16, 0};
      case protocol::ProtocolVersion::k161:
        return {16, 1};
    }
    return {14, 1};
  }
};

// Which Email-class elements a version has, resolved once (the only place in
// core/items that compares versions).
struct EmailFeatures {
  bool air_sync_base = true;    // 12.0+: AirSyncBase Body/Attachments; else Email:Body (2.5)
  bool flag = true;             // 12.0+: Email:Flag, ContentClass, InternetCPID, NativeBodyType
  bool email2 = true;           // 14.0+: ConversationId/Index, LastVerb*, ReceivedAsBcc, Sender
  bool categories = true;       // 14.0+
  bool preview = true;          // 14.0+: AirSyncBase:Preview
  bool draft_elements = false;  // 16.0+: Email2:IsDraft, Email2:Bcc
};
EmailFeatures emailFeaturesFor(ProtocolVersionView v);

// One airsyncbase:BodyPreference of the request.
struct BodyPreference {
  int type = 1;  // 1 plain, 2 HTML, 3 RTF (served as plain), 4 MIME
  std::optional<std::uint32_t> truncation_size;
  bool all_or_none = false;
  std::uint32_t preview = 0;  // 0: none; at most 255 characters
};

struct BodyRequest {
  std::vector<BodyPreference> preferences;  // 12.0+; empty: whole plain-text body
  int mime_support = 0;                     // 0 never, 1 S/MIME only, 2 always
  // 2.5: Email:Body truncation in bytes (absent: whole body) and MIMETruncation.
  std::optional<std::uint32_t> truncation_bytes;
  std::optional<std::uint32_t> mime_truncation_bytes;
};

// 2.5 codes to byte limits (absent: no truncation).
// AirSync:Truncation 0..9 (0 headers only ... 9 all; Z-Push SYNC_TRUNCATION_*).
std::optional<std::uint32_t> truncationBytesForCode(int code);
// AirSync:MIMETruncation 0..8 (CMD §2.2.3.111).
std::optional<std::uint32_t> mimeTruncationBytesForCode(int code);

// The body as it goes on the wire.
struct BodyOutput {
  int type = 1;
  std::string data;                  // possibly truncated; empty with all_or_none
  std::uint64_t estimated_size = 0;  // bytes of the whole body in this type
  bool truncated = false;
  std::string preview;  // empty: no Preview element
};
BodyOutput selectBody(const EmailItem& item, const BodyRequest& req, const EmailFeatures& f);

// Writes the children of ApplicationData (Sync) or Properties (ItemOperations,
// Search); the caller opens and closes the container.
void writeEmailApplicationData(wbxml::Writer& w, const EmailItem& item, const BodyRequest& req,
                               const ProtocolVersionView& version);

// "2026-12-01T06:01:20.000Z" (MS-ASDTYPE dateTime).
std::string formatDateTime(std::int64_t unix_seconds);

}  // namespace eas::items
