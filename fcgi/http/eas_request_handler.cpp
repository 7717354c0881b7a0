// The request path as ordered stages (style item 4, nginx's phase checkers):
//   route -> authenticate -> method (OPTIONS answered here) -> query ->
//   version -> command -> device gate -> policy key -> body/decode ->
//   dispatch -> encode.
// Each stage returns kContinue or has written the final answer into the
// exchange. Every rejection goes through reject(): the status map picks
// the HTTP code or the common EAS Status, the reason token lands in
// HttpResponse::reason, and one log line says why.
#include "fcgi/http/eas_request_handler.h"

#include <cassert>
#include <charconv>
#include <optional>
#include <utility>

#include "core/base/log.h"
#include "core/commands/command_table.h"
#include "core/commands/dispatcher.h"
#include "core/protocol/capabilities.h"
#include "core/protocol/query.h"
#include "core/status_map.h"
#include "core/wbxml/wbxml.h"
#include "fcgi/http/request_path.h"

namespace eas::http {
namespace {

using commands::CommandReply;
using commands::CommandSpec;

constexpr std::string_view kWbxmlType = "application/vnd.ms-sync.wbxml";

// What stays fixed for the handler's life and is shared with parked replies.
struct Settings {
  HttpLayerConfig config;
  protocol::ProtocolVersion max_version = protocol::ProtocolVersion::k161;
  autodiscover::AutodiscoverConfig autodiscover;
  std::span<const CommandSpec> commands;
  commands::Services services;  // copied from HttpLayerGates (pointers inside)
  VersionCap* version_cap = nullptr;
};

// One request's state as it moves through the stages.
struct Exchange {
  const HttpRequest& request;
  HttpResponse response;
  std::optional<auth::AuthenticatedUser> user;
  protocol::EasQuery query;
  const CommandSpec* spec = nullptr;
  std::optional<protocol::Capabilities> caps;
  std::optional<std::uint32_t> policy_key;
  bool accept_multipart = false;
  std::optional<wbxml::Document> document;
};

enum class Next { kContinue, kDone, kParked };

void addEasHeaders(const Settings& s, HttpResponse& r) {
  r.headers.emplace_back("MS-Server-ActiveSync", s.config.server_version);
  r.headers.emplace_back("Cache-Control", "private");
}

void logDocument(const Settings& s, std::string_view what, const HttpResponse& r,
                 std::string_view wbxml_bytes) {
  if (!s.config.debug_log_documents || !log::enabled(log::Level::kDebug) || wbxml_bytes.empty())
    return;
  auto doc = wbxml::decode(wbxml_bytes);
  if (!doc.ok()) return;
  wbxml::XmlOptions opts;
  opts.mask_secrets = true;
  log::debug(std::string(what) + " " + r.device_id + " " + r.command + ":\n" +
             wbxml::toXml(*doc, opts));
}

// The final answer for a failure, from the one status map.
void applyRejection(const Settings& s, HttpResponse& r, const Status& status,
                    const CommandSpec* spec, const std::optional<protocol::Capabilities>& caps) {
  const bool wbxml_status = caps && caps->wbxml_common_status && spec && spec->has_root;
  const StatusAnswer answer = answerFor(status, wbxml_status);
  r.status = answer.http_status;
  r.reason = status.reason();
  r.body.clear();
  if (answer.eas_status != 0) {
    r.body = commands::statusReplyBody(*spec, answer.eas_status);
    r.headers.emplace_back("Content-Type", std::string(kWbxmlType));
    r.eas_status = std::to_string(answer.eas_status);
    logDocument(s, "response", r, r.body);
  }
  if (r.status == 401)
    r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"" + s.config.auth_realm + "\"");
  if (r.status == 503)
    r.headers.emplace_back("Retry-After", std::to_string(s.config.retry_after_seconds));
  if (r.status != 404 && r.status != 401) addEasHeaders(s, r);
  log::info("eas reject " + r.reason + " http=" + std::to_string(r.status) +
            (answer.eas_status ? " status=" + std::to_string(answer.eas_status) : "") +
            " device=" + r.device_id + " user=" + r.user + " cmd=" + r.command +
            (status.message().empty() ? "" : ": " + status.message()));
}

// A successful (or command-level failed) command reply into the response.
void applyReply(const Settings& s, HttpResponse& r, CommandReply&& reply, const CommandSpec& spec,
                const protocol::Capabilities& caps) {
  if (!reply.status.ok()) {
    applyRejection(s, r, reply.status, &spec, caps);
    return;
  }
  r.status = 200;
  addEasHeaders(s, r);
  for (auto& h : reply.headers) r.headers.push_back(std::move(h));
  if (!reply.body.empty()) r.headers.emplace_back("Content-Type", reply.content_type);
  if (reply.eas_status != 0) r.eas_status = std::to_string(reply.eas_status);
  if (reply.content_type == kWbxmlType) logDocument(s, "response", r, reply.body);
  r.body = std::move(reply.body);
}

// Finishes a parked command later, from any thread.
class DeferredReplyImpl final : public commands::DeferredReply {
 public:
  DeferredReplyImpl(std::shared_ptr<const Settings> settings, std::unique_ptr<Responder> responder,
                    HttpResponse response, const CommandSpec* spec, protocol::Capabilities caps)
      : settings_(std::move(settings)), responder_(std::move(responder)),
        response_(std::move(response)), spec_(spec), caps_(caps) {}
  ~DeferredReplyImpl() override {
    // A command that parks and never answers is a bug; still answer.
    if (responder_) {
      CommandReply reply;
      reply.status = Status::Internal("http.parked_without_reply");
      send(std::move(reply));
    }
  }
  void send(CommandReply&& reply) override {
    assert(responder_ && "DeferredReply::send called twice");
    if (!responder_) return;
    applyReply(*settings_, response_, std::move(reply), *spec_, caps_);
    std::unique_ptr<Responder> r = std::move(responder_);
    r->respond(std::move(response_));
  }
  bool clientGone() const override { return !responder_ || responder_->clientGone(); }
  int connectionFd() const override { return responder_ ? responder_->connectionFd() : -1; }

