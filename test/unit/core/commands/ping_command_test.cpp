// Ping through the command with a real SQLite store, a scripted mail
// backend, and either a recording hub or the worker's real parking lot
// (woken through notify(), as the notify client does).
#include "core/commands/ping_command.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/backends/mail_backend.h"
#include "core/commands/ping_request.h"
#include "core/commands/sync_request.h"
#include "core/commands/provision_command.h"
#include "core/commands/push.h"
#include "fcgi/runtime/parking_lot.h"
#include "storage/metadata_store.h"
#include "storage/store_admin.h"
#include "test/unit/core/testing/unsupported_mail_backend.h"

using namespace eas;
namespace tp = eas::wbxml::tags::Ping;
using commands::CommandReply;
using commands::WakeReason;

namespace {

// The fake IMAP server: per folder, what changesSince answers.
struct FakeMail {
  std::mutex mu;
  std::map<std::string, Result<backend::Changes>> changes;
  // UID SEARCH SINCE answers per folder (absent: the search fails).
  std::map<std::string, std::vector<std::uint32_t>> since;
  std::vector<std::int64_t> searched_since;  // the cutoffs asked for
  int calls = 0;
  void set(const std::string& folder, Result<backend::Changes> c) {
    std::lock_guard<std::mutex> lock(mu);
    changes.insert_or_assign(folder, std::move(c));
  }
  void newMail(const std::string& folder) {
    backend::Changes c;
    c.added = {42};
    set(folder, c);
  }
};

class FakeBackend final : public eas::testing::UnsupportedMailBackend {
 public:
  explicit FakeBackend(FakeMail& m) : m_(m) {}
  Result<backend::Changes> changesSince(const std::string& folder, const backend::Watermark&,
                                        const std::vector<backend::KnownItem>&) override {
    std::lock_guard<std::mutex> lock(m_.mu);
    ++m_.calls;
    auto it = m_.changes.find(folder);
    if (it == m_.changes.end()) return backend::Changes{};
    return it->second;
  }
  Result<std::vector<std::uint32_t>> searchMessages(const std::string& folder,
                                                    const backend::SearchCriteria& c) override {
    std::lock_guard<std::mutex> lock(m_.mu);
    auto it = m_.since.find(folder);
    if (it == m_.since.end() || !c.since) return no();
    m_.searched_since.push_back(*c.since);
    return it->second;
  }

 private:
  FakeMail& m_;
};

class FakeProvider final : public commands::MailBackendProvider {
 public:
  explicit FakeProvider(FakeMail& m) : m_(m) {}
  std::unique_ptr<backend::MailBackend> open(const std::string&, const std::string&) override {
    return std::make_unique<FakeBackend>(m_);
  }

 private:
  FakeMail& m_;
};

// Where a parked reply ends up.
struct Sink {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<CommandReply> replies;
  bool wait(std::size_t n, int ms = 3000) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::milliseconds(ms), [&] { return replies.size() >= n; });
  }
};

class SinkReply final : public commands::DeferredReply {
 public:
  explicit SinkReply(std::shared_ptr<Sink> s) : s_(std::move(s)) {}
  void send(CommandReply&& r) override {
    std::lock_guard<std::mutex> lock(s_->mu);
    s_->replies.push_back(std::move(r));
    s_->cv.notify_all();
  }
  bool clientGone() const override { return false; }

 private:
  std::shared_ptr<Sink> s_;
};

class Ctx final : public commands::CommandContext {
 public:
  Ctx(const commands::CommandRequest& r, std::shared_ptr<Sink> sink) : r_(r), sink_(std::move(sink)) {}
  const commands::CommandRequest& request() const override { return r_; }
  std::unique_ptr<commands::DeferredReply> park() override {
    parked = true;
    return std::make_unique<SinkReply>(sink_);
  }
  bool parked = false;

 private:
  const commands::CommandRequest& r_;
  std::shared_ptr<Sink> sink_;
};

// A hub that keeps what was parked so the test can drive the re-check.
class RecordingHub final : public commands::PushHub {
 public:
  struct Parked {
    commands::PushWatch watch;
    std::unique_ptr<commands::DeferredReply> reply;
    std::unique_ptr<commands::ParkedRequest> request;
  };
  void park(commands::PushWatch w, std::unique_ptr<commands::DeferredReply> r,
            std::unique_ptr<commands::ParkedRequest> q) override {
    parked.push_back({std::move(w), std::move(r), std::move(q)});
  }
  void notify(const std::string&, const std::string&) override {}
  void endDevice(const std::string& login, const std::string& device) override {
    ended.push_back(login + "/" + device);
  }
  std::size_t parkedCount() const override { return parked.size(); }
  std::vector<Parked> parked;
  std::vector<std::string> ended;
};

