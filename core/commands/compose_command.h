// SendMail, SmartReply and SmartForward (CMD §2.2.1.17, .19, .20;
// protocol.md §3.14): one implementation, three commands.
//
// Request forms: 14.0+ ComposeMail WBXML (ClientId, Source {FolderId,
// ItemId, LongId, InstanceId}, ReplaceMime, SaveInSentItems, Mime); 2.5 and
// 12.x the raw message/rfc822 body with SaveInSent / ItemId / CollectionId /
// LongId in the query. ItemIds and LongIds are ServerIds "<collection>:<uid>".
//
// What happens: the original (reply/forward) is fetched over IMAP through the
// device's folder map; core/items/compose_mime prepares the message (From =
// the user, Bcc stripped, original quoted or carried unless ReplaceMime);
// it is submitted over SMTP (Services::smtp); the original gets \Answered or
// $Forwarded; SaveInSentItems APPENDs the copy (with Bcc) to Sent, \Seen.
// The ClientId is claimed in the store before anything is submitted
// (MetadataStore::claimClientId: one row per device and ClientId, so of two
// identical requests racing in different workers exactly one goes, the other
// answers 118); a failure before or at submission releases the claim so the
// device's retry can go. The newest kRememberedClientIds per device are kept.
//
// 16.0+ (Capabilities::compose_body_forward): a SmartForward may carry
// airsyncbase:Body and Forwardees instead of Mime (CMD §2.2.3.169, AIRS
// §2.2.2.9; the spec meant it for forwarding a meeting): the message is then
// built here (items::buildForward) and goes to the forwardees. SendMail and
// SmartReply have no such form (CMD §6.36 schema: Mime only).
//
// Answers: success is HTTP 200 with an empty body. A failure is one log line
// and, on 14.0+, <Root><Status>N</Status></Root>; on 2.5/12.x an HTTP code
// (through core/status_map):
//   103 / 400  not per protocol (no Mime, no Source, ClientId > 40 chars)
//   104 / 400  an InstanceId that is not a date-time
//   107 / 400  InvalidMIME (empty, unreadable)
//   110 / 500  server error: not configured, store/IMAP failure reading state
//   118 / -    MessagePreviouslySent (a ClientId seen before; 14.0+ only)
//   119 / 400  MessageHasNoRecipient
//   120 / 503  MailSubmissionFailed: SMTP down or refusing (500 when refused for good)
//   122 / 400  AttachmentIsTooLarge (SMTP 552)
//   150 / 400  ItemNotFound: unknown folder or message of the Source
//   166 / 400  InvalidAccountId (an AccountId other than the user's)
//   178 / -    InvalidMimeBodyCombination (16.0+): Mime together with Body or
//              Forwardees (compose.mime_and_body); a SmartForward with neither
//              (compose.no_mime_or_body); the Body form with SaveInSentItems,
//              ReplaceMime or rm:TemplateID (compose.body_form_options); Body,
//              Attachments or Forwardees in SendMail/SmartReply
//              (compose.body_not_allowed)
//   179 / -    InvalidSmartForwardParameters (16.0+, Body form): no Forwardee,
//              a Forwardee without a usable Email (compose.bad_forwardees), a
//              Body whose Type is not 1 or 2 (compose.bad_forward_body), any
//              other element such as airsyncbase:Attachments
//              (compose.unexpected_element)
// Failures after submission (flag, Sent copy) are logged only: the mail is
// gone, and an error would make the device send it again.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "core/commands/command.h"

namespace eas::commands {

inline constexpr std::size_t kRememberedClientIds = 64;
inline constexpr std::size_t kMaxClientIdLength = 40;  // CMD §2.2.3.28.1

enum class ComposeKind { kSendMail, kSmartReply, kSmartForward };

// The request in either form, after parsing (pure).
struct ComposeRequest {
  ComposeKind kind = ComposeKind::kSendMail;
  std::string client_id;  // empty on 2.5/12.x
  bool save_in_sent = false;
  bool replace_mime = false;
  std::string folder_id;  // Source FolderId / CollectionId
  std::string item_id;    // Source ItemId / ItemId
  std::string long_id;    // Source LongId / LongId
  std::string instance_id;
  std::string account_id;
  std::string_view mime;  // into the request's document or body
  // 16.0+ SmartForward without Mime: airsyncbase:Body and Forwardees.
  struct Forwardee {
    std::string name;
    std::string email;
  };
  bool body_form = false;
  bool body_html = false;        // airsyncbase:Type 2 (else 1, plain)
  std::string_view body_data;    // airsyncbase:Data
  std::vector<Forwardee> forwardees;
};

inline constexpr std::size_t kMaxForwardees = 500;

// A failed step: the 14.0+ status and the Status whose map row gives the
// 2.5/12.x HTTP code.
struct ComposeFailure {
  int eas_status = 110;
  Status status;
};

// Parses `req` (the document for 14.0+, the query and body before). Fails
// with 103 (compose.bad_request), 104 (compose.bad_instance_id), and on
// 16.0+ 178 / 179 (tokens in the table above).
std::optional<ComposeFailure> parseComposeRequest(const CommandRequest& req, ComposeKind kind,
                                                  ComposeRequest* out);

// The failure for a Status from compose_mime or the submitter.
ComposeFailure failureFor(const Status& status);

// The collection and UID a Source names: FolderId/CollectionId with ItemId,
// else the ServerId in ItemId or LongId ("<collection>:<uid>"). nullopt when
// nothing usable is given.
struct SourceRef {
  std::string collection_id;
  std::uint32_t uid = 0;
};
std::optional<SourceRef> sourceRef(const ComposeRequest& r);

std::unique_ptr<Command> makeComposeCommand(ComposeKind kind);

}  // namespace eas::commands
