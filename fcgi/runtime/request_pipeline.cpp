#include "fcgi/runtime/request_pipeline.h"

#include <unistd.h>

#include <exception>
#include <utility>

#include "core/base/log.h"
#include "fcgi/http/eas_request_handler.h"

namespace eas::runtime {
namespace {

// One backend per request over the worker's pool.
class PooledMailBackendProvider final : public commands::MailBackendProvider {
 public:
  explicit PooledMailBackendProvider(backend::imap::ImapSessionPool& pool) : pool_(pool) {}
  std::unique_ptr<backend::MailBackend> open(const std::string& login,
                                             const std::string& password) override {
    return pool_.backendFor(login, password);
  }

 private:
  backend::imap::ImapSessionPool& pool_;
};

}  // namespace

backend::imap::ImapConfig imapConfigFor(const auth::AuthConfig& auth) {
  backend::imap::ImapConfig c;
  c.host = auth.imap_host;
  c.port = auth.imap_port;
  switch (auth.imap_tls) {
    case auth::AuthConfig::Tls::kNone: c.tls = backend::imap::TlsMode::kNone; break;
    case auth::AuthConfig::Tls::kStartTls: c.tls = backend::imap::TlsMode::kStartTls; break;
    case auth::AuthConfig::Tls::kImaps: c.tls = backend::imap::TlsMode::kImaps; break;
  }
  c.tlsVerify = auth.tls_verify;
  c.tlsCaFile = auth.tls_ca_file;
  c.timeoutSeconds = auth.imap_timeout_seconds;
  return c;
}

backend::smtp::SmtpOptions smtpOptionsFor(const SmtpConfig& smtp) {
  backend::smtp::SmtpOptions o;
  o.host = smtp.host;
  o.port = smtp.port;
  switch (smtp.tls) {
    case SmtpConfig::Tls::kNone: o.tls = backend::smtp::SmtpTls::kNone; break;
    case SmtpConfig::Tls::kStartTls: o.tls = backend::smtp::SmtpTls::kStartTls; break;
    case SmtpConfig::Tls::kSmtps: o.tls = backend::smtp::SmtpTls::kSmtps; break;
  }
  o.tls_verify = smtp.tls_verify;
  o.tls_ca_file = smtp.tls_ca_file;
  o.authenticate = smtp.authenticate;
  o.auth_login = smtp.auth_login;
  o.auth_password = smtp.auth_password;
  o.timeout_seconds = smtp.timeout_seconds;
  o.helo_name = smtp.helo_name;
  return o;
}

Status checkStore(const StoreConfig& config) {
  auto store = storage::openMetadataStore(config.url);
  if (!store.ok()) return store.status();
  return Status::Ok();
}

Result<RequestPipeline> makeRequestPipeline(const Config& config) {
  RequestPipeline p;
  auto store = storage::openMetadataStore(config.store.url);
  if (!store.ok()) return store.status();
  p.store = std::move(*store);
  try {
    p.imap_pool = std::make_unique<backend::imap::ImapSessionPool>(imapConfigFor(config.auth));
    p.mail = std::make_unique<PooledMailBackendProvider>(*p.imap_pool);
    p.services = std::make_unique<commands::Services>();
    p.services->store = p.store.get();
    p.services->mail = p.mail.get();
    p.smtp = backend::smtp::makeSmtpSubmitter(smtpOptionsFor(config.smtp));
    p.services->smtp = p.smtp.get();
    p.services->notice_from = config.smtp.notice_from;
    p.services->admin_address = config.smtp.admin_address;
    // Ping: limits from [push], the parking lot, and eas-notifyd's events
    // (relayed for the users the lot has parked) waking it.
    p.services->min_heartbeat_seconds = config.push.min_heartbeat_seconds;
    p.services->max_heartbeat_seconds = config.push.max_heartbeat_seconds;
    p.services->max_ping_folders = config.push.max_folders;
    ParkingLotOptions lot_options;
    lot_options.max_parked = static_cast<std::size_t>(config.push.max_parked_per_worker);
    lot_options.sibling_group = ::getppid();  // the master: a device's next Ping may reach a sibling
    p.parking_lot = std::make_unique<ParkingLot>(lot_options);
    if (Status s = p.parking_lot->start(); !s.ok()) return s;
    if (!config.push.notify_socket.empty()) {
      ParkingLot* lot = p.parking_lot.get();
      p.parking_lot->attachNotifyClient(notify::startNotifyClient(
          config.push.notify_socket,
          [lot](const notify::ChangeEvent& e) { lot->notify(e.user, e.folder); }));
    }
    p.services->push = p.parking_lot.get();
    p.authenticator = auth::makeAuthenticator(config.auth, auth::makeImapVerifier(config.auth));
    if (!p.authenticator) return Status::Internal("runtime.pipeline", "no authenticator");
    p.gates = policies::makeGates(*p.store, *p.services->clock);
    http::HttpLayerGates gates;
    gates.services = p.services.get();
    gates.device_gate = p.gates.device_gate.get();
    gates.policy_key_gate = p.gates.policy_key_gate.get();
    gates.version_cap = p.gates.version_cap.get();  // MaxProtocolVersion policy
    p.handler = http::makeEasRequestHandler(config.http, *p.authenticator, config.autodiscover, gates);
    if (config.smtp.notice_interval_seconds > 0) {  // notices by mail (policies/notices)
      policies::NoticeMailerConfig nc;
      nc.from = config.smtp.notice_from;
      nc.admin_address = config.smtp.admin_address;
      nc.template_dir = config.smtp.notice_template_dir;
      nc.lock_file = config.smtp.notice_lock_file;
      p.notice_mailer = std::make_unique<policies::NoticeMailerThread>(
          policies::NoticeMailer(*p.store, *p.smtp, nc), config.smtp.notice_interval_seconds * 1000LL);
    }
  } catch (const std::exception& e) {
    return Status::Internal("runtime.pipeline", e.what());
  }
  if (!p.handler) return Status::Internal("runtime.pipeline", "a factory returned null");
  return p;
}

}  // namespace eas::runtime