struct Answer {
  int status = 0;
  std::vector<std::string> folders;
  std::string heartbeat, max_folders;
  bool parked = false;
};

Answer readReply(const CommandReply& r) {
  Answer a;
  REQUIRE(r.status.ok());
  auto doc = wbxml::decode(r.body);
  REQUIRE(doc.ok());
  REQUIRE(doc->root().tag() == tp::Ping);
  a.status = std::atoi(std::string(doc->root().childText(tp::Status)).c_str());
  CHECK(a.status == r.eas_status);
  if (const wbxml::Element* f = doc->root().child(tp::Folders))
    for (const wbxml::Element& c : f->children()) a.folders.emplace_back(c.text());
  a.heartbeat = std::string(doc->root().childText(tp::HeartbeatInterval));
  a.max_folders = std::string(doc->root().childText(tp::MaxFolders));
  return a;
}

struct Env {
  std::string dir;
  std::unique_ptr<storage::MetadataStore> store;
  FakeMail mail;
  FakeProvider provider{mail};
  ManualClock clock;
  commands::Services services;
  RecordingHub hub;
  const storage::DeviceRef ref{"alice@example.test", "DEV1"};

  Env() {
    char tmpl[] = "/tmp/ping_command_test_XXXXXX";
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
    services.clock = &clock;
    services.push = &hub;
    services.min_heartbeat_seconds = 60;
    services.max_heartbeat_seconds = 1800;
    services.max_ping_folders = 3;
  }
  ~Env() {
    store.reset();
    std::string cmd = "rm -rf '" + dir + "'";
    (void)std::system(cmd.c_str());
  }

  // The device's hierarchy: 5 = INBOX, 6 = Work (mail), 9 = a calendar.
  void folderSync() {
    std::vector<storage::FolderChange> adds;
    auto add = [&](std::string id, std::string backend_id, int type) {
      storage::FolderChange c;
      c.folder = {std::move(id), std::move(backend_id), "0", type, "x"};
      adds.push_back(c);
    };
    add("5", "INBOX", 2);
    add("6", "Work", 12);
    add("9", "cal", 8);
    REQUIRE(store->commitFolderSync(ref, 0, 1, adds, "r").ok());
  }
  // Sync state for a collection (the device ran Sync on it).
  void synced(const std::string& id) {
    storage::SyncTransition t;
    t.from_key = 0;
    t.to_key = 1;
    t.watermark = {7, 100, 50, ""};
    storage::ItemChange c;
    c.item = {id + ":1", "1", "", ""};
    t.changes.push_back(c);
    t.response = "r";
    REQUIRE(store->commitSyncState(ref, id, t).ok());
  }

  Answer ping(const std::string* body_bytes, std::shared_ptr<Sink> sink = std::make_shared<Sink>(),
              protocol::ProtocolVersion v = protocol::ProtocolVersion::k141) {
    std::optional<wbxml::Document> doc;
    if (body_bytes) {
      auto d = wbxml::decode(*body_bytes);
      REQUIRE(d.ok());
      doc = std::move(d.value());
    }
    protocol::EasQuery query;
    query.device_id = ref.device_id;
    query.device_type = "iPhone";
    commands::CommandRequest req;
    req.capabilities = protocol::capabilitiesFor(v);
    req.query = &query;
    req.login = ref.user;
    req.password = "secret";
    req.services = &services;
    req.document = doc ? &*doc : nullptr;
    Ctx ctx(req, sink);
    auto reply = commands::makePingCommand()->handle(ctx);
    if (!reply) {
      REQUIRE(ctx.parked);
      Answer a;
      a.parked = true;
      return a;
    }
    CHECK_FALSE(ctx.parked);
    return readReply(*reply);
  }
};

std::string pingBody(std::optional<int> hb, std::vector<std::pair<std::string, std::string>> folders) {
  std::string out;
  wbxml::Writer w(&out);
  w.start(tp::Ping);
  if (hb) w.element(tp::HeartbeatInterval, std::int64_t{*hb});
  if (!folders.empty()) {
    w.start(tp::Folders);
    for (auto& [id, klass] : folders) {
      w.start(tp::Folder).element(tp::Id, id).element(tp::Class, klass).end();
    }
    w.end();
  }
  w.end();
  w.flush();
  return out;
}

}  // namespace

