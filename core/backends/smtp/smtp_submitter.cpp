#include "core/backends/smtp/smtp_submitter.h"

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/DialogSocket.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SMTPClientSession.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>

#include <mutex>
#include <sstream>

namespace eas::backend::smtp {
namespace {

using Poco::Net::SMTPClientSession;

// Poco keeps the socket protected; STARTTLS swaps it for a TLS one over the
// same connection, as Poco's SecureSMTPClientSession does, but with our
// Context and host name (that class takes the host only from its own
// connect, which has no timeout).
class Session final : public SMTPClientSession {
 public:
  using SMTPClientSession::SMTPClientSession;
  void upgradeToTls(const std::string& host, Poco::Net::Context::Ptr ctx) {
    socket() = Poco::Net::SecureStreamSocket::attach(socket(), host, ctx);
  }
};

// A step failed with an SMTP reply: carries the code for classification.
struct ReplyError {
  int code;
  std::string step, reply;
};

void initSslOnce() {
  static std::once_flag once;
  std::call_once(once, [] { Poco::Net::initializeSSL(); });
}

Poco::Net::Context::Ptr tlsContext(const SmtpOptions& o) {
  initSslOnce();
  using Poco::Net::Context;
  Context::Params p;
  p.caLocation = o.tls_ca_file;
  p.loadDefaultCAs = o.tls_ca_file.empty();
  p.verificationMode = o.tls_verify ? Context::VERIFY_RELAXED : Context::VERIFY_NONE;
  p.verificationDepth = 9;
  return new Context(Context::TLS_CLIENT_USE, p);
}

std::string trimReply(std::string s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (char& c : s)
    if (c == '\r' || c == '\n') c = ' ';  // one log line
  return s;
}

// Sends `command` and expects a 2xx (or 3xx when `intermediate`).
void expect(Session& s, const std::string& command, const std::string& step,
            bool intermediate = false) {
  std::string reply;
  const int code = s.sendCommand(command, reply);
  const bool ok = code / 100 == (intermediate ? 3 : 2);
  if (!ok) throw ReplyError{code, step, trimReply(reply)};
}

// Everything but the transport: EHLO, TLS, AUTH, envelope, data.
void converse(Session& s, const std::string& host, const SmtpOptions& o,
              const Submission& sub, Poco::Net::Context::Ptr ctx) {
  if (o.tls == SmtpTls::kStartTls) {
    s.login(o.helo_name);  // EHLO (HELO fallback); throws SMTPException
    expect(s, "STARTTLS", "STARTTLS");
    s.upgradeToTls(host, ctx);
  }
  // RFC 3207: EHLO (again, over TLS); the AUTH login sends its own.
  if (!o.authenticate) s.login(o.helo_name);
  if (o.authenticate) {
    try {
      s.login(o.helo_name, SMTPClientSession::AUTH_PLAIN, sub.login, sub.password);
    } catch (const Poco::Net::SMTPException& e) {
      throw ReplyError{e.code() >= 400 ? e.code() : 535, "AUTH", trimReply(e.message())};
    }
  }
  expect(s, "MAIL FROM:<" + sub.envelope_from + ">", "MAIL FROM");
  for (const std::string& rcpt : sub.recipients) expect(s, "RCPT TO:<" + rcpt + ">", "RCPT TO");
  expect(s, "DATA", "DATA", /*intermediate=*/true);
  // sendMessage(istream) dot-stuffs, ends with CRLF.CRLF and checks the reply.
  std::istringstream in(sub.message);
  try {
    s.sendMessage(in);
  } catch (const Poco::Net::SMTPException& e) {
    throw ReplyError{e.code(), "DATA end", trimReply(e.message())};
  }
  std::string ignored;
  try {
    s.sendCommand("QUIT", ignored);
  } catch (const Poco::Exception&) {
    // The message is accepted; a lost QUIT changes nothing.
  }
}

bool safeAddress(const std::string& a) {
  if (a.empty() || a.size() > 254) return false;
  for (char c : a)
    if (c == '<' || c == '>' || c == '\r' || c == '\n' || c == ' ' || c == '\0') return false;
  return true;
}

class SmtpSubmitter final : public MailSubmitter {
 public:
  explicit SmtpSubmitter(SmtpOptions o) : o_(std::move(o)) {}

