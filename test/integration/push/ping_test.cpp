// Ping end to end: device -> nginx -> eas-fcgi (parking lot) -> Dovecot,
// fixture eas_stack (push.min_heartbeat_seconds=2). Each test uses IMAP
// folders and DeviceIds of its own. Requests go over bare sockets
// (raw_http.h) so a test can hold, time and drop them.
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/backends/imap/imap_backend.h"
#include "core/wbxml/wbxml.h"
#include "test/integration/common/env_file.h"
#include "test/integration/common/request_bodies.h"
#include "test/integration/push/raw_http.h"

namespace as = eas::wbxml::tags::AirSync;
namespace fh = eas::wbxml::tags::FolderHierarchy;
namespace tp = eas::wbxml::tags::Ping;
namespace cm = eas::wbxml::tags::ComposeMail;
namespace raw = eas::testing::raw;
using eas::testing::EnvFile;
using Clock = std::chrono::steady_clock;

namespace {

long long msSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

struct PingAnswer {
  int http = -1;
  int status = -1;
  std::vector<std::string> folders;
  std::string heartbeat;
  long long ms = 0;  // from send to answer
  std::string error;
};

PingAnswer readPing(const raw::Reply& r, long long ms) {
  PingAnswer a;
  a.http = r.status;
  a.error = r.error;
  a.ms = ms;
  if (r.status != 200 || r.body.empty()) return a;
  auto doc = eas::wbxml::decode(r.body);
  REQUIRE(doc.ok());
  REQUIRE(doc->root().tag() == tp::Ping);
  a.status = std::atoi(std::string(doc->root().childText(tp::Status, "-1")).c_str());
  if (const auto* f = doc->root().child(tp::Folders))
    for (const eas::wbxml::Element& c : f->children()) a.folders.emplace_back(c.text());
  a.heartbeat = std::string(doc->root().childText(tp::HeartbeatInterval));
  return a;
}

std::string pingBody(int hb, const std::vector<std::string>& ids) {
  std::string out;
  eas::wbxml::Writer w(&out);
  w.start(tp::Ping).element(tp::HeartbeatInterval, std::int64_t{hb}).start(tp::Folders);
  for (const std::string& id : ids) w.start(tp::Folder).element(tp::Id, id).element(tp::Class, "Email").end();
  w.end().end();
  w.flush();
  return out;
}

std::string syncBody(const std::string& key, const std::string& id) {
  std::string out;
  eas::wbxml::Writer w(&out);
  w.start(as::Sync).start(as::Collections).start(as::Collection);
  w.element(as::SyncKey, key).element(as::CollectionId, id).element(as::WindowSize, std::int64_t{100});
  w.end().end().end();
  w.flush();
  return out;
}

std::string message(const std::string& subject) {
  return "From: Sender <sender@example.test>\r\nTo: alice@example.test\r\nSubject: " + subject +
         "\r\nDate: Tue, 01 Dec 2026 08:00:00 +0000\r\nMessage-ID: <" + subject +
         "@example.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nhello\r\n";
}

// The pids of the master's children (the workers).
std::set<int> childrenOf(int parent) {
  std::set<int> out;
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    int pid = std::atoi(e->d_name);
    if (pid <= 0) continue;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    auto close_paren = line.rfind(')');
    if (close_paren == std::string::npos) continue;
    std::istringstream rest(line.substr(close_paren + 2));
    char state = 0;
    int ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent && state != 'Z') out.insert(pid);
  }
  ::closedir(d);
  return out;
}

bool alive(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  auto p = line.rfind(')');
  return p != std::string::npos && p + 2 < line.size() && line[p + 2] != 'Z';
}

struct Stack {
  EnvFile env = EnvFile::loadFixture("eas_stack");
  int port = raw::portOf(env.get("EAS_URL"));
  eas::backend::imap::ImapSessionPool pool{imapConfig()};
  std::string tag = std::to_string(::getpid());
  static inline int counter = 0;  // across test cases: names stay unique

  eas::backend::imap::ImapConfig imapConfig() const {
    eas::backend::imap::ImapConfig c;
    c.host = env.get("IMAP_HOST");
    c.port = std::atoi(env.get("IMAP_PORT").c_str());
    return c;
  }
  std::string user() const { return env.testUser(1); }
  std::string password() const { return env.testPassword(1); }
  std::unique_ptr<eas::backend::MailBackend> imap() { return pool.backendFor(user(), password()); }
  std::string unique(const std::string& prefix) { return prefix + tag + "x" + std::to_string(++counter); }

