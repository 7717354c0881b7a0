// CredentialVerifier against the IMAP server with libetpan: one short
// connection per verification (connect, optional TLS, LOGIN, LOGOUT).
//
// libetpan on Debian is built with GnuTLS and does not check the server's
// certificate itself, so with tls_verify the chain it received is checked
// here with OpenSSL (trust store, server purpose, host name or IP) BEFORE
// the password is sent.
#include <arpa/inet.h>
#include <libetpan/libetpan.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <cstdint>
#include <memory>
#include <string>

#include "fcgi/auth/authenticator.h"

namespace eas::auth {
namespace {

Status unavailable(std::string message) {
  return Status::Unavailable("auth.backend_unavailable", std::move(message));
}

bool isIpLiteral(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

void setServerName(struct mailstream_ssl_context* ctx, void* data) {
  const std::string* host = static_cast<const std::string*>(data);
  // SNI only for names (RFC 6066 forbids IP literals).
  if (!isIpLiteral(*host)) mailstream_ssl_set_server_name(ctx, const_cast<char*>(host->c_str()));
}

struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
  void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};

X509* parseDer(const MMAPString* der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der->str);
  return d2i_X509(nullptr, &p, static_cast<long>(der->len));
}

// Checks the chain the server sent against the trust store and the host.
Status verifyPeer(mailstream* stream, const AuthConfig& config) {
  carray* chain = mailstream_get_certificate_chain(stream);
  if (chain == nullptr || carray_count(chain) == 0) {
    if (chain != nullptr) mailstream_certificate_chain_free(chain);
    return unavailable("IMAP server sent no certificate");
  }
  std::unique_ptr<X509, X509Deleter> leaf(parseDer(static_cast<MMAPString*>(carray_get(chain, 0))));
  std::unique_ptr<STACK_OF(X509), X509Deleter> intermediates(sk_X509_new_null());
  for (unsigned i = 1; i < carray_count(chain) && intermediates; ++i) {
    if (X509* x = parseDer(static_cast<MMAPString*>(carray_get(chain, i)))) {
      if (sk_X509_push(intermediates.get(), x) == 0) X509_free(x);
    }
  }
  mailstream_certificate_chain_free(chain);
  if (!leaf || !intermediates) return unavailable("IMAP server certificate unreadable");

  std::unique_ptr<X509_STORE, X509Deleter> store(X509_STORE_new());
  if (!store) return unavailable("out of memory");
  const int loaded =
      config.tls_ca_file.empty()
          ? X509_STORE_set_default_paths(store.get())
          : X509_STORE_load_locations(store.get(), config.tls_ca_file.c_str(), nullptr);
  if (loaded != 1) return unavailable("cannot load the CA store " + config.tls_ca_file);

  std::unique_ptr<X509_STORE_CTX, X509Deleter> ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), intermediates.get()) != 1)
    return unavailable("out of memory");
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
  const int host_set = isIpLiteral(config.imap_host)
                           ? X509_VERIFY_PARAM_set1_ip_asc(param, config.imap_host.c_str())
                           : X509_VERIFY_PARAM_set1_host(param, config.imap_host.c_str(), 0);
  if (host_set != 1) return unavailable("cannot set the host to verify");
  if (X509_verify_cert(ctx.get()) != 1) {
    return unavailable(std::string("IMAP server certificate not trusted: ") +
                       X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get())));
  }
  return Status::Ok();
}

bool connected(int r) {
  return r == MAILIMAP_NO_ERROR || r == MAILIMAP_NO_ERROR_NON_AUTHENTICATED ||
         r == MAILIMAP_NO_ERROR_AUTHENTICATED;
}

class ImapVerifier final : public CredentialVerifier {
 public:
  explicit ImapVerifier(const AuthConfig& config) : config_(config) {}

