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
// A ClientId already sent (the last kRememberedClientIds of the device, in
// the request cache "compose.client_ids") is not sent again: 118.
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
// Failures after submission (flag, Sent copy) are logged only: the mail is
// gone, and an error would make the device send it again.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

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
};

// A failed step: the 14.0+ status and the Status whose map row gives the
// 2.5/12.x HTTP code.
struct ComposeFailure {
  int eas_status = 110;
  Status status;
};

// Parses `req` (the document for 14.0+, the query and body before). Fails
// with 103 (compose.bad_request) or 104 (compose.bad_instance_id).
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

// The ClientId list as stored (one per line), and with `id` added (oldest
// dropped beyond kRememberedClientIds).
bool clientIdSeen(std::string_view stored, std::string_view id);
std::string rememberClientId(std::string_view stored, std::string_view id);

std::unique_ptr<Command> makeComposeCommand(ComposeKind kind);

}  // namespace eas::commands
