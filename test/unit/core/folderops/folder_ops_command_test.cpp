// FolderCreate, FolderDelete, FolderUpdate, MoveItems and Search through
// their commands, with an in-memory fake mail backend and a real SQLite
// store in a temporary folder (FolderSync, the real command, sets up the
// device's hierarchy and checks that no change is echoed).
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/backends/mail_backend.h"
#include "core/commands/folder_create_command.h"
#include "core/commands/folder_delete_command.h"
#include "core/commands/folder_sync_command.h"
#include "core/commands/folder_update_command.h"
#include "core/commands/move_items_command.h"
#include "core/commands/search_command.h"
#include "core/status_map.h"
#include "storage/metadata_store.h"
#include "storage/store_admin.h"
#include "test/unit/core/testing/unsupported_mail_backend.h"

namespace fh = eas::wbxml::tags::FolderHierarchy;
namespace mv = eas::wbxml::tags::Move;
namespace se = eas::wbxml::tags::Search;
namespace as = eas::wbxml::tags::AirSync;
namespace asb = eas::wbxml::tags::AirSyncBase;
namespace em = eas::wbxml::tags::Email;
using eas::Result;
using eas::Status;
using namespace eas;

namespace {

struct Msg {
  std::uint32_t uid = 0;
  std::int64_t date = 0;
  std::uint32_t flags = 0;
  std::string raw;
};

struct FakeFolder {
  backend::FolderInfo info;
  std::vector<Msg> messages;
  std::uint32_t uid_next = 1;
};

// Shared state of the fake IMAP server.
struct FakeMailbox {
  std::map<std::string, FakeFolder> folders;
  bool down = false;
  bool refuse_moves = false;
  bool refuse_folder_ops = false;  // the server answers NO to CREATE/RENAME/DELETE
  ManualClock* clock = nullptr;    // advanced by each SEARCH when set
  std::int64_t search_ms = 0;
  int fetches = 0;
  std::vector<std::uint32_t> fetched_bodies;  // UIDs fetched with a body section
  std::optional<std::uint32_t> last_section_length;
  std::vector<std::string> calls;             // create/rename/delete, in order

