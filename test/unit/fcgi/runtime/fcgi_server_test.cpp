// FcgiServer in-process: a real listening socket, real libfcgi, and a
// minimal FastCGI client on the other side.
#include "fcgi/runtime/fcgi_server.h"

#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/base/log.h"
#include "fcgi/runtime/listen_socket.h"
#include "test/unit/fcgi/runtime/fcgi_test_client.h"

using eas::http::HttpRequest;
using eas::http::HttpResponse;
using eas::http::Responder;
using eas::testing::FcgiReply;
using eas::testing::FcgiTestClient;

namespace {

class TestHandler final : public eas::http::RequestHandler {
 public:
  void handle(std::unique_ptr<HttpRequest> request, std::unique_ptr<Responder> responder) override {
    if (request->path == "/park") {
      std::lock_guard<std::mutex> lock(mu_);
      parked_.push_back(std::move(responder));
      cv_.notify_all();
      return;
    }
    if (request->path == "/drop") return;  // destroys the responder unanswered
    if (request->path == "/throw") throw std::runtime_error("boom");
    HttpResponse r;
    r.status = 200;
    r.headers.emplace_back("X-Echo", "yes");
    r.body = request->method + "|" + request->query + "|" + std::string(request->header("x-test")) +
             "|" + std::to_string(request->body.size()) + "|" + request->remote_addr;
    r.device_id = "dev";
    r.command = "Echo";
    responder->respond(std::move(r));
  }

  // Waits until `n` requests are parked.
  bool waitParked(std::size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(5), [&] { return parked_.size() >= n; });
  }
  std::unique_ptr<Responder> takeParked() {
    std::lock_guard<std::mutex> lock(mu_);
    auto r = std::move(parked_.front());
    parked_.erase(parked_.begin());
    return r;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Responder>> parked_;
};

struct Fixture {
  explicit Fixture(int threads, std::size_t max_body = 1024 * 1024) {
    eas::log::setLevel(eas::log::Level::kError);  // one line per request is noise here
    char tmpl[] = "/tmp/eas-fcgi-test-XXXXXX";
    dir = ::mkdtemp(tmpl);
    path = dir + "/s.sock";
    eas::runtime::ServerConfig cfg;
    cfg.socket = path;
    auto s = eas::runtime::openListenSocket(cfg);
    REQUIRE(s.ok());
    sock = s.value();
    server = std::make_unique<eas::runtime::FcgiServer>(sock.fd, threads, max_body, handler);
    REQUIRE(server->start().ok());
  }
  ~Fixture() {
    server.reset();
    ::close(sock.fd);
    ::unlink(path.c_str());
    ::rmdir(dir.c_str());
  }
  FcgiReply get(const std::string& path_info, const std::string& query = {},
                const std::string& body = {}) {
    return FcgiTestClient::request(path,
                                   {{"REQUEST_METHOD", body.empty() ? "GET" : "POST"},
                                    {"DOCUMENT_URI", path_info},
                                    {"QUERY_STRING", query},
                                    {"REMOTE_ADDR", "127.0.0.9"},
                                    {"CONTENT_LENGTH", std::to_string(body.size())},
                                    {"HTTP_X_TEST", "hdr"}},
                                   body);
  }

  std::string dir, path;
  eas::runtime::ListenSocket sock;
  TestHandler handler;
  std::unique_ptr<eas::runtime::FcgiServer> server;
};

}  // namespace

TEST_CASE("a request is answered with Status, headers and Content-Length", "[fcgi]") {
  Fixture f(2);
  FcgiReply r = f.get("/echo", "Cmd=Sync&x=%41");
  INFO(r.error << " " << r.stdout_data);
  REQUIRE(r.ok);
  CHECK(r.status == 200);
  CHECK(r.header("x-echo") == "yes");
  CHECK(r.body == "GET|Cmd=Sync&x=%41|hdr|0|127.0.0.9");
  CHECK(r.header("content-length") == std::to_string(r.body.size()));
}

TEST_CASE("the body is read whole, and cut one byte over the limit", "[fcgi]") {
  Fixture f(1, 1024);
  std::string big(200000, 'x');  // several FastCGI records
  FcgiReply r = f.get("/echo", "", big);
  REQUIRE(r.ok);
  CHECK(r.body == "POST||hdr|1025|127.0.0.9");
  FcgiReply s = f.get("/echo", "", std::string(1000, 'y'));
  REQUIRE(s.ok);
  CHECK(s.body == "POST||hdr|1000|127.0.0.9");
}

