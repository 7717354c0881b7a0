// Commit latency and throughput of a sync-state transition with 100
// item-map changes (60 flag updates, 20 adds, 20 deletes on a 1,000-item
// collection), per engine. Prints median, p99 and commits/s.
//
//   storage_commit_bench sqlite  [seconds]
//   storage_commit_bench mariadb [seconds]   (reads run/mariadb/env)
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "storage/metadata_store.h"
#include "storage/store_admin.h"

using namespace eas;
using namespace eas::storage;
using Clock = std::chrono::steady_clock;

namespace {

int die(const std::string& what, const Status& s) {
  std::fprintf(stderr, "storage_commit_bench: %s: %s\n", what.c_str(), s.toString().c_str());
  return 1;
}

std::string mariadbUrl(std::string* admin_cnf) {
  std::ifstream in(std::string(EAS_BINARY_DIR) + "/run/mariadb/env");
  std::map<std::string, std::string> env;
  std::string line;
  while (std::getline(in, line)) {
    size_t eq = line.find('=');
    if (eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
  }
  if (env.count("EAS_TEST_MYSQL_URL") == 0) return {};
  *admin_cnf = env["EAS_TEST_MYSQL_ADMIN_CNF"];
  return "mysql://" + env["EAS_TEST_MYSQL_USER"] + ":" + env["EAS_TEST_MYSQL_PASSWORD"] +
         "@127.0.0.1:" + env["EAS_TEST_MYSQL_PORT"] + "/eas_bench";
}

// CPU time of this thread: the figure that does not depend on what else the
// (shared) machine is running.
double threadCpuMs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t idx = static_cast<size_t>(p * (v.size() - 1) + 0.5);
  return v[idx];
}

}  // namespace