  void add(const std::string& name, backend::FolderRole role = backend::FolderRole::kNone) {
    FakeFolder f;
    f.info.name = name;
    f.info.delimiter = '.';
    std::size_t pos = name.rfind('.');
    f.info.displayName = pos == std::string::npos ? name : name.substr(pos + 1);
    f.info.role = role;
    folders[name] = f;
  }
  std::uint32_t deliver(const std::string& folder, const std::string& subject,
                        const std::string& body, std::int64_t date) {
    FakeFolder& f = folders.at(folder);
    Msg m;
    m.uid = f.uid_next++;
    m.date = date;
    m.raw = "From: Bob <bob@example.test>\r\nTo: alice@example.test\r\nSubject: " + subject +
            "\r\nMessage-ID: <" + std::to_string(m.uid) + folder + "@x>\r\n" +
            "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n";
    f.messages.push_back(m);
    return m.uid;
  }
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class FakeBackend final : public eas::testing::UnsupportedMailBackend {
 public:
  explicit FakeBackend(FakeMailbox& box) : box_(box) {}
  Result<std::vector<backend::FolderInfo>> listFolders() override {
    if (box_.down) return down();
    std::vector<backend::FolderInfo> out;
    for (const auto& [name, f] : box_.folders) out.push_back(f.info);
    return out;
  }
  Result<std::vector<backend::MessageData>> fetchMessages(const std::string& folder,
                                                          const std::vector<std::uint32_t>& uids,
                                                          const backend::FetchRequest& what) override {
    if (box_.down) return down();
    auto it = box_.folders.find(folder);
    if (it == box_.folders.end()) return Status::NotFound("imap.no_such_folder", folder);
    ++box_.fetches;
    std::vector<backend::MessageData> out;
    for (const Msg& m : it->second.messages) {
      if (std::find(uids.begin(), uids.end(), m.uid) == uids.end()) continue;
      backend::MessageData d;
      d.uid = m.uid;
      d.flags = m.flags;
      d.internalDate = m.date;
      d.size = static_cast<std::uint32_t>(m.raw.size());
      for (const backend::SectionRequest& s : what.sections) {
        REQUIRE(s.section.empty());
        box_.last_section_length = s.length;
        d.sections.push_back(s.length ? m.raw.substr(0, *s.length) : m.raw);
        box_.fetched_bodies.push_back(m.uid);
      }
      out.push_back(d);
    }
    return out;
  }
  Result<std::vector<std::uint32_t>> searchMessages(const std::string& folder,
                                                    const backend::SearchCriteria& c) override {
    if (box_.down) return down();
    if (box_.clock) box_.clock->advanceMs(box_.search_ms);
    auto it = box_.folders.find(folder);
    if (it == box_.folders.end()) return Status::NotFound("imap.no_such_folder", folder);
    std::vector<std::uint32_t> out;
    for (const Msg& m : it->second.messages) {
      const std::int64_t day = m.date / 86400 * 86400;
      if (c.since && day < *c.since / 86400 * 86400) continue;
      if (c.before && day >= *c.before / 86400 * 86400) continue;
      if (!c.text.empty() && lower(m.raw).find(lower(c.text)) == std::string::npos) continue;
      if (c.undeleted_only && (m.flags & backend::kFlagDeleted)) continue;
      out.push_back(m.uid);
    }
    return out;
  }
  Result<std::vector<std::uint32_t>> moveMessages(const std::string& from,
                                                  const std::vector<std::uint32_t>& uids,
                                                  const std::string& to) override {
    if (box_.down) return down();
    if (box_.refuse_moves) return Status::Internal("imap.refused", "NO [CANNOT] fake");
    FakeFolder& src = box_.folders.at(from);
    FakeFolder& dst = box_.folders.at(to);
    std::vector<std::uint32_t> out;
    for (std::uint32_t uid : uids) {
      auto it = std::find_if(src.messages.begin(), src.messages.end(),
                             [&](const Msg& m) { return m.uid == uid; });
      if (it == src.messages.end()) {
        out.push_back(0);
        continue;
      }
      Msg m = *it;
      src.messages.erase(it);
      m.uid = dst.uid_next++;
      dst.messages.push_back(m);
      out.push_back(m.uid);
    }
    return out;
  }
  Status createFolder(const std::string& name) override {
    if (box_.down) return down();
    box_.calls.push_back("create " + name);
    if (box_.refuse_folder_ops) return Status::Internal("imap.refused", "NO fake");
    if (box_.folders.count(name)) return Status::AlreadyExists("imap.already_exists", name);
    box_.add(name);
    return Status::Ok();
  }
  Status renameFolder(const std::string& from, const std::string& to) override {
    if (box_.down) return down();
    box_.calls.push_back("rename " + from + " " + to);
    if (box_.refuse_folder_ops) return Status::Internal("imap.refused", "NO fake");
    if (!box_.folders.count(from)) return Status::NotFound("imap.no_such_folder", from);
    if (box_.folders.count(to)) return Status::AlreadyExists("imap.already_exists", to);
    std::map<std::string, FakeFolder> next;
    for (auto& [name, f] : box_.folders) {
      std::string n = name;
      if (name == from) n = to;
      else if (name.rfind(from + ".", 0) == 0) n = to + name.substr(from.size());
      FakeFolder g = f;
      g.info.name = n;
      std::size_t pos = n.rfind('.');
      g.info.displayName = pos == std::string::npos ? n : n.substr(pos + 1);
      next[n] = g;
    }
    box_.folders = next;
    return Status::Ok();
  }
  Status deleteFolder(const std::string& name) override {
    if (box_.down) return down();
    box_.calls.push_back("delete " + name);
    if (box_.refuse_folder_ops) return Status::Internal("imap.refused", "NO fake");
    if (!box_.folders.erase(name)) return Status::NotFound("imap.no_such_folder", name);
    return Status::Ok();
  }

 private:
  static Status down() { return Status::Unavailable("imap.unavailable", "fake server down"); }
  FakeMailbox& box_;
};

class FakeProvider final : public commands::MailBackendProvider {
 public:
  explicit FakeProvider(FakeMailbox& box) : box_(box) {}
  std::unique_ptr<backend::MailBackend> open(const std::string&, const std::string&) override {
    return std::make_unique<FakeBackend>(box_);
  }

 private:
  FakeMailbox& box_;
};

class Ctx final : public commands::CommandContext {
 public:
  explicit Ctx(const commands::CommandRequest& r) : r_(r) {}
  const commands::CommandRequest& request() const override { return r_; }
  std::unique_ptr<commands::DeferredReply> park() override { return nullptr; }

 private:
  const commands::CommandRequest& r_;
};

using Build = std::function<void(wbxml::Writer&)>;

struct Reply {
  commands::CommandReply raw;
  std::optional<wbxml::Document> doc;
  const wbxml::Element& root() const { return doc->root(); }
  int status(wbxml::Tag t) const {
    return std::atoi(std::string(root().childText(t, "-1")).c_str());
  }
};

struct FolderEntry {
  std::string kind, server_id, parent_id, display_name;
  int type = 0;
};

struct Env {
  std::string dir;
  std::unique_ptr<storage::MetadataStore> store;
  FakeMailbox mailbox;
  FakeProvider provider{mailbox};
  commands::Services services;
  std::string device = "DEV1";
  std::string user = "alice@example.test";
  protocol::ProtocolVersion version = protocol::ProtocolVersion::k141;

  Env() {
    char tmpl[] = "/tmp/folderops_test_XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    std::string url = "sqlite:" + dir + "/eas.db";
    auto admin = storage::openStoreAdmin(url);
    REQUIRE(admin.ok());
    REQUIRE((*admin)->upgrade().ok());
    auto s = storage::openMetadataStore(url);
    REQUIRE(s.ok());
    store = std::move(*s);
    services.store = store.get();
    services.mail = &provider;
    mailbox.add("INBOX", backend::FolderRole::kInbox);
    mailbox.add("Drafts", backend::FolderRole::kDrafts);
    mailbox.add("Sent", backend::FolderRole::kSent);
    mailbox.add("Trash", backend::FolderRole::kTrash);
    mailbox.add("Work");
    mailbox.add("Work.Projects");
  }
  ~Env() {
    store.reset();
    std::string cmd = "rm -rf '" + dir + "'";
    (void)std::system(cmd.c_str());
  }