TEST_CASE("a parked request holds no thread and is answered later from another thread", "[fcgi]") {
  Fixture f(1);  // one thread: the echo below can only run if the park freed it
  FcgiTestClient parked(f.path);
  REQUIRE(parked.connect());
  REQUIRE(parked.send({{"REQUEST_METHOD", "POST"}, {"DOCUMENT_URI", "/park"}}, "ping"));
  REQUIRE(f.handler.waitParked(1));
  CHECK(f.server->inFlight().size() == 1);
  FcgiReply echo = f.get("/echo");
  REQUIRE(echo.ok);
  CHECK(echo.status == 200);

  std::unique_ptr<Responder> responder = f.handler.takeParked();
  CHECK_FALSE(responder->clientGone());
  std::thread later([&] {
    HttpResponse r;
    r.status = 200;
    r.body = "late";
    responder->respond(std::move(r));
  });
  later.join();
  FcgiReply r = parked.read();
  REQUIRE(r.ok);
  CHECK(r.body == "late");
  CHECK(r.header("content-length") == "4");
  CHECK(f.server->inFlight().size() == 0);
}

TEST_CASE("clientGone turns true when the web server closes the connection", "[fcgi]") {
  Fixture f(2);
  FcgiTestClient parked(f.path);
  REQUIRE(parked.connect());
  REQUIRE(parked.send({{"REQUEST_METHOD", "POST"}, {"DOCUMENT_URI", "/park"}}, ""));
  REQUIRE(f.handler.waitParked(1));
  std::unique_ptr<Responder> responder = f.handler.takeParked();
  CHECK_FALSE(responder->clientGone());
  auto* fcgi = dynamic_cast<eas::runtime::FcgiResponder*>(responder.get());
  REQUIRE(fcgi != nullptr);
  CHECK(fcgi->connectionFd() >= 0);
  parked.close();
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    gone = responder->clientGone();
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(gone);
  HttpResponse r;
  responder->respond(std::move(r));  // harmless after the client left
  CHECK(fcgi->connectionFd() == -1);
  CHECK(f.server->inFlight().size() == 0);
}

TEST_CASE("drain: stop accepting, wait for active requests, answer parked ones 503", "[fcgi]") {
  Fixture f(2);
  FcgiTestClient parked(f.path);
  REQUIRE(parked.connect());
  REQUIRE(parked.send({{"REQUEST_METHOD", "POST"}, {"DOCUMENT_URI", "/park"}}, ""));
  REQUIRE(f.handler.waitParked(1));
  f.server->stopAccepting();
  CHECK(f.server->inFlight().waitIdle(2000));
  CHECK(f.server->inFlight().answerAll(503, "runtime.draining") == 1);
  FcgiReply r = parked.read();
  REQUIRE(r.ok);
  CHECK(r.status == 503);
  CHECK(r.header("retry-after") == "30");
  // The handler's own answer after the drain is ignored, not a crash.
  std::unique_ptr<Responder> responder = f.handler.takeParked();
  HttpResponse late;
  responder->respond(std::move(late));
  f.server->joinThreads();
}

TEST_CASE("a handler that drops or throws still produces an answer", "[fcgi]") {
  Fixture f(2);
  FcgiReply d = f.get("/drop");
  REQUIRE(d.ok);
  CHECK(d.status == 500);
  FcgiReply t = f.get("/throw");
  REQUIRE(t.ok);
  CHECK(t.status == 500);
  FcgiReply e = f.get("/echo");
  REQUIRE(e.ok);
  CHECK(e.status == 200);
}

TEST_CASE("many concurrent requests over few threads all get their own answer", "[fcgi]") {
  Fixture f(4);
  std::atomic<int> good{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < 50; ++i) {
        std::string q = "c=" + std::to_string(c) + "&i=" + std::to_string(i);
        FcgiReply r = f.get("/echo", q);
        if (r.ok && r.status == 200 && r.body.find("|" + q + "|") != std::string::npos) ++good;
      }
    });
  }
  for (auto& t : clients) t.join();
  CHECK(good.load() == 400);
}

TEST_CASE("a body shorter than its Content-Length is answered 400 without the handler", "[fcgi]") {
  Fixture f(2);
  FcgiReply r = FcgiTestClient::request(
      f.path, {{"REQUEST_METHOD", "POST"}, {"DOCUMENT_URI", "/echo"}, {"CONTENT_LENGTH", "100"}},
      "only ten b");
  REQUIRE(r.ok);
  CHECK(r.status == 400);
  CHECK(r.body.empty());
  // A body of exactly its length goes through.
  FcgiReply ok = FcgiTestClient::request(
      f.path, {{"REQUEST_METHOD", "POST"}, {"DOCUMENT_URI", "/echo"}, {"CONTENT_LENGTH", "10"}},
      "only ten b");
  REQUIRE(ok.ok);
  CHECK(ok.status == 200);
  CHECK(ok.body == "POST|||10|");
}
