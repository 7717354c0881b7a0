// Sync through the command with an in-memory mail backend and a real
// SQLite store in a temporary folder (so the sanitizer run covers the
// command): windows and one fetch per window, replay, statuses 3/12/13/16,
// UIDVALIDITY reset, the empty request, device changes, a broken message.
#include "core/commands/sync_command.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "core/backends/mail_backend.h"
#include "core/backends/mail_submitter.h"
#include "core/commands/sync_device_changes.h"
#include "core/items/backend_meta.h"
#include "storage/metadata_store.h"
#include "storage/store_admin.h"
#include "test/unit/core/testing/unsupported_mail_backend.h"

namespace as = eas::wbxml::tags::AirSync;
namespace em = eas::wbxml::tags::Email;
using namespace eas;

namespace {

struct Msg {
  std::uint32_t uid = 0;
  std::uint32_t flags = 0;
  std::vector<std::string> keywords;  // as IMAP holds them
  std::string bytes;
  std::int64_t internal = 1764576000;  // 2025-12-01
};

struct Box {
  std::uint32_t uidvalidity = 7;
  std::uint32_t uidnext = 1;
  std::vector<Msg> msgs;
};

struct FakeMailbox {
  std::map<std::string, Box> boxes;
  bool down = false;
  int fetches = 0;
  int keyword_stores = 0;
  std::vector<std::size_t> fetch_sizes;

  std::uint32_t add(const std::string& box, const std::string& subject, std::string bytes = {}) {
    Box& b = boxes[box];
    Msg m;
    m.uid = b.uidnext++;
    m.bytes = bytes.empty() ? "From: a@example.test\r\nSubject: " + subject +
                                  "\r\nContent-Type: text/plain\r\n\r\nhello " + subject + "\r\n"
                            : bytes;
    if (bytes == "-") m.bytes.clear();  // a message whose bytes cannot be read
    b.msgs.push_back(m);
    return m.uid;
  }
  Msg* find(const std::string& box, std::uint32_t uid) {
    for (Msg& m : boxes[box].msgs)
      if (m.uid == uid) return &m;
    return nullptr;
  }
};

class FakeBackend final : public eas::testing::UnsupportedMailBackend {
 public:
  explicit FakeBackend(FakeMailbox& mb) : mb_(mb) {}
  Result<backend::Changes> changesSince(const std::string& folder, const backend::Watermark& since,
                                        const std::vector<backend::KnownItem>& known) override {
    if (mb_.down) return down();
    auto it = mb_.boxes.find(folder);
    if (it == mb_.boxes.end()) return Status::NotFound("imap.no_such_folder", folder);
    const Box& b = it->second;
    if (since.uidValidity != 0 && since.uidValidity != b.uidvalidity)
      return Status::Conflict("imap.uidvalidity_changed", folder);
    backend::Changes c;
    c.state.uidValidity = b.uidvalidity;
    c.state.uidNext = b.uidnext;
    // A modseq that moves with every change, as CONDSTORE's does.
    std::uint64_t modseq = 1 + b.uidnext * 7919u;
    for (const Msg& m : b.msgs) modseq += m.uid * 131u + m.flags * 7u + 3u;
    c.state.highestModseq = modseq;
    c.byModseq = since.modseq.has_value();
    if (since.modseq && *since.modseq == modseq && since.uidNext == b.uidnext) return c;
    std::map<std::uint32_t, std::uint32_t> have;
    for (const Msg& m : b.msgs) have[m.uid] = m.flags;
    std::set<std::uint32_t> known_uids;
    for (const backend::KnownItem& k : known) {
      known_uids.insert(k.uid);
      auto h = have.find(k.uid);
      if (h == have.end()) c.expunged.push_back(k.uid);
      else if (h->second != k.flags) c.flagsChanged.push_back({k.uid, h->second});
    }
    for (const auto& [uid, flags] : have)
      if (!known_uids.count(uid)) c.added.push_back(uid);
    return c;
  }
  Result<std::vector<backend::MessageData>> fetchMessages(const std::string& folder,
                                                          const std::vector<std::uint32_t>& uids,
                                                          const backend::FetchRequest& what) override {
    if (mb_.down) return down();
    ++mb_.fetches;
    mb_.fetch_sizes.push_back(uids.size());
    std::vector<backend::MessageData> out;
    for (std::uint32_t uid : uids) {
      Msg* m = mb_.find(folder, uid);
      if (!m) continue;
      backend::MessageData d;
      d.uid = uid;
      d.flags = m->flags;
      d.keywords = m->keywords;
      d.internalDate = m->internal;
      d.size = static_cast<std::uint32_t>(m->bytes.size());
      for (const backend::SectionRequest& s : what.sections) {
        std::string part = m->bytes;
        if (s.length && part.size() > *s.length) part.resize(*s.length);
        d.sections.push_back(part);
      }
      out.push_back(std::move(d));
    }
    return out;
  }
  Result<std::vector<std::uint32_t>> searchMessages(const std::string& folder,
                                                    const backend::SearchCriteria& c) override {
    if (mb_.down) return down();
    std::vector<std::uint32_t> out;
    for (const Msg& m : mb_.boxes[folder].msgs)
      if (!c.since || m.internal >= *c.since) out.push_back(m.uid);
    return out;
  }
  Status setFlags(const std::string& folder, const std::vector<std::uint32_t>& uids,
                  std::uint32_t flags) override {
    if (mb_.down) return down();
    for (std::uint32_t u : uids)
      if (Msg* m = mb_.find(folder, u)) m->flags |= flags;
    return Status::Ok();
  }
  Status clearFlags(const std::string& folder, const std::vector<std::uint32_t>& uids,
                    std::uint32_t flags) override {
    if (mb_.down) return down();
    for (std::uint32_t u : uids)
      if (Msg* m = mb_.find(folder, u)) m->flags &= ~flags;
    return Status::Ok();
  }
  Status setKeywords(const std::string& folder, const std::vector<std::uint32_t>& uids,
                     const std::vector<std::string>& add,
                     const std::vector<std::string>& remove) override {
    if (mb_.down) return down();
    ++mb_.keyword_stores;
    for (std::uint32_t u : uids) {
      Msg* m = mb_.find(folder, u);
      if (!m) continue;
      for (const std::string& k : remove) std::erase(m->keywords, k);
      for (const std::string& k : add)
        if (std::find(m->keywords.begin(), m->keywords.end(), k) == m->keywords.end())
          m->keywords.push_back(k);
    }
    return Status::Ok();
  }
  Result<std::vector<std::uint32_t>> moveMessages(const std::string& from,
                                                  const std::vector<std::uint32_t>& uids,
                                                  const std::string& to) override {
    if (mb_.down) return down();
    std::vector<std::uint32_t> out;
    for (std::uint32_t u : uids) {
      Msg* m = mb_.find(from, u);
      if (!m) return Status::NotFound("imap.no_such_message");
      std::uint32_t n = mb_.add(to, "", m->bytes);
      out.push_back(n);
      erase(from, u);
    }
    return out;
  }
  Status deleteMessages(const std::string& folder, const std::vector<std::uint32_t>& uids) override {
    if (mb_.down) return down();
    for (std::uint32_t u : uids) erase(folder, u);
    return Status::Ok();
  }
  Result<std::uint32_t> appendMessage(const std::string& folder, std::string_view message,
                                      std::uint32_t flags) override {
    if (mb_.down) return down();
    std::uint32_t uid = mb_.add(folder, "", std::string(message));
    mb_.find(folder, uid)->flags = flags;
    return uid;
  }

 private:
  void erase(const std::string& folder, std::uint32_t uid) {
    auto& v = mb_.boxes[folder].msgs;
    for (auto it = v.begin(); it != v.end(); ++it)
      if (it->uid == uid) {
        v.erase(it);
        return;
      }
  }
  static Status down() { return Status::Unavailable("imap.unavailable", "fake server down"); }
  FakeMailbox& mb_;
};

class FakeProvider final : public commands::MailBackendProvider {
 public:
  explicit FakeProvider(FakeMailbox& mb) : mb_(mb) {}
  std::unique_ptr<backend::MailBackend> open(const std::string&, const std::string&) override {
    return std::make_unique<FakeBackend>(mb_);
  }

 private:
  FakeMailbox& mb_;
};

class Ctx final : public commands::CommandContext {
 public:
  explicit Ctx(const commands::CommandRequest& r) : r_(r) {}
  const commands::CommandRequest& request() const override { return r_; }
  std::unique_ptr<commands::DeferredReply> park() override { return nullptr; }

