// eas-fcgi and its metadata store schema (issue 4): on a store without the
// schema it knows, the master refuses to start before any worker is forked
// (exit 1, the store's message naming `easctl db upgrade`, no socket
// created); deploy/local/eas-fcgi.sh upgrades the store first, so a fresh
// run folder comes up.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace {

struct Run {
  int status = -1;
  std::string output;  // stdout and stderr
};

Run run(const std::string& cmd) {
  Run r;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string q(const std::string& s) { return "'" + s + "'"; }

// A fresh folder under the build tree for one case.
std::string freshDir(const std::string& name) {
  std::string dir = std::string(EAS_BINARY_DIR) + "/run/store_check/" + name;
  REQUIRE(std::system(("rm -rf " + q(dir) + " && mkdir -p " + q(dir)).c_str()) == 0);
  return dir;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::string writeIni(const std::string& dir, const std::string& store_url) {
  std::string ini = dir + "/eas-fcgi.ini";
  std::ofstream(ini, std::ios::trunc) << "[server]\nsocket = " << dir
                                      << "/eas-fcgi.sock\nworkers = 1\nthreads = 2\n"
                                         "[auth]\nimap_port = 1\n[store]\nurl = "
                                      << store_url << "\n";
  return ini;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("eas-fcgi refuses a store without a schema, before forking", "[cli][store]") {
  std::string dir = freshDir("no_schema");
  std::string url = "sqlite:" + dir + "/eas.db";
  std::string ini = writeIni(dir, url);
  // --check-config only checks the file; the store is not its business.
  CHECK(run(q(EAS_FCGI_BINARY) + " --check-config " + q(ini)).status == 0);

  Run r = run("timeout 20 " + q(EAS_FCGI_BINARY) + " --config " + q(ini));
  INFO(r.output);
  CHECK(r.status == 1);
  CHECK(r.output.find("store.schema_missing") != std::string::npos);
  CHECK(r.output.find("easctl db upgrade") != std::string::npos);
  CHECK(r.output.find(url) != std::string::npos);
  CHECK(r.output.find("not starting") != std::string::npos);
  CHECK(r.output.find("accepting with") == std::string::npos);
  CHECK_FALSE(exists(dir + "/eas-fcgi.sock"));
}

TEST_CASE("eas-fcgi refuses an unusable store URL target", "[cli][store]") {
  std::string dir = freshDir("bad_path");
  // The folder of the database does not exist: nothing can be opened.
  std::string ini = writeIni(dir, "sqlite:" + dir + "/missing/dir/eas.db");
  Run r = run("timeout 20 " + q(EAS_FCGI_BINARY) + " --config " + q(ini));
  INFO(r.output);
  CHECK(r.status == 1);
  CHECK(r.output.find("metadata store") != std::string::npos);
  CHECK_FALSE(exists(dir + "/eas-fcgi.sock"));
}

TEST_CASE("after easctl db upgrade the same store is accepted", "[cli][store]") {
  std::string dir = freshDir("upgraded");
  std::string url = "sqlite:" + dir + "/eas.db";
  REQUIRE(run(q(EAS_EASCTL_BINARY) + " db upgrade --store " + q(url)).status == 0);
  // Through the local start script, which upgrades again (a no-op) and
  // waits until the worker accepts.
  std::string script = std::string(EAS_SOURCE_DIR) + "/deploy/local/eas-fcgi.sh";
  std::string env = "EAS_FCGI_BIN=" + q(EAS_FCGI_BINARY) + " EAS_EASCTL_BIN=" + q(EAS_EASCTL_BINARY);
  Run start = run(env + " " + q(script) + " start " + q(dir) + " server.workers=1 server.threads=2 " +
                  "auth.imap_port=1 " + q("store.url=" + url));
  INFO(start.output);
  INFO(readFile(dir + "/eas-fcgi.log"));
  CHECK(start.status == 0);
  CHECK(exists(dir + "/eas-fcgi.sock"));
  CHECK(readFile(dir + "/easctl.log").find("up to date") != std::string::npos);
  CHECK(run(q(script) + " stop " + q(dir)).status == 0);
}

TEST_CASE("deploy/local/eas-fcgi.sh creates the schema of a new store", "[cli][store]") {
  std::string dir = freshDir("script_fresh");
  std::string script = std::string(EAS_SOURCE_DIR) + "/deploy/local/eas-fcgi.sh";
  std::string env = "EAS_FCGI_BIN=" + q(EAS_FCGI_BINARY) + " EAS_EASCTL_BIN=" + q(EAS_EASCTL_BINARY);
  Run start =
      run(env + " " + q(script) + " start " + q(dir) + " server.workers=1 server.threads=2 auth.imap_port=1");
  INFO(start.output);
  INFO(readFile(dir + "/eas-fcgi.log"));
  CHECK(start.status == 0);
  CHECK(exists(dir + "/eas.db"));  // the script's default: the store in the run folder
  CHECK(readFile(dir + "/easctl.log").find("schema version 0 ->") != std::string::npos);
  CHECK(run(q(script) + " stop " + q(dir)).status == 0);
}
