// What the Ping parking lot relies on, against real nginx: when a device
// drops a held request, nginx closes the FastCGI connection and the
// parked request's Responder::clientGone() turns true. An in-process
// FcgiServer with a parking handler sits behind deploy/local/nginx.sh.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/base/log.h"
#include "fcgi/runtime/fcgi_server.h"
#include "fcgi/runtime/listen_socket.h"

using eas::http::HttpRequest;
using eas::http::HttpResponse;
using eas::http::Responder;

namespace {

class ParkingHandler final : public eas::http::RequestHandler {
 public:
  void handle(std::unique_ptr<HttpRequest>, std::unique_ptr<Responder> responder) override {
    std::lock_guard<std::mutex> lock(mu_);
    parked_.push_back(std::move(responder));
    cv_.notify_all();
  }
  Responder* waitParked(std::size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::seconds(5), [&] { return parked_.size() >= n; }))
      return nullptr;
    return parked_[n - 1].get();
  }
  void answerAll() {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& r : parked_) {
      HttpResponse resp;
      resp.status = 200;
      resp.body = "late";
      r->respond(std::move(resp));
    }
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Responder>> parked_;
};

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string envValue(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key + "=", 0) == 0) return line.substr(key.size() + 1);
  return {};
}

int connectTo(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool sendAll(int fd, const std::string& s) {
  return ::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
}

template <typename Pred>
bool eventually(Pred pred, int timeout_ms) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

}  // namespace

TEST_CASE("nginx closes the FastCGI connection of a dropped request; clientGone sees it",
          "[runtime][integration]") {
  eas::log::setLevel(eas::log::Level::kWarn);
  std::string base = std::string(EAS_BINARY_DIR) + "/run/runtime_client_gone";
  ::mkdir((std::string(EAS_BINARY_DIR) + "/run").c_str(), 0755);
  ::mkdir(base.c_str(), 0755);
  eas::runtime::ServerConfig cfg;
  cfg.socket = base + "/park.sock";
  cfg.socket_mode = 0666;
  auto sock = eas::runtime::openListenSocket(cfg);
  REQUIRE(sock.ok());
  ParkingHandler handler;
  eas::runtime::FcgiServer server(sock->fd, 4, 1 << 20, handler);
  REQUIRE(server.start().ok());

  std::string nginx = std::string(EAS_SOURCE_DIR) + "/deploy/local/nginx.sh";
  std::string cmd = "'" + nginx + "' start '" + base + "/nginx' 'unix:" + cfg.socket + "' >'" +
                    base + "/nginx.start.out' 2>&1";
  INFO(readFile(base + "/nginx.start.out"));
  REQUIRE(std::system(cmd.c_str()) == 0);
  struct Stop {
    std::string c;
    ~Stop() {
      int rc = std::system(c.c_str());
      (void)rc;
    }
  } stop{"'" + nginx + "' stop '" + base + "/nginx' >/dev/null 2>&1"};
  int port = std::atoi(envValue(readFile(base + "/nginx/env"), "NGINX_PORT").c_str());
  REQUIRE(port > 0);

  const std::string request =
      "POST /Microsoft-Server-ActiveSync?Cmd=Ping&User=u&DeviceId=D1&DeviceType=T HTTP/1.1\r\n"
      "Host: localhost\r\nContent-Type: application/vnd.ms-sync.wbxml\r\nContent-Length: "
      "4\r\n\r\nping";

  // A device that stays: not gone, and it gets the late answer.
  int stay = connectTo(port);
  REQUIRE(stay >= 0);
  REQUIRE(sendAll(stay, request));
  Responder* kept = handler.waitParked(1);
  REQUIRE(kept != nullptr);

  // A device that leaves.
  int leave = connectTo(port);
  REQUIRE(leave >= 0);
  REQUIRE(sendAll(leave, request));
  Responder* dropped = handler.waitParked(2);
  REQUIRE(dropped != nullptr);
  CHECK_FALSE(dropped->clientGone());
  ::close(leave);
  CHECK(eventually([&] { return dropped->clientGone(); }, 3000));
  CHECK_FALSE(kept->clientGone());

  handler.answerAll();
  std::string reply;
  char buf[4096];
  eventually(
      [&] {
        ssize_t n = ::recv(stay, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) reply.append(buf, static_cast<std::size_t>(n));
        return reply.find("late") != std::string::npos;
      },
      3000);
  ::close(stay);
  CHECK(reply.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(reply.find("Content-Length: 4") != std::string::npos);
  server.stopAccepting();
  server.joinThreads();
  ::close(sock->fd);
  ::unlink(cfg.socket.c_str());
}
