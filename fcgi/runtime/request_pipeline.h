// Builds what one worker process serves with: the metadata store, the IMAP
// session pool and the mail backend provider over it (the commands'
// Services), the Authenticator (IMAP verifier, credential cache,
// throttling) and the HTTP layer's handler. Built in each worker after
// fork, so that no thread or connection is shared between processes.
#pragma once

#include <memory>

#include "core/backends/imap/imap_backend.h"
#include "core/backends/smtp/smtp_submitter.h"
#include "core/base/status.h"
#include "core/commands/services.h"
#include "fcgi/http/http_types.h"
#include "fcgi/runtime/config.h"
#include "fcgi/runtime/parking_lot.h"
#include "policies/gates.h"
#include "policies/notices/notice_mailer.h"
#include "storage/metadata_store.h"

namespace eas::runtime {

// Members are destroyed bottom-up: the handler first, the store last, so
// every part outlives the parts that point at it.
struct RequestPipeline {
  std::unique_ptr<storage::MetadataStore> store;
  std::unique_ptr<backend::imap::ImapSessionPool> imap_pool;
  std::unique_ptr<commands::MailBackendProvider> mail;
  std::unique_ptr<backend::MailSubmitter> smtp;  // from [smtp]
  std::unique_ptr<commands::Services> services;  // heap: the handler keeps its address
  policies::Gates gates;  // device (ABQ) and policy key stages; outlive the handler
  std::unique_ptr<auth::Authenticator> authenticator;
  std::unique_ptr<http::RequestHandler> handler;
  // Parked Pings (Services::push) and, attached to it, the notify client
  // that wakes them. Last: destroyed first, answering what is parked while
  // the store and the IMAP pool still exist.
  std::unique_ptr<ParkingLot> parking_lot;
  // Sends the queued notices ([smtp] notice_*); null when notice_interval_seconds
  // is 0. After everything it uses: its thread stops first.
  std::unique_ptr<policies::NoticeMailerThread> notice_mailer;
};

// Failure: runtime.pipeline when a part cannot be built; the store's own
// status (store.schema_missing, ...) when the store cannot be opened.
Result<RequestPipeline> makeRequestPipeline(const Config& config);

// Opens and closes the configured store once: what the master checks
// before it forks, so that a store without a usable schema stops the
// server with the store's message (naming `easctl db upgrade`) instead of
// workers dying in a loop.
Status checkStore(const StoreConfig& config);

// The mail backend settings of the workers' IMAP pool: the [auth] IMAP
// server (the one that verified the password).
backend::imap::ImapConfig imapConfigFor(const auth::AuthConfig& auth);

// The SMTP submitter's settings from [smtp].
backend::smtp::SmtpOptions smtpOptionsFor(const SmtpConfig& smtp);

}  // namespace eas::runtime
