#include "fcgi/runtime/listen_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace eas::runtime {
namespace {

std::string errnoText() { return std::strerror(errno); }

Status makeNonBlocking(int fd) {
  int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
    return Status::IOError("runtime.socket_flags", "fcntl: " + errnoText());
  int fdfl = ::fcntl(fd, F_GETFD);
  if (fdfl >= 0) ::fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC);
  return Status::Ok();
}

// A Unix socket path that something still answers on is in use; one that
// refuses connections is a stale leftover and may be replaced.
bool unixSocketAnswers(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, path.c_str(), sizeof(sa.sun_path) - 1);
  bool answers = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  ::close(fd);
  return answers;
}

}  // namespace

bool isListeningSocket(int fd) {
  int listening = 0;
  socklen_t len = sizeof listening;
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0) return false;
  return listening != 0;
}

Result<ListenSocket> openListenSocket(const ServerConfig& config) {
  ListenSocket out;
  // systemd socket activation: LISTEN_PID is us, LISTEN_FDS=1, fd 3.
  const char* listen_pid = std::getenv("LISTEN_PID");
  const char* listen_fds = std::getenv("LISTEN_FDS");
  if (listen_pid && listen_fds && std::atol(listen_pid) == static_cast<long>(::getpid()) &&
      std::atoi(listen_fds) >= 1 && isListeningSocket(3)) {
    out.fd = 3;
    out.inherited = true;
    out.description = "inherited fd 3 (LISTEN_FDS)";
  } else if (isListeningSocket(0)) {
    // spawn-fcgi and classic FastCGI process managers pass it on fd 0.
    out.fd = ::fcntl(0, F_DUPFD_CLOEXEC, 3);
    if (out.fd < 0) return Status::IOError("runtime.socket_bind", "dup of fd 0: " + errnoText());
    int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull >= 0) {
      ::dup2(devnull, 0);
      ::close(devnull);
    }
    out.inherited = true;
    out.description = "inherited fd 0";
  }
  if (out.inherited) {
    EAS_RETURN_IF_ERROR(makeNonBlocking(out.fd));
    return out;
  }

  auto addr = parseSocketAddress(config.socket);
  if (!addr.ok()) return addr.status();
  if (addr->kind == SocketAddress::Kind::kUnix) {
    const std::string& path = addr->path;
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Status::IOError("runtime.socket_bind", "socket: " + errnoText());
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) {
        ::close(fd);
        return Status::AlreadyExists("runtime.socket_in_use", path + " exists and is not a socket");
      }
      if (unixSocketAnswers(path)) {
        ::close(fd);
        return Status::AlreadyExists("runtime.socket_in_use",
                                     path + " is in use by another process");
      }
      ::unlink(path.c_str());
    }
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strncpy(sa.sun_path, path.c_str(), sizeof(sa.sun_path) - 1);
    // Create with the configured mode from the start (no window with wider permissions).
    mode_t old = ::umask(static_cast<mode_t>(~config.socket_mode & 0777));
    int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    int bind_errno = errno;
    ::umask(old);
    if (rc != 0) {
      ::close(fd);
      errno = bind_errno;
      return Status::IOError("runtime.socket_bind", "bind " + path + ": " + errnoText());
    }
    ::chmod(path.c_str(), static_cast<mode_t>(config.socket_mode));
    if (::listen(fd, config.backlog) != 0) {
      ::close(fd);
      ::unlink(path.c_str());
      return Status::IOError("runtime.socket_bind", "listen " + path + ": " + errnoText());
    }
    out.fd = fd;
    out.created_path = path;
    out.description = "unix:" + path;
  } else {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Status::IOError("runtime.socket_bind", "socket: " + errnoText());
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<std::uint16_t>(addr->port));
    ::inet_pton(AF_INET, addr->host.c_str(), &sa.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
      std::string msg =
          "bind " + addr->host + ":" + std::to_string(addr->port) + ": " + errnoText();
      bool in_use = errno == EADDRINUSE;
      ::close(fd);
      return in_use ? Status::AlreadyExists("runtime.socket_in_use", msg)
                    : Status::IOError("runtime.socket_bind", msg);
    }
    if (::listen(fd, config.backlog) != 0) {
      ::close(fd);
      return Status::IOError("runtime.socket_bind", "listen: " + errnoText());
    }
    out.fd = fd;
    out.description = "tcp:" + addr->host + ":" + std::to_string(addr->port);
  }
  EAS_RETURN_IF_ERROR(makeNonBlocking(out.fd));
  return out;
}

}  // namespace eas::runtime