  Reply run(std::unique_ptr<commands::Command> cmd, const Build& body, bool with_body = true) {
    std::string wb;
    if (with_body) {
      wbxml::Writer w(&wb);
      body(w);
      w.flush();
    }
    std::optional<wbxml::Document> doc;
    if (with_body) {
      auto d = wbxml::decode(wb);
      REQUIRE(d.ok());
      doc = std::move(*d);
    }
    protocol::EasQuery query;
    query.device_id = device;
    query.device_type = "iPhone";
    commands::CommandRequest req;
    req.capabilities = protocol::capabilitiesFor(version);
    req.query = &query;
    req.login = user;
    req.password = "secret";
    req.services = &services;
    req.document = doc ? &*doc : nullptr;
    Ctx ctx(req);
    auto reply = cmd->handle(ctx);
    REQUIRE(reply.has_value());
    Reply r;
    r.raw = std::move(*reply);
    if (r.raw.status.ok()) {
      auto out = wbxml::decode(r.raw.body);
      REQUIRE(out.ok());
      r.doc = std::move(*out);
    }
    return r;
  }

  std::string syncKey;  // the device's current FolderSync key
  std::vector<FolderEntry> folderSync(const std::string& key) {
    Reply r = run(commands::makeFolderSyncCommand(),
                  [&](wbxml::Writer& w) { w.start(fh::FolderSync).element(fh::SyncKey, key).end(); });
    REQUIRE(r.status(fh::Status) == 1);
    syncKey = std::string(r.root().childText(fh::SyncKey));
    std::vector<FolderEntry> out;
    if (const wbxml::Element* ch = r.root().child(fh::Changes)) {
      for (const wbxml::Element& c : ch->children()) {
        FolderEntry e;
        if (c.tag() == fh::Add) e.kind = "Add";
        else if (c.tag() == fh::Update) e.kind = "Update";
        else if (c.tag() == fh::Delete) e.kind = "Delete";
        else continue;
        e.server_id = std::string(c.childText(fh::ServerId));
        e.parent_id = std::string(c.childText(fh::ParentId));
        e.display_name = std::string(c.childText(fh::DisplayName));
        e.type = std::atoi(std::string(c.childText(fh::Type, "0")).c_str());
        out.push_back(e);
      }
    }
    return out;
  }
  std::map<std::string, std::string> ids;  // display name -> ServerId
  void initialSync() {
    for (const FolderEntry& e : folderSync("0")) ids[e.display_name] = e.server_id;
  }

  Reply create(const std::string& key, const std::string& parent, const std::string& name,
               int type = 12) {
    return run(commands::makeFolderCreateCommand(), [&](wbxml::Writer& w) {
      w.start(fh::FolderCreate).element(fh::SyncKey, key).element(fh::ParentId, parent);
      w.element(fh::DisplayName, name).element(fh::Type, type).end();
    });
  }
  Reply remove(const std::string& key, const std::string& id) {
    return run(commands::makeFolderDeleteCommand(), [&](wbxml::Writer& w) {
      w.start(fh::FolderDelete).element(fh::SyncKey, key).element(fh::ServerId, id).end();
    });
  }
  Reply update(const std::string& key, const std::string& id, const std::string& parent,
               const std::string& name) {
    return run(commands::makeFolderUpdateCommand(), [&](wbxml::Writer& w) {
      w.start(fh::FolderUpdate).element(fh::SyncKey, key).element(fh::ServerId, id);
      w.element(fh::ParentId, parent).element(fh::DisplayName, name).end();
    });
  }

  struct MoveResult {
    std::string src, dst;
    int status = 0;
  };
  struct Move {
    std::string msg, src, dst;
    int dst_count = 1;
  };
  std::vector<MoveResult> move(const std::vector<Move>& moves, Reply* raw = nullptr) {
    Reply r = run(commands::makeMoveItemsCommand(), [&](wbxml::Writer& w) {
      w.start(mv::MoveItems);
      for (const Move& m : moves) {
        w.start(mv::Move).element(mv::SrcMsgId, m.msg).element(mv::SrcFldId, m.src);
        for (int i = 0; i < m.dst_count; ++i) w.element(mv::DstFldId, m.dst);
        w.end();
      }
      w.end();
    });
    std::vector<MoveResult> out;
    REQUIRE(r.raw.status.ok());
    for (const wbxml::Element& e : r.root().children()) {
      REQUIRE(e.tag() == mv::Response);
      MoveResult m;
      m.src = std::string(e.childText(mv::SrcMsgId));
      m.dst = std::string(e.childText(mv::DstMsgId));
      m.status = std::atoi(std::string(e.childText(mv::Status, "-1")).c_str());
      out.push_back(m);
    }
    if (raw) *raw = std::move(r);
    return out;
  }

