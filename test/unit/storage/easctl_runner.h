// Runs the easctl binary (EASCTL_PATH) and captures its output and exit code.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace eas::storage::testing {

struct EasctlRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// args is appended to the command line as is (the caller quotes).
inline EasctlRun runEasctl(const std::string& args) {
  std::string cmd = std::string("'") + EASCTL_PATH + "' " + args + " 2>&1";
  EasctlRun r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace eas::storage::testing
