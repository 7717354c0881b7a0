// FolderSync end to end: device -> nginx -> eas-fcgi -> Dovecot, with the
// metadata store of the eas_stack fixture. Folders are changed over IMAP
// (the project's own IMAP backend, logged in as the test user) between
// FolderSyncs. Folder names and DeviceIds carry the pid, so reruns against
// the same fixture do not see each other's folders or state.
#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "core/backends/imap/imap_backend.h"
#include "core/wbxml/wbxml.h"
#include "test/integration/common/env_file.h"
#include "test/integration/common/request_bodies.h"
#include "test/integration/common/test_client.h"

namespace fh = eas::wbxml::tags::FolderHierarchy;
using eas::testing::EasRequest;
using eas::testing::EnvFile;
using eas::testing::HttpReply;
using eas::testing::TestClient;

namespace {

struct FolderEntry {
  std::string kind;  // Add | Update | Delete
  std::string server_id, parent_id, display_name;
  int type = 0;
};

struct Answer {
  int http = 0;
  int status = -1;
  std::string sync_key;
  int count = -1;
  std::vector<FolderEntry> entries;
  std::string body;

  const FolderEntry* named(const std::string& name) const {
    for (const auto& e : entries)
      if (e.display_name == name) return &e;
    return nullptr;
  }
  const FolderEntry* byId(const std::string& id) const {
    for (const auto& e : entries)
      if (e.server_id == id) return &e;
    return nullptr;
  }
};

struct Stack {
  EnvFile env = EnvFile::loadFixture("eas_stack");
  TestClient client{env.get("EAS_URL")};
  std::string user = env.testUser(1);
  std::string pass = env.testPassword(1);
  eas::backend::imap::ImapSessionPool pool{imapConfig()};
  std::string tag = std::to_string(::getpid());

  Stack() { client.setSourceAddress("127.0.5.1"); }

  eas::backend::imap::ImapConfig imapConfig() const {
    eas::backend::imap::ImapConfig c;
    c.host = env.get("IMAP_HOST");
    c.port = std::atoi(env.get("IMAP_PORT").c_str());
    return c;
  }
  std::unique_ptr<eas::backend::MailBackend> imap() { return pool.backendFor(user, pass); }

  Answer folderSync(const std::string& key, const std::string& device, const std::string& version) {
    EasRequest r;
    r.cmd = "FolderSync";
    r.user = user;
    r.password = pass;
    r.device_id = device;
    r.protocol_version = version;
    r.body = eas::testing::folderSyncBody(key);
    HttpReply reply = client.post(r);
    INFO(reply.error << " " << eas::testing::toXmlForLog(reply.body));
    Answer a;
    a.http = reply.status;
    a.body = reply.body;
    if (reply.status != 200) return a;
    auto doc = eas::wbxml::decode(reply.body);
    REQUIRE(doc.ok());
    const eas::wbxml::Element& root = doc->root();
    REQUIRE(root.tag() == fh::FolderSync);
    a.status = std::atoi(std::string(root.childText(fh::Status, "-1")).c_str());
    a.sync_key = std::string(root.childText(fh::SyncKey));
    if (const eas::wbxml::Element* ch = root.child(fh::Changes)) {
      a.count = std::atoi(std::string(ch->childText(fh::Count, "-1")).c_str());
      for (const eas::wbxml::Element& c : ch->children()) {
        FolderEntry e;
        if (c.tag() == fh::Add) e.kind = "Add";
        else if (c.tag() == fh::Update) e.kind = "Update";
        else if (c.tag() == fh::Delete) e.kind = "Delete";
        else continue;
        e.server_id = std::string(c.childText(fh::ServerId));
        e.parent_id = std::string(c.childText(fh::ParentId));
        e.display_name = std::string(c.childText(fh::DisplayName));
        e.type = std::atoi(std::string(c.childText(fh::Type, "0")).c_str());
        a.entries.push_back(e);
      }
    }
    return a;
  }
};

}  // namespace

