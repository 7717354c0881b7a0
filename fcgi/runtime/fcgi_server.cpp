#include "fcgi/runtime/fcgi_server.h"

#include <fcgiapp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "core/base/log.h"

namespace eas::runtime {

FcgiServer::FcgiServer(int listen_fd, int threads, std::size_t max_body_bytes,
                       http::RequestHandler& handler)
    : listen_fd_(listen_fd),
      threads_(threads < 1 ? 1 : threads),
      max_body_bytes_(max_body_bytes),
      handler_(handler) {}

FcgiServer::~FcgiServer() {
  stopAccepting();
  joinThreads();
  if (stop_fd_ >= 0) ::close(stop_fd_);
}

Status FcgiServer::start() {
  static std::once_flag once;
  static int init_rc = 0;
  std::call_once(once, [] { init_rc = FCGX_Init(); });
  if (init_rc != 0)
    return Status::Internal("runtime.fcgx_init", "FCGX_Init failed: " + std::to_string(init_rc));
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0) return Status::IOError("runtime.eventfd", std::strerror(errno));
  for (int i = 0; i < threads_; ++i) workers_.emplace_back([this] { acceptLoop(); });
  return Status::Ok();
}

void FcgiServer::stopAccepting() {
  if (stop_fd_ < 0) return;
  std::uint64_t one = 1;
  ssize_t ignored = ::write(stop_fd_, &one, sizeof one);
  (void)ignored;
}

void FcgiServer::joinThreads() {
  for (auto& t : workers_)
    if (t.joinable()) t.join();
  workers_.clear();
}

void FcgiServer::acceptLoop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    int n = ::poll(fds, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      log::error(std::string("poll on the FastCGI socket failed: ") + std::strerror(errno));
      return;
    }
    if (fds[1].revents) return;  // stopping; the event stays readable for the other threads
    if (!(fds[0].revents & POLLIN)) {
      if (fds[0].revents & (POLLERR | POLLNVAL)) {
        log::error("the FastCGI socket failed; request thread stops");
        return;
      }
      continue;
    }
    // Blocking connection (flags are not inherited from the listener by accept4).
    // Counted as in flight from before accept(), so that a drain never sees
    // "idle" between accepting a connection and registering its request.
    in_flight_.beginAccept();
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      in_flight_.endAccept();
      // EAGAIN: another thread or worker got it first.
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED)
        continue;
      if (errno == EMFILE || errno == ENFILE) {
        log::error("accept: out of file descriptors; pausing 50 ms");
        ::usleep(50 * 1000);
        continue;
      }
      log::error(std::string("accept failed: ") + std::strerror(errno));
      continue;
    }
    serveConnection(fd, max_body_bytes_, in_flight_, handler_);
  }
}

}  // namespace eas::runtime
