// Quarantine through the real servers: an ABQ rule quarantines a new device
// type; through nginx and eas-fcgi its FolderSync lists the default folders
// only (an allowed device of the same user sees the user folder too), and the
// information mail reaches the user's INBOX through Postfix and Dovecot.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "core/backends/imap/imap_backend.h"
#include "core/wbxml/wbxml.h"
#include "storage/metadata_store.h"
#include "test/integration/common/env_file.h"
#include "test/integration/common/request_bodies.h"
#include "test/integration/common/test_client.h"

namespace {

namespace fh = eas::wbxml::tags::FolderHierarchy;

struct Listed {
  int status = -1;
  std::vector<std::pair<std::string, int>> folders;  // name, type
  bool has(const std::string& name) const {
    for (const auto& f : folders)
      if (f.first == name) return true;
    return false;
  }
};

Listed list(const std::string& body) {
  Listed out;
  auto doc = eas::wbxml::decode(body);
  REQUIRE(doc.ok());
  out.status = std::stoi(std::string(doc->root().childText(fh::Status, "-1")));
  if (const auto* changes = doc->root().child(fh::Changes))
    for (const auto& c : changes->children())
      if (c.tag() == fh::Add)
        out.folders.emplace_back(std::string(c.childText(fh::DisplayName)),
                                 std::stoi(std::string(c.childText(fh::Type, "0"))));
  return out;
}

}  // namespace

TEST_CASE("a quarantined device syncs default folders only; the user is told by mail",
          "[integration][policies][quarantine][notices]") {
  const auto env = eas::testing::EnvFile::loadFixture("eas_stack");
  REQUIRE(env.has("SMTP_PORT"));
  const auto run_dir = std::filesystem::path(env.path()).parent_path();
  auto store = eas::storage::openMetadataStore("sqlite:" + (run_dir / "eas-fcgi" / "eas.db").string());
  REQUIRE(store.ok());
  const std::string tag = std::to_string(::getpid());
  const std::string user = env.testUser(1), pass = env.testPassword(1);
  const std::string type = "QuarPhone" + tag;
  const std::string folder = "QuarFolder" + tag;

  eas::backend::imap::ImapConfig c;
  c.host = env.get("IMAP_HOST");
  c.port = std::atoi(env.get("IMAP_PORT").c_str());
  eas::backend::imap::ImapSessionPool pool{c};
  REQUIRE(pool.backendFor(user, pass)->createFolder(folder).ok());

  eas::storage::AbqRule rule;
  rule.kind = eas::storage::AbqKind::kType;
  rule.value = type;
  rule.action = eas::storage::AccessState::kQuarantine;
  auto rule_id = (*store)->addAbqRule(rule);
  REQUIRE(rule_id.ok());

  eas::testing::TestClient client(env.get("EAS_URL"));
  client.setSourceAddress("127.0.9.2");
  eas::testing::EasRequest r;
  r.user = user;
  r.password = pass;
  r.cmd = "FolderSync";
  r.body = eas::testing::folderSyncBody();
  r.device_id = "QUARALLOW" + tag;
  r.device_type = "Allowed" + tag;
  eas::testing::HttpReply allowed = client.post(r);
  REQUIRE(allowed.status == 200);
  Listed all = list(allowed.body);
  CHECK(all.status == 1);
  CHECK(all.has(folder));

  r.device_id = "QUAR" + tag;
  r.device_type = type;
  eas::testing::HttpReply q = client.post(r);
  REQUIRE(q.status == 200);
  Listed only = list(q.body);
  CHECK(only.status == 1);
  CHECK(only.has("INBOX"));
  CHECK_FALSE(only.has(folder));
  for (const auto& f : only.folders) {
    INFO(f.first);
    CHECK(f.second != 12);  // no user mail folder
  }
  auto d = (*store)->findDevice({user, r.device_id});
  REQUIRE(d.ok());
  CHECK(d->access_state == eas::storage::AccessState::kQuarantine);

  eas::backend::SearchCriteria crit;
  crit.subject = type;
  std::vector<std::uint32_t> uids;
  for (int i = 0; i < 300 && uids.empty(); ++i) {
    auto found = pool.backendFor(user, pass)->searchMessages("INBOX", crit);
    if (found.ok()) uids = *found;
    if (uids.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(uids.size() == 1);
  if (!uids.empty()) {
    auto m = pool.backendFor(user, pass)->fetchFullMessage("INBOX", uids[0]);
    REQUIRE(m.ok());
    CHECK(m->find("is in quarantine") != std::string::npos);
    CHECK(m->find("Device ID:   " + r.device_id) != std::string::npos);
  }

  CHECK((*store)->deleteAbqRule(*rule_id).ok());
  CHECK((*store)->deleteDevice({user, r.device_id}).ok());
  CHECK((*store)->deleteDevice({user, "QUARALLOW" + tag}).ok());
  CHECK(pool.backendFor(user, pass)->deleteFolder(folder).ok());
}
