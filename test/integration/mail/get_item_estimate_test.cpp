// GetItemEstimate end to end: device -> nginx -> eas-fcgi -> Dovecot
// (fixture eas_stack). Statuses 2, 3, 4 and the estimate, which must equal
// what the next Sync sends. When the Sync command is in the build, the test
// compares with the real Sync; otherwise it writes the state a Sync would
// have committed into the fixture's store and checks the estimate alone.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/backends/imap/imap_backend.h"
#include "core/sync/email_window.h"
#include "core/wbxml/wbxml.h"
#include "storage/metadata_store.h"
#include "test/integration/common/env_file.h"
#include "test/integration/common/request_bodies.h"
#include "test/integration/common/test_client.h"

namespace fh = eas::wbxml::tags::FolderHierarchy;
namespace gie = eas::wbxml::tags::GetItemEstimate;
namespace as = eas::wbxml::tags::AirSync;
using eas::testing::EasRequest;
using eas::testing::EnvFile;
using eas::testing::HttpReply;
using eas::testing::TestClient;

namespace {

std::string message(const std::string& subject) {
  return "From: Carol <carol@example.test>\r\nTo: alice@example.test\r\nSubject: " + subject +
         "\r\nMessage-ID: <" + subject + "@example.test>\r\nMIME-Version: 1.0\r\n"
         "Content-Type: text/plain; charset=utf-8\r\n\r\nbody of " + subject + "\r\n";
}

struct Estimate {
  int status = -1;
  long long estimate = -1;
};

struct SyncAnswer {
  bool implemented = true;
  int status = -1;
  std::string key;
  int commands = 0;  // Add + Change + Delete
};

struct User {
  std::string login, password;
};

struct Stack {
  EnvFile env = EnvFile::loadFixture("eas_stack");
  TestClient client{env.get("EAS_URL")};
  User alice{env.testUser(1), env.testPassword(1)};
  User bob{env.testUser(2), env.testPassword(2)};
  eas::backend::imap::ImapSessionPool pool{imapConfig()};
  std::string tag = std::to_string(::getpid());

  Stack() { client.setSourceAddress("127.0.5.4"); }

  eas::backend::imap::ImapConfig imapConfig() const {
    eas::backend::imap::ImapConfig c;
    c.host = env.get("IMAP_HOST");
    c.port = std::atoi(env.get("IMAP_PORT").c_str());
    return c;
  }
  std::unique_ptr<eas::backend::MailBackend> imap(const User& u) {
    return pool.backendFor(u.login, u.password);
  }
  // The store the fixture's eas-fcgi runs with (eas_stack.sh: store.url).
  std::unique_ptr<eas::storage::MetadataStore> store() {
    const std::string run = env.path().substr(0, env.path().rfind('/'));
    auto s = eas::storage::openMetadataStore("sqlite:" + run + "/eas-fcgi/eas.db");
    REQUIRE(s.ok());
    return std::move(*s);
  }

  EasRequest request(const User& u, const std::string& cmd, const std::string& device,
                     const std::string& version) {
    EasRequest r;
    r.cmd = cmd;
    r.user = u.login;
    r.password = u.password;
    r.device_id = device;
    r.protocol_version = version;
    return r;
  }

  std::vector<std::pair<std::string, std::string>> folders(const User& u, const std::string& device) {
    EasRequest r = request(u, "FolderSync", device, "14.1");
    r.body = eas::testing::folderSyncBody("0");
    HttpReply reply = client.post(r);
    REQUIRE(reply.status == 200);
    auto doc = eas::wbxml::decode(reply.body);
    REQUIRE(doc.ok());
    std::vector<std::pair<std::string, std::string>> out;  // name, id
    if (const eas::wbxml::Element* ch = doc->root().child(fh::Changes))
      for (const eas::wbxml::Element& c : ch->children())
        if (c.tag() == fh::Add)
          out.emplace_back(c.childText(fh::DisplayName), c.childText(fh::ServerId));
    return out;
  }

