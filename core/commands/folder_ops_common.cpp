#include "core/commands/folder_ops_common.h"

#include <charconv>
#include <cstdint>
#include <string>

#include "core/backends/mail_backend.h"
#include "core/base/log.h"
#include "storage/metadata_store.h"

namespace eas::commands {
namespace {

namespace fh = wbxml::tags::FolderHierarchy;

constexpr int kOk = 1;
constexpr int kNameExists = 2;
constexpr int kServerError = 6;
constexpr int kInvalidSyncKey = 9;
constexpr int kMalformed = 10;
constexpr int kUnknownError = 11;

bool parseKey(std::string_view text, std::uint64_t* out) {
  if (text.empty() || text.size() > 20) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

CommandReply statusOnly(const FolderOpSpec& spec, int status) {
  CommandReply r;
  wbxml::Writer w(&r.body);
  w.start(spec.root).element(fh::Status, status).end();
  w.flush();
  r.eas_status = status;
  return r;
}

CommandReply refused(const FolderOpSpec& spec, const CommandRequest& req, int status,
                     std::string_view reason) {
  log::info(std::string(spec.name) + ": refused " + std::string(reason) + " status=" +
            std::to_string(status) + " user=" + req.login);
  return statusOnly(spec, status);
}

CommandReply failed(const FolderOpSpec& spec, const CommandRequest& req, std::string_view what,
                    const Status& st, int status = kServerError) {
  log::warn(std::string(spec.name) + ": " + std::string(what) + " user=" + req.login + " " +
            st.toString());
  return statusOnly(spec, status);
}

void writeFolder(wbxml::Writer& w, wbxml::Tag kind, const storage::Folder& f) {
  w.start(kind)
      .element(fh::ServerId, f.server_id)
      .element(fh::ParentId, f.parent_id.empty() ? std::string_view("0") : f.parent_id)
      .element(fh::DisplayName, f.display_name)
      .element(fh::Type, f.type)
      .end();
}

// The FolderSync answer for a device that resends the old key because it
// lost this command's reply: the new key and the device's own change.
std::string folderSyncReplay(std::uint64_t new_key,
                             const std::vector<storage::FolderChange>& changes) {
  std::string out;
  wbxml::Writer w(&out);
  w.start(fh::FolderSync).element(fh::Status, kOk).element(fh::SyncKey, std::to_string(new_key));
  w.start(fh::Changes).element(fh::Count, static_cast<std::int64_t>(changes.size()));
  for (const storage::FolderChange& c : changes) {
    if (c.kind == storage::FolderChange::Kind::kDelete)
      w.start(fh::Delete).element(fh::ServerId, c.folder.server_id).end();
    else
      writeFolder(w, c.kind == storage::FolderChange::Kind::kAdd ? fh::Add : fh::Update, c.folder);
  }
  w.end().end();
  w.flush();
  return out;
}

int imapFailureStatus(const Status& st) {
  if (st.reason() == "imap.already_exists") return kNameExists;
  if (st.code() == StatusCode::kUnavailable || st.reason() == "imap.unavailable" ||
      st.reason() == "imap.auth_failed")
    return kServerError;
  return kUnknownError;
}

}  // namespace

CommandReply runFolderOp(CommandContext& ctx, const FolderOpSpec& spec) {
  const CommandRequest& req = ctx.request();
  if (!req.document) return refused(spec, req, kMalformed, "folderops.no_body");
  const wbxml::Element& root = req.document->root();
  const wbxml::Element* key_el = root.child(fh::SyncKey);
  if (!key_el) return refused(spec, req, kMalformed, "folderops.no_synckey");
  std::uint64_t key = 0;
  if (!parseKey(key_el->text(), &key) || key == 0)
    return refused(spec, req, kInvalidSyncKey, "folderops.bad_synckey");

  storage::MetadataStore* store = req.services ? req.services->store : nullptr;
  MailBackendProvider* mail = req.services ? req.services->mail : nullptr;
  if (!store || !mail)
    return failed(spec, req, "not configured",
                  Status::Internal("folderops.no_services", "no store or mail backend"));
  const storage::DeviceRef ref{req.login, req.query ? req.query->device_id : std::string()};

  auto lookup = store->lookupFolderSyncKey(ref, key);
  if (!lookup.ok()) {
    if (lookup.status().reason() == "store.unknown_synckey")
      return refused(spec, req, kInvalidSyncKey, "folderops.unknown_synckey");
    return failed(spec, req, "store", lookup.status());
  }
  if (lookup->match != storage::FolderSyncLookup::Match::kCurrent || lookup->current_key != key)
    return refused(spec, req, kInvalidSyncKey, "folderops.stale_synckey");

  sync::FolderMode mode = sync::FolderMode::kAll;
  if (auto device = store->findDevice(ref); device.ok()) {
    auto it = device->settings.find(std::string(sync::kFolderModeSetting));
    if (it != device->settings.end()) mode = sync::folderModeFrom(it->second);
  }

  auto backend = mail->open(req.login, req.password);
  auto folders = backend->listFolders();
  if (!folders.ok()) return failed(spec, req, "backend", folders.status());
  auto stored = store->listFolders(ref);
  if (!stored.ok()) return failed(spec, req, "store", stored.status());

  const FolderOpInputs in{*stored, *folders, mode};
  std::optional<sync::FolderOpPlan> plan = spec.plan(root, in, std::string());
  if (!plan) return refused(spec, req, kMalformed, "folderops.malformed");
  if (plan->status != kOk) return refused(spec, req, plan->status, plan->reason);
  std::string new_id;
  if (spec.needs_new_id) {
    auto first = store->reserveIds(ref, 1);
    if (!first.ok()) return failed(spec, req, "store", first.status());
    new_id = std::to_string(*first);
    plan = spec.plan(root, in, new_id);
    if (!plan || plan->status != kOk)
      return failed(spec, req, "replan", Status::Internal("folderops.replan"));
  }

  // The IMAP side. A folder already gone counts as deleted.
  for (const std::string& name : plan->imap_deletes) {
    Status s = backend->deleteFolder(name);
    if (!s.ok() && s.reason() != "imap.no_such_folder")
      return failed(spec, req, "imap delete " + name, s, imapFailureStatus(s));
  }
  if (!plan->imap_create.empty()) {
    Status s = backend->createFolder(plan->imap_create);
    if (!s.ok()) return failed(spec, req, "imap create", s, imapFailureStatus(s));
  }
  if (!plan->imap_rename_from.empty()) {
    Status s = backend->renameFolder(plan->imap_rename_from, plan->imap_rename_to);
    if (!s.ok()) return failed(spec, req, "imap rename", s, imapFailureStatus(s));
  }

  const std::uint64_t new_key = key + 1;
  if (Status s = store->commitFolderSync(ref, key, new_key, plan->changes,
                                         folderSyncReplay(new_key, plan->device_changes));
      !s.ok()) {
    // The server has the change; the next FolderSync reports it to the device.
    return failed(spec, req, "commit", s);
  }
  for (const std::string& id : plan->reset_collections) {
    if (Status s = store->resetSyncState(ref, id); !s.ok())
      log::warn(std::string(spec.name) + ": reset sync state of " + id + " " + s.toString());
  }

  CommandReply r;
  wbxml::Writer w(&r.body);
  w.start(spec.root).element(fh::Status, kOk).element(fh::SyncKey, std::to_string(new_key));
  if (spec.needs_new_id) w.element(fh::ServerId, new_id);
  w.end();
  w.flush();
  r.eas_status = kOk;
  return r;
}

}  // namespace eas::commands