  std::string request(const std::string& cmd, const std::string& device, const std::string& body,
                      const std::string& version = "14.1") {
    return raw::easPost(cmd, user(), password(), device, version, body);
  }
  raw::Reply post(const std::string& cmd, const std::string& device, const std::string& body,
                  int timeout_ms = 30000, const std::string& version = "14.1") {
    return raw::roundTrip(port, request(cmd, device, body, version), timeout_ms);
  }

  // A folder with one message, FolderSynced and Synced to the end on
  // `device`: returns its ServerId. A Ping on it then finds nothing new.
  std::string syncedFolder(const std::string& device, std::string* imap_name = nullptr) {
    const std::string folder = unique("PingF");
    auto mail = imap();
    REQUIRE(mail->createFolder(folder).ok());
    REQUIRE(mail->appendMessage(folder, message(folder + "-0"), 0).ok());
    raw::Reply fs = post("FolderSync", device, eas::testing::folderSyncBody("0"));
    REQUIRE(fs.status == 200);
    auto doc = eas::wbxml::decode(fs.body);
    REQUIRE(doc.ok());
    std::string id;
    if (const auto* ch = doc->root().child(fh::Changes))
      for (const eas::wbxml::Element& c : ch->children())
        if (c.tag() == fh::Add && c.childText(fh::DisplayName) == folder) id = std::string(c.childText(fh::ServerId));
    REQUIRE(!id.empty());
    std::string key = "0";
    for (int i = 0; i < 5; ++i) {
      raw::Reply s = post("Sync", device, syncBody(key, id));
      REQUIRE(s.status == 200);
      if (s.body.empty()) break;  // nothing changed: empty answer
      auto sd = eas::wbxml::decode(s.body);
      REQUIRE(sd.ok());
      const auto* colls = sd->root().child(as::Collections);
      if (!colls || !colls->firstChild()) break;
      const auto& c = *colls->firstChild();
      REQUIRE(c.childText(as::Status) == "1");
      std::string next(c.childText(as::SyncKey));
      const bool had_commands = c.hasChild(as::Commands);
      if (next == key && !had_commands) break;
      key = next;
      if (!had_commands && key != "1") break;
    }
    if (imap_name) *imap_name = folder;
    return id;
  }

  // Sends a Ping now, answers later.
  std::future<PingAnswer> pingAsync(const std::string& device, const std::string& body, int timeout_ms = 30000) {
    const std::string req = request("Ping", device, body);
    const int p = port;
    return std::async(std::launch::async, [req, p, timeout_ms] {
      auto t = Clock::now();
      int fd = raw::openAndSend(p, req);
      if (fd < 0) {
        PingAnswer failed;
        failed.error = std::string("connect/send: ") + std::strerror(errno);
        return failed;
      }
      raw::Reply r = raw::finish(fd, timeout_ms);
      return readPing(r, msSince(t));
    });
  }
  PingAnswer ping(const std::string& device, const std::string& body, int timeout_ms = 30000) {
    return pingAsync(device, body, timeout_ms).get();
  }
  bool notifydRuns() const {
    return env.has("NOTIFYD_PID") || env.has("NOTIFYD_SOCKET") || env.has("EAS_NOTIFYD_SOCKET");
  }
  std::string log() const {
    std::ifstream in(env.get("EAS_FCGI_LOG"));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
};

}  // namespace

TEST_CASE("ping: heartbeat expiry with no change gives Status 1", "[integration][ping]") {
  Stack s;
  const std::string dev = s.unique("PH");
  const std::string id = s.syncedFolder(dev);
  PingAnswer a = s.ping(dev, pingBody(2, {id}));
  INFO(a.error);
  REQUIRE(a.http == 200);
  CHECK(a.status == 1);
  CHECK(a.ms >= 1900);
  CHECK(a.ms < 8000);
  // The empty Ping reuses the heartbeat and folders.
  PingAnswer again = s.ping(dev, "");
  CHECK(again.status == 1);
  CHECK(again.ms >= 1900);
}

