#include "core/commands/folder_sync_command.h"

#include <charconv>
#include <cstdint>
#include <string>

#include "core/backends/mail_backend.h"
#include "core/base/log.h"
#include "core/sync/folder_hierarchy.h"
#include "storage/metadata_store.h"

namespace eas::commands {
namespace {

namespace fh = wbxml::tags::FolderHierarchy;

constexpr int kOk = 1;
constexpr int kServerError = 6;
constexpr int kInvalidSyncKey = 9;
constexpr int kBadRequest = 10;

bool parseKey(std::string_view text, std::uint64_t* out) {
  if (text.empty() || text.size() > 20) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

CommandReply statusOnly(int status) {
  CommandReply r;
  wbxml::Writer w(&r.body);
  w.start(fh::FolderSync).element(fh::Status, status).end();
  w.flush();
  r.eas_status = status;
  return r;
}

CommandReply serverError(const CommandRequest& req, std::string_view what, const Status& st) {
  log::warn("foldersync: " + std::string(what) + " user=" + req.login + " " + st.toString());
  return statusOnly(kServerError);
}

void writeFolder(wbxml::Writer& w, wbxml::Tag kind, const storage::Folder& f) {
  w.start(kind)
      .element(fh::ServerId, f.server_id)
      .element(fh::ParentId, f.parent_id.empty() ? std::string_view("0") : f.parent_id)
      .element(fh::DisplayName, f.display_name)
      .element(fh::Type, f.type)
      .end();
}

class FolderSyncCommand final : public Command {
 public:
  std::optional<CommandReply> handle(CommandContext& ctx) override {
    const CommandRequest& req = ctx.request();
    if (!req.document) return statusOnly(kBadRequest);
    const wbxml::Element& root = req.document->root();
    const wbxml::Element* key_el = root.child(fh::SyncKey);
    if (!key_el) return statusOnly(kBadRequest);
    std::uint64_t key = 0;
    if (!parseKey(key_el->text(), &key)) return statusOnly(kInvalidSyncKey);

    storage::MetadataStore* store = req.services ? req.services->store : nullptr;
    MailBackendProvider* mail = req.services ? req.services->mail : nullptr;
    if (!store || !mail)
      return serverError(req, "not configured",
                         Status::Internal("foldersync.no_services", "no store or mail backend"));
    const storage::DeviceRef ref{req.login, req.query ? req.query->device_id : std::string()};

    auto lookup = store->lookupFolderSyncKey(ref, key);
    if (!lookup.ok()) {
      if (lookup.status().reason() == "store.unknown_synckey") return statusOnly(kInvalidSyncKey);
      return serverError(req, "store", lookup.status());
    }
    if (lookup->match == storage::FolderSyncLookup::Match::kPrevious) {
      CommandReply r;  // the answer that was lost, again
      r.body = std::move(lookup->replay_response);
      r.eas_status = kOk;
      return r;
    }

    sync::FolderMode mode = sync::FolderMode::kAll;
    if (auto device = store->findDevice(ref); device.ok()) {
      auto it = device->settings.find(std::string(sync::kFolderModeSetting));
      if (it != device->settings.end()) mode = sync::folderModeFrom(it->second);
      // A quarantined device sees the default folders only (seed, "ABQ Access States").
      if (device->access_state == storage::AccessState::kQuarantine)
        mode = sync::FolderMode::kDefaultOnly;
    }

    auto backend = mail->open(req.login, req.password);
    auto folders = backend->listFolders();
    if (!folders.ok()) return serverError(req, "backend", folders.status());
    auto stored = store->listFolders(ref);
    if (!stored.ok()) return serverError(req, "store", stored.status());

    // Count the ids needed, reserve them, then plan for real (pure, cheap).
    std::size_t needed =
        sync::planHierarchy(*folders, *stored, mode, [] { return std::string("x"); }).new_ids;
    std::uint64_t next_id = 0;
    if (needed > 0) {
      auto first = store->reserveIds(ref, needed);
      if (!first.ok()) return serverError(req, "store", first.status());
      next_id = *first;
    }
    sync::HierarchyPlan plan = sync::planHierarchy(
        *folders, *stored, mode, [&next_id] { return std::to_string(next_id++); });

    if (key != 0 && plan.changes.empty()) {
      CommandReply r;  // nothing changed: the same key, nothing to commit
      wbxml::Writer w(&r.body);
      w.start(fh::FolderSync).element(fh::Status, kOk).element(fh::SyncKey, std::to_string(key));
      w.start(fh::Changes).element(fh::Count, 0).end().end();
      w.flush();
      r.eas_status = kOk;
      return r;
    }

    const std::uint64_t new_key = key + 1;  // 0 -> 1: starts over, ids kept
    CommandReply r;
    {
      wbxml::Writer w(&r.body);
      w.start(fh::FolderSync).element(fh::Status, kOk).element(fh::SyncKey, std::to_string(new_key));
      w.start(fh::Changes);
      if (key == 0) {
        w.element(fh::Count, static_cast<std::int64_t>(plan.folders.size()));
        for (const storage::Folder& f : plan.folders) writeFolder(w, fh::Add, f);
      } else {
        w.element(fh::Count, static_cast<std::int64_t>(plan.device_changes.size()));
        for (const storage::FolderChange& c : plan.device_changes) {
          if (c.kind == storage::FolderChange::Kind::kDelete) {
            w.start(fh::Delete).element(fh::ServerId, c.folder.server_id).end();
          } else {
            writeFolder(w, c.kind == storage::FolderChange::Kind::kAdd ? fh::Add : fh::Update,
                        c.folder);
          }
        }
      }
      w.end().end();
      w.flush();
    }
    if (Status s = store->commitFolderSync(ref, key, new_key, plan.changes, r.body); !s.ok())
      return serverError(req, "commit", s);
    r.eas_status = kOk;
    return r;
  }
};

}  // namespace

std::unique_ptr<Command> makeFolderSyncCommand() { return std::make_unique<FolderSyncCommand>(); }

}  // namespace eas::commands
