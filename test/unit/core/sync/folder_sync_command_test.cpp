// FolderSync through the command, with a fake mail backend and a real
// SQLite store in a temporary folder: SyncKey rules, replay, statuses,
// stable ids, two devices.
#include "core/commands/folder_sync_command.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/backends/mail_backend.h"
#include "core/sync/folder_hierarchy.h"
#include "storage/metadata_store.h"
#include "storage/store_admin.h"
#include "test/unit/core/testing/unsupported_mail_backend.h"

namespace fh = eas::wbxml::tags::FolderHierarchy;
using eas::Result;
using eas::Status;
using namespace eas;

namespace {

// Shared state of the fake IMAP server.
struct FakeMailbox {
  std::vector<backend::FolderInfo> folders;
  bool down = false;
  int opens = 0;
};

backend::FolderInfo box(const std::string& name, backend::FolderRole role = backend::FolderRole::kNone) {
  backend::FolderInfo f;
  f.name = name;
  f.delimiter = '/';
  std::size_t pos = name.rfind('/');
  f.displayName = pos == std::string::npos ? name : name.substr(pos + 1);
  f.role = role;
  return f;
}

class FakeBackend final : public eas::testing::UnsupportedMailBackend {
 public:
  explicit FakeBackend(FakeMailbox& box) : box_(box) {}
  Result<std::vector<backend::FolderInfo>> listFolders() override {
    if (box_.down) return Status::Unavailable("imap.unavailable", "fake server down");
    return box_.folders;
  }