TEST_CASE("ping: a change found at once answers 2 with the folder, nothing parks", "[ping]") {
  Env env;
  env.folderSync();
  env.synced("5");
  env.synced("6");
  env.mail.newMail("Work");
  const std::string body = pingBody(480, {{"5", "Email"}, {"6", "Email"}});
  Answer a = env.ping(&body);
  CHECK(a.status == 2);
  CHECK(a.folders == std::vector<std::string>{"6"});
  CHECK(env.hub.parked.empty());
  CHECK(env.hub.ended == std::vector<std::string>{"alice@example.test/DEV1"});
}

TEST_CASE("ping: flag changes and expunges count too; a UIDVALIDITY change reports the folder",
          "[ping]") {
  Env env;
  env.folderSync();
  env.synced("5");
  env.synced("6");
  backend::Changes flags;
  flags.flagsChanged = {{1, backend::kFlagSeen}};
  env.mail.set("INBOX", flags);
  env.mail.set("Work", Status::Conflict("imap.uidvalidity_changed", "7 -> 8"));
  const std::string body = pingBody(480, {{"5", "Email"}, {"6", "Email"}});
  Answer a = env.ping(&body);
  CHECK(a.status == 2);
  CHECK(a.folders == std::vector<std::string>{"5", "6"});
}

TEST_CASE("ping: nothing changed parks with the watch; re-checks answer 2, 1 or wait on", "[ping]") {
  Env env;
  env.folderSync();
  env.synced("5");
  auto sink = std::make_shared<Sink>();
  const std::string body = pingBody(300, {{"5", "Email"}, {"9", "Calendar"}});
  Answer a = env.ping(&body, sink);
  REQUIRE(a.parked);
  REQUIRE(env.hub.parked.size() == 1);
  auto& p = env.hub.parked[0];
  CHECK(p.watch.login == "alice@example.test");
  CHECK(p.watch.device_id == "DEV1");
  CHECK(p.watch.heartbeat_seconds == 300);
  CHECK(p.watch.folders == std::vector<std::string>{"INBOX"});  // the calendar has no backend yet
  // A spurious event: nothing to answer yet.
  CHECK_FALSE(p.request->recheck(WakeReason::kEvent).has_value());
  // A store/IMAP failure on an event waits on as well.
  env.mail.set("INBOX", Status::Unavailable("imap.unavailable", "down"));
  CHECK_FALSE(p.request->recheck(WakeReason::kEvent).has_value());
  // ... but at the heartbeat it is a server error.
  auto failed = p.request->recheck(WakeReason::kHeartbeat);
  REQUIRE(failed);
  CHECK(readReply(*failed).status == 8);
  env.mail.set("INBOX", backend::Changes{});
  auto expired = p.request->recheck(WakeReason::kHeartbeat);
  REQUIRE(expired);
  CHECK(readReply(*expired).status == 1);
  auto superseded = p.request->recheck(WakeReason::kSuperseded);
  REQUIRE(superseded);
  CHECK(readReply(*superseded).status == 1);
  auto shutdown = p.request->recheck(WakeReason::kShutdown);
  REQUIRE(shutdown);
  CHECK(readReply(*shutdown).status == 1);
  env.mail.newMail("INBOX");
  auto changed = p.request->recheck(WakeReason::kEvent);
  REQUIRE(changed);
  Answer c = readReply(*changed);
  CHECK(c.status == 2);
  CHECK(c.folders == std::vector<std::string>{"5"});
}

TEST_CASE("ping: a folder never synced reports nothing (no loop), and parks", "[ping]") {
  Env env;
  env.folderSync();
  env.mail.newMail("INBOX");
  const std::string body = pingBody(300, {{"5", "Email"}});
  CHECK(env.ping(&body).parked);
  CHECK(env.mail.calls == 0);
}

TEST_CASE("ping: limits give 5 with the bound and 6 with MaxFolders", "[ping]") {
  Env env;
  env.folderSync();
  const std::string low = pingBody(59, {{"5", "Email"}});
  Answer a = env.ping(&low);
  CHECK(a.status == 5);
  CHECK(a.heartbeat == "60");
  const std::string high = pingBody(3540, {{"5", "Email"}});
  Answer b = env.ping(&high);
  CHECK(b.status == 5);
  CHECK(b.heartbeat == "1800");
  const std::string many = pingBody(600, {{"1", "Email"}, {"2", "Email"}, {"3", "Email"}, {"4", "Email"}});
  Answer c = env.ping(&many);
  CHECK(c.status == 6);
  CHECK(c.max_folders == "3");
  // Nothing of a refused request was cached.
  CHECK(env.ping(nullptr).status == 3);
}