TEST_CASE("14.1 and 12.1 devices get Dovecot's folders", "[integration][foldersync]") {
  Stack s;
  const std::string name = "FsList" + s.tag;
  REQUIRE(s.imap()->createFolder(name).ok());
  for (const char* version : {"14.1", "12.1"}) {
    INFO(version);
    std::string dev = "FSL" + std::string(version) + s.tag;
    dev.erase(3 + 2, 1);  // DeviceIds are alphanumeric: "14.1" -> "141"
    Answer a = s.folderSync("0", dev, version);
    REQUIRE(a.http == 200);
    CHECK(a.status == 1);
    CHECK(a.sync_key == "1");
    CHECK(a.count == static_cast<int>(a.entries.size()));
    int inboxes = 0;
    for (const auto& e : a.entries) {
      CHECK(e.kind == "Add");
      CHECK_FALSE(e.server_id.empty());
      CHECK_FALSE(e.parent_id.empty());
      inboxes += e.type == 2;
    }
    CHECK(inboxes == 1);
    REQUIRE(a.named(name) != nullptr);
    CHECK(a.named(name)->type == 12);
    CHECK(a.named(name)->parent_id == "0");
  }
  CHECK(s.imap()->deleteFolder(name).ok());
}

TEST_CASE("IMAP changes appear as Add, Update, Delete; keys replay; devices apart",
          "[integration][foldersync]") {
  Stack s;
  const std::string dev = "FSA" + s.tag, other = "FSB" + s.tag;
  Answer first = s.folderSync("0", dev, "14.1");
  REQUIRE(first.status == 1);
  Answer first_b = s.folderSync("0", other, "14.1");
  REQUIRE(first_b.status == 1);

  const std::string name = "FsNew" + s.tag, renamed = "FsRenamed" + s.tag;
  REQUIRE(s.imap()->createFolder(name).ok());
  Answer add = s.folderSync(first.sync_key, dev, "14.1");
  REQUIRE(add.status == 1);
  CHECK(add.sync_key == "2");
  REQUIRE(add.named(name) != nullptr);
  CHECK(add.named(name)->kind == "Add");
  CHECK(add.named(name)->type == 12);
  const std::string id = add.named(name)->server_id;

  // The answer was lost: the previous key gets the same bytes again.
  Answer again = s.folderSync(first.sync_key, dev, "14.1");
  CHECK(again.status == 1);
  CHECK(again.body == add.body);

  REQUIRE(s.imap()->renameFolder(name, renamed).ok());
  Answer upd = s.folderSync(add.sync_key, dev, "14.1");
  REQUIRE(upd.status == 1);
  CHECK(upd.sync_key == "3");
  REQUIRE(upd.byId(id) != nullptr);
  CHECK(upd.byId(id)->kind == "Update");
  CHECK(upd.byId(id)->display_name == renamed);

  REQUIRE(s.imap()->deleteFolder(renamed).ok());
  Answer del = s.folderSync(upd.sync_key, dev, "14.1");
  REQUIRE(del.status == 1);
  REQUIRE(del.byId(id) != nullptr);
  CHECK(del.byId(id)->kind == "Delete");

  // Keys that are neither current nor previous.
  CHECK(s.folderSync("999", dev, "14.1").status == 9);
  CHECK(s.folderSync(first.sync_key, dev, "14.1").status == 9);

  // The other device only ever saw the hierarchy without the folder: its
  // key 1 is still current and the folder came and went in between.
  // (Other tests run beside this one on the same user: a folder of theirs
  // may show up, and then the key rightly moves on.)
  Answer b = s.folderSync(first_b.sync_key, other, "14.1");
  CHECK(b.status == 1);
  CHECK(b.byId(id) == nullptr);
  if (b.count == 0) {
    CHECK(b.sync_key == first_b.sync_key);
    CHECK(s.folderSync("2", other, "14.1").status == 9);
  }
}

TEST_CASE("a reset (SyncKey 0) keeps the ServerIds", "[integration][foldersync]") {
  Stack s;
  const std::string dev = "FSR" + s.tag;
  Answer a = s.folderSync("0", dev, "14.1");
  Answer b = s.folderSync("0", dev, "14.1");
  REQUIRE(a.status == 1);
  REQUIRE(b.status == 1);
  REQUIRE(std::any_of(b.entries.begin(), b.entries.end(), [](const auto& e) { return e.type == 2; }));
  // Every folder in both lists kept its id (a folder another test made or
  // removed in between is in one list only).
  std::size_t both = 0;
  for (const auto& e : a.entries) {
    if (b.named(e.display_name) == nullptr) continue;
    ++both;
    CHECK(b.named(e.display_name)->server_id == e.server_id);
  }
  CHECK(both + 3 >= a.entries.size());
}