  Status verify(const std::string& login, const std::string& password) override {
    const std::string where = config_.imap_host + ":" + std::to_string(config_.imap_port);
    if (config_.imap_port <= 0 || config_.imap_port > 65535) return unavailable("bad IMAP port");
    std::unique_ptr<mailimap, void (*)(mailimap*)> imap(mailimap_new(0, nullptr), mailimap_free);
    if (!imap) return unavailable("out of memory");
    mailimap_set_timeout(imap.get(),
                         config_.imap_timeout_seconds > 0 ? config_.imap_timeout_seconds : 10);

    const auto port = static_cast<std::uint16_t>(config_.imap_port);
    std::string host = config_.imap_host;
    int r = 0;
    switch (config_.imap_tls) {
      case AuthConfig::Tls::kNone:
        r = mailimap_socket_connect(imap.get(), host.c_str(), port);
        break;
      case AuthConfig::Tls::kStartTls:
        r = mailimap_socket_connect(imap.get(), host.c_str(), port);
        if (connected(r)) {
          r = mailimap_socket_starttls_with_callback(imap.get(), setServerName, &host);
          if (r != MAILIMAP_NO_ERROR)
            return unavailable("STARTTLS with " + where + " failed (libetpan " + std::to_string(r) +
                               ")");
        }
        break;
      case AuthConfig::Tls::kImaps:
        r = mailimap_ssl_connect_with_callback(imap.get(), host.c_str(), port, setServerName,
                                               &host);
        break;
    }
    if (!connected(r))
      return unavailable("cannot connect to IMAP " + where + " (libetpan " + std::to_string(r) +
                         ")");
    // Without TLS a server may refuse LOGIN (RFC 3501 LOGINDISABLED): that is
    // our misconfiguration, and counting it against users would lock them out.
    if (config_.imap_tls == AuthConfig::Tls::kNone &&
        mailimap_has_extension(imap.get(), const_cast<char*>("LOGINDISABLED")))
      return unavailable("IMAP " + where + " refuses LOGIN without TLS (set imap_tls)");
    if (r == MAILIMAP_NO_ERROR_AUTHENTICATED)  // PREAUTH: the password would prove nothing
      return unavailable("IMAP " + where + " pre-authenticated the connection");
    if (config_.imap_tls != AuthConfig::Tls::kNone && config_.tls_verify) {
      Status peer = verifyPeer(imap->imap_stream, config_);
      if (!peer.ok()) return peer;
    }

    // libetpan sends the password as an atom, or as a quoted string in which
    // quotes and backslashes are escaped; the parser refused NUL, CR and LF.
    r = mailimap_login(imap.get(), login.c_str(), password.c_str());
    if (r == MAILIMAP_NO_ERROR) {
      (void)mailimap_logout(imap.get());
      return Status::Ok();
    }
    if (r == MAILIMAP_ERROR_LOGIN) {
      // A tagged NO/BAD. Dovecot marks its own backend trouble with
      // [UNAVAILABLE] (RFC 5530); everything else is the user's credentials.
      const char* text = imap->imap_response;
      const std::string response = text != nullptr ? text : "";
      if (response.find("UNAVAILABLE") != std::string::npos ||
          response.find("Temporary") != std::string::npos)
        return unavailable("IMAP " + where + " cannot authenticate now");
      if (response.find("PRIVACYREQUIRED") != std::string::npos ||
          response.find("Plaintext authentication disallowed") != std::string::npos)
        return unavailable("IMAP " + where + " refuses LOGIN without TLS (set imap_tls)");
      return Status::Unauthenticated("auth.bad_credentials", "IMAP LOGIN refused");
    }
    return unavailable("IMAP LOGIN to " + where + " failed (libetpan " + std::to_string(r) + ")");
  }

 private:
  const AuthConfig config_;
};

}  // namespace

std::unique_ptr<CredentialVerifier> makeImapVerifier(const AuthConfig& config) {
  return std::make_unique<ImapVerifier>(config);
}

}  // namespace eas::auth
