#include "core/commands/ping_command.h"

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/backends/mail_backend.h"
#include "core/base/log.h"
#include "core/commands/email_collection.h"
#include "core/commands/ping_request.h"
#include "core/commands/provision_command.h"
#include "core/commands/push.h"
#include "storage/metadata_store.h"

namespace eas::commands {
namespace {

using namespace ping;

// FolderSync types of mail folders (CMD §2.2.3.186.3): Inbox, Drafts,
// Deleted Items, Sent Items, Outbox, user-created mail.
bool isMailFolder(int type) { return (type >= 2 && type <= 6) || type == 12; }

CommandReply replyOf(const Reply& r) {
  CommandReply out;
  out.body = encodeReply(r);
  out.eas_status = r.status;
  return out;
}

CommandReply statusOnly(int status) {
  Reply r;
  r.status = status;
  return replyOf(r);
}

struct Watched {
  std::string id;          // ServerId
  std::string backend_id;  // IMAP mailbox
  bool mail = false;
};

struct CheckResult {
  std::vector<std::string> changed;  // ServerIds, in request order
  bool hierarchy_changed = false;    // a watched mailbox is gone
};

// The folder check, shared by the first look and every re-check. Holds
// the verified password (memory only) for the IMAP session pool.
class FolderCheck {
 public:
  FolderCheck(const Services& services, std::string login, std::string password,
              storage::DeviceRef ref, std::vector<Watched> folders)
      : services_(services), login_(std::move(login)), password_(std::move(password)),
        ref_(std::move(ref)), folders_(std::move(folders)) {}

  Result<CheckResult> run() const {
    CheckResult out;
    std::unique_ptr<backend::MailBackend> mail;
    const std::int64_t now = (services_.clock ? services_.clock : &Clock::real())->unixSeconds();
    // Read once per check, when a folder needs them.
    std::optional<std::optional<std::int64_t>> policy;
    std::optional<std::map<std::string, int>> filters;
    for (const Watched& f : folders_) {
      if (!f.mail) continue;
      auto where = services_.store->lookupSyncKey(ref_, f.id, 0);
      if (!where.ok()) return where.status();
      if (where->current_key == 0) continue;  // never synced: nothing to compare with
      auto state = services_.store->lookupSyncKey(ref_, f.id, where->current_key);
      if (!state.ok()) {
        // A Sync committed in between: the device is syncing it anyway.
        if (state.status().reason() == "store.unknown_synckey") continue;
        return state.status();
      }
      if (!mail) mail = services_.mail->open(login_, password_);
      // As the device's next Sync filters: an old message it will not be
      // sent must not end the Ping with 2.
      if (!policy) policy = policyEmailCutoff(*services_.store, ref_, now);
      if (!filters) filters = stickyFilterTypes(*services_.store, ref_);
      auto filter = filters->find(f.id);
      const std::optional<std::int64_t> cutoff = stricterCutoff(
          filter != filters->end() ? emailFilterCutoff(filter->second, now) : std::nullopt, *policy);
      auto changes = pendingEmailChanges(*mail, f.backend_id, state->state, cutoff);
      if (!changes.ok()) {
        const std::string why(changes.status().reason());
        if (why == "imap.uidvalidity_changed") {
          out.changed.push_back(f.id);  // its Sync answers "start over"
          continue;
        }
        if (why == "imap.no_such_folder") {
          out.hierarchy_changed = true;
          continue;
        }
        return changes.status();
      }
      if (!changes->added.empty() || !changes->flagsChanged.empty() || !changes->expunged.empty())
        out.changed.push_back(f.id);
    }
    return out;
  }

  const std::vector<Watched>& folders() const { return folders_; }
  const std::string& login() const { return login_; }
  const storage::DeviceRef& ref() const { return ref_; }

 private:
  const Services services_;  // a copy: pointers inside outlive the worker's lot
  const std::string login_;
  const std::string password_;
  const storage::DeviceRef ref_;
  const std::vector<Watched> folders_;
};

std::optional<CommandReply> answerFor(const Result<CheckResult>& r, const FolderCheck& check,
                                      std::string_view when) {
  if (!r.ok()) {
    log::warn("ping: check failed (" + std::string(when) + ") user=" + check.login() +
              " device=" + check.ref().device_id + " " + r.status().toString());
    return statusOnly(kServerError);
  }
  if (r->hierarchy_changed) return statusOnly(kFolderSyncRequired);
  if (!r->changed.empty()) {
    Reply reply;
    reply.status = kChanges;
    reply.changed_folders = r->changed;
    return replyOf(reply);
  }
  return std::nullopt;
}

// The parked part: re-checks on the lot's executor.
class PingRecheck final : public ParkedRequest {
 public:
  explicit PingRecheck(FolderCheck check) : check_(std::move(check)) {}
  std::optional<CommandReply> recheck(WakeReason why) override {
    // Draining: answer at once; the device pings again (another worker).
    if (why == WakeReason::kShutdown) return statusOnly(kExpired);
    auto result = check_.run();
    if (why == WakeReason::kEvent && !result.ok()) {
      // A failed re-check on an event waits on; the heartbeat checks again.
      log::warn("ping: re-check failed user=" + check_.login() + " " + result.status().toString());
      return std::nullopt;
    }
    auto answer = answerFor(result, check_, "re-check");
    if (answer || why == WakeReason::kEvent) return answer;
    return statusOnly(kExpired);  // heartbeat end or superseded, nothing changed
  }