  // One collection; FilterType in Options (14.1) or under Collection (12.1).
  Estimate estimate(const User& u, const std::string& device, const std::string& collection,
                    const std::string& key, const std::string& version = "14.1",
                    const std::string& filter = {}) {
    std::string wb;
    {
      eas::wbxml::Writer w(&wb);
      w.start(gie::GetItemEstimate).start(gie::Collections).start(gie::Collection);
      if (version == "14.1") {
        w.element(as::SyncKey, key).element(gie::CollectionId, collection);
        if (!filter.empty()) w.start(as::Options).element(as::FilterType, filter).end();
      } else {
        w.element(gie::Class, "Email").element(gie::CollectionId, collection);
        if (!filter.empty()) w.element(as::FilterType, filter);
        w.element(as::SyncKey, key);
      }
      w.end().end().end();
      w.flush();
    }
    EasRequest r = request(u, "GetItemEstimate", device, version);
    r.body = wb;
    HttpReply reply = client.post(r);
    INFO(reply.error << " " << eas::testing::toXmlForLog(reply.body));
    REQUIRE(reply.status == 200);
    auto doc = eas::wbxml::decode(reply.body);
    REQUIRE(doc.ok());
    REQUIRE(doc->root().tag() == gie::GetItemEstimate);
    const eas::wbxml::Element* resp = doc->root().child(gie::Response);
    REQUIRE(resp != nullptr);
    Estimate e;
    e.status = std::atoi(std::string(resp->childText(gie::Status, "-1")).c_str());
    const eas::wbxml::Element* c = resp->child(gie::Collection);
    REQUIRE(c != nullptr);
    CHECK(c->childText(gie::CollectionId) == collection);
    if (c->hasChild(gie::Estimate))
      e.estimate = std::atoll(std::string(c->childText(gie::Estimate)).c_str());
    return e;
  }

  SyncAnswer sync(const User& u, const std::string& device, const std::string& collection,
                  const std::string& key) {
    EasRequest r = request(u, "Sync", device, "14.1");
    r.body = eas::testing::syncBody(key, collection);
    HttpReply reply = client.post(r);
    SyncAnswer a;
    if (reply.status == 501 || eas::testing::topLevelStatus(reply.body) == 137) {
      a.implemented = false;
      return a;
    }
    INFO(eas::testing::toXmlForLog(reply.body));
    REQUIRE(reply.status == 200);
    auto doc = eas::wbxml::decode(reply.body);
    REQUIRE(doc.ok());
    const eas::wbxml::Element* cols = doc->root().child(as::Collections);
    REQUIRE(cols != nullptr);
    const eas::wbxml::Element* col = cols->child(as::Collection);
    REQUIRE(col != nullptr);
    a.status = std::atoi(std::string(col->childText(as::Status, "-1")).c_str());
    a.key = std::string(col->childText(as::SyncKey));
    if (const eas::wbxml::Element* cmds = col->child(as::Commands))
      for (const eas::wbxml::Element& c : cmds->children())
        a.commands += c.tag() == as::Add || c.tag() == as::Change || c.tag() == as::Delete;
    return a;
  }
};

std::string idOf(const std::vector<std::pair<std::string, std::string>>& folders,
                 const std::string& name) {
  for (const auto& [n, id] : folders)
    if (n == name) return id;
  return {};
}

}  // namespace

