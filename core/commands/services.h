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
}

namespace eas::commands {

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
};

}  // namespace eas::commands