 private:
  const commands::CommandRequest& r_;
};

struct Coll {
  std::string key, id;
  int status = -1;
  bool more = false;
  std::vector<std::string> adds, changes, deletes;
  std::vector<std::pair<std::string, int>> responses;  // ServerId/ClientId, Status
  std::map<std::string, std::string> read;             // Change ServerId -> Read
};

struct Reply {
  int top = 0;
  std::string bytes;
  std::vector<Coll> colls;
};

struct Spec {
  std::string key, id;
  std::optional<int> window;
  std::function<void(wbxml::Writer&)> commands;
  std::optional<int> filter;  // Options/FilterType
};

Spec spec(std::string key, std::string id, std::optional<int> window = std::nullopt) {
  Spec s;
  s.key = std::move(key);
  s.id = std::move(id);
  s.window = window;
  return s;
}

struct Env {
  std::string dir;
  std::unique_ptr<storage::MetadataStore> store;
  FakeMailbox mailbox;
  FakeProvider provider{mailbox};
  commands::Services services;
  storage::DeviceRef ref{"alice@example.test", "DEV1"};

  Env() {
    char tmpl[] = "/tmp/sync_command_test_XXXXXX";
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
    // The device's folder map, as FolderSync would have stored it.
    std::vector<storage::FolderChange> adds;
    for (auto [id, name, type] : {std::tuple{"1", "INBOX", 2}, std::tuple{"2", "Trash", 4},
                                  std::tuple{"3", "Work", 12}}) {
      storage::FolderChange c;
      c.folder = {id, name, "0", type, name};
      adds.push_back(c);
      mailbox.boxes[name];
    }
    REQUIRE(store->commitFolderSync(ref, 0, 1, adds, "x").ok());
  }
  ~Env() {
    store.reset();
    std::string cmd = "rm -rf '" + dir + "'";
    (void)std::system(cmd.c_str());
  }

  Reply send(const std::string& body, protocol::ProtocolVersion v = protocol::ProtocolVersion::k141,
             const std::string& device = "DEV1") {
    std::optional<wbxml::Document> doc;
    if (!body.empty()) {
      auto d = wbxml::decode(body);
      REQUIRE(d.ok());
      doc = std::move(*d);
    }
    protocol::EasQuery query;
    query.device_id = device;
    query.device_type = "iPhone";
    commands::CommandRequest req;
    req.capabilities.version = v;
    req.query = &query;
    req.login = "alice@example.test";
    req.password = "secret";
    req.services = &services;
    req.document = doc ? &*doc : nullptr;
    Ctx ctx(req);
    auto reply = commands::makeSyncCommand()->handle(ctx);
    REQUIRE(reply.has_value());
    REQUIRE(reply->status.ok());
    Reply r;
    r.bytes = reply->body;
    auto out = wbxml::decode(reply->body);
    REQUIRE(out.ok());
    const wbxml::Element& root = out->root();
    REQUIRE(root.tag() == as::Sync);
    r.top = std::atoi(std::string(root.childText(as::Status, "0")).c_str());
    if (const auto* cs = root.child(as::Collections)) {
      for (const wbxml::Element& c : cs->children()) {
        Coll k;
        k.key = std::string(c.childText(as::SyncKey));
        k.id = std::string(c.childText(as::CollectionId));
        k.status = std::atoi(std::string(c.childText(as::Status, "-1")).c_str());
        k.more = c.hasChild(as::MoreAvailable);
        if (const auto* cmds = c.child(as::Commands))
          for (const wbxml::Element& x : cmds->children()) {
            std::string sid(x.childText(as::ServerId));
            if (x.tag() == as::Add) k.adds.push_back(sid);
            if (x.tag() == as::Change) {
              k.changes.push_back(sid);
              if (const auto* d = x.child(as::ApplicationData)) k.read[sid] = std::string(d->childText(em::Read));
            }
            if (x.tag() == as::Delete) k.deletes.push_back(sid);
          }
        if (const auto* rs = c.child(as::Responses))
          for (const wbxml::Element& x : rs->children()) {
            std::string id(x.childText(as::ServerId, x.childText(as::ClientId)));
            k.responses.push_back({id, std::atoi(std::string(x.childText(as::Status, "-1")).c_str())});
          }
        r.colls.push_back(std::move(k));
      }
    }
    return r;
  }

  Reply sync(const std::vector<Spec>& specs, protocol::ProtocolVersion v = protocol::ProtocolVersion::k141) {
    std::string body;
    {
      wbxml::Writer w(&body);
      w.start(as::Sync).start(as::Collections);
      for (const Spec& s : specs) {
        w.start(as::Collection).element(as::SyncKey, s.key).element(as::CollectionId, s.id);
        if (s.window) w.element(as::WindowSize, static_cast<std::int64_t>(*s.window));
        if (s.filter) w.start(as::Options).element(as::FilterType, static_cast<std::int64_t>(*s.filter)).end();
        if (s.commands) {
          w.start(as::Commands);
          s.commands(w);
          w.end();
        }
        w.end();
      }
      w.end().end();
      w.flush();
    }
    return send(body, v);
  }
  Coll one(const Spec& s) {
    Reply r = sync({s});
    REQUIRE(r.colls.size() == 1);
    return r.colls[0];
  }
};

}  // namespace

TEST_CASE("windows: key 0 has no items, then one fetch per window, each message once",
          "[sync][command]") {
  Env env;
  for (int i = 0; i < 7; ++i) env.mailbox.add("INBOX", "m" + std::to_string(i));
  Coll k0 = env.one(spec("0", "1"));
  CHECK(k0.status == 1);
  CHECK(k0.key == "1");
  CHECK(k0.adds.empty());
  CHECK(env.mailbox.fetches == 0);

  std::set<std::string> seen;
  std::string key = k0.key;
  std::vector<std::size_t> window_adds;
  for (int round = 0; round < 5; ++round) {
    Coll c = env.one(spec(key, "1", 3));
    REQUIRE(c.status == 1);
    for (const std::string& a : c.adds) CHECK(seen.insert(a).second);
    window_adds.push_back(c.adds.size());
    key = c.key;
    if (!c.more) break;
  }
  CHECK(window_adds == std::vector<std::size_t>{3, 3, 1});
  CHECK(seen.size() == 7);
  CHECK(seen.count("1:7"));
  CHECK(env.mailbox.fetches == 3);
  CHECK(env.mailbox.fetch_sizes == std::vector<std::size_t>{3, 3, 1});

  // Nothing changed: same key, no fetch, nothing committed.
  Coll idle = env.one(spec(key, "1", 3));
  CHECK(idle.key == key);
  CHECK(idle.adds.empty());
  CHECK(env.mailbox.fetches == 3);
}

TEST_CASE("a resent key replays the same bytes without touching the backend", "[sync][command]") {
  Env env;
  for (int i = 0; i < 3; ++i) env.mailbox.add("INBOX", "m" + std::to_string(i));
  Coll k0 = env.one(spec("0", "1"));
  Reply first = env.sync({spec(k0.key, "1")});
  REQUIRE(first.colls.at(0).adds.size() == 3);
  env.mailbox.add("INBOX", "later");
  const int fetches = env.mailbox.fetches;
  Reply again = env.sync({spec(k0.key, "1")});
  CHECK(again.bytes == first.bytes);
  CHECK(env.mailbox.fetches == fetches);
  // The next key goes on from there.
  Coll next = env.one(spec(first.colls[0].key, "1"));
  CHECK(next.adds == std::vector<std::string>{"1:4"});
  // Two keys back, or never issued: Status 3 with key 0.
  Coll old = env.one(spec(k0.key, "1"));
  CHECK(old.status == 3);
  CHECK(old.key == "0");
}

TEST_CASE("backend down: Status 16 and nothing committed; then it goes on", "[sync][command]") {
  Env env;
  env.mailbox.add("INBOX", "a");
  Coll k0 = env.one(spec("0", "1"));
  env.mailbox.down = true;
  Coll down = env.one(spec(k0.key, "1"));
  CHECK(down.status == 16);
  CHECK(down.key == k0.key);
  env.mailbox.down = false;
  Coll up = env.one(spec(k0.key, "1"));
  CHECK(up.status == 1);
  CHECK(up.adds == std::vector<std::string>{"1:1"});
}