TEST_CASE("ping: limits and protocol errors through the stack", "[integration][ping]") {
  Stack s;
  const std::string dev = s.unique("PL");
  const std::string id = s.syncedFolder(dev);
  PingAnswer high = s.ping(dev, pingBody(3540, {id}));
  CHECK(high.status == 5);
  CHECK(high.heartbeat == "1800");
  PingAnswer low = s.ping(dev, pingBody(1, {id}));
  CHECK(low.status == 5);
  CHECK(low.heartbeat == "2");
  // An unknown folder: FolderSync required.
  PingAnswer unknown = s.ping(dev, pingBody(2, {"999999"}));
  CHECK(unknown.status == 7);
  // A device that never ran FolderSync.
  PingAnswer fresh = s.ping(s.unique("PN"), pingBody(2, {id}));
  CHECK(fresh.status == 7);
  // No parameters anywhere: 3.
  PingAnswer none = s.ping(s.unique("PE"), "");
  CHECK(none.status == 3);
  // 2.5 works the same way.
  raw::Reply r25 = s.post("Ping", dev, pingBody(2, {id}), 30000, "2.5");
  REQUIRE(r25.status == 200);
  CHECK(readPing(r25, 0).status == 1);
}

TEST_CASE("ping: new mail wakes the parked Ping with Status 2 for the folder", "[integration][ping]") {
  Stack s;
  const std::string dev = s.unique("PW");
  std::string folder;
  const std::string id = s.syncedFolder(dev, &folder);
  // With eas-notifyd and Dovecot's Lua hook the wake is an event (< 1 s);
  // without them the heartbeat's re-check finds the change.
  const bool events = s.notifydRuns();
  const int hb = events ? 60 : 3;
  auto pending = s.pingAsync(dev, pingBody(hb, {id}));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto sent = Clock::now();
  REQUIRE(s.imap()->appendMessage(folder, message(folder + "-new"), 0).ok());
  PingAnswer a = pending.get();
  const long long wake_ms = msSince(sent);
  INFO("wake after " << wake_ms << " ms, events=" << events);
  REQUIRE(a.http == 200);
  CHECK(a.status == 2);
  CHECK(a.folders == std::vector<std::string>{id});
  if (events) {
    CHECK(wake_ms < 1000);
  } else {
    WARN("eas-notifyd is not in the stack: the change was found by the heartbeat re-check after "
         << wake_ms << " ms");
  }
}

// The whole delivery path: a device's SendMail -> Postfix -> LMTP -> Dovecot
// (its Lua hook) -> eas-notifyd -> the worker holding the Ping on INBOX.
TEST_CASE("ping: mail delivered over LMTP wakes a Ping on INBOX with Status 2", "[integration][ping]") {
  Stack s;
  if (!s.notifydRuns()) {
    WARN("eas-notifyd is not in the stack: skipped");
    return;
  }
  const std::string dev = s.unique("PD");
  raw::Reply fs = s.post("FolderSync", dev, eas::testing::folderSyncBody("0"));
  REQUIRE(fs.status == 200);
  auto doc = eas::wbxml::decode(fs.body);
  REQUIRE(doc.ok());
  std::string inbox;
  if (const auto* ch = doc->root().child(fh::Changes))
    for (const eas::wbxml::Element& c : ch->children())
      if (c.tag() == fh::Add && c.childText(fh::Type) == "2") inbox = std::string(c.childText(fh::ServerId));
  REQUIRE(!inbox.empty());
  // Synced to the end, so that only the new delivery is a change.
  std::string key = "0";
  for (int i = 0; i < 100; ++i) {
    raw::Reply r = s.post("Sync", dev, syncBody(key, inbox));
    REQUIRE(r.status == 200);
    if (r.body.empty()) break;
    auto sd = eas::wbxml::decode(r.body);
    REQUIRE(sd.ok());
    const auto* colls = sd->root().child(as::Collections);
    if (!colls || !colls->firstChild()) break;
    const auto& c = *colls->firstChild();
    REQUIRE(c.childText(as::Status) == "1");
    const std::string next(c.childText(as::SyncKey));
    const bool more = c.hasChild(as::MoreAvailable);
    if (next == key && !c.hasChild(as::Commands)) break;
    key = next;
    if (!more && key != "1") break;
  }
  auto pending = s.pingAsync(dev, pingBody(60, {inbox}));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::string send;
  {
    eas::wbxml::Writer w(&send);
    const std::string mime = "From: " + s.user() + "\r\nTo: " + s.user() +
                             "\r\nSubject: ping lmtp " + dev +
                             "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nwake up\r\n";
    w.start(cm::SendMail).element(cm::ClientId, dev).element(cm::Mime, mime).end();
    w.flush();
  }
  auto sent = Clock::now();
  raw::Reply sm = s.post("SendMail", s.unique("PDS"), send);
  REQUIRE(sm.status == 200);
  PingAnswer a = pending.get();
  const long long wake_ms = msSince(sent);
  INFO("wake " << wake_ms << " ms after the SendMail (Postfix queueing included)");
  REQUIRE(a.http == 200);
  CHECK(a.status == 2);
  CHECK(a.folders == std::vector<std::string>{inbox});
  CHECK(wake_ms < 3000);
}