 private:
  std::shared_ptr<const Settings> settings_;
  std::unique_ptr<Responder> responder_;
  HttpResponse response_;
  const CommandSpec* spec_;
  protocol::Capabilities caps_;
};

class ContextImpl final : public commands::CommandContext {
 public:
  ContextImpl(commands::CommandRequest req, std::shared_ptr<const Settings> settings,
              std::unique_ptr<Responder>* responder, Exchange* ex)
      : req_(std::move(req)), settings_(std::move(settings)), responder_(responder), ex_(ex) {}
  const commands::CommandRequest& request() const override { return req_; }
  std::unique_ptr<commands::DeferredReply> park() override {
    // Only commands flagged kMayPark may park (the dispatcher's rule).
    assert(commands::mayPark(*req_.spec) && *responder_);
    if (!commands::mayPark(*req_.spec) || !*responder_) return nullptr;
    parked_ = true;
    return std::make_unique<DeferredReplyImpl>(settings_, std::move(*responder_), ex_->response,
                                               req_.spec, *ex_->caps);
  }
  bool parked() const { return parked_; }

 private:
  commands::CommandRequest req_;
  std::shared_ptr<const Settings> settings_;
  std::unique_ptr<Responder>* responder_;
  Exchange* ex_;
  bool parked_ = false;
};

bool parseUint32(std::string_view text, std::uint32_t* out) {
  if (text.empty()) return false;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && p == text.data() + text.size();
}

class EasRequestHandler final : public RequestHandler {
 public:
  EasRequestHandler(std::shared_ptr<const Settings> settings, auth::Authenticator& authenticator,
                    commands::DeviceGate& device_gate, commands::PolicyKeyGate& policy_gate,
                    std::unique_ptr<commands::DeviceGate> owned_device_gate,
                    std::unique_ptr<commands::PolicyKeyGate> owned_policy_gate)
      : settings_(std::move(settings)), authenticator_(authenticator),
        device_gate_(device_gate), policy_gate_(policy_gate),
        owned_device_gate_(std::move(owned_device_gate)),
        owned_policy_gate_(std::move(owned_policy_gate)) {}