  struct SearchAnswer {
    int status = -1, store_status = -1, total = -1;
    std::string range;
    std::vector<std::string> long_ids, subjects, bodies, collections;
    bool empty_result = false;
  };
  SearchAnswer search(const Build& query, const Build& options = {}, const char* name = "Mailbox") {
    Reply r = run(commands::makeSearchCommand(), [&](wbxml::Writer& w) {
      w.start(se::Search).start(se::Store).element(se::Name, name).start(se::Query);
      query(w);
      w.end();
      if (options) {
        w.start(se::Options);
        options(w);
        w.end();
      }
      w.end().end();
    });
    REQUIRE(r.raw.status.ok());
    SearchAnswer a;
    a.status = r.status(se::Status);
    const wbxml::Element* resp = r.root().child(se::Response);
    if (!resp) return a;
    const wbxml::Element* st = resp->child(se::Store);
    REQUIRE(st != nullptr);
    a.store_status = std::atoi(std::string(st->childText(se::Status, "-1")).c_str());
    a.total = std::atoi(std::string(st->childText(se::Total, "-1")).c_str());
    a.range = std::string(st->childText(se::Range));
    for (const wbxml::Element& res : st->children()) {
      if (res.tag() != se::Result) continue;
      if (!res.firstChild()) {
        a.empty_result = true;
        continue;
      }
      CHECK(res.childText(as::Class) == "Email");
      a.long_ids.emplace_back(res.childText(se::LongId));
      a.collections.emplace_back(res.childText(as::CollectionId));
      const wbxml::Element* props = res.child(se::Properties);
      REQUIRE(props != nullptr);
      a.subjects.emplace_back(props->childText(em::Subject));
      if (const wbxml::Element* body = props->child(asb::Body))
        a.bodies.emplace_back(body->childText(asb::Data));
    }
    return a;
  }
};

Build simpleAnd(const std::string& text, const std::vector<std::string>& collections = {}) {
  return [text, collections](wbxml::Writer& w) {
    w.start(se::And).element(as::Class, "Email");
    for (const std::string& c : collections) w.element(as::CollectionId, c);
    if (!text.empty()) w.element(se::FreeText, text);
    w.end();
  };
}

std::string keyOf(const Reply& r) { return std::string(r.root().childText(fh::SyncKey)); }

}  // namespace

TEST_CASE("FolderCreate: IMAP folder, new key, no echo, replay of the old key", "[folderops]") {
  Env env;
  env.initialSync();
  REQUIRE(env.syncKey == "1");
  Reply r = env.create("1", env.ids["Work"], "Reports");
  REQUIRE(r.status(fh::Status) == 1);
  CHECK(keyOf(r) == "2");
  const std::string id(r.root().childText(fh::ServerId));
  CHECK_FALSE(id.empty());
  CHECK(env.mailbox.folders.count("Work.Reports") == 1);

  // The next FolderSync with the new key reports nothing (no echo)...
  auto changes = env.folderSync("2");
  CHECK(changes.empty());
  CHECK(env.syncKey == "2");
  // ...and a reset lists the folder with the id FolderCreate gave.
  bool found = false;
  for (const FolderEntry& e : env.folderSync("0")) {
    if (e.display_name != "Reports") continue;
    found = true;
    CHECK(e.server_id == id);
    CHECK(e.parent_id == env.ids["Work"]);
    CHECK(e.type == 12);
  }
  CHECK(found);
}

TEST_CASE("FolderCreate: the old key after a lost reply replays the change", "[folderops]") {
  Env env;
  env.initialSync();
  Reply r = env.create("1", "0", "Top");
  REQUIRE(r.status(fh::Status) == 1);
  const std::string id(r.root().childText(fh::ServerId));
  // The device never got the reply and syncs with key 1.
  auto changes = env.folderSync("1");
  CHECK(env.syncKey == "2");
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].kind == "Add");
  CHECK(changes[0].server_id == id);
  CHECK(changes[0].display_name == "Top");
  CHECK(changes[0].parent_id == "0");
  // Retrying FolderCreate with the old key is refused (9), changes nothing.
  CHECK(env.create("1", "0", "Top").status(fh::Status) == 9);
}