int main(int argc, char** argv) {
  const std::string engine = argc > 1 ? argv[1] : "sqlite";
  const double seconds = argc > 2 ? std::atof(argv[2]) : 3.0;
  std::string url, admin_cnf;
  std::filesystem::path dir;
  if (engine == "sqlite") {
    dir = std::filesystem::path(EAS_BINARY_DIR) / "run" /
          ("bench-storage-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    url = "sqlite:" + (dir / "bench.db").string();
  } else if (engine == "mariadb") {
    url = mariadbUrl(&admin_cnf);
    if (url.empty()) {
      std::fprintf(stderr,
                   "storage_commit_bench: run/mariadb/env missing (fixture mariadb not started)\n");
      return 1;
    }
    std::string cmd = "mariadb --defaults-file='" + admin_cnf +
                      "' -e 'DROP DATABASE IF EXISTS eas_bench; CREATE DATABASE eas_bench'";
    if (std::system(cmd.c_str()) != 0) {
      std::fprintf(stderr, "storage_commit_bench: cannot create database eas_bench\n");
      return 1;
    }
  } else {
    std::fprintf(stderr, "usage: storage_commit_bench sqlite|mariadb [seconds]\n");
    return 2;
  }
  {
    auto admin = openStoreAdmin(url);
    if (!admin.ok()) return die("open admin", admin.status());
    if (Status s = (*admin)->upgrade(); !s.ok()) return die("upgrade", s);
  }
  auto opened = openMetadataStore(url);
  if (!opened.ok()) return die("open", opened.status());
  MetadataStore& store = **opened;

  const DeviceRef ref{"bench@example.test", "BENCHDEV"};
  const std::string coll = "1";
  std::vector<ItemChange> initial;
  for (int i = 0; i < 1000; ++i) {
    initial.push_back(
        {ItemChange::Kind::kPut, {"1:" + std::to_string(i), std::to_string(i), "", "etag"}});
  }
  if (Status s = store.commitSyncState(ref, coll, {0, 1, {1, 1, 1001, ""}, initial, "r"});
      !s.ok()) {
    return die("initial commit", s);
  }
  const std::string response(2048, 'w');  // a typical small Sync response
  int next_uid = 1000;                    // items 1:<lo>..1:<hi-1> exist; the window slides
  int lo = 0;
  std::vector<double> ms, cpu_ms;
  uint64_t key = 1;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(seconds);
  constexpr int kWarmup = 20;
  constexpr size_t kMaxIterations = 20000;
  while ((Clock::now() < deadline || ms.size() < 50) && ms.size() < kMaxIterations) {
    std::vector<ItemChange> changes;
    changes.reserve(100);
    for (int i = 0; i < 60; ++i) {  // flag updates in the middle of the window
      int uid = lo + 100 + (static_cast<int>(key) * 7 + i * 13) % 800;
      changes.push_back(
          {ItemChange::Kind::kPut,
           {"1:" + std::to_string(uid), std::to_string(uid), key % 2 ? "\\Seen" : "", "etag"}});
    }
    for (int i = 0; i < 20; ++i) {  // 20 oldest expunged
      changes.push_back({ItemChange::Kind::kDelete, {"1:" + std::to_string(lo + i), "", "", ""}});
    }
    for (int i = 0; i < 20; ++i) {  // 20 new arrivals
      int uid = next_uid + i;
      changes.push_back(
          {ItemChange::Kind::kPut, {"1:" + std::to_string(uid), std::to_string(uid), "", "etag"}});
    }
    const auto t0 = Clock::now();
    const double c0 = threadCpuMs();
    Status s = store.commitSyncState(
        ref, coll, {key, key + 1, {1, int64_t(key), next_uid + 20, ""}, changes, response});
    const double c1 = threadCpuMs();
    const auto t1 = Clock::now();
    if (!s.ok()) return die("commit " + std::to_string(key), s);
    lo += 20;
    next_uid += 20;
    ++key;
    if (key > kWarmup + 1) {
      ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      cpu_ms.push_back(c1 - c0);
    }
  }
  const double total_s = std::chrono::duration<double>(Clock::now() - start).count();
  double sum = 0;
  for (double v : ms) sum += v;
  const double median = percentile(ms, 0.5);
  const double p99 = percentile(ms, 0.99);
  std::printf(
      "storage_commit_bench engine=%s commits=%zu changes/commit=100 median_ms=%.3f p99_ms=%.3f "
      "mean_ms=%.3f cpu_median_ms=%.3f commits_per_s=%.0f item_changes_per_s=%.0f\n",
      engine.c_str(), ms.size(), median, p99, sum / ms.size(), percentile(cpu_ms, 0.5),
      ms.size() / (sum / 1000.0), 100.0 * ms.size() / (sum / 1000.0));

  // Lookup of the current key (1,000-item map) and of the previous key (replay).
  std::vector<double> look_cur, look_prev;
  for (int i = 0; i < 50; ++i) {
    auto t0 = Clock::now();
    auto c = store.lookupSyncKey(ref, coll, key);
    auto t1 = Clock::now();
    auto p = store.lookupSyncKey(ref, coll, key - 1);
    auto t2 = Clock::now();
    if (!c.ok()) return die("lookup", c.status());
    if (!p.ok() || p->match != SyncLookup::Match::kPrevious)
      return die("lookup previous", p.status());
    look_cur.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    look_prev.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
  }
  std::printf(
      "storage_commit_bench engine=%s lookup_current_median_ms=%.3f lookup_previous_median_ms=%.3f "
      "items=%zu wall_s=%.1f\n",
      engine.c_str(), percentile(look_cur, 0.5), percentile(look_prev, 0.5),
      store.lookupSyncKey(ref, coll, key)->state.items.size(), total_s);
  if (engine == "sqlite") {
    std::printf("storage_commit_bench target: SQLite median under 1 ms: %s\n",
                median < 1.0 ? "met" : "NOT met");
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  } else {
    std::string cmd =
        "mariadb --defaults-file='" + admin_cnf + "' -e 'DROP DATABASE IF EXISTS eas_bench'";
    (void)std::system(cmd.c_str());
  }
  return 0;
}