 private:
  FolderCheck check_;
};

class PingCommand final : public Command {
 public:
  std::optional<CommandReply> handle(CommandContext& ctx) override {
    const CommandRequest& req = ctx.request();
    const Services* services = req.services;
    const std::string device_id = req.query ? req.query->device_id : std::string();
    if (!services || !services->store || !services->mail) {
      log::warn("ping: no store or mail backend configured");
      return statusOnly(kServerError);
    }
    storage::MetadataStore& store = *services->store;
    const storage::DeviceRef ref{req.login, device_id};

    auto parsed = parseRequest(req.document, req.capabilities);
    if (!parsed.ok()) {
      log::info("ping: malformed request user=" + req.login + " device=" + device_id + " " +
                parsed.status().toString());
      return statusOnly(kSyntaxError);
    }
    // A new Ping ends the device's parked one now (its answer is due).
    if (services->push) services->push->endDevice(req.login, device_id);

    Params cached;
    if (!parsed->heartbeat_seconds || !parsed->folders) {
      auto text = store.getRequestCache(ref, kParamsCache);
      if (text.ok()) {
        cached = decodeParams(*text);
      } else if (text.status().reason() != "store.not_found") {
        return serverError(req, "request cache", text.status());
      }
    }
    const Params params = merge(*parsed, cached);
    if (!params.heartbeat_seconds || !params.folders) return statusOnly(kMissingParameters);
    if (auto bad = checkLimits(*params.heartbeat_seconds, params.folders->size(),
                               services->min_heartbeat_seconds, services->max_heartbeat_seconds,
                               services->max_ping_folders)) {
      Reply r;
      r.status = bad->status;
      if (bad->status == kBadHeartbeat) r.heartbeat_seconds = bad->limit;
      if (bad->status == kTooManyFolders) r.max_folders = bad->limit;
      return replyOf(r);
    }
    if (req.document && params != cached) {
      if (Status s = store.putRequestCache(ref, kParamsCache, encodeParams(params)); !s.ok())
        log::warn("ping: parameters not cached user=" + req.login + " " + s.toString());
    }

    auto hierarchy = store.listFolders(ref);
    if (!hierarchy.ok()) return serverError(req, "folders", hierarchy.status());
    if (hierarchy->empty()) return statusOnly(kFolderSyncRequired);  // never ran FolderSync

    std::vector<Watched> watched;
    std::vector<std::string> known, unknown;
    for (const FolderRef& f : *params.folders) {
      const storage::Folder* found = nullptr;
      for (const storage::Folder& h : *hierarchy)
        if (h.server_id == f.id) found = &h;
      if (!found) {
        unknown.push_back(f.id);
        continue;
      }
      known.push_back(f.id);
      watched.push_back({f.id, found->backend_id, f.klass == "Email" && isMailFolder(found->type)});
    }
    if (!unknown.empty()) {
      if (auto r = handleUnknown(req, ref, known, unknown)) return r;
    }

    FolderCheck check(*services, req.login, req.password, ref, std::move(watched));
    if (auto answer = answerFor(check.run(), check, "first")) return answer;
    PushHub* hub = services->push;
    if (!hub) return statusOnly(kExpired);

    PushWatch watch;
    watch.login = req.login;
    watch.device_id = device_id;
    for (const Watched& w : check.folders())
      if (w.mail) watch.folders.push_back(w.backend_id);
    watch.heartbeat_seconds = *params.heartbeat_seconds;
    std::unique_ptr<DeferredReply> deferred = ctx.park();
    if (!deferred) return statusOnly(kServerError);
    hub->park(std::move(watch), std::move(deferred), std::make_unique<PingRecheck>(std::move(check)));
    return std::nullopt;
  }

 private:
  static CommandReply serverError(const CommandRequest& req, std::string_view what, const Status& s) {
    log::warn("ping: " + std::string(what) + " user=" + req.login + " " + s.toString());
    return statusOnly(kServerError);
  }

  // The seed's rule: Status 7 at most three times per unknown id, then the
  // id is left out and the user is told by mail. nullopt: go on with the
  // known folders.
  static std::optional<CommandReply> handleUnknown(const CommandRequest& req,
                                                   const storage::DeviceRef& ref,
                                                   const std::vector<std::string>& known,
                                                   const std::vector<std::string>& unknown) {
    storage::MetadataStore& store = *req.services->store;
    UnknownCounts counts;
    auto text = store.getRequestCache(ref, kUnknownCache);
    if (text.ok()) {
      counts = decodeUnknown(*text);
    } else if (text.status().reason() != "store.not_found") {
      return serverError(req, "request cache", text.status());
    }
    UnknownDecision d = decideUnknown(counts, known, unknown);
    if (d.changed) {
      if (Status s = store.putRequestCache(ref, kUnknownCache, encodeUnknown(d.counts)); !s.ok())
        return serverError(req, "request cache", s);
    }
    for (const std::string& id : d.notify) {
      storage::Notice n;
      n.ref = ref;
      n.kind = kNoticeFolderPushRequest;
      n.payload = noticePayload({{"folder_id", id}});
      n.created_at = req.services->clock->unixSeconds();
      if (auto q = store.queueNotice(n); !q.ok())
        log::warn("ping: folder push notice not queued: " + q.status().toString());
      log::info("ping: folder " + id + " left out of Pings after " +
                std::to_string(kMaxFolderSyncRequests) + " FolderSync requests user=" + req.login +
                " device=" + ref.device_id);
    }
    if (d.folder_sync_required) return statusOnly(kFolderSyncRequired);
    return std::nullopt;
  }
};

}  // namespace

std::unique_ptr<Command> makePingCommand() { return std::make_unique<PingCommand>(); }

}  // namespace eas::commands