TEST_CASE("FolderCreate statuses", "[folderops]") {
  Env env;
  env.initialSync();
  struct Row {
    const char* what;
    std::string key, parent, name;
    int type;
    int status;
  };
  const std::vector<Row> rows = {
      {"name exists", "1", "0", "Work", 12, 2},
      {"unknown parent", "1", "987", "X", 12, 5},
      {"bad key", "1x", "0", "X", 12, 9},
      {"unknown key", "7", "0", "X", 12, 9},
      {"key 0", "0", "0", "X", 12, 9},
      {"empty key", "", "0", "X", 12, 9},
      {"default folder type", "1", "0", "X", 2, 10},
      {"name with the delimiter", "1", "0", "a.b", 12, 10},
  };
  for (const Row& r : rows) {
    INFO(r.what);
    Reply rep = env.create(r.key, r.parent, r.name, r.type);
    CHECK(rep.status(fh::Status) == r.status);
    CHECK_FALSE(rep.root().hasChild(fh::SyncKey));  // failures carry no key
    CHECK_FALSE(rep.root().hasChild(fh::ServerId));
  }
  CHECK(env.mailbox.calls.empty());
  // Malformed: no SyncKey, no Type, no body.
  Reply no_key = env.run(commands::makeFolderCreateCommand(), [](wbxml::Writer& w) {
    w.start(fh::FolderCreate).element(fh::ParentId, "0").element(fh::DisplayName, "X");
    w.element(fh::Type, 12).end();
  });
  CHECK(no_key.status(fh::Status) == 10);
  Reply no_type = env.run(commands::makeFolderCreateCommand(), [](wbxml::Writer& w) {
    w.start(fh::FolderCreate).element(fh::SyncKey, "1").element(fh::ParentId, "0");
    w.element(fh::DisplayName, "X").end();
  });
  CHECK(no_type.status(fh::Status) == 10);
  Reply no_body = env.run(commands::makeFolderCreateCommand(), {}, false);
  CHECK(no_body.status(fh::Status) == 10);
  // The server has a folder of that name the device was not told of yet.
  env.mailbox.add("Hidden");
  CHECK(env.create("1", "0", "Hidden").status(fh::Status) == 2);
  // IMAP down: 6, nothing committed, the key stays.
  env.mailbox.down = true;
  CHECK(env.create("1", "0", "Y").status(fh::Status) == 6);
  env.mailbox.down = false;
  CHECK(env.create("1", "0", "Y").status(fh::Status) == 1);
}

TEST_CASE("FolderCreate is refused when the device syncs default folders only", "[folderops]") {
  Env env;
  storage::Device d;
  d.ref = {env.user, env.device};
  d.device_type = "iPhone";
  d.settings["folder_mode"] = "default";
  REQUIRE(env.store->putDevice(d).ok());
  env.initialSync();
  Reply r = env.create("1", "0", "Mine");
  CHECK(r.status(fh::Status) == 3);
  CHECK(env.mailbox.folders.count("Mine") == 0);
}

TEST_CASE("FolderDelete: the folder and its subfolders; default folders refused", "[folderops]") {
  Env env;
  env.initialSync();
  for (const char* name : {"INBOX", "Drafts", "Sent", "Trash"}) {
    INFO(name);
    Reply r = env.remove("1", env.ids[name]);
    CHECK(r.status(fh::Status) == 3);
    CHECK_FALSE(r.root().hasChild(fh::SyncKey));
  }
  CHECK(env.remove("1", "4711").status(fh::Status) == 4);
  CHECK(env.remove("9", env.ids["Work"]).status(fh::Status) == 9);
  CHECK(env.mailbox.calls.empty());

  Reply ok = env.remove("1", env.ids["Work"]);
  REQUIRE(ok.status(fh::Status) == 1);
  CHECK(keyOf(ok) == "2");
  CHECK(env.mailbox.folders.count("Work") == 0);
  CHECK(env.mailbox.folders.count("Work.Projects") == 0);
  CHECK(env.mailbox.calls == std::vector<std::string>{"delete Work.Projects", "delete Work"});
  CHECK(env.folderSync("2").empty());  // no echo
  auto all = env.folderSync("0");
  for (const FolderEntry& e : all) {
    CHECK(e.display_name != "Work");
    CHECK(e.display_name != "Projects");
  }
}

TEST_CASE("FolderUpdate: rename and move, children follow, no echo", "[folderops]") {
  Env env;
  env.mailbox.add("Home");
  env.initialSync();
  // Rename Work -> Job: Work.Projects follows on the server and in the store.
  Reply r = env.update("1", env.ids["Work"], "0", "Job");
  REQUIRE(r.status(fh::Status) == 1);
  CHECK(keyOf(r) == "2");
  CHECK(env.mailbox.folders.count("Job.Projects") == 1);
  CHECK(env.folderSync("2").empty());
  // Move Projects under Home.
  Reply m = env.update("2", env.ids["Projects"], env.ids["Home"], "Projects");
  REQUIRE(m.status(fh::Status) == 1);
  CHECK(keyOf(m) == "3");
  CHECK(env.mailbox.folders.count("Home.Projects") == 1);
  CHECK(env.folderSync("3").empty());
  // The ServerIds survived both.
  for (const FolderEntry& e : env.folderSync("0")) {
    if (e.display_name == "Job") CHECK(e.server_id == env.ids["Work"]);
    if (e.display_name == "Projects") {
      CHECK(e.server_id == env.ids["Projects"]);
      CHECK(e.parent_id == env.ids["Home"]);
    }
  }
}

TEST_CASE("FolderUpdate statuses", "[folderops]") {
  Env env;
  env.mailbox.add("Home");
  env.initialSync();
  struct Row {
    const char* what;
    std::string key, id, parent, name;
    int status;
  };
  const std::vector<Row> rows = {
      {"Inbox renamed", "1", env.ids["INBOX"], "0", "Post", 2},
      {"Sent moved", "1", env.ids["Sent"], env.ids["Work"], "Sent", 2},
      {"name exists", "1", env.ids["Home"], "0", "Work", 2},
      {"unknown folder", "1", "4711", "0", "X", 4},
      {"unknown parent", "1", env.ids["Home"], "4711", "X", 5},
      {"into its own child", "1", env.ids["Work"], env.ids["Projects"], "Work", 10},
      {"bad key", "5", env.ids["Home"], "0", "X", 9},
  };
  for (const Row& r : rows) {
    INFO(r.what);
    Reply rep = env.update(r.key, r.id, r.parent, r.name);
    CHECK(rep.status(fh::Status) == r.status);
    CHECK_FALSE(rep.root().hasChild(fh::SyncKey));
  }
  CHECK(env.mailbox.calls.empty());
  Reply no_name = env.run(commands::makeFolderUpdateCommand(), [&](wbxml::Writer& w) {
    w.start(fh::FolderUpdate).element(fh::SyncKey, "1").element(fh::ServerId, env.ids["Home"]);
    w.element(fh::ParentId, "0").end();
  });
  CHECK(no_name.status(fh::Status) == 10);
}

