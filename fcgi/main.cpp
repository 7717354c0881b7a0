// eas-fcgi: the FastCGI master/worker pool (see fcgi/README.md).
//   eas-fcgi [--config FILE]      run (default /etc/eas-fcgi/eas-fcgi.ini)
//   eas-fcgi --check-config FILE  report every bad key and value, exit 1 if any
#include <cstdio>
#include <cstring>
#include <string>

#include "fcgi/runtime/config.h"
#include "fcgi/runtime/log_setup.h"
#include "fcgi/runtime/process.h"
#include "fcgi/runtime/request_pipeline.h"

namespace {

constexpr const char* kDefaultConfig = "/etc/eas-fcgi/eas-fcgi.ini";

void usage(FILE* out) {
  std::fprintf(out,
               "usage: eas-fcgi [--config FILE]\n"
               "       eas-fcgi --check-config FILE\n"
               "       eas-fcgi --version\n"
               "Runs the eas-fcgi FastCGI master and its workers (default config %s).\n"
               "Signals: SIGTERM/SIGINT drain and exit, SIGHUP reloads the configuration.\n",
               kDefaultConfig);
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path = kDefaultConfig;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if ((a == "--config" || a == "-c" || a == "--check-config") && i + 1 < argc) {
      check_only = check_only || a == "--check-config";
      config_path = argv[++i];
    } else if (a == "--help" || a == "-h") {
      usage(stdout);
      return 0;
    } else if (a == "--version") {
      std::printf("eas-fcgi 0.1.0\n");
      return 0;
    } else {
      std::fprintf(stderr, "eas-fcgi: unknown argument '%s'\n", a.c_str());
      usage(stderr);
      return 2;
    }
  }

  eas::runtime::ConfigLoad load = eas::runtime::loadConfigFile(config_path);
  if (check_only) {
    for (const auto& e : load.errors) std::fprintf(stderr, "%s\n", e.toString().c_str());
    if (!load.ok()) {
      std::fprintf(stderr, "%s: %zu error(s)\n", config_path.c_str(), load.errors.size());
      return 1;
    }
    std::printf("%s: OK\n", config_path.c_str());
    return 0;
  }
  if (!load.ok()) {
    for (const auto& e : load.errors) std::fprintf(stderr, "%s\n", e.toString().c_str());
    std::fprintf(stderr,
                 "eas-fcgi: %zu configuration error(s); not starting (see --check-config)\n",
                 load.errors.size());
    return 1;
  }
  eas::runtime::applyLogConfig(load.config.server);
  // Checked once here, before any worker is forked: a store without a
  // schema this build knows stops the server with the store's message
  // (which names `easctl db upgrade`), not a loop of dying workers.
  if (eas::Status s = eas::runtime::checkStore(load.config.store); !s.ok()) {
    std::fprintf(stderr, "eas-fcgi: metadata store %s: %s; not starting\n",
                 load.config.store.url.c_str(), s.toString().c_str());
    return 1;
  }
  return eas::runtime::runMaster(config_path, load.config);
}
