#include "core/commands/move_items_command.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/backends/mail_backend.h"
#include "core/base/log.h"
#include "core/sync/email_window.h"
#include "storage/metadata_store.h"

namespace eas::commands {
namespace {

namespace mv = wbxml::tags::Move;

constexpr int kInvalidSource = 1;
constexpr int kInvalidDestination = 2;
constexpr int kSuccess = 3;
constexpr int kSameFolder = 4;
constexpr int kFailure = 5;
constexpr int kLocked = 7;
constexpr std::size_t kMaxMoves = 1000;  // CMD §3.1.5.10

struct MoveRequest {
  std::string src_msg_id, src_fld_id, dst_fld_id;
  int dst_count = 0;
  bool has_src_msg = false, has_src_fld = false;
  // Resolved:
  const storage::Folder* src = nullptr;
  const storage::Folder* dst = nullptr;
  std::uint32_t uid = 0;
  int status = 0;  // 0 = not decided yet
  std::string dst_msg_id;
};

const storage::Folder* findFolder(const std::vector<storage::Folder>& stored, std::string_view id) {
  for (const storage::Folder& f : stored)
    if (f.server_id == id) return &f;
  return nullptr;
}

bool onServer(const std::vector<backend::FolderInfo>& folders, const std::string& name) {
  return std::any_of(folders.begin(), folders.end(),
                     [&](const backend::FolderInfo& f) { return f.name == name && f.selectable; });
}

int transientOr(const Status& st, int otherwise) {
  return st.code() == StatusCode::kUnavailable || st.reason() == "imap.unavailable" ? kLocked
                                                                                   : otherwise;
}

CommandReply reply(const std::vector<MoveRequest>& moves) {
  CommandReply r;
  wbxml::Writer w(&r.body);
  w.start(mv::MoveItems);
  for (const MoveRequest& m : moves) {
    w.start(mv::Response).element(mv::SrcMsgId, m.src_msg_id).element(mv::Status, m.status);
    if (m.status == kSuccess && !m.dst_msg_id.empty()) w.element(mv::DstMsgId, m.dst_msg_id);
    w.end();
  }
  w.end();
  w.flush();
  r.eas_status = moves.empty() ? 0 : moves.front().status;
  return r;
}

class MoveItemsCommand final : public Command {
 public:
  std::optional<CommandReply> handle(CommandContext& ctx) override {
    const CommandRequest& req = ctx.request();
    CommandReply r;
    if (!req.document) {
      r.status = Status::InvalidArgument("move.no_body", "MoveItems without a body");
      return r;
    }
    std::vector<MoveRequest> moves;
    for (const wbxml::Element& e : req.document->root().children()) {
      if (e.tag() != mv::Move) continue;
      if (moves.size() == kMaxMoves) {
        r.status = Status::LimitExceeded("move.too_many", "more than 1000 Move elements");
        return r;
      }
      MoveRequest m;
      for (const wbxml::Element& c : e.children()) {
        if (c.tag() == mv::SrcMsgId) {
          m.src_msg_id = std::string(c.text());
          m.has_src_msg = true;
        } else if (c.tag() == mv::SrcFldId) {
          m.src_fld_id = std::string(c.text());
          m.has_src_fld = true;
        } else if (c.tag() == mv::DstFldId) {
          if (m.dst_count++ == 0) m.dst_fld_id = std::string(c.text());
        }
      }
      moves.push_back(std::move(m));
    }
    if (moves.empty()) {
      r.status = Status::InvalidArgument("move.no_moves", "MoveItems without a Move");
      return r;
    }

    storage::MetadataStore* store = req.services ? req.services->store : nullptr;
    MailBackendProvider* mail = req.services ? req.services->mail : nullptr;
    if (!store || !mail) {
      r.status = Status::Internal("move.no_services", "no store or mail backend");
      return r;
    }
    const storage::DeviceRef ref{req.login, req.query ? req.query->device_id : std::string()};
    auto stored = store->listFolders(ref);
    if (!stored.ok()) {
      log::warn("moveitems: store user=" + req.login + " " + stored.status().toString());
      r.status = Status::Unavailable("move.store", stored.status().message());
      return r;
    }
    auto backend = mail->open(req.login, req.password);
    auto folders = backend->listFolders();
    if (!folders.ok()) {
      log::warn("moveitems: backend user=" + req.login + " " + folders.status().toString());
      for (MoveRequest& m : moves) m.status = transientOr(folders.status(), kFailure);
      return reply(moves);
    }

    // 1. What can be decided from the ids alone.
    std::set<std::pair<std::string, std::uint32_t>> seen;
    for (MoveRequest& m : moves) {
      if (m.dst_count > 1) {
        m.status = kFailure;
        continue;
      }
      m.src = m.has_src_fld ? findFolder(*stored, m.src_fld_id) : nullptr;
      if (!m.src || !onServer(*folders, m.src->backend_id)) {
        m.status = kInvalidSource;
        continue;
      }
      auto uid = sync::itemUid(m.src->server_id, m.src_msg_id);
      if (!m.has_src_msg || !uid || *uid == 0) {
        m.status = kInvalidSource;
        continue;
      }
      m.uid = *uid;
      m.dst = m.dst_count == 1 ? findFolder(*stored, m.dst_fld_id) : nullptr;
      if (!m.dst || m.dst->type == 19 || !onServer(*folders, m.dst->backend_id)) {
        m.status = kInvalidDestination;
        continue;
      }
      if (m.dst->server_id == m.src->server_id) {
        m.status = kSameFolder;
        continue;
      }
      // The same item twice: the second finds it moved already.
      if (!seen.insert({m.src->server_id, m.uid}).second) m.status = kInvalidSource;
    }

    // 2. Which source messages exist: one UID FETCH per source folder.
    std::map<const storage::Folder*, std::vector<MoveRequest*>> by_src;
    for (MoveRequest& m : moves)
      if (m.status == 0) by_src[m.src].push_back(&m);
    backend::FetchRequest probe;
    probe.envelope = false;
    probe.bodyStructure = false;
    for (auto& [src, list] : by_src) {
      std::vector<std::uint32_t> uids;
      for (MoveRequest* m : list) uids.push_back(m->uid);
      auto found = backend->fetchMessages(src->backend_id, uids, probe);
      if (!found.ok()) {
        log::warn("moveitems: probe " + src->backend_id + " " + found.status().toString());
        const int st = found.status().reason() == "imap.no_such_folder"
                           ? kInvalidSource
                           : transientOr(found.status(), kFailure);
        for (MoveRequest* m : list) m->status = st;
        continue;
      }
      std::set<std::uint32_t> present;
      for (const backend::MessageData& d : *found)
        if ((d.flags & backend::kFlagDeleted) == 0) present.insert(d.uid);
      for (MoveRequest* m : list)
        if (!present.count(m->uid)) m->status = kInvalidSource;
    }

    // 3. One MOVE per (source, destination) pair.
    std::map<std::pair<const storage::Folder*, const storage::Folder*>, std::vector<MoveRequest*>>
        groups;
    for (MoveRequest& m : moves)
      if (m.status == 0) groups[{m.src, m.dst}].push_back(&m);
    for (auto& [pair, list] : groups) {
      std::vector<std::uint32_t> uids;
      for (MoveRequest* m : list) uids.push_back(m->uid);
      auto moved = backend->moveMessages(pair.first->backend_id, uids, pair.second->backend_id);
      if (!moved.ok()) {
        log::warn("moveitems: move " + pair.first->backend_id + " -> " + pair.second->backend_id +
                  " " + moved.status().toString());
        const int st = transientOr(moved.status(), kFailure);
        for (MoveRequest* m : list) m->status = st;
        continue;
      }
      for (std::size_t i = 0; i < list.size(); ++i) {
        list[i]->status = kSuccess;
        const std::uint32_t new_uid = i < moved->size() ? (*moved)[i] : 0;
        if (new_uid != 0) {
          list[i]->dst_msg_id = sync::itemServerId(pair.second->server_id, new_uid);
        } else {
          log::warn("moveitems: server gave no new UID for " + list[i]->src_msg_id);
        }
      }
    }
    for (const MoveRequest& m : moves)
      if (m.status != kSuccess)
        log::info("moveitems: " + m.src_msg_id + " status=" + std::to_string(m.status) +
                  " user=" + req.login);
    return reply(moves);
  }
};

}  // namespace

std::unique_ptr<Command> makeMoveItemsCommand() { return std::make_unique<MoveItemsCommand>(); }

}  // namespace eas::commands
