// The FastCGI listening socket: bound by the master from server.socket, or
// inherited (fd 0 from spawn-fcgi, fd 3 from systemd's LISTEN_FDS). The
// socket is shared by every worker; it is non-blocking so that a worker's
// acceptor threads can poll it together with their stop event.
#pragma once

#include <string>

#include "core/base/status.h"
#include "fcgi/runtime/config.h"

namespace eas::runtime {

struct ListenSocket {
  int fd = -1;
  bool inherited = false;
  std::string created_path;  // a Unix socket path we created (unlinked at exit)
  std::string description;   // for log lines
};

// True when fd is a socket in the listening state.
bool isListeningSocket(int fd);

// An inherited socket if there is one, else binds server.socket.
// Failures: runtime.socket_bind, runtime.socket_in_use, config.bad_socket.
Result<ListenSocket> openListenSocket(const ServerConfig& config);

}  // namespace eas::runtime