  Status submit(const Submission& sub) override {
    if (!safeAddress(sub.envelope_from))
      return Status::InvalidArgument("smtp.bad_address", "envelope sender");
    if (sub.recipients.empty())
      return Status::InvalidArgument("smtp.no_recipients", "no RCPT TO");
    for (const std::string& r : sub.recipients)
      if (!safeAddress(r)) return Status::InvalidArgument("smtp.bad_address", "recipient");
    const std::string where = o_.host + ":" + std::to_string(o_.port);
    try {
      const Poco::Timespan timeout(static_cast<long>(o_.timeout_seconds), 0);
      Poco::Net::SocketAddress addr(o_.host, static_cast<Poco::UInt16>(o_.port));
      Poco::Net::Context::Ptr ctx;
      if (o_.tls != SmtpTls::kNone) ctx = tlsContext(o_);
      Poco::Net::StreamSocket socket;
      if (o_.tls == SmtpTls::kSmtps) {
        Poco::Net::SecureStreamSocket secure(ctx);
        secure.setPeerHostName(o_.host);
        secure.connect(addr, timeout);
        socket = secure;
      } else {
        socket.connect(addr, timeout);
      }
      socket.setReceiveTimeout(timeout);
      socket.setSendTimeout(timeout);
      Session session(socket);
      session.setTimeout(timeout);
      converse(session, o_.host, o_, sub, ctx);
      return Status::Ok();
    } catch (const ReplyError& e) {
      return statusForReply(e.code, e.step, e.reply);
    } catch (const Poco::Net::SMTPException& e) {
      return statusForReply(e.code(), "EHLO", trimReply(e.message()));
    } catch (const Poco::TimeoutException& e) {
      return Status::Unavailable("smtp.unavailable", where + ": timeout " + e.displayText());
    } catch (const Poco::Net::SSLException& e) {
      return Status::Unavailable("smtp.unavailable", where + ": TLS " + e.displayText());
    } catch (const Poco::Net::NetException& e) {
      return Status::Unavailable("smtp.unavailable", where + ": " + e.displayText());
    } catch (const Poco::IOException& e) {
      return Status::Unavailable("smtp.unavailable", where + ": " + e.displayText());
    } catch (const Poco::Exception& e) {
      return Status::Unavailable("smtp.unavailable", where + ": " + e.displayText());
    } catch (const std::exception& e) {
      return Status::Internal("smtp.protocol", where + ": " + e.what());
    }
  }

 private:
  const SmtpOptions o_;
};

}  // namespace

Status statusForReply(int code, const std::string& step, const std::string& reply) {
  // No status line at all: the server closed the connection (or timed out).
  if (code <= 0) return Status::Unavailable("smtp.unavailable", step + ": no reply " + reply);
  const std::string what = step + " answered " + std::to_string(code) + " " + reply;
  if (step == "AUTH" && code >= 500 && code < 600)
    return Status::PermissionDenied("smtp.auth_failed", what);
  if (code >= 400 && code < 500) return Status::Unavailable("smtp.temporary", what);
  if (code == 552) return Status::LimitExceeded("smtp.too_large", what);
  if (code >= 500 && code < 600) return Status::Internal("smtp.rejected", what);
  return Status::Internal("smtp.protocol", what);
}

std::unique_ptr<MailSubmitter> makeSmtpSubmitter(const SmtpOptions& options) {
  return std::make_unique<SmtpSubmitter>(options);
}

}  // namespace eas::backend::smtp
