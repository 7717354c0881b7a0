// ping_scale: parks N Pings through nginx -> eas-fcgi (fixture eas_stack,
// with eas-notifyd and Dovecot's Lua hook when the stack runs them), then
// measures what a parked Ping costs and how fast a change wakes one.
//
//   N: EAS_PING_SCALE_N (default 200, enough for CI; 10000 for the target)
//   probes: EAS_PING_SCALE_PROBES (default 20); EAS_PING_SCALE_RATE new Pings/s (1000)
//
// Setup shortcut: the N "bulk" devices get their device record, folder
// hierarchy (INBOX only, never synced, so their checks never touch IMAP)
// and last Ping parameters written straight into the stack's store (the
// steady state of devices that pinged before); the probe devices go the real way (FolderSync
// and Sync through nginx). Printed: total RSS of the eas-fcgi processes and
// notifyd before and with N parked, bytes per parked Ping, wake latency
// p50/p99 (APPEND over IMAP -> Status 2 received, through Dovecot's hook,
// notifyd, the notify client, the lot's re-check), a burst of account-wide
// change events for random users (spurious wakes: must leave every bulk
// Ping parked), and the CPU the server uses while idle with N parked.
// Fails only when an answer is wrong, never because it is slow.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <fstream>
#include <iostream>
#include <netinet/in.h>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/backends/imap/imap_backend.h"
#include "core/wbxml/wbxml.h"
#include "fcgi/notify/notify_datagram.h"
#include "storage/metadata_store.h"
#include "test/integration/common/env_file.h"
#include "test/integration/common/request_bodies.h"
#include "test/integration/push/raw_http.h"

namespace as = eas::wbxml::tags::AirSync;
namespace fh = eas::wbxml::tags::FolderHierarchy;
namespace tp = eas::wbxml::tags::Ping;
namespace raw = eas::testing::raw;
using Clock = std::chrono::steady_clock;
using eas::Status;

namespace {

int failures = 0;
void fail(const std::string& what) {
  std::cerr << "ping_scale: FAIL " << what << "\n";
  ++failures;
}

int envInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

std::string pingBody(int hb, const std::string& id) {
  std::string out;
  eas::wbxml::Writer w(&out);
  w.start(tp::Ping).element(tp::HeartbeatInterval, std::int64_t{hb}).start(tp::Folders);
  w.start(tp::Folder).element(tp::Id, id).element(tp::Class, "Email").end();
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

int pingStatus(const raw::Reply& r) {
  if (r.status != 200 || r.body.empty()) return -1;
  auto doc = eas::wbxml::decode(r.body);
  if (!doc.ok()) return -1;
  return std::atoi(std::string(doc->root().childText(tp::Status, "-1")).c_str());
}

std::string message(const std::string& subject) {
  return "From: Bench <bench@example.test>\r\nTo: x@example.test\r\nSubject: " + subject +
         "\r\nMessage-ID: <" + subject + "@example.test>\r\nContent-Type: text/plain\r\n\r\nhi\r\n";
}

// ---- /proc ----

struct ProcStat {
  int ppid = 0;
  char state = 0;
  long long cpu_ticks = 0;  // utime + stime
};

bool readStat(int pid, ProcStat* out) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  auto p = line.rfind(')');
  if (p == std::string::npos) return false;
  std::istringstream rest(line.substr(p + 2));
  std::vector<std::string> f;
  for (std::string s; rest >> s;) f.push_back(s);
  if (f.size() < 13) return false;
  out->state = f[0][0];
  out->ppid = std::atoi(f[1].c_str());
  out->cpu_ticks = std::atoll(f[11].c_str()) + std::atoll(f[12].c_str());
  return true;
}

long long rssKb(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6);
  return 0;
}

// The master, its live children (the workers) and notifyd if known.
std::vector<int> serverPids(int master, int notifyd) {
  std::vector<int> out{master};
  DIR* d = ::opendir("/proc");
  while (d && true) {
    dirent* e = ::readdir(d);
    if (!e) break;
    int pid = std::atoi(e->d_name);
    ProcStat s;
    if (pid > 0 && readStat(pid, &s) && s.ppid == master && s.state != 'Z') out.push_back(pid);
  }
  if (d) ::closedir(d);
  if (notifyd > 0) out.push_back(notifyd);
  return out;
}

