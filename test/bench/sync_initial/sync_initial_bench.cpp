// Sync through nginx -> eas-fcgi -> Dovecot (fixture eas_stack):
//  1. the initial sync of an N-message folder in windows of 100, bodies
//     truncated to 5 KB (plain text): total seconds, messages/s, bytes sent;
//     every message must arrive exactly once;
//  2. the steady state: the same no-change Sync request, driven by wrk with
//     keep-alive connections: requests/s (each reply checked once by hand,
//     and wrk must see no error and no non-2xx).
// Seeding writes maildir files directly (an APPEND costs Dovecot an fsync).
//   EAS_SYNC_BENCH_MESSAGES=2000 (default; 10000 for the figure)
//   EAS_SYNC_BENCH_SECONDS=3      wrk duration of the no-change run
// Prints figures; fails only on wrong results, never on slowness.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "core/backends/imap/imap_backend.h"
#include "core/wbxml/wbxml.h"
#include "test/integration/common/env_file.h"
#include "test/integration/common/request_bodies.h"
#include "test/integration/common/test_client.h"

namespace as = eas::wbxml::tags::AirSync;
namespace asb = eas::wbxml::tags::AirSyncBase;
namespace fh = eas::wbxml::tags::FolderHierarchy;
using eas::testing::EasRequest;
using eas::testing::EnvFile;
using eas::testing::HttpReply;
using eas::testing::TestClient;

namespace {

int envInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atoi(v) : fallback;
}

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string syncBody(const std::string& key, const std::string& id, bool options) {
  std::string out;
  eas::wbxml::Writer w(&out);
  w.start(as::Sync).start(as::Collections).start(as::Collection);
  w.element(as::SyncKey, key).element(as::CollectionId, id);
  if (key != "0") w.element(as::WindowSize, std::int64_t{100});
  if (options) {
    w.start(as::Options).start(asb::BodyPreference).element(asb::Type, std::int64_t{1});
    w.element(asb::TruncationSize, std::int64_t{5120}).end().end();
  }
  w.end().end().end();
  w.flush();
  return out;
}

struct Window {
  std::string key;
  int status = -1;
  bool more = false;
  std::vector<std::string> adds;
};

Window readWindow(const std::string& body) {
  Window out;
  auto doc = eas::wbxml::decode(body);
  REQUIRE(doc.ok());
  const auto* colls = doc->root().child(as::Collections);
  REQUIRE(colls != nullptr);
  const auto* c = colls->child(as::Collection);
  REQUIRE(c != nullptr);
  out.key = std::string(c->childText(as::SyncKey));
  out.status = std::atoi(std::string(c->childText(as::Status, "-1")).c_str());
  out.more = c->hasChild(as::MoreAvailable);
  if (const auto* cmds = c->child(as::Commands))
    for (const eas::wbxml::Element& a : cmds->children())
      if (a.tag() == as::Add) out.adds.push_back(std::string(a.childText(as::ServerId)));
  return out;
}

// Lua string literal with decimal escapes (the body is binary WBXML).
std::string luaString(const std::string& bytes) {
  std::string out = "\"";
  for (unsigned char c : bytes) out += "\\" + std::to_string(static_cast<int>(c));
  return out + "\"";
}

}  // namespace