TEST_CASE("ping: the empty Ping reuses the last parameters; none cached is 3; malformed is 4",
          "[ping]") {
  Env env;
  env.folderSync();
  env.synced("5");
  env.synced("6");
  CHECK(env.ping(nullptr).status == 3);
  const std::string only_hb = pingBody(300, {});
  CHECK(env.ping(&only_hb).status == 3);  // no folders anywhere yet

  const std::string full = pingBody(300, {{"5", "Email"}});
  REQUIRE(env.ping(&full).parked);
  // Empty body: heartbeat and folders as last time.
  REQUIRE(env.ping(nullptr).parked);
  CHECK(env.hub.parked.back().watch.heartbeat_seconds == 300);
  CHECK(env.hub.parked.back().watch.folders == std::vector<std::string>{"INBOX"});
  // Only folders: the cached heartbeat stays.
  const std::string folders_only = pingBody(std::nullopt, {{"6", "Email"}});
  REQUIRE(env.ping(&folders_only).parked);
  CHECK(env.hub.parked.back().watch.heartbeat_seconds == 300);
  CHECK(env.hub.parked.back().watch.folders == std::vector<std::string>{"Work"});
  // Only a heartbeat: the cached folders (now 6) stay.
  const std::string hb_only = pingBody(900, {});
  REQUIRE(env.ping(&hb_only).parked);
  CHECK(env.hub.parked.back().watch.heartbeat_seconds == 900);
  CHECK(env.hub.parked.back().watch.folders == std::vector<std::string>{"Work"});
  // The cache is in the store (another worker sees it).
  auto cached = env.store->getRequestCache(env.ref, commands::ping::kParamsCache);
  REQUIRE(cached.ok());
  CHECK(commands::ping::decodeParams(*cached).heartbeat_seconds == 900);

  std::string empty_ping;
  {
    wbxml::Writer w(&empty_ping);
    w.start(tp::Ping).end();
    w.flush();
  }
  CHECK(env.ping(&empty_ping).status == 4);
  const std::string dup = pingBody(300, {{"5", "Email"}, {"5", "Email"}});
  CHECK(env.ping(&dup).status == 4);
  // 2.5: same element set, no Notes class.
  const std::string notes = pingBody(300, {{"5", "Notes"}});
  CHECK(env.ping(&notes, std::make_shared<Sink>(), protocol::ProtocolVersion::k25).status == 4);
  CHECK(env.ping(&full, std::make_shared<Sink>(), protocol::ProtocolVersion::k25).parked);
}

TEST_CASE("ping: no hierarchy is 7; an unknown id is 7 three times, then left out with a notice",
          "[ping]") {
  Env env;
  const std::string body = pingBody(300, {{"5", "Email"}, {"77", "Email"}});
  CHECK(env.ping(&body).status == 7);  // the device never ran FolderSync
  env.folderSync();
  env.synced("5");
  for (int i = 0; i < 3; ++i) CHECK(env.ping(&body).status == 7);
  auto none = env.store->pendingNotices(10);
  REQUIRE(none.ok());
  CHECK(none->empty());
  // Fourth time: 77 is left out, the Ping goes on with 5 and parks.
  Answer fourth = env.ping(&body);
  REQUIRE(fourth.parked);
  CHECK(env.hub.parked.back().watch.folders == std::vector<std::string>{"INBOX"});
  auto notices = env.store->pendingNotices(10);
  REQUIRE(notices.ok());
  REQUIRE(notices->size() == 1);
  CHECK((*notices)[0].kind == commands::kNoticeFolderPushRequest);
  CHECK((*notices)[0].ref == env.ref);
  CHECK((*notices)[0].payload.find("77") != std::string::npos);
  // Later Pings: still left out, no second notice.
  CHECK(env.ping(&body).parked);
  auto again = env.store->pendingNotices(10);
  REQUIRE(again.ok());
  CHECK(again->size() == 1);
}

TEST_CASE("ping: a folder gone from the IMAP server is 7", "[ping]") {
  Env env;
  env.folderSync();
  env.synced("6");
  env.mail.set("Work", Status::NotFound("imap.no_such_folder", "Work"));
  const std::string body = pingBody(300, {{"6", "Email"}});
  CHECK(env.ping(&body).status == 7);
}