TEST_CASE("UIDVALIDITY change: Status 3, state reset, full resync from 0", "[sync][command]") {
  Env env;
  env.mailbox.add("INBOX", "a");
  env.mailbox.add("INBOX", "b");
  Coll k0 = env.one(spec("0", "1"));
  Coll c1 = env.one(spec(k0.key, "1"));
  REQUIRE(c1.adds.size() == 2);
  env.mailbox.add("INBOX", "c");
  Coll c2 = env.one(spec(c1.key, "1"));
  REQUIRE(c2.adds.size() == 1);
  env.mailbox.boxes["INBOX"].uidvalidity = 99;
  Coll reset = env.one(spec(c2.key, "1"));
  CHECK(reset.status == 3);
  CHECK(reset.key == "0");
  Coll z = env.one(spec("0", "1"));
  Coll all = env.one(spec(z.key, "1"));
  CHECK(all.adds.size() == 3);
}

TEST_CASE("statuses: not in the folder map 12, the empty request, 13", "[sync][command]") {
  Env env;
  env.mailbox.add("Work", "w");
  CHECK(env.one(spec("0", "77")).status == 12);
  // No full request yet: the empty one has nothing to repeat.
  CHECK(env.send("").top == 13);
  Reply k0 = env.sync({spec("0", "1"), spec("0", "3")});
  REQUIRE(k0.colls.size() == 2);
  // Empty request: both collections again, at their current keys.
  Reply e = env.send("");
  REQUIRE(e.colls.size() == 2);
  CHECK(e.colls[0].status == 1);
  CHECK(e.colls[1].adds == std::vector<std::string>{"3:1"});
  // Before 12.1 an empty Sync is a protocol error.
  CHECK(env.send("", protocol::ProtocolVersion::k120).top == 4);
}

TEST_CASE("device changes reach the backend and are not echoed", "[sync][command]") {
  Env env;
  std::uint32_t a = env.mailbox.add("INBOX", "a");
  std::uint32_t b = env.mailbox.add("INBOX", "b");
  std::uint32_t c = env.mailbox.add("INBOX", "c");
  Coll k0 = env.one(spec("0", "1"));
  Coll c1 = env.one(spec(k0.key, "1"));
  REQUIRE(c1.adds.size() == 3);
  Spec s = spec(c1.key, "1");
  s.commands = [&](wbxml::Writer& w) {
    w.start(as::Change).element(as::ServerId, "1:" + std::to_string(a)).start(as::ApplicationData);
    w.element(em::Read, "1").end().end();
    w.start(as::Delete).element(as::ServerId, "1:" + std::to_string(b)).end();
    w.start(as::Delete).element(as::ServerId, "1:4242").end();
    w.start(as::Add).element(as::ClientId, "c1").start(as::ApplicationData).end().end();
  };
  Coll r = env.one(s);
  CHECK(r.status == 1);
  CHECK(r.key != c1.key);
  CHECK(r.changes.empty());
  CHECK(r.deletes.empty());
  std::map<std::string, int> resp(r.responses.begin(), r.responses.end());
  CHECK(resp.size() == 2);
  CHECK(resp["1:4242"] == 8);
  CHECK(resp["c1"] == 6);
  CHECK((env.mailbox.find("INBOX", a)->flags & backend::kFlagSeen));
  CHECK(env.mailbox.find("INBOX", b) == nullptr);
  CHECK(env.mailbox.boxes["Trash"].msgs.size() == 1);  // DeletesAsMoves
  // A change made elsewhere is still reported.
  env.mailbox.find("INBOX", c)->flags |= backend::kFlagSeen;
  Coll next = env.one(spec(r.key, "1"));
  CHECK(next.changes == std::vector<std::string>{"1:" + std::to_string(c)});
  CHECK(next.read["1:" + std::to_string(c)] == "1");
}

TEST_CASE("a message that cannot be read does not stop the Sync", "[sync][command]") {
  Env env;
  env.mailbox.add("INBOX", "good1");
  env.mailbox.add("INBOX", "", "-");
  env.mailbox.add("INBOX", "good2");
  env.mailbox.add("INBOX", "", "\x01\x02 not a message at all");
  Coll k0 = env.one(spec("0", "1"));
  Coll c = env.one(spec(k0.key, "1"));
  CHECK(c.status == 1);
  // All four go out (the empty one as an empty item), so none is retried
  // forever and none holds the window back.
  std::set<std::string> adds(c.adds.begin(), c.adds.end());
  CHECK(adds == std::set<std::string>{"1:1", "1:2", "1:3", "1:4"});
  CHECK_FALSE(c.more);
  Coll quiet = env.one(spec(c.key, "1"));
  CHECK(quiet.adds.empty());
  CHECK(quiet.key == c.key);
}

TEST_CASE("store: peekSyncKey answers like lookupSyncKey without the item map", "[sync][store]") {
  Env env;
  storage::SyncTransition t1;
  t1.from_key = 0;
  t1.to_key = 1;
  t1.watermark = {7, 11, 3, ""};
  t1.changes = {{storage::ItemChange::Kind::kPut, {"1:1", "1", "\\Seen", ""}},
                {storage::ItemChange::Kind::kPut, {"1:2", "2", "", ""}}};
  t1.response = "first";
  REQUIRE(env.store->commitSyncState(env.ref, "1", t1).ok());
  storage::SyncTransition t2;
  t2.from_key = 1;
  t2.to_key = 2;
  t2.watermark = {7, 12, 4, ""};
  t2.changes = {{storage::ItemChange::Kind::kPut, {"1:3", "3", "", ""}}};
  t2.response = "second";
  REQUIRE(env.store->commitSyncState(env.ref, "1", t2).ok());

  auto full = env.store->lookupSyncKey(env.ref, "1", 2);
  auto peek = env.store->peekSyncKey(env.ref, "1", 2);
  REQUIRE(full.ok());
  REQUIRE(peek.ok());
  CHECK(full->state.items.size() == 3);
  CHECK(peek->state.items.empty());
  CHECK(peek->match == storage::SyncLookup::Match::kCurrent);
  CHECK(peek->state.watermark == full->state.watermark);
  CHECK(peek->current_key == 2);

  auto prev = env.store->peekSyncKey(env.ref, "1", 1);
  REQUIRE(prev.ok());
  CHECK(prev->match == storage::SyncLookup::Match::kPrevious);
  CHECK(prev->replay_response == "second");
  CHECK(prev->state.watermark == t1.watermark);
  CHECK(prev->state.items.empty());

  auto old = env.store->peekSyncKey(env.ref, "1", 5);
  REQUIRE_FALSE(old.ok());
  CHECK(old.status().reason() == "store.unknown_synckey");
  CHECK_FALSE(env.store->peekSyncKey(env.ref, "9", 1).ok());
}

TEST_CASE("FilterType and the policy's MaxEmailAgeFilter leave old mail out", "[sync][command]") {
  Env env;
  ManualClock clock(1796083200);  // 2026-12-01; messages default to 2025-12-01
  env.services.clock = &clock;
  env.mailbox.add("INBOX", "old");
  std::uint32_t fresh = env.mailbox.add("INBOX", "fresh");
  env.mailbox.find("INBOX", fresh)->internal = 1796083200 - 3600;
  Spec s = spec("0", "1");
  s.filter = 3;  // one week
  Coll k0 = env.one(s);
  s.key = k0.key;
  Coll c = env.one(s);
  CHECK(c.adds == std::vector<std::string>{"1:" + std::to_string(fresh)});

  // No FilterType ever sent for Work: without a policy everything comes...
  env.mailbox.add("Work", "old work");
  Coll w0 = env.one(spec("0", "3"));
  Coll all = env.one(spec(w0.key, "3"));
  CHECK(all.adds.size() == 1);
  // ...and with MaxEmailAgeFilter = 1 (one day) the old one stays out.
  storage::PolicySetting p;
  p.key = "MaxEmailAgeFilter";
  p.value = "1";
  REQUIRE(env.store->setPolicy(p).ok());
  std::uint32_t recent = env.mailbox.add("Work", "recent work");
  env.mailbox.find("Work", recent)->internal = 1796083200 - 60;
  Coll r0 = env.one(spec("0", "3"));
  Coll bounded = env.one(spec(r0.key, "3"));
  CHECK(bounded.adds == std::vector<std::string>{"3:" + std::to_string(recent)});
}

TEST_CASE("a folder gone from IMAP: Status 12", "[sync][command]") {
  Env env;
  env.mailbox.add("Work", "w");
  Coll k0 = env.one(spec("0", "3"));
  env.mailbox.boxes.erase("Work");
  Coll gone = env.one(spec(k0.key, "3"));
  CHECK(gone.status == 12);
  CHECK(gone.key == k0.key);
}

