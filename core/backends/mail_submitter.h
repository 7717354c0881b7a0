// Mail submission as the commands see it (SendMail, SmartReply,
// SmartForward, notices to users). One submit() is one SMTP transaction;
// the implementation (core/backends/smtp, Poco's SMTPClientSession) is
// built by the runtime. Thread-safe: one submitter serves all threads.
// Expected failures, each a Status with a stable reason token:
//   smtp.unavailable   no connection, timeout, connection lost (retry later)
//   smtp.auth_failed   the server refused the credentials
//   smtp.temporary     a 4xx reply to the sender, a recipient or the data
//   smtp.rejected      a 5xx reply (the message will never go as it is)
//   smtp.protocol      a reply we could not understand
//   smtp.too_large     552: the message exceeds the server's size limit
//   smtp.tls_failed    TLS could not be set up (refused STARTTLS, handshake,
//                      untrusted or misnamed certificate, unreadable CA file)
//   smtp.auth_unsupported  AUTH configured but no PLAIN/LOGIN offered
//   smtp.bad_address   (InvalidArgument) an address that cannot go into MAIL/RCPT
//   smtp.no_recipients (InvalidArgument) nothing to send to
#pragma once

#include <string>
#include <vector>

#include "core/base/status.h"

namespace eas::backend {

struct Submission {
  std::string envelope_from;            // MAIL FROM, a bare address
  std::vector<std::string> recipients;  // RCPT TO, bare addresses (To, Cc and Bcc)
  std::string message;                  // RFC 5322 bytes, CRLF line ends, no Bcc header
  // For servers that need AUTH (SmtpConfig::authenticate): the device user's.
  std::string login, password;
};

class MailSubmitter {
 public:
  virtual ~MailSubmitter() = default;
  virtual Status submit(const Submission& submission) = 0;
};

}  // namespace eas::backend