TEST_CASE("MoveItems: per-item statuses and new ids", "[moveitems]") {
  Env env;
  const std::uint32_t a = env.mailbox.deliver("INBOX", "first", "one", 1000);
  const std::uint32_t b = env.mailbox.deliver("INBOX", "second", "two", 2000);
  env.mailbox.deliver("Work", "w", "w", 3000);
  env.initialSync();
  const std::string inbox = env.ids["INBOX"], work = env.ids["Work"], trash = env.ids["Trash"];
  const std::string ma = inbox + ":" + std::to_string(a), mb = inbox + ":" + std::to_string(b);

  auto res = env.move({
      {ma, inbox, work},                      // 3
      {inbox + ":999", inbox, work},          // 1 no such message
      {ma, inbox, trash},                     // 1 the same item twice
      {mb, inbox, "4711"},                    // 2 unknown destination
      {mb, "4711", work},                     // 1 unknown source
      {mb, inbox, inbox},                     // 4 same folder
      {mb, inbox, work, 2},                   // 5 two DstFldId
      {work + ":1", inbox, trash},            // 1 id of another collection
      {"garbage", inbox, trash},              // 1 not <collection>:<uid>
  });
  REQUIRE(res.size() == 9);
  const int expected[] = {3, 1, 1, 2, 1, 4, 5, 1, 1};
  for (std::size_t i = 0; i < res.size(); ++i) {
    INFO(i << " " << res[i].src);
    CHECK(res[i].status == expected[i]);
    if (res[i].status != 3) CHECK(res[i].dst.empty());
  }
  CHECK(res[0].src == ma);
  // The new id names the message in Work (uid 2 there: Work had uid 1).
  CHECK(res[0].dst == work + ":2");
  CHECK(env.mailbox.folders["Work"].messages.size() == 2);
  CHECK(env.mailbox.folders["INBOX"].messages.size() == 1);

  // Already moved: 1 now.
  CHECK(env.move({{ma, inbox, work}})[0].status == 1);
  // IMAP down: 7 (transient); a refused move: 5.
  env.mailbox.down = true;
  Reply raw;
  auto down = env.move({{mb, inbox, work}}, &raw);
  CHECK(down[0].status == 7);
  env.mailbox.down = false;
  env.mailbox.refuse_moves = true;
  CHECK(env.move({{mb, inbox, work}})[0].status == 5);
  env.mailbox.refuse_moves = false;
  CHECK(env.move({{mb, inbox, work}})[0].status == 3);
}

TEST_CASE("MoveItems: another device's or user's ids name nothing here", "[moveitems]") {
  Env env;
  const std::uint32_t a = env.mailbox.deliver("INBOX", "mine", "x", 1000);
  env.initialSync();
  const std::string inbox = env.ids["INBOX"];
  env.device = "OTHERDEV";  // no hierarchy: every folder id is unknown
  auto res = env.move({{inbox + ":" + std::to_string(a), inbox, env.ids["Work"]}});
  CHECK(res[0].status == 1);
  env.device = "DEV1";
  env.user = "mallory@example.test";
  res = env.move({{inbox + ":" + std::to_string(a), inbox, env.ids["Work"]}});
  CHECK(res[0].status == 1);
  CHECK(env.mailbox.folders["INBOX"].messages.size() == 1);
}

TEST_CASE("MoveItems: malformed and oversized requests", "[moveitems]") {
  Env env;
  env.initialSync();
  Reply none = env.run(commands::makeMoveItemsCommand(), {}, false);
  CHECK(none.raw.status.reason() == "move.no_body");
  CHECK(answerFor(none.raw.status, true).eas_status == 103);
  Reply empty = env.run(commands::makeMoveItemsCommand(),
                        [](wbxml::Writer& w) { w.start(mv::MoveItems).end(); });
  CHECK(answerFor(empty.raw.status, true).eas_status == 103);
  Reply many = env.run(commands::makeMoveItemsCommand(), [](wbxml::Writer& w) {
    w.start(mv::MoveItems);
    for (int i = 0; i < 1001; ++i)
      w.start(mv::Move).element(mv::SrcMsgId, "1:1").element(mv::SrcFldId, "1").element(mv::DstFldId, "2").end();
    w.end();
  });
  CHECK(many.raw.status.reason() == "move.too_many");
  CHECK(answerFor(many.raw.status, true).eas_status == 103);
  CHECK(answerFor(many.raw.status, false).http_status == 400);
}