TEST_CASE("device change data: Read and Flag to IMAP flags, bad values refused", "[sync][device]") {
  auto edit = [](const std::function<void(wbxml::Writer&)>& data) {
    std::string body;
    {
      wbxml::Writer w(&body);
      w.start(as::ApplicationData);
      data(w);
      w.end();
      w.flush();
    }
    auto doc = wbxml::decode(body);
    REQUIRE(doc.ok());
    return commands::flagEditFrom(doc->root());
  };
  auto read = edit([](wbxml::Writer& w) { w.element(em::Read, "1"); });
  REQUIRE(read.ok());
  CHECK(read->set == backend::kFlagSeen);
  CHECK(read->clear == 0u);
  auto unread_flag = edit([](wbxml::Writer& w) {
    w.element(em::Read, "0").start(em::Flag).element(em::Status, "2").end();
  });
  REQUIRE(unread_flag.ok());
  CHECK(unread_flag->set == backend::kFlagFlagged);
  CHECK(unread_flag->clear == backend::kFlagSeen);
  auto cleared = edit([](wbxml::Writer& w) { w.empty(em::Flag); });
  REQUIRE(cleared.ok());
  CHECK(cleared->clear == backend::kFlagFlagged);
  auto complete = edit([](wbxml::Writer& w) { w.start(em::Flag).element(em::Status, "1").end(); });
  REQUIRE(complete.ok());
  CHECK(complete->clear == backend::kFlagFlagged);
  for (const char* bad : {"yes", "2", ""}) {
    INFO(bad);
    auto r = edit([&](wbxml::Writer& w) { w.element(em::Read, bad); });
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().reason() == "sync.bad_item_data");
  }
  auto bad_flag = edit([](wbxml::Writer& w) { w.start(em::Flag).element(em::Status, "3").end(); });
  CHECK_FALSE(bad_flag.ok());
}

TEST_CASE("bytes fetched per message follow the truncation, bounded", "[sync][device]") {
  items::BodyRequest whole;
  CHECK(commands::fetchCapFor(whole) == 2u << 20);  // no preference: the whole body
  items::BodyRequest small;
  small.preferences.push_back({1, 5120, false, 0});
  CHECK(commands::fetchCapFor(small) == 64u << 10);  // at least 64 KB
  items::BodyRequest big;
  big.preferences.push_back({2, 200000, false, 0});
  CHECK(commands::fetchCapFor(big) == 3u * 200000 + 16384);
  big.preferences.push_back({4, std::nullopt, false, 0});  // MIME, untruncated
  CHECK(commands::fetchCapFor(big) == 2u << 20);
  items::BodyRequest huge;
  huge.preferences.push_back({1, 4000000000u, false, 0});
  CHECK(commands::fetchCapFor(huge) == 2u << 20);
  items::BodyRequest v25;
  v25.truncation_bytes = 4096;
  CHECK(commands::fetchCapFor(v25) == 64u << 10);
}

TEST_CASE("a quarantined device syncs one way: its changes applied, none sent", "[sync][command]") {
  Env env;
  std::uint32_t a = env.mailbox.add("INBOX", "a");
  Coll k0 = env.one(spec("0", "1"));
  Coll c1 = env.one(spec(k0.key, "1"));
  REQUIRE(c1.adds.size() == 1);
  storage::Device d;
  d.ref = env.ref;
  d.device_type = "iPhone";
  d.access_state = storage::AccessState::kQuarantine;
  REQUIRE(env.store->putDevice(d).ok());
  std::uint32_t b = env.mailbox.add("INBOX", "b");
  Coll quiet = env.one(spec(c1.key, "1"));
  CHECK(quiet.status == 1);
  CHECK(quiet.adds.empty());
  CHECK(quiet.key == c1.key);
  Spec s = spec(c1.key, "1");
  s.commands = [&](wbxml::Writer& w) {
    w.start(as::Change).element(as::ServerId, "1:" + std::to_string(a)).start(as::ApplicationData);
    w.element(em::Read, "1").end().end();
  };
  Coll changed = env.one(s);
  CHECK(changed.status == 1);
  CHECK(changed.adds.empty());
  CHECK((env.mailbox.find("INBOX", a)->flags & backend::kFlagSeen));
  // Allowed again: what waited comes down.
  REQUIRE(env.store->setAccessState(env.ref, storage::AccessState::kAllow, "admin").ok());
  Coll after = env.one(spec(changed.key, "1"));
  CHECK(after.adds == std::vector<std::string>{"1:" + std::to_string(b)});
}

namespace {

// Category names per ServerId, from the Adds and Fetch responses of a reply.
std::map<std::string, std::vector<std::string>> categoriesIn(const std::string& bytes) {
  std::map<std::string, std::vector<std::string>> out;
  auto doc = wbxml::decode(bytes);
  REQUIRE(doc.ok());
  std::function<void(const wbxml::Element&)> walk = [&](const wbxml::Element& e) {
    if (e.tag() == as::Add || e.tag() == as::Fetch) {
      if (const auto* d = e.child(as::ApplicationData)) {
        std::vector<std::string>& v = out[std::string(e.childText(as::ServerId))];
        if (const auto* cats = d->child(em::Categories))
          for (const wbxml::Element& c : cats->children()) v.push_back(std::string(c.text()));
      }
    }
    for (const wbxml::Element& c : e.children()) walk(c);
  };
  walk(doc->root());
  return out;
}

}  // namespace

TEST_CASE("category names and IMAP keywords", "[sync][device]") {
  CHECK(commands::categoryKeyword("Work") == "Work");
  CHECK(commands::categoryKeyword("Red Category") == "Red&20Category");
  CHECK(commands::categoryKeyword("$x") == "&24x");
  CHECK(commands::categoryKeyword("Junk") == "&4Aunk");
  CHECK(commands::categoryKeyword("a&b(c)") == "a&26b&28c&29");
  CHECK(commands::categoryKeyword("Caf\xC3\xA9") == "Caf&C3&A9");
  for (const char* name : {"Work", "Red Category", "$x", "Junk", "a&b(c)%*\"\\]{", "Caf\xC3\xA9"}) {
    INFO(name);
    const std::string k = commands::categoryKeyword(name);
    for (char c : k) CHECK(std::string_view("(){%*\"\\] ").find(c) == std::string_view::npos);
    CHECK(commands::categoryFromKeyword(k) == name);
  }
  // Another client's keywords read as they are.
  CHECK(commands::categoryFromKeyword("a&b") == "a&b");
  CHECK(commands::categoryFromKeyword("x&4") == "x&4");
  CHECK(commands::categoryFromKeyword("&zz") == "&zz");
}

TEST_CASE("device Categories become IMAP keywords, are not echoed, and come back", "[sync][device]") {
  Env env;
  std::uint32_t a = env.mailbox.add("INBOX", "a");
  env.mailbox.find("INBOX", a)->keywords = {"Junk", "Old"};
  const std::string sid = "1:" + std::to_string(a);
  Coll k0 = env.one(spec("0", "1"));
  Coll c1 = env.one(spec(k0.key, "1"));
  REQUIRE(c1.adds.size() == 1);
  auto change = [&](const std::string& key, std::optional<std::vector<std::string>> cats,
                    bool read = false) {
    Spec s = spec(key, "1");
    s.commands = [=](wbxml::Writer& w) {
      w.start(as::Change).element(as::ServerId, sid).start(as::ApplicationData);
      if (read) w.element(em::Read, "1");
      if (cats) {
        if (cats->empty()) {
          w.empty(em::Categories);
        } else {
          w.start(em::Categories);
          for (const std::string& c : *cats) w.element(em::Category, c);
          w.end();
        }
      }
      w.end().end();
    };
    return env.one(s);
  };
  Coll r1 = change(c1.key, std::vector<std::string>{"Work", "Red Category"});
  CHECK(r1.status == 1);
  CHECK(r1.responses.empty());
  CHECK(r1.changes.empty());
  CHECK(env.mailbox.find("INBOX", a)->keywords ==
        std::vector<std::string>{"Junk", "Work", "Red&20Category"});  // Old replaced, Junk kept
  // No change from the device's own edit in the next Sync.
  Coll quiet = env.one(spec(r1.key, "1"));
  CHECK(quiet.changes.empty());
  CHECK(quiet.adds.empty());

  // A Change without Categories leaves them alone.
  const int stores = env.mailbox.keyword_stores;
  Coll r2 = change(quiet.key, std::nullopt, true);
  CHECK(r2.responses.empty());
  CHECK(env.mailbox.keyword_stores == stores);
  CHECK(env.mailbox.find("INBOX", a)->keywords.size() == 3);

  // Fetch reads them back as names.
  Spec f = spec(r2.key, "1");
  f.commands = [&](wbxml::Writer& w) { w.start(as::Fetch).element(as::ServerId, sid).end(); };
  Reply fr = env.sync({f});
  REQUIRE(fr.colls.size() == 1);
  CHECK(categoriesIn(fr.bytes)[sid] == std::vector<std::string>{"Work", "Red Category"});

  // Another client tags the message; a resync from key 0 sends the new set.
  env.mailbox.find("INBOX", a)->keywords.push_back("Urgent");
  Coll z = env.one(spec("0", "1"));
  Reply full = env.sync({spec(z.key, "1")});
  CHECK(categoriesIn(full.bytes)[sid] == std::vector<std::string>{"Work", "Red Category", "Urgent"});

  // An empty <Categories/> clears them all (system keywords stay).
  Coll r3 = change(full.colls.at(0).key, std::vector<std::string>{});
  CHECK(r3.responses.empty());
  CHECK(env.mailbox.find("INBOX", a)->keywords == std::vector<std::string>{"Junk"});
}

