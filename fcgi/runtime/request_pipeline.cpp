#include "fcgi/runtime/request_pipeline.h"

#include "core/base/log.h"

#if EAS_FCGI_HAVE_HTTP_LAYER
#include "fcgi/http/eas_request_handler.h"
#endif

namespace eas::runtime {
namespace {

#if !EAS_FCGI_HAVE_HTTP_LAYER
// Used only while the HTTP layer and auth libraries are not in the tree:
// every request gets 503, so that the runtime and the fixtures can be
// built and tested on their own.
class NoHttpLayerHandler final : public http::RequestHandler {
 public:
  void handle(std::unique_ptr<http::HttpRequest> request,
              std::unique_ptr<http::Responder> responder) override {
    (void)request;
    http::HttpResponse r;
    r.status = 503;
    r.reason = "runtime.no_http_layer";
    r.headers.emplace_back("Retry-After", "60");
    responder->respond(std::move(r));
  }
};
#endif

}  // namespace

Result<RequestPipeline> makeRequestPipeline(const Config& config) {
  RequestPipeline p;
#if EAS_FCGI_HAVE_HTTP_LAYER
  try {
    p.authenticator = auth::makeAuthenticator(config.auth, auth::makeImapVerifier(config.auth));
    p.handler = http::makeEasRequestHandler(config.http, *p.authenticator, config.autodiscover);
  } catch (const std::exception& e) {
    return Status::Internal("runtime.pipeline", e.what());
  }
  if (!p.authenticator || !p.handler)
    return Status::Internal("runtime.pipeline", "a factory returned null");
#else
  (void)config;
  log::warn("built without the HTTP layer (fcgi/http, fcgi/auth): every request gets 503");
  p.handler = std::make_unique<NoHttpLayerHandler>();
#endif
  return p;
}

}  // namespace eas::runtime
