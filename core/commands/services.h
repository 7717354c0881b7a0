// What command handlers may use beyond their request: the metadata store,
// the mail backend, the clock. Interfaces only: the process runtime (fcgi/)
// builds the implementations and wires them in through HttpLayerGates, so
// core never depends on how a store or a backend is made. Each pointer may
// be null when that part is not configured; a handler that needs it then
// answers a server error (Status 110 / HTTP 500), never crashes.
#pragma once

#include <memory>
#include <string>

#include "core/base/clock.h"

namespace eas::storage {
class MetadataStore;
}
namespace eas::backend {
class MailBackend;
class MailSubmitter;
}

namespace eas::commands {

class PushHub;  // core/commands/push.h: the parking lot as Ping sees it

// Gives a request a mail backend for the authenticated user (pooled IMAP
// sessions underneath). Thread-safe.
class MailBackendProvider {
 public:
  virtual ~MailBackendProvider() = default;
  // Never null; failures surface on the backend's first call.
  virtual std::unique_ptr<backend::MailBackend> open(const std::string& login,
                                                      const std::string& password) = 0;
};

struct Services {
  storage::MetadataStore* store = nullptr;  // REQUIRES: outlives every request
  MailBackendProvider* mail = nullptr;      // REQUIRES: outlives every request
  Clock* clock = &Clock::real();
  backend::MailSubmitter* smtp = nullptr;  // core/backends/mail_submitter.h
  PushHub* push = nullptr;                 // null: Ping answers at once, never parks
  // Limits from the configuration ([push], [smtp]) commands need.
  int min_heartbeat_seconds = 60;
  int max_heartbeat_seconds = 1800;
  int max_ping_folders = 300;
  std::string notice_from = "postmaster@localhost";
  std::string admin_address;
};

}  // namespace eas::commands