TEST_CASE("ping: a flag changed over IMAP wakes the parked Ping with Status 2", "[integration][ping]") {
  Stack s;
  const std::string dev = s.unique("PF");
  std::string folder;
  const std::string id = s.syncedFolder(dev, &folder);
  auto mail = s.imap();
  auto state = mail->folderState(folder);
  REQUIRE(state.ok());
  REQUIRE(state->uidNext > 1);
  const std::uint32_t uid = state->uidNext - 1;  // the folder's one message
  const bool events = s.notifydRuns();
  auto pending = s.pingAsync(dev, pingBody(events ? 60 : 3, {id}));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto sent = Clock::now();
  REQUIRE(mail->setFlags(folder, {uid}, eas::backend::kFlagFlagged).ok());
  PingAnswer a = pending.get();
  const long long wake_ms = msSince(sent);
  INFO("wake after " << wake_ms << " ms, events=" << events);
  REQUIRE(a.http == 200);
  CHECK(a.status == 2);
  CHECK(a.folders == std::vector<std::string>{id});
  if (events) CHECK(wake_ms < 1000);
}

TEST_CASE("ping: a second Ping from the same device ends the first", "[integration][ping]") {
  Stack s;
  const std::string dev = s.unique("PS");
  const std::string id = s.syncedFolder(dev);
  auto first = s.pingAsync(dev, pingBody(60, {id}));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto t = Clock::now();
  auto second = s.pingAsync(dev, pingBody(2, {id}));
  PingAnswer a = first.get();
  const long long ended_after = msSince(t);
  INFO(a.error << " after " << a.ms << " ms");
  REQUIRE(a.http == 200);
  CHECK(a.status == 1);
  CHECK(ended_after < 1500);
  PingAnswer b = second.get();
  CHECK(b.status == 1);
  CHECK(b.ms >= 1900);
}

TEST_CASE("ping: a client that goes away is freed, nothing waits for its heartbeat",
          "[integration][ping]") {
  Stack s;
  const std::string dev = s.unique("PG");
  const std::string id = s.syncedFolder(dev);
  const std::size_t before = s.log().size();
  // Send, then drop the connection after 300 ms (nginx closes the upstream).
  int fd = raw::openAndSend(s.port, s.request("Ping", dev, pingBody(60, {id})));
  REQUIRE(fd >= 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ::close(fd);
  bool freed = false;
  for (int i = 0; i < 50 && !freed; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    freed = s.log().find("push.client_gone", before) != std::string::npos;
  }
  CHECK(freed);
  // The device's next Ping works normally.
  CHECK(s.ping(dev, pingBody(2, {id})).status == 1);
}

TEST_CASE("ping: workers killed with Pings parked leave nothing behind; the next Pings work",
          "[integration][ping]") {
  Stack s;
  const int master = std::atoi(s.env.get("EAS_FCGI_PID").c_str());
  REQUIRE(master > 0);
  std::vector<std::string> devices;
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    devices.push_back(s.unique("PK"));
    ids.push_back(s.syncedFolder(devices.back()));
  }
  std::vector<std::future<PingAnswer>> parked;
  for (int i = 0; i < 3; ++i) parked.push_back(s.pingAsync(devices[i], pingBody(60, {ids[i]})));
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  const std::set<int> workers = childrenOf(master);
  REQUIRE(!workers.empty());
  for (int pid : workers) ::kill(pid, SIGKILL);
  auto t = Clock::now();
  // The parked requests end at once (nginx: upstream gone), not at their heartbeat.
  for (auto& f : parked) {
    PingAnswer a = f.get();
    CHECK(a.http != 200);
  }
  CHECK(msSince(t) < 5000);
  // Killed workers are reaped and replaced by as many new ones.
  std::set<int> now;
  for (int i = 0; i < 100; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    now = childrenOf(master);
    bool old_gone = true;
    for (int pid : workers) old_gone &= !alive(pid);
    if (old_gone && now.size() == workers.size()) break;
  }
  for (int pid : workers) CHECK_FALSE(alive(pid));
  CHECK(now.size() == workers.size());
  // The devices' next Pings work (the workers may still be starting).
  for (int i = 0; i < 3; ++i) {
    PingAnswer a;
    for (int tries = 0; tries < 50; ++tries) {
      a = s.ping(devices[i], pingBody(2, {ids[i]}), 10000);
      if (a.http == 200) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    CHECK(a.http == 200);
    CHECK(a.status == 1);
  }
}