TEST_CASE("GetItemEstimate: statuses and the estimate the next Sync agrees with",
          "[integration][gie]") {
  Stack s;
  const std::string dev = "GIE" + s.tag, folder = "GieBox" + s.tag;
  auto mail = s.imap(s.alice);
  (void)mail->deleteFolder(folder);
  REQUIRE(mail->createFolder(folder).ok());
  std::vector<std::uint32_t> uids;
  for (int i = 0; i < 3; ++i) {
    auto uid = mail->appendMessage(folder, message("gie" + s.tag + "-" + std::to_string(i)), 0);
    REQUIRE(uid.ok());
    uids.push_back(*uid);
  }
  const std::string coll = idOf(s.folders(s.alice, dev), folder);
  REQUIRE_FALSE(coll.empty());

  CHECK(s.estimate(s.alice, dev, coll, "0").status == 3);
  // A FilterType outside 0..8 fails the whole request: 103 on 14.1, 400 on 12.1.
  for (const char* version : {"14.1", "12.1"}) {
    std::string wb;
    {
      eas::wbxml::Writer w(&wb);
      w.start(gie::GetItemEstimate).start(gie::Collections).start(gie::Collection);
      w.element(as::SyncKey, "1").element(gie::CollectionId, coll);
      w.start(as::Options).element(as::FilterType, "9").end();
      w.end().end().end();
      w.flush();
    }
    EasRequest r = s.request(s.alice, "GetItemEstimate", dev, version);
    r.body = wb;
    HttpReply reply = s.client.post(r);
    INFO(version);
    if (std::string(version) == "14.1") {
      CHECK(reply.status == 200);
      CHECK(eas::testing::topLevelStatus(reply.body) == 103);
    } else {
      CHECK(reply.status == 400);
    }
  }
  CHECK(s.estimate(s.alice, dev, "999999", "1").status == 2);
  CHECK(s.estimate(s.alice, dev, coll, "77").status == 4);

  // The initial Sync (key 0) or, without a Sync command, the state it commits.
  SyncAnswer first = s.sync(s.alice, dev, coll, "0");
  const eas::storage::DeviceRef ref{s.alice.login, dev};
  std::string key1 = first.key;
  if (!first.implemented) {
    eas::storage::SyncTransition t;  // 0 -> 1, nothing sent yet
    t.response = "initial";
    REQUIRE(s.store()->commitSyncState(ref, coll, t).ok());
    key1 = "1";
  } else {
    REQUIRE(first.status == 1);
  }
  Estimate e1 = s.estimate(s.alice, dev, coll, key1);
  CHECK(e1.status == 1);
  CHECK(e1.estimate == 3);
  CHECK(s.estimate(s.alice, dev, coll, key1, "14.1", "1").estimate == 3);  // all from today
  CHECK(s.estimate(s.alice, dev, coll, key1, "12.1", "3").estimate == 3);  // 12.x placement
  CHECK(s.estimate(s.alice, dev, coll, key1).estimate == 3);               // key not advanced

  // The Sync that follows sends exactly the estimate; then nothing is pending.
  std::string key2;
  if (first.implemented) {
    SyncAnswer second = s.sync(s.alice, dev, coll, key1);
    REQUIRE(second.status == 1);
    CHECK(second.commands == e1.estimate);
    key2 = second.key;
  } else {
    auto state = mail->folderState(folder);
    REQUIRE(state.ok());
    eas::storage::SyncTransition t;
    t.from_key = 1;
    t.to_key = 2;
    t.watermark = eas::sync::toStoreWatermark(*state);
    for (std::uint32_t uid : uids)
      t.changes.push_back({eas::storage::ItemChange::Kind::kPut,
                           {eas::sync::itemServerId(coll, uid), std::to_string(uid), "", ""}});
    t.response = "second";
    REQUIRE(s.store()->commitSyncState(ref, coll, t).ok());
    key2 = "2";
  }
  CHECK(s.estimate(s.alice, dev, coll, key2).estimate == 0);

  // Changes over IMAP: one read, one deleted, one new = 3 for the next Sync.
  REQUIRE(mail->setFlags(folder, {uids[0]}, eas::backend::kFlagSeen).ok());
  REQUIRE(mail->deleteMessages(folder, {uids[1]}).ok());
  REQUIRE(mail->appendMessage(folder, message("gie" + s.tag + "-new"), 0).ok());
  Estimate e2 = s.estimate(s.alice, dev, coll, key2);
  CHECK(e2.status == 1);
  CHECK(e2.estimate == 3);
  if (first.implemented) {
    SyncAnswer third = s.sync(s.alice, dev, coll, key2);
    REQUIRE(third.status == 1);
    CHECK(third.commands == e2.estimate);
  }

  // Bob's device: Alice's collection id is refused (unless Bob has that id
  // himself, which then names his own folder without any sync state).
  const auto bob_folders = s.folders(s.bob, "GIEB" + s.tag);
  bool bob_has = false;
  for (const auto& [n, id] : bob_folders) bob_has = bob_has || id == coll;
  Estimate b = s.estimate(s.bob, "GIEB" + s.tag, coll, key2);
  CHECK(b.estimate == -1);
  CHECK(b.status == (bob_has ? 4 : 2));
  (void)mail->deleteFolder(folder);  // best effort (a worker session may have it selected)
}
