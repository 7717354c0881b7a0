// MailSubmitter over SMTP with Poco's SMTPClientSession: one connection per
// submit() (sends are rare next to syncs; no idle connection to keep
// alive), plain, STARTTLS or SMTPS (the certificate checked against a CA
// file and the host name), AUTH PLAIN/LOGIN with fixed or the device user's
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
  // AUTH (PLAIN, else LOGIN, whichever the server offers after EHLO; over
  // STARTTLS/SMTPS only after TLS is up) before MAIL FROM. The credentials
  // are auth_login/auth_password when auth_login is set (one account for
  // every submit, notices included), else each Submission's login/password
  // (the device user's own).
  bool authenticate = false;
  std::string auth_login, auth_password;
  int timeout_seconds = 30;
  std::string helo_name = "localhost";
};

// Failures besides those of mail_submitter.h:
//   smtp.tls_failed       (Unavailable) TLS could not be set up: the server
//                         refused STARTTLS, the handshake failed, the chain
//                         does not lead to a trusted CA (tls_ca_file, else the
//                         system's) or the certificate does not name `host`
//                         (DNS name, or IP address when host is one). Nothing
//                         is sent after it, credentials included.
//   smtp.auth_unsupported (Internal) authenticate is set but the server offers
//                         neither PLAIN nor LOGIN (e.g. a submission port that
//                         offers AUTH only over TLS, with tls = none); the
//                         credentials are not sent.
// Never null. Thread-safe (no shared state between submits).
std::unique_ptr<MailSubmitter> makeSmtpSubmitter(const SmtpOptions& options);

// The reason for an SMTP reply code that refused a step (pure, for tests):
// 4xx smtp.temporary, 552 (RFC 5321: exceeded storage allocation, Postfix's
// "message size exceeds fixed limit") smtp.too_large, other 5xx
// smtp.rejected, no reply (code <= 0: connection closed) smtp.unavailable,
// anything else smtp.protocol.
Status statusForReply(int code, const std::string& step, const std::string& reply);

// The AUTH mechanism to use given a multi-line EHLO reply (Poco joins its
// lines with '\n'; "250-AUTH PLAIN LOGIN" or the old "250-AUTH=LOGIN"): "PLAIN"
// when offered, else "LOGIN", else "" (pure, for tests).
std::string authMechanismFor(const std::string& ehlo_reply);

}  // namespace eas::backend::smtp
