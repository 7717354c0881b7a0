// Initial-sync shaped fetch from the real Dovecot: N messages (headers +
// 5 KB of text) in windows of 100, one UID FETCH per window asking for what
// a Sync needs (UID, FLAGS, INTERNALDATE, RFC822.SIZE, ENVELOPE,
// BODYSTRUCTURE, the header and the first 5 KB of part 1). Prints messages/s.
//   EAS_IMAP_BENCH_MESSAGES=10000 (default)   EAS_IMAP_BENCH_ROUNDS=3 (default)
#include <catch2/catch.hpp>

#include <chrono>
#include <ctime>
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include <sys/stat.h>
#include <unistd.h>

#include "test/unit/core/backends/imap_test_env.h"

using namespace eas::backend;
using namespace eas::backend::imap;
using namespace eas::backend::imap::testenv;

namespace {
int envInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atoi(v) : fallback;
}
double cpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}
double secondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

TEST_CASE("IMAP fetch throughput in windows of 100", "[bench]") {
  std::signal(SIGPIPE, SIG_IGN);
  const int total = envInt("EAS_IMAP_BENCH_MESSAGES", 10000);
  const int rounds = envInt("EAS_IMAP_BENCH_ROUNDS", 3);
  const auto env = loadEnv("dovecot");
  const Account user = account(env, 2);  // bob
  ImapSessionPool pool(configFor(env));
  FolderCleanup cleanup(pool, user);
  auto b = makeImapBackend(pool, user.login, user.password);
  const std::string f = cleanup.add(uniqueName("bench"));
  REQUIRE(b->createFolder(f).ok());

  std::string text;
  while (text.size() < 5 * 1024) text += "The quick brown fox jumps over the lazy dog, again and again. 0123456789\r\n";
  // Seeding by APPEND costs Dovecot an fsync per message (~20 ms here), so
  // the messages are written into the folder's maildir new/ directly (owned
  // like the folder) and Dovecot indexes them on the first STATUS.
  const auto seed0 = std::chrono::steady_clock::now();
  const std::string login = user.login;
  const std::string dir = env.at("MAIL_ROOT") + "/" + login.substr(login.find('@') + 1) + "/" +
                          login.substr(0, login.find('@')) + "/Maildir/." + f;
  struct stat folderStat {};
  REQUIRE(::stat(dir.c_str(), &folderStat) == 0);
  ::mkdir((dir + "/new").c_str(), 0700);
  for (int i = 1; i <= total; ++i) {
    const std::string path = dir + "/new/" + std::to_string(1'800'000'000 + i) + ".bench" +
                             std::to_string(i) + ".eas";
    const std::string msg = textMessage("Bench message " + std::to_string(i), text);
    std::FILE* out = std::fopen(path.c_str(), "wb");
    REQUIRE(out != nullptr);
    REQUIRE(std::fwrite(msg.data(), 1, msg.size(), out) == msg.size());
    std::fclose(out);
    if (::chown(path.c_str(), folderStat.st_uid, folderStat.st_gid) != 0) FAIL("chown " << path);
  }
  const auto status0 = std::chrono::steady_clock::now();
  auto indexed = b->folderState(f);
  REQUIRE(indexed.ok());
  REQUIRE(indexed->messages == static_cast<std::uint32_t>(total));
  std::printf("imap_fetch_bench: wrote %d messages in %.2f s, Dovecot indexed them in %.2f s\n", total,
              std::chrono::duration<double>(status0 - seed0).count(), secondsSince(status0));

  FetchRequest what;
  what.headers = true;
  what.sections = {{"1", 0, 5120}};
  double best = 0;
  for (int round = 0; round < rounds; ++round) {
    b->releaseSession();  // each round as a new request: pooled session, no login
    auto state = b->folderState(f);
    REQUIRE(state.ok());
    REQUIRE(state->messages == static_cast<std::uint32_t>(total));
    const auto fetchesBefore = b->fetchCount();
    const auto t0 = std::chrono::steady_clock::now();
    const double cpu0 = cpuSeconds();
    std::size_t got = 0, bytes = 0;
    for (std::uint32_t first = 1; first < state->uidNext; first += 100) {
      std::vector<std::uint32_t> window;
      for (std::uint32_t u = first; u < first + 100 && u < state->uidNext; ++u) window.push_back(u);
      auto r = b->fetchMessages(f, window, what);
      REQUIRE(r.ok());
      for (const MessageData& m : *r) {
        bytes += m.headers.size() + m.sections[0].size();
        if (m.sections[0].size() != 5120 || !m.envelope || !m.structure) FAIL("incomplete message " << m.uid);
      }
      got += r->size();
    }
    const double s = secondsSince(t0);
    const double cpu = cpuSeconds() - cpu0;
    REQUIRE(got == static_cast<std::size_t>(total));
    CHECK(b->fetchCount() - fetchesBefore == static_cast<std::uint64_t>((total + 99) / 100));
    const double rate = static_cast<double>(got) / s;
    best = std::max(best, rate);
    std::printf("imap_fetch_bench: round %d: %zu messages in %.3f s = %.0f msg/s, %.1f MB, "
                "our CPU %.3f s (%.1f us/message)\n",
                round + 1, got, s, rate, static_cast<double>(bytes) / 1e6, cpu, cpu * 1e6 / static_cast<double>(got));
  }
  std::printf("imap_fetch_bench: best %.0f messages/s (%d messages, windows of 100, logins %llu)\n", best,
              total, static_cast<unsigned long long>(pool.stats().logins));

  // The no-change check a Sync or Ping makes: changesSince from the current
  // watermark, (a) on the selected folder (NOOP + STATUS), (b) on another
  // folder (STATUS only), each as its own request (lease) on the pooled session.
  auto now = b->folderState(f);
  REQUIRE(now.ok());
  const Watermark wm{now->uidValidity, now->uidNext, now->highestModseq};
  REQUIRE(wm.modseq.has_value());
  const auto inbox = b->folderState("INBOX");
  REQUIRE(inbox.ok());
  const Watermark inboxWm{inbox->uidValidity, inbox->uidNext, inbox->highestModseq};
  const int checks = envInt("EAS_IMAP_BENCH_CHECKS", 2000);
  for (int pass = 0; pass < 2; ++pass) {
    const std::string& folder = pass == 0 ? f : std::string("INBOX");
    const Watermark& w = pass == 0 ? wm : inboxWm;
    if (pass == 0) REQUIRE(b->fetchMessages(f, {1}, FetchRequest{}).ok());  // f selected
    std::uint64_t commands = 0;
    REQUIRE(b->changesSince(folder, w, {}).ok());
    std::uint64_t last = b->commandCount();  // the same pooled session every time
    const auto t0 = std::chrono::steady_clock::now();
    const double cpu0 = cpuSeconds();
    for (int i = 0; i < checks; ++i) {
      b->releaseSession();  // a new request: the session comes back from the pool
      auto c = b->changesSince(folder, w, {});
      commands += b->commandCount() - last;
      last = b->commandCount();
      REQUIRE(c.ok());
      if (!c->added.empty() || !c->expunged.empty()) FAIL("unexpected change");
    }
    const double s = secondsSince(t0), cpu = cpuSeconds() - cpu0;
    std::printf("imap_fetch_bench: no-change changesSince (%s): %.0f/s, %.1f us wall, %.1f us our CPU, "
                "%.1f commands each\n",
                pass == 0 ? "selected folder" : "other folder", checks / s, s * 1e6 / checks,
                cpu * 1e6 / checks, static_cast<double>(commands) / checks);
  }
  CHECK(pool.stats().logins == 1);
}