  void handle(std::unique_ptr<HttpRequest> request, std::unique_ptr<Responder> responder) override {
    Exchange ex{*request, {}, {}, {}, {}, {}, {}, false, {}};
    prefillLogFields(ex);
    using Stage = Next (EasRequestHandler::*)(Exchange&, std::unique_ptr<Responder>&);
    static constexpr Stage kStages[] = {
        &EasRequestHandler::routeStage,    &EasRequestHandler::authenticateStage,
        &EasRequestHandler::methodStage,   &EasRequestHandler::queryStage,
        &EasRequestHandler::versionStage,  &EasRequestHandler::commandStage,
        &EasRequestHandler::deviceStage,   &EasRequestHandler::policyKeyStage,
        &EasRequestHandler::bodyStage,     &EasRequestHandler::dispatchStage,
    };
    for (Stage stage : kStages) {
      const Next next = (this->*stage)(ex, responder);
      if (next == Next::kParked) return;  // the command answers later
      if (next == Next::kDone) break;
    }
    responder->respond(std::move(ex.response));
  }

 private:
  bool isAutodiscover(const Exchange& ex) const { return isAutodiscoverPath(ex.request.path); }

  // The log line wants DeviceId, user and command even for early rejections.
  void prefillLogFields(Exchange& ex) const {
    if (!isEasPath(ex.request.path)) return;
    auto q = protocol::parseQuery(ex.request.query);
    if (!q.ok()) return;
    ex.response.device_id = q->device_id;
    ex.response.user = q->user;
    if (!q->command.empty()) {
      ex.response.command = q->command;
    } else if (q->command_code) {
      const CommandSpec* spec = commands::findCommandByCode(settings_->commands, *q->command_code);
      ex.response.command = spec ? std::string(spec->name) : std::to_string(*q->command_code);
    }
    if (q->version) ex.response.protocol_version = std::string(protocol::toString(*q->version));
    else ex.response.protocol_version = std::string(ex.request.header("ms-asprotocolversion"));
  }

  Next reject(Exchange& ex, const Status& status) const {
    applyRejection(*settings_, ex.response, status, ex.spec, ex.caps);
    return Next::kDone;
  }

  // 1. Only the two endpoints exist (IT MSASHTTP_S02_TC04: else 404).
  Next routeStage(Exchange& ex, std::unique_ptr<Responder>&) {
    if (isEasPath(ex.request.path) || isAutodiscover(ex)) return Next::kContinue;
    return reject(ex, Status::NotFound("http.not_found", "no endpoint at " + ex.request.path));
  }

  // 2. Every method on both endpoints needs credentials (HTTP §2.2.3.1.2:
  // OPTIONS too), so a browser GET gets the 401 challenge.
  Next authenticateStage(Exchange& ex, std::unique_ptr<Responder>&) {
    auto user = authenticator_.authenticate(ex.request.header("authorization"),
                                            ex.request.remote_addr);
    if (!user.ok()) return reject(ex, user.status());
    ex.user = std::move(user.value());
    ex.response.user = ex.user->login;
    return Next::kContinue;
  }

  // 3. OPTIONS is answered here; POST goes on; anything else is 501
  // (HTTP §2.2.2.1.1).
  Next methodStage(Exchange& ex, std::unique_ptr<Responder>&) {
    const std::string& m = ex.request.method;
    if (isAutodiscover(ex)) {
      if (m != "POST")
        return reject(ex, Status::NotSupported("http.method_not_allowed", m + " on Autodiscover"));
      return autodiscoverReply(ex);
    }
    if (m == "OPTIONS") return optionsReply(ex);
    if (m != "POST")
      return reject(ex, Status::NotSupported("http.method_not_allowed", m + " is not supported"));
    return Next::kContinue;
  }

