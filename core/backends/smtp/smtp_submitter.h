// MailSubmitter over SMTP with Poco's SMTPClientSession: one connection per
// submit() (sends are rare next to syncs; no idle connection to keep
// alive), plain, STARTTLS or SMTPS, AUTH PLAIN with the device user's
// credentials when configured. Poco exceptions are caught here and become
// the smtp.* reasons of core/backends/mail_submitter.h.
#pragma once

#include <memory>
#include <string>

#include "core/backends/mail_submitter.h"

namespace eas::backend::smtp {

enum class SmtpTls { kNone, kStartTls, kSmtps };

// The runtime fills this from [smtp] (fcgi/runtime/config.h SmtpConfig).
struct SmtpOptions {
  std::string host = "127.0.0.1";
  int port = 25;
  SmtpTls tls = SmtpTls::kNone;
  bool tls_verify = true;
  std::string tls_ca_file;  // empty: the system's CAs
  bool authenticate = false;
  int timeout_seconds = 30;
  std::string helo_name = "localhost";
};

// Never null. Thread-safe (no shared state between submits).
std::unique_ptr<MailSubmitter> makeSmtpSubmitter(const SmtpOptions& options);

// The reason for an SMTP reply code that refused a step (pure, for tests):
// 4xx smtp.temporary, 552 (RFC 5321: exceeded storage allocation, Postfix's
// "message size exceeds fixed limit") smtp.too_large, other 5xx
// smtp.rejected, no reply (code <= 0: connection closed) smtp.unavailable,
// anything else smtp.protocol.
Status statusForReply(int code, const std::string& step, const std::string& reply);

}  // namespace eas::backend::smtp