TEST_CASE("Sync: initial sync in windows of 100 and no-change Syncs per second", "[bench]") {
  const int total = envInt("EAS_SYNC_BENCH_MESSAGES", 2000);
  const int seconds = envInt("EAS_SYNC_BENCH_SECONDS", 3);
  EnvFile env = EnvFile::loadFixture("eas_stack");
  EnvFile dovecot = EnvFile::loadFixture("dovecot");
  TestClient client(env.get("EAS_URL"));
  client.setSourceAddress("127.0.5.9");
  const std::string user = env.testUser(1), pass = env.testPassword(1);
  eas::backend::imap::ImapConfig cfg;
  cfg.host = env.get("IMAP_HOST");
  cfg.port = std::atoi(env.get("IMAP_PORT").c_str());
  eas::backend::imap::ImapSessionPool pool(cfg);
  auto imap = pool.backendFor(user, pass);
  const std::string folder = "SyncBench" + std::to_string(::getpid());
  REQUIRE(imap->createFolder(folder).ok());

  // Seed: maildir files in new/, owned like the folder; Dovecot indexes
  // them on the next STATUS.
  std::string text;
  while (text.size() < 6 * 1024) text += "The quick brown fox jumps over the lazy dog, again and again. 0123456789\r\n";
  const auto seed0 = std::chrono::steady_clock::now();
  const std::string dir = dovecot.get("MAIL_ROOT") + "/" + user.substr(user.find('@') + 1) + "/" +
                          user.substr(0, user.find('@')) + "/Maildir/." + folder;
  struct stat st {};
  REQUIRE(::stat(dir.c_str(), &st) == 0);
  ::mkdir((dir + "/new").c_str(), 0700);
  for (int i = 1; i <= total; ++i) {
    const std::string path = dir + "/new/" + std::to_string(1'800'000'000 + i) + ".syncbench" +
                             std::to_string(i) + ".eas";
    std::ofstream out(path, std::ios::binary);
    out << "From: Alice Example <alice@example.test>\r\nTo: Bob <bob@example.test>\r\nSubject: Bench "
        << i << "\r\nDate: Tue, 01 Dec 2026 08:00:00 +0100\r\nMessage-ID: <syncbench" << i
        << "@example.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        << text;
    out.close();
    REQUIRE(out.good());
    REQUIRE(::chown(path.c_str(), st.st_uid, st.st_gid) == 0);
  }
  auto indexed = imap->folderState(folder);
  REQUIRE(indexed.ok());
  REQUIRE(indexed->messages == static_cast<std::uint32_t>(total));
  std::printf("sync_initial_bench: %d messages seeded and indexed in %.2f s\n", total, since(seed0));

  const std::string device = "SYNCBENCH" + std::to_string(::getpid());
  auto post = [&](const std::string& cmd, const std::string& body) {
    EasRequest r;
    r.cmd = cmd;
    r.user = user;
    r.password = pass;
    r.device_id = device;
    r.body = body;
    HttpReply reply = client.post(r);
    INFO(reply.error);
    REQUIRE(reply.status == 200);
    return reply.body;
  };
  std::string id;
  {
    auto doc = eas::wbxml::decode(post("FolderSync", eas::testing::folderSyncBody("0")));
    REQUIRE(doc.ok());
    for (const eas::wbxml::Element& c : doc->root().child(fh::Changes)->children())
      if (c.tag() == fh::Add && c.childText(fh::DisplayName) == folder) id = std::string(c.childText(fh::ServerId));
  }
  REQUIRE_FALSE(id.empty());

  // 1. Initial sync.
  Window w0 = readWindow(post("Sync", syncBody("0", id, true)));
  REQUIRE(w0.status == 1);
  std::string key = w0.key;
  std::set<std::string> seen;
  std::size_t bytes = 0;
  int windows = 0;
  const auto t0 = std::chrono::steady_clock::now();
  while (true) {
    const std::string body = post("Sync", syncBody(key, id, true));
    bytes += body.size();
    Window w = readWindow(body);
    REQUIRE(w.status == 1);
    ++windows;
    for (const std::string& a : w.adds) REQUIRE(seen.insert(a).second);  // exactly once
    key = w.key;
    if (!w.more) break;
    REQUIRE(windows <= total / 100 + 2);
  }
  const double secs = since(t0);
  REQUIRE(seen.size() == static_cast<std::size_t>(total));
  std::printf("sync_initial_bench: initial sync of %d messages (windows of 100, 5 KB plain bodies): "
              "%.2f s, %.0f messages/s, %.1f MB sent in %d windows (target >= 1000 messages/s)\n",
              total, secs, static_cast<double>(total) / secs, static_cast<double>(bytes) / 1e6, windows);

  // 2. No-change Syncs: the same request, the same key every time.
  const std::string idle = syncBody(key, id, false);
  Window check = readWindow(post("Sync", idle));
  REQUIRE(check.status == 1);
  REQUIRE(check.key == key);
  REQUIRE(check.adds.empty());
  char tmpl[] = "/tmp/sync_bench_XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::string work = tmpl;
  {
    std::ofstream lua(work + "/req.lua");
    lua << "wrk.method = \"POST\"\n"
        << "wrk.path = \"/Microsoft-Server-ActiveSync?Cmd=Sync&User=" << TestClient::percentEncode(user)
        << "&DeviceId=" << device << "&DeviceType=Bench\"\n"
        << "wrk.headers[\"Authorization\"] = \"" << TestClient::basicAuth(user, pass) << "\"\n"
        << "wrk.headers[\"MS-ASProtocolVersion\"] = \"14.1\"\n"
        << "wrk.headers[\"Content-Type\"] = \"application/vnd.ms-sync.wbxml\"\n"
        << "wrk.headers[\"User-Agent\"] = \"eas-bench/1.0\"\n"
        << "wrk.body = " << luaString(idle) << "\n";
  }
  const std::string cmd = "wrk -t2 -c16 -d" + std::to_string(seconds) + "s --latency -s " + work +
                          "/req.lua " + env.get("EAS_URL") + " > " + work + "/out 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream in(work + "/out");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string out = ss.str();
  std::printf("%s", out.c_str());
  (void)std::system(("rm -rf '" + work + "'").c_str());
  REQUIRE(rc == 0);
  CHECK(out.find("Non-2xx") == std::string::npos);
  CHECK(out.find("Socket errors") == std::string::npos);
  double rps = 0;
  if (auto pos = out.find("Requests/sec:"); pos != std::string::npos) rps = std::atof(out.c_str() + pos + 13);
  CHECK(rps > 0);
  std::printf("sync_initial_bench: no-change Sync: %.0f requests/s (16 connections, %d s, %zu items "
              "in the state; target >= 2000/s)\n",
              rps, seconds, seen.size());
  // Still the same state afterwards.
  Window after = readWindow(post("Sync", idle));
  CHECK(after.key == key);
  CHECK(after.adds.empty());
  CHECK(imap->deleteFolder(folder).ok());
}