  Next autodiscoverReply(Exchange& ex) {
#if EAS_HTTP_HAVE_AUTODISCOVER
    autodiscover::HttpReply reply =
        autodiscover::handleAutodiscover(ex.request.body, *ex.user, settings_->autodiscover);
#else
    // Built before fcgi/autodiscover existed: keep the tree linkable.
    autodiscover::HttpReply reply;
    reply.status = 503;
    reply.reason = "autodiscover.not_built";
#endif
    HttpResponse& r = ex.response;
    r.command = "Autodiscover";
    r.status = reply.status;
    r.reason = reply.reason;
    r.headers = std::move(reply.headers);
    if (!reply.body.empty() || !reply.content_type.empty())
      r.headers.emplace_back("Content-Type", reply.content_type);
    r.body = std::move(reply.body);
    return Next::kDone;
  }

  // HTTP §2.2.4 / §3.2.5.2: 200, no body, the versions and commands.
  Next optionsReply(Exchange& ex) {
    HttpResponse& r = ex.response;
    r.status = 200;
    r.command = "OPTIONS";
    // Up to the user's (or the named device's) policy cap, if any.
    const protocol::ProtocolVersion max = cappedVersion(
        settings_->max_version,
        settings_->version_cap ? settings_->version_cap->maxVersionFor(
                                     ex.user->login, optionsDeviceId(ex.request.query))
                               : std::nullopt);
    r.headers.emplace_back("MS-Server-ActiveSync", settings_->config.server_version);
    r.headers.emplace_back("MS-ASProtocolVersions", std::string(protocol::versionListUpTo(max)));
    r.headers.emplace_back("MS-ASProtocolCommands",
                           commands::protocolCommandsHeader(settings_->commands, max));
    r.headers.emplace_back("Allow", "OPTIONS,POST");
    r.headers.emplace_back("Public", "OPTIONS,POST");
    r.headers.emplace_back("Cache-Control", "private");
    return Next::kDone;
  }

  // 4. The query: structure, then which command (IT S02_TC05: unknown -> 501).
  Next queryStage(Exchange& ex, std::unique_ptr<Responder>&) {
    auto q = protocol::parseQuery(ex.request.query);
    if (!q.ok()) return reject(ex, q.status());
    ex.query = std::move(q.value());
    ex.response.device_id = ex.query.device_id;
    if (ex.query.command_code) {
      ex.spec = commands::findCommandByCode(settings_->commands, *ex.query.command_code);
      if (!ex.spec)
        return reject(ex, Status::NotSupported("http.unknown_cmd", "command code " +
                                                   std::to_string(*ex.query.command_code)));
    } else {
      ex.spec = commands::findCommand(settings_->commands, ex.query.command);
      if (!ex.spec)
        return reject(ex, Status::NotSupported("http.unknown_cmd", "Cmd=" + ex.query.command));
    }
    ex.response.command = std::string(ex.spec->name);
    return Next::kContinue;
  }

  // 5. The version, resolved once into Capabilities. The base64 form carries
  // it; the plain form needs MS-ASProtocolVersion (IT S02_TC01: bad -> 400).
  Next versionStage(Exchange& ex, std::unique_ptr<Responder>&) {
    std::optional<protocol::ProtocolVersion> v = ex.query.version;
    if (!v) {
      if (!ex.request.hasHeader("ms-asprotocolversion"))
        return reject(ex, Status::InvalidArgument("http.missing_protocol_version",
                                                  "no MS-ASProtocolVersion header"));
      const std::string_view text = ex.request.header("ms-asprotocolversion");
      v = protocol::parseProtocolVersion(text);
      if (!v)
        return reject(ex, Status::NotSupported("http.unsupported_version",
                                               "MS-ASProtocolVersion " + std::string(text)));
    }
    if (*v > settings_->max_version)
      return reject(ex, Status::NotSupported("http.unsupported_version",
                                             std::string(protocol::toString(*v)) +
                                                 " is above the configured maximum"));
    if (settings_->version_cap) {
      const auto cap = settings_->version_cap->maxVersionFor(ex.user->login, ex.query.device_id);
      if (cap && *v > *cap)
        return reject(ex, Status::NotSupported("http.unsupported_version",
                                               std::string(protocol::toString(*v)) +
                                                   " is above the policy's MaxProtocolVersion " +
                                                   std::string(protocol::toString(*cap))));
    }
    ex.caps = protocol::capabilitiesFor(*v);
    ex.response.protocol_version = std::string(protocol::toString(*v));
    return Next::kContinue;
  }

