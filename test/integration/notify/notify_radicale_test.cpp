// A real Radicale (private instance) with deploy/radicale/eas-notify-hook.sh
// as its storage hook -> easctl notify send -> the notifyd fixture -> a
// NotifyClient: creating a calendar and putting an event into it arrive as
// dav/change events for that collection within 1 s.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdlib>

#include "test/integration/common/env_file.h"
#include "test/unit/fcgi/notify/notify_test_support.h"

namespace n = eas::notify;
namespace nt = eas::notify::testing;
using eas::testing::EnvFile;
using namespace std::chrono_literals;

namespace {

int freeTcpPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

class Radicale {
 public:
  Radicale(const std::string& dir, const EnvFile& notifyd) : dir_(dir), port_(freeTcpPort()) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ + "/config")
        << "[server]\nhosts = 127.0.0.1:" << port_ << "\n[auth]\ntype = none\n"
        << "[storage]\nfilesystem_folder = " << dir_ << "/collections\n"
        << "hook = EAS_NOTIFY_SECRET_FILE=" << notifyd.get("NOTIFYD_SECRET_FILE")
        << " EAS_NOTIFY_UDP=127.0.0.1:" << notifyd.get("NOTIFYD_UDP_PORT")
        << " EASCTL=" << EAS_BINARY_DIR << "/policies/easctl " << EAS_SOURCE_DIR
        << "/deploy/radicale/eas-notify-hook.sh %(user)s\n";
    const std::string config = dir_ + "/config", log = dir_ + "/radicale.log";
    pid_ = fork();
    if (pid_ == 0) {
      setsid();
      const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      execlp("radicale", "radicale", "--config", config.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~Radicale() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // curl's HTTP status for a request as alice (any password: auth type none).
  int request(const std::string& user, const std::string& method, const std::string& path,
              const std::string& body_file = "") {
    const std::string out = dir_ + "/status";
    std::string cmd = "curl -s -o /dev/null -w '%{http_code}' -u '" + user + ":x' -X " + method +
                      (body_file.empty() ? "" : " -H 'Content-Type: text/calendar' --data-binary @" +
                                                    body_file) +
                      " '" + url() + path + "' >" + out;
    if (std::system(cmd.c_str()) != 0) return 0;
    const std::string code = nt::readFile(out);
    return code.empty() ? 0 : std::stoi(code);
  }
  bool up() {
    return nt::eventually([&] { return request("probe", "PROPFIND", "/") != 0; }, 10s);
  }

 private:
  std::string dir_;
  int port_;
  pid_t pid_ = -1;
};

}  // namespace

TEST_CASE("a Radicale write reaches a registered NotifyClient as dav/change", "[notify]") {
  const EnvFile notifyd = EnvFile::loadFixture("notifyd");
  nt::EventSink sink;
  auto client = n::startNotifyClient(notifyd.get("NOTIFYD_SOCKET"), sink.handler());
  const std::string user = "alice@example.test";
  client->watchUser(user);
  REQUIRE(nt::eventually([&] { return client->connected(); }, 2s));

  Radicale radicale(std::string(EAS_BINARY_DIR) + "/run/notify-radicale-" +
                        std::to_string(getpid()),
                    notifyd);
  REQUIRE(radicale.up());
  const std::string cal = "cal-" + std::to_string(getpid());
  const std::string folder = "/" + user + "/" + cal + "/";
  auto dav = [&](const n::ChangeEvent& e) {
    return e.source == "dav" && e.folder == folder && e.kind == "change";
  };

  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(radicale.request(user, "MKCALENDAR", folder) == 201);
  CHECK(sink.waitFor(dav, 1s).user == user);
  CHECK(std::chrono::steady_clock::now() - t0 < 1s);

  const std::string ics = std::string(EAS_BINARY_DIR) + "/run/notify-radicale-event.ics";
  std::ofstream(ics) << "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//eas-fcgi test//EN\r\n"
                        "BEGIN:VEVENT\r\nUID:notify-1\r\nDTSTAMP:20260101T000000Z\r\n"
                        "DTSTART:20260101T100000Z\r\nSUMMARY:notify\r\nEND:VEVENT\r\n"
                        "END:VCALENDAR\r\n";
  t0 = std::chrono::steady_clock::now();
  REQUIRE(radicale.request(user, "PUT", folder + "notify-1.ics", ics) == 201);
  CHECK(sink.waitFor(dav, 1s).user == user);
  CHECK(std::chrono::steady_clock::now() - t0 < 1s);
}