namespace {

// "<Status>|<UtcDueDate>|<CompleteTime>|<FlagType>" of the Flag per ServerId
// in a reply's Changes, Adds and Fetch responses ("" for an empty <Flag/>).
std::map<std::string, std::string> flagsIn(const std::string& bytes) {
  namespace tk = wbxml::tags::Tasks;
  std::map<std::string, std::string> out;
  auto doc = wbxml::decode(bytes);
  REQUIRE(doc.ok());
  std::function<void(const wbxml::Element&)> walk = [&](const wbxml::Element& e) {
    if (e.tag() == as::Add || e.tag() == as::Fetch || e.tag() == as::Change) {
      if (const auto* d = e.child(as::ApplicationData))
        if (const auto* f = d->child(em::Flag))
          out[std::string(e.childText(as::ServerId))] =
              f->firstChild() ? std::string(f->childText(em::Status)) + "|" +
                                    std::string(f->childText(tk::UtcDueDate)) + "|" +
                                    std::string(f->childText(em::CompleteTime)) + "|" +
                                    std::string(f->childText(em::FlagType))
                              : "";
    }
    for (const wbxml::Element& c : e.children()) walk(c);
  };
  walk(doc->root());
  return out;
}

}  // namespace

TEST_CASE("flag details: parsed, kept as text, used while IMAP agrees", "[sync][device]") {
  namespace tk = wbxml::tags::Tasks;
  std::string body;
  {
    wbxml::Writer w(&body);
    w.start(as::ApplicationData).start(em::Flag).element(em::Status, "2").element(em::FlagType, "Call back");
    w.element(tk::StartDate, "2026-12-01T00:00:00.000Z").element(tk::UtcStartDate, "2026-12-01T08:00:00.000Z");
    w.element(tk::UtcDueDate, "2026-12-03T08:00:00.000Z").element(tk::ReminderSet, "1");
    w.element(tk::ReminderTime, "2026-12-02T09:30:00.000Z").end().end();
    w.flush();
  }
  auto doc = wbxml::decode(body);
  REQUIRE(doc.ok());
  auto edit = commands::flagEditFrom(doc->root());
  REQUIRE(edit.ok());
  CHECK(edit->set == backend::kFlagFlagged);
  REQUIRE(edit->flag.has_value());
  CHECK(edit->flag->status == 2);
  CHECK(edit->flag->flag_type == "Call back");
  const std::int64_t dec1 = 1796083200;  // 2026-12-01T00:00:00Z
  CHECK(edit->flag->start_date == std::optional<std::int64_t>(dec1 + 8 * 3600));  // UTC form wins
  CHECK(edit->flag->due_date == std::optional<std::int64_t>(dec1 + 2 * 86400 + 8 * 3600));
  CHECK(edit->flag->reminder_time == std::optional<std::int64_t>(dec1 + 86400 + 9 * 3600 + 1800));
  CHECK_FALSE(edit->flag->complete_time.has_value());

  const std::string text = commands::flagDetailsText(*edit->flag);
  auto back = commands::flagDetailsFor(text, backend::kFlagFlagged | backend::kFlagSeen);
  REQUIRE(back.has_value());
  CHECK(back->status == 2);
  CHECK(back->flag_type == "Call back");
  CHECK(back->start_date == edit->flag->start_date);
  CHECK(back->due_date == edit->flag->due_date);
  CHECK(back->reminder_time == edit->flag->reminder_time);
  CHECK_FALSE(back->complete_time.has_value());
  // Another client cleared \Flagged: the details no longer apply.
  CHECK_FALSE(commands::flagDetailsFor(text, backend::kFlagSeen).has_value());
  items::FlagDetails done;
  done.status = 1;
  done.complete_time = 1764576000;
  done.flag_type = "a:b";
  auto d2 = commands::flagDetailsFor(commands::flagDetailsText(done), 0);
  REQUIRE(d2.has_value());
  CHECK(d2->status == 1);
  CHECK(d2->flag_type == "a:b");
  CHECK(d2->complete_time == done.complete_time);
  CHECK_FALSE(commands::flagDetailsFor(commands::flagDetailsText(done), backend::kFlagFlagged));
  items::FlagDetails none;
  none.status = 0;
  CHECK(commands::flagDetailsText(none).empty());
  for (const char* bad : {"", "x", "flag1:3:::::t", "flag1:2:x::::t", "flag1:2::"}) {
    INFO(bad);
    CHECK_FALSE(commands::flagDetailsFor(bad, backend::kFlagFlagged).has_value());
  }
}

TEST_CASE("a device's flag details come back in Fetch and in later Changes", "[sync][device]") {
  namespace tk = wbxml::tags::Tasks;
  Env env;
  std::uint32_t a = env.mailbox.add("INBOX", "a");
  const std::string sid = "1:" + std::to_string(a);
  Coll k0 = env.one(spec("0", "1"));
  Coll c1 = env.one(spec(k0.key, "1"));
  REQUIRE(c1.adds.size() == 1);
  auto flag = [&](const std::string& key, const char* status, bool fetch) {
    Spec s = spec(key, "1");
    s.commands = [=](wbxml::Writer& w) {
      w.start(as::Change).element(as::ServerId, sid).start(as::ApplicationData);
      w.start(em::Flag).element(em::Status, status).element(em::FlagType, "Call back");
      w.element(tk::UtcDueDate, "2026-12-03T08:00:00.000Z");
      if (std::string_view(status) == "1") w.element(em::CompleteTime, "2026-12-02T10:00:00.000Z");
      w.end().end().end();
      if (fetch) w.start(as::Fetch).element(as::ServerId, sid).end();
    };
    return env.sync({s});
  };
  Reply r1 = flag(c1.key, "2", true);
  REQUIRE(r1.colls.size() == 1);
  CHECK(r1.colls[0].changes.empty());
  CHECK((env.mailbox.find("INBOX", a)->flags & backend::kFlagFlagged));
  CHECK(flagsIn(r1.bytes)[sid] == "2|2026-12-03T08:00:00.000Z||Call back");  // the Fetch response

  // Read elsewhere: the Change carries the kept details, not a bare flag.
  env.mailbox.find("INBOX", a)->flags |= backend::kFlagSeen;
  Reply r2 = env.sync({spec(r1.colls[0].key, "1")});
  REQUIRE(r2.colls.size() == 1);
  CHECK(r2.colls[0].changes == std::vector<std::string>{sid});
  CHECK(flagsIn(r2.bytes)[sid] == "2|2026-12-03T08:00:00.000Z||Call back");

  // Complete on the device: \Flagged goes, the details say complete.
  Reply r3 = flag(r2.colls[0].key, "1", true);
  CHECK_FALSE((env.mailbox.find("INBOX", a)->flags & backend::kFlagFlagged));
  CHECK(flagsIn(r3.bytes)[sid] == "1|2026-12-03T08:00:00.000Z|2026-12-02T10:00:00.000Z|Call back");

  // Flagged again elsewhere: another client's flag wins (a plain follow-up flag).
  env.mailbox.find("INBOX", a)->flags |= backend::kFlagFlagged;
  Reply r4 = env.sync({spec(r3.colls[0].key, "1")});
  CHECK(flagsIn(r4.bytes)[sid] == "2|||for Follow Up");
  // Cleared elsewhere: an empty Flag.
  env.mailbox.find("INBOX", a)->flags &= ~backend::kFlagFlagged;
  Reply r5 = env.sync({spec(r4.colls[0].key, "1")});
  CHECK(flagsIn(r5.bytes)[sid] == "");
  CHECK(r5.colls[0].changes == std::vector<std::string>{sid});
}