  // 6. The command in this version, the query's values, the headers.
  Next commandStage(Exchange& ex, std::unique_ptr<Responder>&) {
    if (Status s = commands::checkAvailable(*ex.spec, *ex.caps); !s.ok()) return reject(ex, s);
    if (Status s = protocol::validateQuery(ex.query); !s.ok()) return reject(ex, s);
    if (ex.query.form == protocol::EasQuery::Form::kBase64) {
      ex.policy_key = ex.query.policy_key;
    } else if (ex.request.hasHeader("x-ms-policykey")) {
      std::uint32_t key = 0;
      const std::string_view text = ex.request.header("x-ms-policykey");
      if (!parseUint32(text, &key))
        return reject(ex, Status::InvalidArgument("http.bad_policy_key",
                                                  "X-MS-PolicyKey '" + std::string(text) + "'"));
      ex.policy_key = key;
    }
    if (ex.policy_key == 0u) ex.policy_key.reset();  // "0" means not provisioned
    const std::string_view amp = ex.request.header("ms-asacceptmultipart");
    ex.accept_multipart = ex.query.accept_multipart || amp == "T" || amp == "t";
    return Next::kContinue;
  }

  commands::DeviceIdentity identity(const Exchange& ex) const {
    commands::DeviceIdentity d;
    d.login = ex.user->login;
    d.device_id = ex.query.device_id;
    d.device_type = ex.query.device_type;
    d.user_agent = std::string(ex.request.header("user-agent"));
    d.remote_addr = ex.request.remote_addr;
    d.version = ex.caps->version;
    return d;
  }

  // 7. The device gate (ABQ), a seam until the policies issue.
  Next deviceStage(Exchange& ex, std::unique_ptr<Responder>&) {
    if (Status s = device_gate_.admit(identity(ex)); !s.ok()) return reject(ex, s);
    return Next::kContinue;
  }

  // 8. The policy key, for commands flagged kNeedsProvisioning.
  Next policyKeyStage(Exchange& ex, std::unique_ptr<Responder>&) {
    if (!commands::needsPolicyCheck(*ex.spec)) return Next::kContinue;
    if (Status s = policy_gate_.check(identity(ex), *ex.spec, ex.policy_key); !s.ok())
      return reject(ex, s);
    return Next::kContinue;
  }

  // 9. Size, Content-Type, WBXML decode, the root element.
  Next bodyStage(Exchange& ex, std::unique_ptr<Responder>&) {
    const std::string& body = ex.request.body;
    if (body.size() > settings_->config.max_body_bytes)
      return reject(ex, Status::LimitExceeded("http.body_too_large",
                                              std::to_string(body.size()) + " bytes"));
    if (Status s = commands::checkBody(*ex.spec, *ex.caps, ex.request.header("content-type"),
                                       body.size());
        !s.ok())
      return reject(ex, s);
    if (body.empty() || commands::expectedBody(*ex.spec, *ex.caps) != commands::BodyForm::kWbxml)
      return Next::kContinue;
    wbxml::DecodeLimits limits;
    limits.max_depth = settings_->config.wbxml_max_depth;
    limits.max_size = settings_->config.max_body_bytes;
    auto doc = wbxml::decode(body, limits);
    if (!doc.ok()) return reject(ex, doc.status());
    if (doc->root().tag() != ex.spec->root)
      return reject(ex, Status::InvalidArgument(
                            "http.wrong_root", "root " + wbxml::qualifiedName(doc->root().tag()) +
                                                   " for " + std::string(ex.spec->name)));
    ex.document = std::move(doc.value());
    if (settings_->config.debug_log_documents && log::enabled(log::Level::kDebug)) {
      wbxml::XmlOptions opts;
      opts.mask_secrets = true;
      log::debug("request " + ex.response.device_id + " " + ex.response.command + ":\n" +
                 wbxml::toXml(*ex.document, opts));
    }
    return Next::kContinue;
  }

