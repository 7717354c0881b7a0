// The HTTP layer's entry point: MS-ASHTTP parsing, authentication,
// Autodiscover routing, the device/policy gate, WBXML decode, dispatch and
// encode, as ordered stages. The process runtime builds one per worker and
// calls handle() from its request threads.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "core/commands/command_table.h"
#include "core/commands/gates.h"
#include "core/commands/services.h"
#include "fcgi/auth/authenticator.h"
#include "fcgi/autodiscover/autodiscover.h"
#include "fcgi/http/http_types.h"
#include "fcgi/http/version_cap.h"

namespace eas::http {

struct HttpLayerConfig {
  std::string max_protocol_version = "16.1";      // versions above are not offered
  std::size_t max_body_bytes = 32u * 1024u * 1024u;  // larger bodies get 413
  std::size_t wbxml_max_depth = 64;
  std::string server_version = "14.1";            // MS-Server-ActiveSync header value
  bool debug_log_documents = false;               // decoded request/response XML at debug level (masked)
  std::string auth_realm = "eas-fcgi";            // WWW-Authenticate: Basic realm="..." (AuthConfig::realm)
  int retry_after_seconds = 30;                   // Retry-After on 503 (HTTP §3.1.5.2.3)
};

// The device and policy stages (core/commands/gates.h). Null members use
// the defaults: every device admitted, policy keys not enforced.
struct HttpLayerGates {
  commands::DeviceGate* device_gate = nullptr;       // REQUIRES: outlives the handler
  commands::PolicyKeyGate* policy_key_gate = nullptr;  // REQUIRES: outlives the handler
  // The command table; empty: commands::commandTable(). Tests pass a copy
  // with fake factories. REQUIRES: outlives the handler and parked replies.
  std::span<const commands::CommandSpec> command_table = {};
  // Store, mail backend and clock for the handlers; null: none configured
  // (handlers that need them answer a server error). REQUIRES: outlives the handler.
  const commands::Services* services = nullptr;
  // The per-policy maximum version (version_cap.h); null: only max_protocol_version.
  VersionCap* version_cap = nullptr;  // REQUIRES: outlives the handler
};

// REQUIRES: `authenticator` outlives the handler.
std::unique_ptr<RequestHandler> makeEasRequestHandler(const HttpLayerConfig& config,
                                                      auth::Authenticator& authenticator,
                                                      const autodiscover::AutodiscoverConfig& autodiscover);
std::unique_ptr<RequestHandler> makeEasRequestHandler(const HttpLayerConfig& config,
                                                      auth::Authenticator& authenticator,
                                                      const autodiscover::AutodiscoverConfig& autodiscover,
                                                      const HttpLayerGates& gates);

}  // namespace eas::http