TEST_CASE("16.x Drafts: Add appends a draft, a Change replaces it; elsewhere Add is 6", "[sync][device]") {
  namespace asb = wbxml::tags::AirSyncBase;
  Env env;
  storage::FolderChange drafts;
  drafts.folder = {"4", "Drafts", "0", 3, "Drafts"};
  env.mailbox.boxes["Drafts"];
  REQUIRE(env.store->commitFolderSync(env.ref, 1, 2, {drafts}, "y").ok());
  const auto v16 = protocol::ProtocolVersion::k161;
  Coll k0 = env.sync({spec("0", "4")}, v16).colls.at(0);
  Coll c1 = env.sync({spec(k0.key, "4")}, v16).colls.at(0);
  REQUIRE(c1.status == 1);
  auto add = [](const std::string& subject, const std::string& text) {
    return [=](wbxml::Writer& w) {
      w.element(em::To, "Bob <bob@example.test>").element(em::Subject, subject);
      w.start(asb::Body).element(asb::Type, "1").element(asb::Data, text).end();
    };
  };
  Spec s = spec(c1.key, "4");
  s.commands = [&](wbxml::Writer& w) {
    w.start(as::Add).element(as::ClientId, "d1").start(as::ApplicationData);
    add("Caf\xC3\xA9 plan", "first\r\ndraft")(w);
    w.end().end();
  };
  Reply r = env.sync({s}, v16);
  REQUIRE(r.colls.size() == 1);
  CHECK(r.colls[0].status == 1);
  CHECK(r.colls[0].adds.empty());  // not echoed
  REQUIRE(env.mailbox.boxes["Drafts"].msgs.size() == 1);
  const Msg m = env.mailbox.boxes["Drafts"].msgs[0];  // a copy: later appends reallocate
  CHECK(m.flags == (backend::kFlagDraft | backend::kFlagSeen));
  CHECK(m.bytes.find("From: alice@example.test\r\n") != std::string::npos);
  CHECK(m.bytes.find("To: Bob <bob@example.test>\r\n") != std::string::npos);
  CHECK(m.bytes.find("Subject: =?UTF-8?") != std::string::npos);  // RFC 2047
  {
    auto parsed = items::parseEmail(m.bytes, {});
    REQUIRE(parsed.ok());
    CHECK(parsed->subject == "Caf\xC3\xA9 plan");
  }
  CHECK(m.bytes.find("Zmlyc3QNCmRyYWZ0") != std::string::npos);  // base64 of the text
  const std::string sid = "4:" + std::to_string(m.uid);
  // The Response names the new ServerId (Add{ClientId, ServerId, Status}).
  auto doc = wbxml::decode(r.bytes);
  REQUIRE(doc.ok());
  const wbxml::Element* resp = doc->root().child(as::Collections)->firstChild()->child(as::Responses);
  REQUIRE(resp != nullptr);
  const wbxml::Element* a = resp->child(as::Add);
  REQUIRE(a != nullptr);
  CHECK(a->childText(as::ClientId) == "d1");
  CHECK(a->childText(as::ServerId) == sid);
  CHECK(a->childText(as::Status) == "1");
  // Read back as a draft by the Fetch path.
  Spec f = spec(r.colls[0].key, "4");
  f.commands = [&](wbxml::Writer& w) { w.start(as::Fetch).element(as::ServerId, sid).end(); };
  Reply fr = env.sync({f}, v16);
  CHECK(fr.colls.at(0).responses == std::vector<std::pair<std::string, int>>{{sid, 1}});

  // A Change with message fields: a new draft replaces the old; the device
  // learns it as Delete + Add.
  Spec ch = spec(fr.colls[0].key, "4");
  ch.commands = [&](wbxml::Writer& w) {
    w.start(as::Change).element(as::ServerId, sid).start(as::ApplicationData);
    add("Plan v2", "second")(w);
    w.end().end();
  };
  Coll cr = env.sync({ch}, v16).colls.at(0);
  CHECK(cr.responses.empty());
  REQUIRE(env.mailbox.boxes["Drafts"].msgs.size() == 1);
  const Msg m2 = env.mailbox.boxes["Drafts"].msgs[0];
  CHECK(m2.uid != m.uid);
  CHECK(m2.bytes.find("Subject: Plan v2\r\n") != std::string::npos);
  // In the same reply (the server's changes follow the device's).
  CHECK(cr.deletes == std::vector<std::string>{sid});
  CHECK(cr.adds == std::vector<std::string>{"4:" + std::to_string(m2.uid)});
  Coll next = env.sync({spec(cr.key, "4")}, v16).colls.at(0);
  CHECK(next.deletes.empty());
  CHECK(next.adds.empty());

  // Not in Drafts, or before 16.0: Status 6 and nothing stored.
  Coll i0 = env.sync({spec("0", "1")}, v16).colls.at(0);
  Spec in_inbox = spec(i0.key, "1");
  in_inbox.commands = [&](wbxml::Writer& w) {
    w.start(as::Add).element(as::ClientId, "x1").start(as::ApplicationData);
    add("no", "no")(w);
    w.end().end();
  };
  Coll ir = env.sync({in_inbox}, v16).colls.at(0);
  CHECK(ir.responses == std::vector<std::pair<std::string, int>>{{"x1", 6}});
  CHECK(env.mailbox.boxes["INBOX"].msgs.empty());
  Spec old = spec(next.key, "4");
  old.commands = in_inbox.commands;
  Coll o = env.sync({old}, protocol::ProtocolVersion::k141).colls.at(0);
  CHECK(o.responses == std::vector<std::pair<std::string, int>>{{"x1", 6}});
  CHECK(env.mailbox.boxes["Drafts"].msgs.size() == 1);
}

TEST_CASE("metaFromBackend decodes category keywords for every command that sends items",
          "[sync][device]") {
  backend::MessageData d;
  d.keywords = {"Red&20Category", "Work", "$Junk"};
  const items::MessageMeta m = items::metaFromBackend(d, "1:5");
  CHECK(m.keywords == std::vector<std::string>{"Red Category", "Work"});  // a marker is no category
}

namespace {

namespace asb = wbxml::tags::AirSyncBase;
namespace em2 = wbxml::tags::Email2;

// Records what would have gone over SMTP; answers `fail` when set.
class FakeSubmitter final : public backend::MailSubmitter {
 public:
  Status submit(const backend::Submission& s) override {
    if (fail) return *fail;
    sent.push_back(s);
    return Status::Ok();
  }
  std::optional<Status> fail;
  std::vector<backend::Submission> sent;
};

// An Env with a Drafts (type 3) and a Sent Items (type 5) collection, both
// synced to a current key on 16.1.
struct DraftsEnv {
  Env env;
  FakeSubmitter smtp;
  std::string key;  // the Drafts collection's current key
  static constexpr auto kV = protocol::ProtocolVersion::k161;