  // 10. The command, then its reply (or it parks).
  Next dispatchStage(Exchange& ex, std::unique_ptr<Responder>& responder) {
    commands::CommandRequest req;
    req.spec = ex.spec;
    req.capabilities = *ex.caps;
    req.query = &ex.query;
    req.login = ex.user->login;
    // The authenticator verified this header; the password goes to the
    // backend session pool only.
    if (auto creds = auth::parseBasicAuthorization(ex.request.header("authorization"), {}); creds.ok())
      req.password = std::move(creds->password);
    req.services = &settings_->services;
    req.policy_key = ex.policy_key;
    req.accept_multipart = ex.accept_multipart;
    req.user_agent = ex.request.header("user-agent");
    req.document = ex.document ? &*ex.document : nullptr;
    req.body = ex.request.body;
    ContextImpl ctx(std::move(req), settings_, &responder, &ex);
    std::optional<CommandReply> reply = commands::dispatch(*ex.spec, ctx);
    if (!reply) {
      assert(ctx.parked() && "a command returned no reply without parking");
      if (ctx.parked()) return Next::kParked;
      return reject(ex, Status::Internal("http.no_reply", "command returned nothing"));
    }
    applyReply(*settings_, ex.response, std::move(*reply), *ex.spec, *ex.caps);
    return Next::kDone;
  }

  std::shared_ptr<const Settings> settings_;
  auth::Authenticator& authenticator_;
  commands::DeviceGate& device_gate_;
  commands::PolicyKeyGate& policy_gate_;
  std::unique_ptr<commands::DeviceGate> owned_device_gate_;
  std::unique_ptr<commands::PolicyKeyGate> owned_policy_gate_;
};

}  // namespace

std::unique_ptr<RequestHandler> makeEasRequestHandler(
    const HttpLayerConfig& config, auth::Authenticator& authenticator,
    const autodiscover::AutodiscoverConfig& autodiscover) {
  return makeEasRequestHandler(config, authenticator, autodiscover, HttpLayerGates{});
}

std::unique_ptr<RequestHandler> makeEasRequestHandler(
    const HttpLayerConfig& config, auth::Authenticator& authenticator,
    const autodiscover::AutodiscoverConfig& autodiscover, const HttpLayerGates& gates) {
  auto settings = std::make_shared<Settings>();
  settings->config = config;
  settings->autodiscover = autodiscover;
  settings->commands = gates.command_table.empty() ? commands::commandTable() : gates.command_table;
  if (gates.services) settings->services = *gates.services;
  settings->version_cap = gates.version_cap;
  if (auto v = protocol::parseProtocolVersion(config.max_protocol_version)) {
    settings->max_version = *v;
  } else {
    log::error("http: max_protocol_version '" + config.max_protocol_version +
               "' is not a protocol version; using 16.1");
  }
  std::unique_ptr<commands::DeviceGate> own_device;
  std::unique_ptr<commands::PolicyKeyGate> own_policy;
  commands::DeviceGate* device = gates.device_gate;
  commands::PolicyKeyGate* policy = gates.policy_key_gate;
  if (!device) device = (own_device = commands::makeAllowAllDeviceGate()).get();
  if (!policy) policy = (own_policy = commands::makeUnenforcedPolicyKeyGate()).get();
  return std::make_unique<EasRequestHandler>(std::move(settings), authenticator, *device, *policy,
                                             std::move(own_device), std::move(own_policy));
}

}  // namespace eas::http
