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
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cctype>
#include <mutex>
#include <sstream>

namespace eas::backend::smtp {
namespace {

using Poco::Net::SMTPClientSession;

// Poco keeps the socket protected; STARTTLS swaps it for a TLS one over the
// same connection, as Poco's SecureSMTPClientSession does, but with our
// Context and host name (that class takes the host only from its own
// connect, which has no timeout). EHLO and the AUTH exchanges are protected
// too: we choose the mechanism from the EHLO reply ourselves.
class Session final : public SMTPClientSession {
 public:
  using SMTPClientSession::SMTPClientSession;
  void upgradeToTls(const std::string& host, Poco::Net::Context::Ptr ctx) {
    socket() = Poco::Net::SecureStreamSocket::attach(socket(), host, ctx);
  }
  // Reads the greeting first if not done yet; EHLO, HELO when refused.
  std::string ehlo(const std::string& helo_name) {
    std::string reply;
    SMTPClientSession::login(helo_name, reply);
    return reply;
  }
  void authPlain(const std::string& u, const std::string& p) { loginUsingPlain(u, p); }
  void authLogin(const std::string& u, const std::string& p) { loginUsingLogin(u, p); }
};

// A step failed with an SMTP reply: carries the code for classification.
struct ReplyError {
  int code;
  std::string step, reply;
};

// TLS could not be set up (before anything but EHLO/STARTTLS was sent).
struct TlsError {
  std::string what;
};

// The server offers no mechanism we speak.
struct NoAuthMechanism {
  std::string ehlo;
};

void initSslOnce() {
  static std::once_flag once;
  std::call_once(once, [] { Poco::Net::initializeSSL(); });
}

bool isIpAddress(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// OpenSSL's handshake error says only "certificate verify failed"; this
// verify callback keeps the first reason (e.g. "hostname mismatch at depth
// 0") in the std::string the Context's ex data points at, for the log line.
// It replaces Poco's callback, which only forwards to SSLManager's global
// handlers (a process-wide "accept anyway" handler cannot weaken ours).
int sslIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

int noteVerifyFailure(int ok, X509_STORE_CTX* store) {
  if (ok == 1) return ok;
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* note = ssl == nullptr ? nullptr
                              : static_cast<std::string*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), sslIndex()));
  if (note != nullptr && note->empty()) {
    char subject[256] = "";
    if (X509* cert = X509_STORE_CTX_get_current_cert(store))
      X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
    *note = std::string(X509_verify_cert_error_string(X509_STORE_CTX_get_error(store))) + " at depth " +
            std::to_string(X509_STORE_CTX_get_error_depth(store)) + " " + subject;
  }
  return ok;
}

// One Context per submit (sends are rare; the host name to check is part of
// it). With tls_verify the chain must lead to tls_ca_file (else the
// system's CAs) and the certificate must name `host`; OpenSSL checks both
// during the handshake. Poco's own name check is off: it resolves the
// certificate's names in DNS and compares addresses, and skips localhost.
// Throws SSLException, or FileNotFoundException for a missing CA file.
// REQUIRES: `note` outlives the Context and every socket using it.
Poco::Net::Context::Ptr tlsContext(const SmtpOptions& o, std::string* note) {
  initSslOnce();
  using Poco::Net::Context;
  Context::Params p;
  p.caLocation = o.tls_ca_file;
  p.loadDefaultCAs = o.tls_ca_file.empty();
  p.verificationMode = o.tls_verify ? Context::VERIFY_RELAXED : Context::VERIFY_NONE;
  p.verificationDepth = 9;
  Context::Ptr ctx = new Context(Context::TLS_CLIENT_USE, p);
  ctx->enableExtendedCertificateVerification(false);
  if (o.tls_verify) {
    X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ctx->sslContext());
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const int set = isIpAddress(o.host) ? X509_VERIFY_PARAM_set1_ip_asc(param, o.host.c_str())
                                         : X509_VERIFY_PARAM_set1_host(param, o.host.c_str(), 0);
    if (set != 1) throw Poco::Net::SSLContextException("cannot check the name " + o.host);
    SSL_CTX_set_ex_data(ctx->sslContext(), sslIndex(), note);
    SSL_CTX_set_verify(ctx->sslContext(), SSL_VERIFY_PEER, noteVerifyFailure);
  }
  return ctx;
}