TEST_CASE("ping: store or backend errors are 8; without a hub nothing parks (1)", "[ping]") {
  Env env;
  env.folderSync();
  env.synced("5");
  env.mail.set("INBOX", Status::Unavailable("imap.unavailable", "down"));
  const std::string body = pingBody(300, {{"5", "Email"}});
  CHECK(env.ping(&body).status == 8);
  env.mail.set("INBOX", backend::Changes{});
  env.services.push = nullptr;
  CHECK(env.ping(&body).status == 1);
  env.services.store = nullptr;
  CHECK(env.ping(&body).status == 8);
}

TEST_CASE("ping through the worker's parking lot: notify() wakes it with 2, heartbeat gives 1, "
          "a second Ping ends the first",
          "[ping]") {
  Env env;
  runtime::ParkingLotOptions o;
  o.clock = &env.clock;
  runtime::ParkingLot lot(o);
  REQUIRE(lot.start().ok());
  env.services.push = &lot;
  env.folderSync();
  env.synced("5");
  env.synced("6");
  const std::string body = pingBody(300, {{"5", "Email"}, {"6", "Email"}});

  // 1. An event for a watched folder with a real change: Status 2.
  auto first = std::make_shared<Sink>();
  REQUIRE(env.ping(&body, first).parked);
  CHECK(lot.parkedCount() == 1);
  lot.notify("alice@example.test", "Archive");  // not watched: nothing
  env.mail.newMail("INBOX");
  lot.notify("alice@example.test", "INBOX");
  REQUIRE(first->wait(1));
  Answer a = readReply(first->replies[0]);
  CHECK(a.status == 2);
  CHECK(a.folders == std::vector<std::string>{"5"});

  // 2. Nothing changed until the heartbeat: Status 1.
  env.mail.set("INBOX", backend::Changes{});
  auto second = std::make_shared<Sink>();
  REQUIRE(env.ping(&body, second).parked);
  lot.notify("alice@example.test", "Work");  // spurious: no change behind it
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(second->replies.empty());
  env.clock.advanceMs(300'000);
  lot.poke();
  REQUIRE(second->wait(1));
  CHECK(readReply(second->replies[0]).status == 1);

  // 3. A newer Ping of the device answers the parked one.
  auto third = std::make_shared<Sink>();
  REQUIRE(env.ping(&body, third).parked);
  auto fourth = std::make_shared<Sink>();
  REQUIRE(env.ping(nullptr, fourth).parked);
  REQUIRE(third->wait(1));
  CHECK(readReply(third->replies[0]).status == 1);
  CHECK(fourth->replies.empty());
  CHECK(lot.parkedCount() == 1);
  lot.shutdown();
  REQUIRE(fourth->wait(1));
  CHECK(readReply(fourth->replies[0]).status == 1);
}

TEST_CASE("ping: an added message older than the device's FilterType does not end the Ping",
          "[ping]") {
  Env env;
  env.folderSync();
  env.synced("6");
  const std::int64_t now = env.clock.unixSeconds();
  // The device's last Sync of 6 asked for 1 day of mail (the request cache).
  commands::CachedCollection cc;
  cc.params.collection_id = "6";
  cc.params.has_options = true;
  cc.params.options.filter_type = 1;
  REQUIRE(env.store->putRequestCache(env.ref, "sync", commands::encodeSyncCache({cc})).ok());

  backend::Changes old_mail;
  old_mail.added = {42};
  env.mail.set("Work", old_mail);
  env.mail.since["Work"] = {};  // 42 is older than the cutoff
  const std::string body = pingBody(480, {{"6", "Email"}});
  Answer quiet = env.ping(&body);
  CHECK(quiet.parked);
  REQUIRE(env.mail.searched_since.size() == 1);
  CHECK(env.mail.searched_since[0] == now - 86400);

  // Inside the window it counts.
  env.mail.since["Work"] = {42};
  Answer found = env.ping(&body);
  CHECK(found.status == 2);
  CHECK(found.folders == std::vector<std::string>{"6"});

  // The policy's "past mail items" is stricter than the device's 6 months.
  cc.params.options.filter_type = 7;
  REQUIRE(env.store->putRequestCache(env.ref, "sync", commands::encodeSyncCache({cc})).ok());
  storage::PolicySetting p;
  p.level = storage::PolicyLevel::kGlobal;
  p.key = "MaxEmailAgeFilter";
  p.value = "3";  // one week
  REQUIRE(env.store->setPolicy(p).ok());
  env.mail.searched_since.clear();
  (void)env.ping(&body);
  REQUIRE(env.mail.searched_since.size() == 1);
  CHECK(env.mail.searched_since[0] == now - 7 * 86400);
}
