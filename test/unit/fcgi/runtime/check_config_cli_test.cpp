// `eas-fcgi --check-config FILE` as an operator runs it: every problem on
// stderr with file:line, exit status 1; a good file prints OK and exits 0;
// `--config` refuses to start on a bad file.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <string>

namespace {

struct Run {
  int status = -1;
  std::string output;  // stdout and stderr
};

Run run(const std::string& args) {
  Run r;
  std::string cmd = std::string("'") + EAS_FCGI_BINARY + "' " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string writeTemp(const std::string& name, const std::string& text) {
  std::string path = std::string(EAS_BINARY_DIR) + "/" + name;
  std::ofstream(path, std::ios::trunc) << text;
  return path;
}

}  // namespace

TEST_CASE("--check-config lists every problem with file:line and exits 1", "[cli]") {
  std::string path = writeTemp("check_config_cli_bad.ini",
                               "[server]\n"
                               "workers = lots\n"
                               "threads = 0\n"
                               "[auth]\n"
                               "imap_tls = sometimes\n"
                               "unknown_key = 1\n"
                               "[elsewhere]\n");
  Run r = run("--check-config '" + path + "'");
  INFO(r.output);
  CHECK(r.status == 1);
  CHECK(r.output.find(path + ":2: [server] workers:") != std::string::npos);
  CHECK(r.output.find(path + ":3: [server] threads:") != std::string::npos);
  CHECK(r.output.find(path + ":5: [auth] imap_tls:") != std::string::npos);
  CHECK(r.output.find(path + ":6: [auth] unknown_key: unknown key") != std::string::npos);
  CHECK(r.output.find(path + ":7: unknown section [elsewhere]") != std::string::npos);
  CHECK(r.output.find("5 error(s)") != std::string::npos);

  Run start = run("--config '" + path + "'");
  CHECK(start.status == 1);
  CHECK(start.output.find("not starting") != std::string::npos);
}

TEST_CASE("--check-config accepts the shipped example", "[cli]") {
  std::string path = std::string(EAS_SOURCE_DIR) + "/deploy/eas-fcgi.ini.example";
  Run r = run("--check-config '" + path + "'");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output.find(": OK") != std::string::npos);
  Run missing = run("--check-config /nonexistent/eas-fcgi.ini");
  CHECK(missing.status == 1);
  CHECK(missing.output.find("cannot read") != std::string::npos);
  Run usage = run("--bogus");
  CHECK(usage.status == 2);
}