  DraftsEnv() {
    std::vector<storage::FolderChange> adds(2);
    adds[0].folder = {"4", "Drafts", "0", 3, "Drafts"};
    adds[1].folder = {"5", "Sent", "0", 5, "Sent"};
    env.mailbox.boxes["Drafts"];
    env.mailbox.boxes["Sent"];
    REQUIRE(env.store->commitFolderSync(env.ref, 1, 2, adds, "y").ok());
    env.services.smtp = &smtp;
    Coll k0 = env.sync({spec("0", "4")}, kV).colls.at(0);
    key = env.sync({spec(k0.key, "4")}, kV).colls.at(0).key;
  }
  // One Sync of Drafts carrying `commands`; the key moves on.
  Reply run(std::function<void(wbxml::Writer&)> commands) {
    Spec s = spec(key, "4");
    s.commands = std::move(commands);
    Reply r = env.sync({s}, kV);
    REQUIRE(r.colls.size() == 1);
    key = r.colls[0].key;
    return r;
  }
  const std::vector<Msg>& drafts() { return env.mailbox.boxes["Drafts"].msgs; }
  const std::vector<Msg>& sentBox() { return env.mailbox.boxes["Sent"].msgs; }
};

void fields(wbxml::Writer& w, const std::string& to, const std::string& subject) {
  if (!to.empty()) w.element(em::To, to);
  w.element(em::Cc, "carol@example.test").element(em2::Bcc, "dave@example.test");
  w.element(em::Subject, subject);
  w.start(asb::Body).element(asb::Type, "1").element(asb::Data, "draft text").end();
}

void attachment(wbxml::Writer& w, const std::string& client_id, const std::string& name,
                const std::string& bytes) {
  w.start(asb::Add).element(asb::ClientId, client_id).element(asb::DisplayName, name);
  w.element(asb::Method, "1").element(asb::ContentType, "application/octet-stream");
  w.opaqueElement(asb::Content, bytes).end();
}

std::string b64(std::string_view in) {
  static constexpr char k[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    std::uint32_t v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= static_cast<unsigned char>(in[i + 2]);
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += i + 1 < in.size() ? k[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? k[v & 63] : '=';
  }
  return out;
}

// Responses/<kind> of the reply: {ClientId or ServerId -> [{ClientId, FileReference}]}.
std::map<std::string, std::vector<std::pair<std::string, std::string>>> attachmentResponses(
    const std::string& bytes) {
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> out;
  auto doc = wbxml::decode(bytes);
  REQUIRE(doc.ok());
  const wbxml::Element* resp = doc->root().child(as::Collections)->firstChild()->child(as::Responses);
  if (!resp) return out;
  for (const wbxml::Element& x : resp->children()) {
    const std::string id(x.childText(as::ClientId, x.childText(as::ServerId)));
    const wbxml::Element* data = x.child(as::ApplicationData);
    const wbxml::Element* atts = data ? data->child(asb::Attachments) : nullptr;
    if (!atts) continue;
    for (const wbxml::Element& a : atts->children()) {
      CHECK(a.tag() == asb::Attachment);
      out[id].push_back({std::string(a.childText(asb::ClientId)), std::string(a.childText(asb::FileReference))});
    }
  }
  return out;
}

}  // namespace

TEST_CASE("16.x Drafts: added attachments are answered with FileReferences, kept and deleted on a Change",
          "[sync][device][drafts]") {
  DraftsEnv d;
  const std::string one("\x00\x01\x02 binary \xff\xfe", 14), two = "second file";
  Reply r = d.run([&](wbxml::Writer& w) {
    w.start(as::Add).element(as::ClientId, "d1").start(as::ApplicationData);
    fields(w, "bob@example.test", "With files");
    w.start(asb::Attachments);
    attachment(w, "a1", "one.bin", one);
    attachment(w, "a2", "two.txt", two);
    w.end().end().end();
  });
  REQUIRE(d.drafts().size() == 1);
  const Msg m = d.drafts()[0];
  const std::string sid = "4:" + std::to_string(m.uid);
  CHECK(r.colls[0].responses == std::vector<std::pair<std::string, int>>{{sid, 1}});
  auto atts = attachmentResponses(r.bytes);
  CHECK(atts["d1"] == std::vector<std::pair<std::string, std::string>>{{"a1", sid + ":2"}, {"a2", sid + ":3"}});
  CHECK(m.bytes.find(b64(one)) != std::string::npos);
  CHECK(m.bytes.find(b64(two)) != std::string::npos);
  CHECK(m.bytes.find("Bcc: dave@example.test") != std::string::npos);  // a draft keeps it
  {
    auto parsed = items::parseEmail(m.bytes, {});
    REQUIRE(parsed.ok());
    REQUIRE(parsed->attachments.size() == 2);
    CHECK(parsed->attachments[0].display_name == "one.bin");
    CHECK(parsed->attachments[0].estimated_size == one.size());
  }
  CHECK(d.smtp.sent.empty());

  // A Change without Body: the first attachment deleted by its FileReference,
  // a third added; the second and the text are kept.
  const std::string three = "third";
  Reply c = d.run([&](wbxml::Writer& w) {
    w.start(as::Change).element(as::ServerId, sid).start(as::ApplicationData);
    w.element(em::To, "bob@example.test").element(em::Subject, "With files v2");
    w.start(asb::Attachments);
    w.start(asb::Delete).element(asb::FileReference, sid + ":2").end();
    attachment(w, "a3", "three.txt", three);
    w.end().end().end();
  });
  REQUIRE(d.drafts().size() == 1);
  const Msg m2 = d.drafts()[0];
  CHECK(m2.uid != m.uid);
  const std::string sid2 = "4:" + std::to_string(m2.uid);
  CHECK(c.colls[0].responses == std::vector<std::pair<std::string, int>>{{sid, 1}});
  CHECK(attachmentResponses(c.bytes)[sid] ==
        std::vector<std::pair<std::string, std::string>>{{"a3", sid2 + ":3"}});
  CHECK(c.colls[0].deletes == std::vector<std::string>{sid});
  CHECK(c.colls[0].adds == std::vector<std::string>{sid2});
  {
    auto parsed = items::parseEmail(m2.bytes, {});
    REQUIRE(parsed.ok());
    CHECK(parsed->subject == "With files v2");
    CHECK(parsed->plain_body.find("draft text") != std::string::npos);
    REQUIRE(parsed->attachments.size() == 2);
    CHECK(parsed->attachments[0].display_name == "two.txt");
    CHECK(parsed->attachments[1].display_name == "three.txt");
  }
  CHECK(m2.bytes.find(b64(one)) == std::string::npos);
  CHECK(m2.bytes.find(b64(two)) != std::string::npos);

  // Refused, the draft untouched: a FileReference of another item (8), an
  // attachment without Content (6), a Delete inside an Add (6).
  Reply bad = d.run([&](wbxml::Writer& w) {
    w.start(as::Change).element(as::ServerId, sid2).start(as::ApplicationData);
    w.element(em::Subject, "x").start(asb::Attachments);
    w.start(asb::Delete).element(asb::FileReference, "1:5:2").end();
    w.end().end().end();
    w.start(as::Change).element(as::ServerId, sid2).start(as::ApplicationData);
    w.element(em::Subject, "y").start(asb::Attachments);
    w.start(asb::Delete).element(asb::FileReference, sid2 + ":9").end();
    w.end().end().end();
    w.start(as::Change).element(as::ServerId, sid2).start(as::ApplicationData);
    w.element(em::Subject, "z").start(asb::Attachments);
    w.start(asb::Add).element(asb::ClientId, "n").element(asb::DisplayName, "n").element(asb::Method, "1").end();
    w.end().end().end();
    w.start(as::Add).element(as::ClientId, "d9").start(as::ApplicationData);
    w.element(em::Subject, "w").start(asb::Attachments);
    w.start(asb::Delete).element(asb::FileReference, sid2 + ":3").end();
    w.end().end().end();
  });
  std::map<std::string, int> st;
  for (const auto& [id, status] : bad.colls[0].responses) st[id] = status;
  CHECK(st.size() == 2);  // the three Changes share a ServerId
  CHECK(st["d9"] == 6);
  CHECK(bad.colls[0].responses.size() == 4);
  CHECK(bad.colls[0].responses[0] == std::pair<std::string, int>{sid2, 8});
  CHECK(bad.colls[0].responses[1] == std::pair<std::string, int>{sid2, 8});
  CHECK(bad.colls[0].responses[2] == std::pair<std::string, int>{sid2, 6});
  REQUIRE(d.drafts().size() == 1);
  CHECK(d.drafts()[0].uid == m2.uid);
  CHECK(d.drafts()[0].bytes == m2.bytes);
}

TEST_CASE("16.x Drafts: email2:Send submits the draft, copies it to Sent and removes it",
          "[sync][device][drafts]") {
  DraftsEnv d;
  const std::string file = "attached bytes";
  Reply r = d.run([&](wbxml::Writer& w) {
    w.start(as::Add).element(as::ClientId, "s1").start(as::ApplicationData);
    fields(w, "Bob <bob@example.test>", "Sent from Drafts");
    w.start(asb::Attachments);
    attachment(w, "a1", "f.bin", file);
    w.end().end();
    w.empty(em2::Send).end();
  });
  REQUIRE(r.colls[0].responses.size() == 1);
  CHECK(r.colls[0].responses[0].first == "4:1");  // Add{ClientId s1, ServerId 4:1}
  CHECK(r.colls[0].responses[0].second == 1);
  REQUIRE(d.smtp.sent.size() == 1);
  const backend::Submission& sub = d.smtp.sent[0];
  CHECK(sub.envelope_from == "alice@example.test");
  CHECK(sub.recipients ==
        std::vector<std::string>{"bob@example.test", "carol@example.test", "dave@example.test"});
  CHECK(sub.password == "secret");
  CHECK(sub.message.find("dave@") == std::string::npos);  // no Bcc header
  CHECK(sub.message.find("From: alice@example.test") != std::string::npos);
  CHECK(sub.message.find(b64(file)) != std::string::npos);
  // The Sent copy keeps the Bcc, read; Drafts no longer has it, and the
  // device is told (Delete of the ServerId it was just given).
  REQUIRE(d.sentBox().size() == 1);
  CHECK(d.sentBox()[0].flags == backend::kFlagSeen);
  CHECK(d.sentBox()[0].bytes.find("Bcc: dave@example.test") != std::string::npos);
  CHECK(d.drafts().empty());
  CHECK(attachmentResponses(r.bytes).empty());  // the draft is gone
  const std::string added_sid = "4:" + std::to_string(1);
  CHECK(r.colls[0].deletes == std::vector<std::string>{added_sid});
  Coll after = d.env.sync({spec(d.key, "4")}, DraftsEnv::kV).colls.at(0);
  CHECK(after.deletes.empty());
  CHECK(after.adds.empty());
  d.key = after.key;

  // A draft saved first, then sent by a Change carrying only <Send/>.
  Reply saved = d.run([&](wbxml::Writer& w) {
    w.start(as::Add).element(as::ClientId, "s2").start(as::ApplicationData);
    fields(w, "bob@example.test", "Saved, then sent");
    w.end().end();
  });
  REQUIRE(d.drafts().size() == 1);
  const std::string sid = "4:" + std::to_string(d.drafts()[0].uid);
  CHECK(d.smtp.sent.size() == 1);
  Reply sent = d.run([&](wbxml::Writer& w) {
    w.start(as::Change).element(as::ServerId, sid).start(as::ApplicationData).end();
    w.empty(em2::Send).end();
  });
  CHECK(sent.colls[0].responses.empty());  // success is silent
  REQUIRE(d.smtp.sent.size() == 2);
  CHECK(d.smtp.sent[1].message.find("Saved, then sent") != std::string::npos);
  CHECK(d.drafts().empty());
  CHECK(d.sentBox().size() == 2);
  CHECK(sent.colls[0].deletes == std::vector<std::string>{sid});
}

TEST_CASE("16.x Drafts: a Send that cannot go answers its status and keeps the draft",
          "[sync][device][drafts]") {
  DraftsEnv d;
  struct Row {
    std::string to;
    std::optional<Status> smtp_fails;
    bool configured;
    int status;
  };
  const std::vector<Row> rows = {
      {"", std::nullopt, true, 183},  // no recipients at all
      {"bob@example.test", Status::Unavailable("smtp.rejected", "550 no"), true, 120},
      {"bob@example.test", Status::Unavailable("smtp.temporary", "451 later"), true, 120},
      {"bob@example.test", Status::Unavailable("smtp.unavailable", "refused"), true, 120},
      {"bob@example.test", Status::InvalidArgument("smtp.too_large", "552"), true, 122},
      {"bob@example.test", std::nullopt, false, 110},
  };
  std::size_t kept = 0;
  for (const Row& row : rows) {
    INFO("expecting " << row.status);
    d.smtp.fail = row.smtp_fails;
    d.env.services.smtp = row.configured ? &d.smtp : nullptr;
    Reply r = d.run([&](wbxml::Writer& w) {
      w.start(as::Add).element(as::ClientId, "k").start(as::ApplicationData);
      if (row.to.empty()) {
        w.element(em::Subject, "nobody");  // neither To, Cc nor Bcc
      } else {
        fields(w, row.to, "fails");
      }
      w.end();
      w.empty(em2::Send).end();
    });
    ++kept;
    REQUIRE(r.colls[0].responses.size() == 1);
    CHECK(r.colls[0].responses[0].second == row.status);
    CHECK(d.drafts().size() == kept);  // kept in Drafts
    CHECK(d.sentBox().empty());
    CHECK(d.smtp.sent.empty());
    CHECK(r.colls[0].deletes.empty());
  }
  // The kept draft is sent by a later Change once SMTP works again.
  d.smtp.fail.reset();
  d.env.services.smtp = &d.smtp;
  const std::string sid = "4:" + std::to_string(d.drafts().back().uid);
  Reply again = d.run([&](wbxml::Writer& w) {
    w.start(as::Change).element(as::ServerId, sid).start(as::ApplicationData).end();
    w.empty(em2::Send).end();
  });
  CHECK(again.colls[0].responses.empty());
  CHECK(d.smtp.sent.size() == 1);
  CHECK(d.drafts().size() == kept - 1);

  // email2:Send outside Drafts is refused (6), nothing sent.
  Coll i0 = d.env.sync({spec("0", "1")}, DraftsEnv::kV).colls.at(0);
  const std::uint32_t u = d.env.mailbox.add("INBOX", "in inbox");
  Coll i1 = d.env.sync({spec(i0.key, "1")}, DraftsEnv::kV).colls.at(0);
  Spec s = spec(i1.key, "1");
  s.commands = [&](wbxml::Writer& w) {
    w.start(as::Change).element(as::ServerId, "1:" + std::to_string(u)).start(as::ApplicationData).end();
    w.empty(em2::Send).end();
  };
  Coll ir = d.env.sync({s}, DraftsEnv::kV).colls.at(0);
  CHECK(ir.responses == std::vector<std::pair<std::string, int>>{{"1:" + std::to_string(u), 6}});
  CHECK(d.smtp.sent.size() == 1);
}

TEST_CASE("16.x Drafts: attachment Content as base64 text (the XML form) is decoded; bad base64 is 6",
          "[sync][device][drafts]") {
  DraftsEnv d;
  const std::string bytes("\x01\x02\x03 text form \xfe", 15);
  Reply r = d.run([&](wbxml::Writer& w) {
    w.start(as::Add).element(as::ClientId, "t1").start(as::ApplicationData);
    fields(w, "bob@example.test", "text content");
    w.start(asb::Attachments).start(asb::Add).element(asb::ClientId, "a1").element(asb::DisplayName, "t.bin");
    w.element(asb::Method, "1").element(asb::Content, b64(bytes)).end().end();
    w.end().end();
    w.start(as::Add).element(as::ClientId, "t2").start(as::ApplicationData);
    fields(w, "bob@example.test", "bad content");
    w.start(asb::Attachments).start(asb::Add).element(asb::ClientId, "a1").element(asb::DisplayName, "t.bin");
    w.element(asb::Method, "1").element(asb::Content, "not*base64!").end().end();
    w.end().end();
  });
  REQUIRE(r.colls[0].responses.size() == 2);
  CHECK(r.colls[0].responses[0].second == 1);
  CHECK(r.colls[0].responses[1] == std::pair<std::string, int>{"t2", 6});
  REQUIRE(d.drafts().size() == 1);
  CHECK(d.drafts()[0].bytes.find(b64(bytes)) != std::string::npos);
}

TEST_CASE("16.x Drafts: a Change that edits the draft and sends it sends the edited version",
          "[sync][device][drafts]") {
  DraftsEnv d;
  const std::string file = "kept attachment";
  d.run([&](wbxml::Writer& w) {
    w.start(as::Add).element(as::ClientId, "e1").start(as::ApplicationData);
    fields(w, "bob@example.test", "first version");
    w.start(asb::Attachments);
    attachment(w, "a1", "k.bin", file);
    w.end().end().end();
  });
  REQUIRE(d.drafts().size() == 1);
  const std::string sid = "4:" + std::to_string(d.drafts()[0].uid);
  Reply r = d.run([&](wbxml::Writer& w) {
    w.start(as::Change).element(as::ServerId, sid).start(as::ApplicationData);
    w.element(em::To, "erin@example.test").element(em::Subject, "second version");
    w.end();
    w.empty(em2::Send).end();
  });
  CHECK(r.colls[0].responses.empty());
  REQUIRE(d.smtp.sent.size() == 1);
  CHECK(d.smtp.sent[0].recipients == std::vector<std::string>{"erin@example.test"});
  CHECK(d.smtp.sent[0].message.find("second version") != std::string::npos);
  CHECK(d.smtp.sent[0].message.find("first version") == std::string::npos);
  CHECK(d.smtp.sent[0].message.find(b64(file)) != std::string::npos);  // kept, then sent
  CHECK(d.smtp.sent[0].message.find(b64("draft text")) != std::string::npos);  // Body omitted: kept
  CHECK(d.drafts().empty());
  CHECK(d.sentBox().size() == 1);
  CHECK(r.colls[0].deletes == std::vector<std::string>{sid});
  CHECK(r.colls[0].adds.empty());  // the edited draft went out: nothing new to add
}