TEST_CASE("Search: by subject and body, folders, paging, Total", "[search]") {
  Env env;
  for (int i = 0; i < 15; ++i)
    env.mailbox.deliver("INBOX", "Invoice " + std::to_string(i), "amount due", 1000000 + i * 100);
  env.mailbox.deliver("INBOX", "Lunch", "the invoice is attached", 900000);
  env.mailbox.deliver("Work.Projects", "Project invoice", "deep", 2000000);
  env.mailbox.deliver("Work", "Other", "nothing", 3000000);
  env.initialSync();

  auto all = env.search(simpleAnd("invoice"));
  CHECK(all.status == 1);
  CHECK(all.store_status == 1);
  CHECK(all.total == 17);
  CHECK(all.long_ids.size() == 17);
  CHECK(all.subjects.front() == "Project invoice");  // newest first
  CHECK(all.range == "0-16");

  auto page = env.search(simpleAnd("invoice", {env.ids["INBOX"]}), [](wbxml::Writer& w) {
    w.element(se::Range, "5-9");
    w.start(asb::BodyPreference).element(asb::Type, 1).end();
  });
  CHECK(page.total == 16);
  CHECK(page.range == "5-9");
  REQUIRE(page.subjects.size() == 5);
  CHECK(page.subjects[0] == "Invoice 9");
  CHECK(page.subjects[4] == "Invoice 5");
  CHECK(page.collections[0] == env.ids["INBOX"]);
  CHECK(page.long_ids[0] == env.ids["INBOX"] + ":10");
  REQUIRE(page.bodies.size() == 5);
  CHECK(page.bodies[0].find("amount due") != std::string::npos);
  // Only the page was fetched with bodies.
  CHECK(env.mailbox.fetched_bodies.size() == 17 + 5);

  auto by_body = env.search(simpleAnd("attached"));
  REQUIRE(by_body.subjects.size() == 1);
  CHECK(by_body.subjects[0] == "Lunch");

  // Work without DeepTraversal: only Work; with it: Work.Projects too.
  auto shallow = env.search(simpleAnd("", {env.ids["Work"]}));
  CHECK(shallow.total == 1);
  auto deep = env.search(simpleAnd("", {env.ids["Work"]}),
                         [](wbxml::Writer& w) { w.empty(se::DeepTraversal); });
  CHECK(deep.total == 2);

  // Past the end: no result, Total still given.
  auto past = env.search(simpleAnd("invoice"), [](wbxml::Writer& w) { w.element(se::Range, "50-59"); });
  CHECK(past.store_status == 1);
  CHECK(past.total == 17);
  CHECK(past.empty_result);
  CHECK(past.long_ids.empty());

  auto nothing = env.search(simpleAnd("nomatchanywhere"));
  CHECK(nothing.total == 0);
  CHECK(nothing.empty_result);
}

TEST_CASE("Search: DateReceived bounds are exact", "[search]") {
  Env env;
  // Same day, different times: IMAP SINCE/BEFORE see one day, we refine.
  const std::int64_t day = 1796083200;  // 2026-12-01
  env.mailbox.deliver("INBOX", "early", "x", day + 3600);
  env.mailbox.deliver("INBOX", "noon", "x", day + 12 * 3600);
  env.mailbox.deliver("INBOX", "late", "x", day + 20 * 3600);
  env.mailbox.deliver("INBOX", "yesterday", "x", day - 3600);
  env.initialSync();
  auto res = env.search([](wbxml::Writer& w) {
    w.start(se::And).element(as::Class, "Email");
    w.start(se::GreaterThan).empty(em::DateReceived).element(se::Value, "2026-12-01T02:00:00.000Z").end();
    w.start(se::LessThan).empty(em::DateReceived).element(se::Value, "2026-12-01T19:00:00.000Z").end();
    w.end();
  });
  CHECK(res.store_status == 1);
  CHECK(res.subjects == std::vector<std::string>{"noon"});
}

TEST_CASE("Search statuses", "[search]") {
  Env env;
  env.mailbox.deliver("INBOX", "a", "x", 1000);
  // No hierarchy yet: FolderSync required.
  CHECK(env.search(simpleAnd("a")).store_status == 11);
  env.initialSync();
  CHECK(env.search(simpleAnd("a", {"4711"})).store_status == 11);
  CHECK(env.search([](wbxml::Writer& w) { w.element(se::FreeText, "a"); }).store_status == 8);
  CHECK(env.search([](wbxml::Writer& w) { w.start(se::Or).end(); }).store_status == 8);
  CHECK(env.search(simpleAnd("a"), [](wbxml::Writer& w) { w.element(se::Range, "x"); }).store_status == 2);
  CHECK(env.search(simpleAnd("a"), {}, "DocumentLibrary").store_status == 2);
  // GAL: an empty result.
  auto gal = env.search([](wbxml::Writer& w) { w.text("smi"); }, {}, "GAL");
  CHECK(gal.status == 1);
  CHECK(gal.store_status == 1);
  CHECK(gal.total == 0);
  CHECK(gal.empty_result);
  // Another class has nothing in mail folders.
  auto cal = env.search([](wbxml::Writer& w) {
    w.start(se::And).element(as::Class, "Calendar").element(se::FreeText, "a").end();
  });
  CHECK(cal.store_status == 1);
  CHECK(cal.total == 0);
  // IMAP down: 3.
  env.mailbox.down = true;
  CHECK(env.search(simpleAnd("a")).store_status == 3);
  env.mailbox.down = false;
  // No body: 103; no Store: 103.
  Reply none = env.run(commands::makeSearchCommand(), {}, false);
  CHECK(answerFor(none.raw.status, true).eas_status == 103);
  Reply no_store = env.run(commands::makeSearchCommand(),
                           [](wbxml::Writer& w) { w.start(se::Search).end(); });
  CHECK(answerFor(no_store.raw.status, true).eas_status == 103);
  // No services: Search Status 3.
  env.services.store = nullptr;
  auto unconfigured = env.search(simpleAnd("a"));
  CHECK(unconfigured.status == 3);
}