// Runs a TLS setup step; its SSL failures (and a CA file Poco cannot find)
// become TlsError. Timeouts and lost connections stay what they are.
// `note`: the verify callback's reason, if any.
template <typename F>
auto tlsStep(const char* what, const std::string& note, F&& f) {
  const auto fail = [&](const Poco::Exception& e) {
    return TlsError{std::string(what) + ": " + e.displayText() + (note.empty() ? "" : " (" + note + ")")};
  };
  try {
    return f();
  } catch (const Poco::Net::SSLException& e) {
    throw fail(e);
  } catch (const Poco::FileException& e) {
    throw fail(e);
  }
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
              const Submission& sub, Poco::Net::Context::Ptr ctx, const std::string& note) {
  std::string ehlo = s.ehlo(o.helo_name);  // throws SMTPException
  if (o.tls == SmtpTls::kStartTls) {
    std::string reply;
    const int code = s.sendCommand("STARTTLS", reply);
    if (code <= 0) throw ReplyError{code, "STARTTLS", trimReply(reply)};
    if (code / 100 != 2)
      throw TlsError{"STARTTLS answered " + std::to_string(code) + " " + trimReply(reply)};
    tlsStep("STARTTLS handshake", note, [&] { s.upgradeToTls(host, ctx); });
    // RFC 3207: forget what the plain EHLO said and ask again over TLS.
    ehlo = s.ehlo(o.helo_name);
  }
  if (o.authenticate) {
    const bool fixed = !o.auth_login.empty();
    const std::string& login = fixed ? o.auth_login : sub.login;
    const std::string& password = fixed ? o.auth_password : sub.password;
    const std::string mech = authMechanismFor(ehlo);
    if (mech.empty()) throw NoAuthMechanism{trimReply(ehlo)};
    try {
      if (mech == "PLAIN")
        s.authPlain(login, password);
      else
        s.authLogin(login, password);
    } catch (const Poco::Net::SMTPException& e) {
      throw ReplyError{e.code() >= 400 ? e.code() : 535, "AUTH " + mech, trimReply(e.message())};
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
    std::string note;  // before ctx: the verify callback writes here (tlsContext)
    try {
      const Poco::Timespan timeout(static_cast<long>(o_.timeout_seconds), 0);
      Poco::Net::SocketAddress addr(o_.host, static_cast<Poco::UInt16>(o_.port));
      Poco::Net::Context::Ptr ctx;
      if (o_.tls != SmtpTls::kNone) ctx = tlsStep("TLS setup", note, [&] { return tlsContext(o_, &note); });
      Poco::Net::StreamSocket socket;
      if (o_.tls == SmtpTls::kSmtps) {
        Poco::Net::SecureStreamSocket secure(ctx);
        secure.setPeerHostName(o_.host);
        tlsStep("SMTPS handshake", note, [&] { secure.connect(addr, timeout); });
        socket = secure;
      } else {
        socket.connect(addr, timeout);
      }
      socket.setReceiveTimeout(timeout);
      socket.setSendTimeout(timeout);
      Session session(socket);
      session.setTimeout(timeout);
      converse(session, o_.host, o_, sub, ctx, note);
      return Status::Ok();
    } catch (const ReplyError& e) {
      return statusForReply(e.code, e.step, e.reply);
    } catch (const TlsError& e) {
      return Status::Unavailable("smtp.tls_failed", where + ": " + e.what);
    } catch (const NoAuthMechanism& e) {
      return Status::Internal("smtp.auth_unsupported",
                              where + ": no AUTH PLAIN or LOGIN offered (EHLO: " + e.ehlo + ")");
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
  if (step.rfind("AUTH", 0) == 0 && code >= 500 && code < 600)
    return Status::PermissionDenied("smtp.auth_failed", what);
  if (code >= 400 && code < 500) return Status::Unavailable("smtp.temporary", what);
  if (code == 552) return Status::LimitExceeded("smtp.too_large", what);
  if (code >= 500 && code < 600) return Status::Internal("smtp.rejected", what);
  return Status::Internal("smtp.protocol", what);
}

std::string authMechanismFor(const std::string& ehlo_reply) {
  bool plain = false, login = false;
  std::istringstream lines(ehlo_reply);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() < 4) continue;
    std::string ext;  // "AUTH PLAIN LOGIN" without "250-" / "250 "
    for (char c : line.substr(4)) ext += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (ext.rfind("AUTH", 0) != 0 || ext.size() < 5 || (ext[4] != ' ' && ext[4] != '=')) continue;
    std::istringstream mechs(ext.substr(5));
    std::string m;
    while (mechs >> m) {
      if (!m.empty() && m.back() == '\r') m.pop_back();
      plain = plain || m == "PLAIN";
      login = login || m == "LOGIN";
    }
  }
  return plain ? "PLAIN" : login ? "LOGIN" : "";
}

std::unique_ptr<MailSubmitter> makeSmtpSubmitter(const SmtpOptions& options) {
  return std::make_unique<SmtpSubmitter>(options);
}

}  // namespace eas::backend::smtp