 private:
  FakeMailbox& box_;
};

class FakeProvider final : public commands::MailBackendProvider {
 public:
  explicit FakeProvider(FakeMailbox& box) : box_(box) {}
  std::unique_ptr<backend::MailBackend> open(const std::string&, const std::string&) override {
    ++box_.opens;
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

struct Answer {
  int status = 0;
  std::string sync_key;
  int count = -1;
  std::vector<storage::FolderChange> changes;
  std::string bytes;
};

struct Env {
  std::string dir;
  std::unique_ptr<storage::MetadataStore> store;
  FakeMailbox mailbox;
  FakeProvider provider{mailbox};
  commands::Services services;

  Env() {
    char tmpl[] = "/tmp/foldersync_test_XXXXXX";
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
    mailbox.folders = {box("INBOX", backend::FolderRole::kInbox),
                       box("Drafts", backend::FolderRole::kDrafts),
                       box("Sent", backend::FolderRole::kSent),
                       box("Trash", backend::FolderRole::kTrash), box("Work"), box("Work/Projects")};
  }
  ~Env() {
    store.reset();
    std::string cmd = "rm -rf '" + dir + "'";
    (void)std::system(cmd.c_str());
  }

  // Sends FolderSync with `key` (nullptr: no SyncKey element).
  Answer folderSync(const char* key, const std::string& device = "DEV1") {
    std::string wb;
    {
      wbxml::Writer w(&wb);
      w.start(fh::FolderSync);
      if (key) w.element(fh::SyncKey, key);
      w.end();
      w.flush();
    }
    auto doc = wbxml::decode(wb);
    REQUIRE(doc.ok());
    protocol::EasQuery query;
    query.device_id = device;
    query.device_type = "iPhone";
    commands::CommandRequest req;
    req.query = &query;
    req.login = "alice@example.test";
    req.password = "secret";
    req.services = &services;
    req.document = &*doc;
    Ctx ctx(req);
    auto reply = commands::makeFolderSyncCommand()->handle(ctx);
    REQUIRE(reply.has_value());
    REQUIRE(reply->status.ok());
    Answer a;
    a.bytes = reply->body;
    auto out = wbxml::decode(reply->body);
    REQUIRE(out.ok());
    const wbxml::Element& root = out->root();
    REQUIRE(root.tag() == fh::FolderSync);
    a.status = std::atoi(std::string(root.childText(fh::Status)).c_str());
    CHECK(a.status == reply->eas_status);
    a.sync_key = std::string(root.childText(fh::SyncKey));
    if (const wbxml::Element* ch = root.child(fh::Changes)) {
      a.count = std::atoi(std::string(ch->childText(fh::Count)).c_str());
      for (const wbxml::Element& c : ch->children()) {
        storage::FolderChange fc;
        if (c.tag() == fh::Add) fc.kind = storage::FolderChange::Kind::kAdd;
        else if (c.tag() == fh::Update) fc.kind = storage::FolderChange::Kind::kUpdate;
        else if (c.tag() == fh::Delete) fc.kind = storage::FolderChange::Kind::kDelete;
        else continue;
        fc.folder.server_id = std::string(c.childText(fh::ServerId));
        fc.folder.parent_id = std::string(c.childText(fh::ParentId));
        fc.folder.display_name = std::string(c.childText(fh::DisplayName));
        fc.folder.type = std::atoi(std::string(c.childText(fh::Type, "0")).c_str());
        if (fc.kind != storage::FolderChange::Kind::kDelete) {
          CHECK_FALSE(fc.folder.server_id.empty());
          CHECK_FALSE(fc.folder.parent_id.empty());
          CHECK(fc.folder.type > 0);
        }
        a.changes.push_back(fc);
      }
      CHECK(a.count == static_cast<int>(a.changes.size()));
    }
    return a;
  }
};

const storage::FolderChange* named(const Answer& a, const std::string& display) {
  for (const auto& c : a.changes)
    if (c.folder.display_name == display) return &c;
  return nullptr;
}

}  // namespace

TEST_CASE("SyncKey 0 lists every folder with its type and parent", "[foldersync]") {
  Env env;
  Answer a = env.folderSync("0");
  CHECK(a.status == 1);
  CHECK(a.sync_key == "1");
  REQUIRE(a.count == 6);
  CHECK(named(a, "INBOX")->folder.type == 2);
  CHECK(named(a, "Drafts")->folder.type == 3);
  CHECK(named(a, "Trash")->folder.type == 4);
  CHECK(named(a, "Sent")->folder.type == 5);
  CHECK(named(a, "Work")->folder.type == 12);
  CHECK(named(a, "Work")->folder.parent_id == "0");
  CHECK(named(a, "Projects")->folder.parent_id == named(a, "Work")->folder.server_id);
  for (const auto& c : a.changes) CHECK(c.kind == storage::FolderChange::Kind::kAdd);
}

TEST_CASE("incremental changes, replay of the previous key, unknown keys", "[foldersync]") {
  Env env;
  Answer first = env.folderSync("0");
  REQUIRE(first.sync_key == "1");

  // Nothing changed: Count 0 and the same key.
  Answer same = env.folderSync("1");
  CHECK(same.status == 1);
  CHECK(same.sync_key == "1");
  CHECK(same.count == 0);

  // A new folder: Add with the previous key.
  env.mailbox.folders.push_back(box("Work/New"));
  Answer add = env.folderSync("1");
  CHECK(add.status == 1);
  CHECK(add.sync_key == "2");
  REQUIRE(add.count == 1);
  CHECK(add.changes[0].kind == storage::FolderChange::Kind::kAdd);
  CHECK(add.changes[0].folder.display_name == "New");
  CHECK(add.changes[0].folder.parent_id == named(first, "Work")->folder.server_id);

  // The answer to key 1 was lost: the same bytes again, never 9.
  Answer replay = env.folderSync("1");
  CHECK(replay.bytes == add.bytes);

  // Rename Work/New -> Work/Renamed: Update, same ServerId.
  env.mailbox.folders.back() = box("Work/Renamed");
  Answer upd = env.folderSync("2");
  CHECK(upd.sync_key == "3");
  REQUIRE(upd.count == 1);
  CHECK(upd.changes[0].kind == storage::FolderChange::Kind::kUpdate);
  CHECK(upd.changes[0].folder.server_id == add.changes[0].folder.server_id);
  CHECK(upd.changes[0].folder.display_name == "Renamed");

  // Delete it.
  env.mailbox.folders.pop_back();
  Answer del = env.folderSync("3");
  CHECK(del.sync_key == "4");
  REQUIRE(del.count == 1);
  CHECK(del.changes[0].kind == storage::FolderChange::Kind::kDelete);
  CHECK(del.changes[0].folder.server_id == add.changes[0].folder.server_id);

  // Older than the previous key, a future key, junk: 9.
  CHECK(env.folderSync("2").status == 9);
  CHECK(env.folderSync("99").status == 9);
  CHECK(env.folderSync("abc").status == 9);
  CHECK(env.folderSync("").status == 9);
  CHECK(env.folderSync("-1").status == 9);
  CHECK(env.folderSync("99999999999999999999999").status == 9);
  // No SyncKey element: 10.
  CHECK(env.folderSync(nullptr).status == 10);

  // A reset keeps every ServerId.
  Answer reset = env.folderSync("0");
  CHECK(reset.sync_key == "1");
  REQUIRE(reset.count == 6);
  for (const auto& c : reset.changes)
    CHECK(named(first, c.folder.display_name)->folder.server_id == c.folder.server_id);
}

TEST_CASE("an unknown key on a device that never synced is 9", "[foldersync]") {
  Env env;
  CHECK(env.folderSync("1").status == 9);
}

TEST_CASE("two devices of one user keep their own keys", "[foldersync]") {
  Env env;
  Answer a = env.folderSync("0", "DEVA");
  env.mailbox.folders.push_back(box("Later"));
  Answer b = env.folderSync("0", "DEVB");
  CHECK(b.count == 7);
  Answer a2 = env.folderSync("1", "DEVA");
  CHECK(a2.count == 1);
  CHECK(a2.sync_key == "2");
  Answer b2 = env.folderSync("1", "DEVB");
  CHECK(b2.count == 0);
  CHECK(b2.sync_key == "1");
  // DEVB's key 2 does not exist even though DEVA has one.
  CHECK(env.folderSync("2", "DEVB").status == 9);
}

TEST_CASE("IMAP down: Status 6 and nothing committed", "[foldersync]") {
  Env env;
  Answer first = env.folderSync("0");
  env.mailbox.folders.push_back(box("Later"));
  env.mailbox.down = true;
  CHECK(env.folderSync("1").status == 6);
  CHECK(env.folderSync("0").status == 6);
  env.mailbox.down = false;
  Answer next = env.folderSync("1");  // key 1 still current
  CHECK(next.status == 1);
  CHECK(next.sync_key == "2");
  CHECK(next.count == 1);
}

TEST_CASE("no store or mail backend configured: Status 6", "[foldersync]") {
  Env env;
  env.services.mail = nullptr;
  CHECK(env.folderSync("0").status == 6);
}

TEST_CASE("the folder_mode device setting limits to the default folders", "[foldersync]") {
  Env env;
  storage::Device d;
  d.ref = {"alice@example.test", "DEV1"};
  d.settings[std::string(sync::kFolderModeSetting)] = "default";
  REQUIRE(env.store->putDevice(d).ok());
  Answer a = env.folderSync("0");
  CHECK(a.count == 4);
  for (const auto& c : a.changes) CHECK(c.folder.type != 12);
}