TEST_CASE("another device of the user learns of the change by FolderSync", "[folderops]") {
  Env env;
  env.initialSync();
  env.device = "DEV2";
  env.folderSync("0");
  const std::string key2 = env.syncKey;
  env.device = "DEV1";
  Reply r = env.create("1", "0", "Shared");
  REQUIRE(r.status(fh::Status) == 1);
  env.device = "DEV2";
  auto changes = env.folderSync(key2);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].kind == "Add");
  CHECK(changes[0].display_name == "Shared");
}

TEST_CASE("FolderDelete drops the sync state of the deleted collections", "[folderops]") {
  Env env;
  env.initialSync();
  const storage::DeviceRef ref{env.user, env.device};
  for (const char* name : {"Work", "Projects"}) {
    storage::SyncTransition t;
    t.from_key = 0;
    t.to_key = 1;
    t.watermark.uidvalidity = 7;
    t.response = "r";
    const std::string coll = env.ids[name];
    REQUIRE(env.store->commitSyncState(ref, coll, t).ok());
    REQUIRE(env.store->lookupSyncKey(ref, env.ids[name], 1).ok());
  }
  REQUIRE(env.remove("1", env.ids["Work"]).status(fh::Status) == 1);
  for (const char* name : {"Work", "Projects"}) {
    INFO(name);
    auto l = env.store->lookupSyncKey(ref, env.ids[name], 1);
    REQUIRE_FALSE(l.ok());
    CHECK(l.status().reason() == "store.unknown_synckey");
  }
}

TEST_CASE("folder operations: server errors 6 and 11, nothing committed", "[folderops]") {
  Env env;
  env.mailbox.add("Home");
  env.initialSync();
  env.mailbox.refuse_folder_ops = true;
  CHECK(env.create("1", "0", "X").status(fh::Status) == 11);
  CHECK(env.remove("1", env.ids["Home"]).status(fh::Status) == 11);
  CHECK(env.update("1", env.ids["Home"], "0", "Y").status(fh::Status) == 11);
  env.mailbox.refuse_folder_ops = false;
  env.mailbox.down = true;
  CHECK(env.create("1", "0", "X").status(fh::Status) == 6);
  CHECK(env.remove("1", env.ids["Home"]).status(fh::Status) == 6);
  CHECK(env.update("1", env.ids["Home"], "0", "Y").status(fh::Status) == 6);
  env.mailbox.down = false;
  // Not configured: 6.
  commands::MailBackendProvider* mail = env.services.mail;
  env.services.mail = nullptr;
  CHECK(env.create("1", "0", "X").status(fh::Status) == 6);
  env.services.mail = mail;
  // Key 1 is still current: nothing was committed.
  CHECK(env.folderSync("1").empty());
  CHECK(env.syncKey == "1");
  CHECK(env.mailbox.folders.count("Home") == 1);
}

TEST_CASE("Search: folders not searched within the budget answer 10", "[search]") {
  Env env;
  env.mailbox.deliver("INBOX", "a", "x", 1000);
  env.initialSync();
  ManualClock clock;
  env.services.clock = &clock;
  env.mailbox.clock = &clock;
  env.mailbox.search_ms = 5000;  // six folders: 30 s after the fifth
  CHECK(env.search(simpleAnd("a")).store_status == 1);
  env.mailbox.search_ms = 10000;
  CHECK(env.search(simpleAnd("a")).store_status == 10);
  // One folder is always searched, however slow.
  CHECK(env.search(simpleAnd("a", {env.ids["INBOX"]})).store_status == 1);
}

TEST_CASE("Search fetches a bounded prefix for a truncated body", "[search]") {
  Env env;
  env.mailbox.deliver("INBOX", "big", std::string(300000, 'x') + " tailword", 1000);
  env.initialSync();
  auto r = env.search(simpleAnd("big"), [](wbxml::Writer& w) {
    w.start(asb::BodyPreference).element(asb::Type, 1).element(asb::TruncationSize, 200).end();
  });
  REQUIRE(r.store_status == 1);
  REQUIRE(r.bodies.size() == 1);
  CHECK(r.bodies[0].size() == 200);
  REQUIRE(env.mailbox.last_section_length.has_value());
  CHECK(*env.mailbox.last_section_length < 300000u);
}
