// Outgoing mail as SendMail, SmartReply and SmartForward submit it
// (CMD §2.2.1.17/.19/.20): the device's RFC 5322 message made ready for
// SMTP. Pure (GMime, no I/O); never throws.
//   - envelope recipients from To, Cc and Bcc (groups expanded, each address
//     once, in header order);
//   - From forced to the authenticated user's address (the display name the
//     device gave is kept), Sender dropped;
//   - Date and Message-ID added when the device sent none;
//   - with an original: a reply quotes its text under the new text (plain
//     and HTML bodies), a forward appends its text and carries its
//     attachments (the parts are copied, so their bytes stay identical);
//     In-Reply-To / References set for a reply when missing;
//   - the message to submit has no Bcc header; the Sent copy keeps it.
// buildForward (below) makes the message itself for the 16.x form.
// Failures (InvalidArgument): compose.empty_mime, compose.bad_mime (no
// header could be read: InvalidMIME 107), compose.no_recipients (119).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"

namespace eas::items {

enum class OriginalUse { kNone, kReply, kForward };

struct OutgoingOptions {
  std::string user_address;     // the authenticated user's address ("alice@example.test")
  std::int64_t now = 0;         // unix seconds, for a missing Date
  std::string message_id_host;  // right-hand side of a generated Message-ID
};

struct OutgoingMessage {
  std::string envelope_from;            // = OutgoingOptions::user_address
  std::vector<std::string> recipients;  // bare addresses
  std::string message;                  // CRLF line ends, no Bcc header
  std::string sent_copy;                // the same with Bcc (for Sent Items)
  std::string subject;                  // decoded, for the log line
};

// `original`: the message replied to or forwarded (raw RFC 5322), used only
// when `use` is not kNone.
Result<OutgoingMessage> prepareOutgoing(std::string_view mime, const OutgoingOptions& options,
                                        std::string_view original = {},
                                        OriginalUse use = OriginalUse::kNone);

// 16.x SmartForward without Mime (CMD §2.2.3.169: airsyncbase:Body and
// Forwardees): the message is built here. From = the user, To = the
// forwardees (also the envelope), Subject "Fw: " + the original's, the
// device's note (plain or HTML, UTF-8) above the original's text as a
// forward quotes it, then the original's attachments and its text/calendar
// parts (a forwarded meeting stays an invitation), their bytes unchanged.
struct ForwardRecipient {
  std::string name;     // may be empty
  std::string address;  // bare address
};
struct BodyForward {
  std::vector<ForwardRecipient> to;
  bool html = false;  // airsyncbase:Type 2, else 1 (plain)
  std::string note;   // airsyncbase:Data, may be empty
};
// Failures: compose.no_recipients (no usable forwardee address),
// compose.bad_mime (the original has no readable header).
Result<OutgoingMessage> buildForward(const BodyForward& forward, const OutgoingOptions& options,
                                     std::string_view original);

}  // namespace eas::items