long long totalRssKb(const std::vector<int>& pids) {
  long long sum = 0;
  for (int p : pids) sum += rssKb(p);
  return sum;
}

long long totalTicks(const std::vector<int>& pids) {
  long long sum = 0;
  for (int p : pids) {
    ProcStat s;
    if (readStat(p, &s)) sum += s.cpu_ticks;
  }
  return sum;
}

std::string storeUrlFrom(const std::string& ini_path) {
  std::ifstream in(ini_path);
  bool in_store = false;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] == '[') in_store = line == "[store]";
    if (in_store && line.rfind("url = ", 0) == 0) return line.substr(6);
  }
  return {};
}

double percentile(std::vector<long long> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  std::size_t i = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return static_cast<double>(v[std::min(i, v.size() - 1)]);
}

}  // namespace

int main() {
  const int n = envInt("EAS_PING_SCALE_N", 200);
  const int probes = envInt("EAS_PING_SCALE_PROBES", 20);
  ::signal(SIGPIPE, SIG_IGN);
  // N held connections (+ probes); raise the soft limit as far as allowed.
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
    ::getrlimit(RLIMIT_NOFILE, &lim);
    if (static_cast<long long>(lim.rlim_cur) < n + probes + 200) {
      std::cerr << "ping_scale: RLIMIT_NOFILE " << lim.rlim_cur << " is too low for N=" << n << "\n";
      return 1;
    }
  }

  auto env = eas::testing::EnvFile::loadFixture("eas_stack");
  const int port = raw::portOf(env.get("EAS_URL"));
  const int master = std::atoi(env.get("EAS_FCGI_PID").c_str());
  const int notifyd = std::atoi(env.getOr("NOTIFYD_PID", "0").c_str());
  const bool events = notifyd > 0;
  std::vector<std::string> users, passwords;
  for (int i = 1; i <= 9 && env.has("EAS_TEST_USER" + std::to_string(i)); ++i) {
    users.push_back(env.testUser(i));
    passwords.push_back(env.testPassword(i));
  }
  const std::string tag = std::to_string(::getpid());
  std::cout << "ping_scale: N=" << n << " probes=" << probes << " users=" << users.size()
            << " notifyd=" << (events ? "yes" : "no") << "\n";

  auto store = eas::storage::openMetadataStore(storeUrlFrom(env.get("EAS_FCGI_CONFIG")));
  if (!store.ok()) {
    fail("store: " + store.status().toString());
    return 1;
  }
  const std::vector<int> pids_before = serverPids(master, notifyd);
  const long long rss_before = totalRssKb(pids_before);

  // ---- probes: real FolderSync + Sync, a folder each ----
  eas::backend::imap::ImapConfig ic;
  ic.host = env.get("IMAP_HOST");
  ic.port = std::atoi(env.get("IMAP_PORT").c_str());
  eas::backend::imap::ImapSessionPool pool(ic);
  struct Probe {
    std::string user, password, device, folder, id;
    int fd = -1;
  };
  std::vector<Probe> probe(static_cast<std::size_t>(probes));
  for (int i = 0; i < probes; ++i) {
    Probe& p = probe[static_cast<std::size_t>(i)];
    p.user = users[static_cast<std::size_t>(i) % users.size()];
    p.password = passwords[static_cast<std::size_t>(i) % users.size()];
    p.device = "PSP" + tag + "x" + std::to_string(i);
    p.folder = "PScale" + tag + "x" + std::to_string(i);
    auto mail = pool.backendFor(p.user, p.password);
    if (!mail->createFolder(p.folder).ok() || !mail->appendMessage(p.folder, message(p.folder), 0).ok()) {
      fail("IMAP setup of " + p.folder);
      return 1;
    }
    raw::Reply fs = raw::roundTrip(
        port, raw::easPost("FolderSync", p.user, p.password, p.device, "14.1", eas::testing::folderSyncBody("0")), 30000);
    auto doc = eas::wbxml::decode(fs.body);
    if (fs.status != 200 || !doc.ok()) {
      fail("FolderSync of a probe: HTTP " + std::to_string(fs.status));
      return 1;
    }
    if (const auto* ch = doc->root().child(fh::Changes))
      for (const eas::wbxml::Element& c : ch->children())
        if (c.tag() == fh::Add && c.childText(fh::DisplayName) == p.folder) p.id = std::string(c.childText(fh::ServerId));
    std::string key = "0";
    for (int k = 0; k < 4; ++k) {
      raw::Reply s = raw::roundTrip(port, raw::easPost("Sync", p.user, p.password, p.device, "14.1", syncBody(key, p.id)), 30000);
      auto sd = eas::wbxml::decode(s.body);
      if (s.status != 200 || s.body.empty() || !sd.ok()) break;
      const auto* colls = sd->root().child(as::Collections);
      if (!colls || !colls->firstChild()) break;
      std::string next(colls->firstChild()->childText(as::SyncKey));
      if (next == key) break;
      key = next;
    }
  }

  // ---- bulk: N devices, hierarchy written into the store ----
  auto t_setup = Clock::now();
  for (int i = 0; i < n; ++i) {
    eas::storage::DeviceRef ref{users[static_cast<std::size_t>(i) % users.size()], "PSB" + tag + "x" + std::to_string(i)};
    eas::storage::FolderChange add;
    add.folder = {"5", "INBOX", "0", 2, "Inbox"};
    // Known devices that pinged before with the same parameters (the
    // steady state): the Ping path then only reads the store.
    eas::storage::Device dev;
    dev.ref = ref;
    dev.device_type = "TestDevice";
    dev.user_agent = "eas-ping-test";
    dev.protocol_version = "14.1";
    dev.first_sync = dev.last_sync = std::time(nullptr);
    Status st = (*store)->putDevice(dev);
    if (st.ok()) st = (*store)->commitFolderSync(ref, 0, 1, {add}, "bench");
    if (st.ok()) st = (*store)->putRequestCache(ref, "ping", "hb 1800\nf Email 5\n");
    if (!st.ok()) {
      fail("store setup: " + st.toString());
      return 1;
    }
  }
  std::cout << "ping_scale: bulk hierarchy for " << n << " devices in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t_setup).count() << " ms\n";

  // ---- park them all ----
  std::vector<int> bulk(static_cast<std::size_t>(n), -1);
  const std::string body = pingBody(1800, "5");
  auto t_park = Clock::now();
  // Paced: a burst of thousands of new requests at once overruns the
  // FastCGI listen backlog (nginx answers 502); devices re-ping over time.
  const int rate = std::max(1, envInt("EAS_PING_SCALE_RATE", 1000));  // new Pings per second
  for (int i = 0; i < n; ++i) {
    if (i > 0 && i % 100 == 0)
      std::this_thread::sleep_until(t_park + std::chrono::milliseconds(1000LL * i / rate));
    const std::size_t u = static_cast<std::size_t>(i) % users.size();
    bulk[static_cast<std::size_t>(i)] = raw::openAndSend(
        port, raw::easPost("Ping", users[u], passwords[u], "PSB" + tag + "x" + std::to_string(i), "14.1", body));
    if (bulk[static_cast<std::size_t>(i)] < 0) {
      fail("connect/send of bulk Ping " + std::to_string(i) + ": " + std::strerror(errno));
      break;
    }
  }
  for (Probe& p : probe)
    p.fd = raw::openAndSend(port, raw::easPost("Ping", p.user, p.password, p.device, "14.1", pingBody(1800, p.id)));
  // Settle: let the workers finish every first check.
  std::this_thread::sleep_for(std::chrono::milliseconds(2000 + n / 5));
  auto answeredEarly = [&]() {
    int early = 0;
    for (int fd : bulk) {
      if (fd < 0) continue;
      pollfd pf{fd, POLLIN, 0};
      if (::poll(&pf, 1, 0) > 0) ++early;
    }
    return early;
  };
  const int early = answeredEarly();
  if (early > 0) fail(std::to_string(early) + " bulk Pings were answered instead of parking");
  std::cout << "ping_scale: parked " << n << " + " << probes << " Pings in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t_park).count()
            << " ms (incl. settle)\n";

  const std::vector<int> pids = serverPids(master, notifyd);
  const long long rss_parked = totalRssKb(pids);
  std::cout << "ping_scale: RSS of " << pids.size() << " processes (master, workers"
            << (events ? ", notifyd" : "") << "): " << rss_before / 1024 << " MiB before, "
            << rss_parked / 1024 << " MiB with " << n + probes << " parked\n";
  if (n + probes > 0)
    std::cout << "ping_scale: bytes per parked Ping: "
              << (rss_parked - rss_before) * 1024 / (n + probes) << "\n";

  // ---- idle CPU with everything parked ----
  const long hz = ::sysconf(_SC_CLK_TCK);
  const long long ticks0 = totalTicks(pids);
  auto t_idle = Clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(5));
  const long long ticks1 = totalTicks(pids);
  const double idle_s = std::chrono::duration<double>(Clock::now() - t_idle).count();
  std::printf("ping_scale: idle CPU %.2f %% of one core over %.1f s\n",
              100.0 * static_cast<double>(ticks1 - ticks0) / static_cast<double>(hz) / idle_s, idle_s);

  // ---- spurious account-wide events for random users ----
  if (events) {
    auto secret = eas::notify::readSecretFile(env.get("NOTIFYD_SECRET_FILE"));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(std::atoi(env.get("NOTIFYD_UDP_PORT").c_str())));
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    const int ufd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    std::mt19937 rng(42);
    const int burst = 10;
    auto t_burst = Clock::now();
    for (int i = 0; i < burst && secret.ok() && ufd >= 0; ++i) {
      eas::notify::ChangeEvent e;
      e.user = users[rng() % users.size()];
      e.source = "easctl";
      e.kind = "change";
      auto bytes = eas::notify::encodeDatagram(e, std::time(nullptr), eas::notify::randomNonce(), *secret);
      if (bytes.ok())
        ::sendto(ufd, bytes->data(), bytes->size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    }
    if (ufd >= 0) ::close(ufd);
    const long long ticks_b0 = totalTicks(pids);
    std::this_thread::sleep_for(std::chrono::milliseconds(1000 + n / 10));
    const long long ticks_b1 = totalTicks(pids);
    const int woken = answeredEarly();
    if (woken > 0) fail(std::to_string(woken) + " bulk Pings answered after spurious events");
    std::printf("ping_scale: %d account-wide events for random users: %d re-checks expected, "
                "%.2f s of server CPU, every bulk Ping still parked: %s (%lld ms)\n",
                burst, burst * n / static_cast<int>(users.size()),
                static_cast<double>(ticks_b1 - ticks_b0) / static_cast<double>(hz), woken == 0 ? "yes" : "no",
                static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t_burst).count()));
  }

  // ---- wake latency: one APPEND per probe, time to Status 2 ----
  std::vector<long long> wake_ms;
  for (Probe& p : probe) {
    if (p.fd < 0) {
      fail("probe " + p.device + " not parked");
      continue;
    }
    auto mail = pool.backendFor(p.user, p.password);
    if (!mail->appendMessage(p.folder, message(p.folder + "-wake"), 0).ok()) {
      fail("APPEND to " + p.folder);
      continue;
    }
    auto t = Clock::now();
    raw::Reply r = raw::finish(p.fd, events ? 5000 : 1000);
    p.fd = -1;
    const long long ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
    if (!events) continue;  // without notifyd nothing wakes before the heartbeat
    if (pingStatus(r) != 2) {
      fail("probe " + p.device + ": no Status 2 (" + r.error + ", HTTP " + std::to_string(r.status) + ")");
      continue;
    }
    wake_ms.push_back(ms);
  }
  if (events && !wake_ms.empty())
    std::printf("ping_scale: wake latency over %zu probes with %d parked: p50 %.0f ms, p99 %.0f ms, max %lld ms\n",
                wake_ms.size(), n, percentile(wake_ms, 0.5), percentile(wake_ms, 0.99),
                *std::max_element(wake_ms.begin(), wake_ms.end()));
  else
    std::cout << "ping_scale: wake latency not measured (no eas-notifyd in the stack)\n";

  // ---- let go: closing the connections frees the parked requests ----
  for (int fd : bulk)
    if (fd >= 0) ::close(fd);
  for (Probe& p : probe)
    if (p.fd >= 0) ::close(p.fd);
  std::this_thread::sleep_for(std::chrono::milliseconds(1000 + n / 5));
  std::cout << "ping_scale: RSS after the clients left: " << totalRssKb(serverPids(master, notifyd)) / 1024
            << " MiB\n";
  for (auto& p : probe) {
    auto mail = pool.backendFor(p.user, p.password);
    (void)mail->deleteFolder(p.folder);
  }
  std::cout << "ping_scale: " << (failures ? "FAILED" : "ok") << "\n";
  return failures ? 1 : 0;
}
