// A hard remote wipe end to end through the real servers: the device is told
// (Status 140, then RemoteWipe in Provision) through nginx and eas-fcgi, it
// acknowledges, and the wipe confirmation that the workers' notice mailer
// submits to the fixture Postfix arrives in the user's INBOX in Dovecot.
// The DeviceType carries the pid, so reruns against the same fixture do not
// see each other's mail.
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

namespace p = eas::wbxml::tags::Provision;
using eas::testing::EasRequest;
using eas::testing::HttpReply;

std::string emptyProvision() {
  std::string out;
  eas::wbxml::Writer w(&out);
  w.empty(p::Provision);
  return out;
}

std::string wipeAck() {
  std::string out;
  eas::wbxml::Writer w(&out);
  w.start(p::Provision).start(p::RemoteWipe).element(p::Status, 1).end().end();
  return out;
}

std::string header(const std::string& message, const std::string& name) {
  const std::string head = "\r\n" + message.substr(0, message.find("\r\n\r\n"));
  const std::string needle = "\r\n" + name + ": ";
  const size_t at = head.find(needle);
  if (at == std::string::npos) return "<absent>";
  const size_t from = at + needle.size();
  return head.substr(from, head.find("\r\n", from) - from);
}

}  // namespace

TEST_CASE("hard wipe through nginx; the confirmation mail reaches the user's INBOX",
          "[integration][policies][wipe][notices]") {
  const auto env = eas::testing::EnvFile::loadFixture("eas_stack");
  REQUIRE(env.has("SMTP_PORT"));  // the stack submits to the fixture Postfix
  const auto run_dir = std::filesystem::path(env.path()).parent_path();
  auto store = eas::storage::openMetadataStore("sqlite:" + (run_dir / "eas-fcgi" / "eas.db").string());
  REQUIRE(store.ok());

  const std::string tag = std::to_string(::getpid());
  const std::string device = "WIPEMAIL" + tag;
  const std::string type = "WipePhone" + tag;
  eas::testing::TestClient client(env.get("EAS_URL"));
  client.setSourceAddress("127.0.9.1");
  EasRequest r;
  r.user = env.testUser(1);
  r.password = env.testPassword(1);
  r.device_id = device;
  r.device_type = type;
  r.cmd = "FolderSync";
  r.body = eas::testing::folderSyncBody();
  HttpReply first = client.post(r);
  REQUIRE(first.status == 200);  // the device is now known

  // The administrator's wipe (what `easctl wipe hard` writes).
  const eas::storage::DeviceRef ref{r.user, device};
  REQUIRE((*store)->setWipeState(ref, eas::storage::WipeState::kPendingHard).ok());
  HttpReply told = client.post(r);
  REQUIRE(told.status == 200);
  CHECK(eas::testing::topLevelStatus(told.body) == 140);

  r.cmd = "Provision";
  r.body = emptyProvision();
  HttpReply directive = client.post(r);
  REQUIRE(directive.status == 200);
  {
    auto doc = eas::wbxml::decode(directive.body);
    REQUIRE(doc.ok());
    CHECK(doc->root().hasChild(p::RemoteWipe));
  }
  r.body = wipeAck();
  HttpReply ack = client.post(r);
  REQUIRE(ack.status == 200);
  CHECK(eas::testing::topLevelStatus(ack.body) == 1);
  auto d = (*store)->findDevice(ref);
  REQUIRE(d.ok());
  CHECK(d->wipe_state == eas::storage::WipeState::kWiped);

  // The mail, through Postfix and LMTP into Dovecot (the workers' mailer
  // drains every few seconds).
  eas::backend::imap::ImapConfig c;
  c.host = env.get("IMAP_HOST");
  c.port = std::atoi(env.get("IMAP_PORT").c_str());
  eas::backend::imap::ImapSessionPool pool{c};
  eas::backend::SearchCriteria q;
  q.subject = type;
  std::vector<std::uint32_t> uids;
  for (int i = 0; i < 300 && uids.empty(); ++i) {
    auto found = pool.backendFor(r.user, r.password)->searchMessages("INBOX", q);
    if (found.ok()) uids = *found;
    if (uids.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(uids.size() == 1);
  auto m = pool.backendFor(r.user, r.password)->fetchFullMessage("INBOX", uids[0]);
  REQUIRE(m.ok());
  INFO(*m);
  CHECK(header(*m, "Subject") == "Remote wipe of your device " + type + " : succeeded");
  CHECK(header(*m, "To") == r.user);
  CHECK(header(*m, "Auto-Submitted") == "auto-generated");
  CHECK(m->find("Device ID:   " + device) != std::string::npos);
  CHECK(m->find("Wipe:        hard") != std::string::npos);

  // Sent once, then removed from the queue; the wiped device stays blocked.
  auto pending = (*store)->pendingNotices(1000);
  REQUIRE(pending.ok());
  for (const auto& n : *pending) CHECK(n.ref.device_id != device);
  r.cmd = "FolderSync";
  r.body = eas::testing::folderSyncBody();
  HttpReply after = client.post(r);
  CHECK(eas::testing::topLevelStatus(after.body) == 129);
  CHECK((*store)->deleteDevice(ref).ok());
}
