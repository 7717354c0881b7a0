// Builds what one worker process serves with: the Authenticator (IMAP
// verifier, credential cache, throttling) and the HTTP layer's handler.
// Built in each worker after fork, so that no thread or connection is
// shared between processes.
#pragma once

#include <memory>

#include "core/base/status.h"
#include "fcgi/http/http_types.h"
#include "fcgi/runtime/config.h"

namespace eas::runtime {

struct RequestPipeline {
  std::unique_ptr<auth::Authenticator> authenticator;  // outlives handler (declared first)
  std::unique_ptr<http::RequestHandler> handler;
};

// Failure: runtime.pipeline when a part cannot be built.
Result<RequestPipeline> makeRequestPipeline(const Config& config);

}  // namespace eas::runtime
