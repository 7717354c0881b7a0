// eas-notifyd: receives change-event datagrams on a loopback UDP port,
// authenticates them and relays each to the workers that registered its
// user on the relay socket. One thread, one epoll loop; no state survives a
// restart (workers re-register). See fcgi/notify/README.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/base/status.h"

namespace eas::notify {

struct NotifydOptions {
  std::string udp_host = "127.0.0.1";
  int udp_port = 0;  // 0: any free port (written to port_file when given)
  std::string socket_path;
  std::string secret_file;
  std::string pid_file;
  std::string port_file;  // receives the bound UDP port (tests use port 0)
  std::int64_t replay_window_seconds = 60;
  int stats_interval_seconds = 60;  // a stats line this often when something changed
  unsigned socket_mode = 0660;
};

// Parses the command line (see `eas-notifyd --help`). Reason: notifyd.usage.
Result<NotifydOptions> parseNotifydArgs(const std::vector<std::string>& args);
std::string notifydUsage();

// Runs until SIGTERM/SIGINT. SIGHUP re-reads the secret file; SIGUSR1 logs
// the counters. Returns the process exit code (1 when it cannot start).
int runNotifyd(const NotifydOptions& options);

}  // namespace eas::notify
