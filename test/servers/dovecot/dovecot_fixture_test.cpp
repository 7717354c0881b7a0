// The contract of the `dovecot` fixture that other tests rely on: the env
// file's keys, an IMAP greeting on IMAP_PORT, LMTP delivery into MAIL_ROOT.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace {

std::map<std::string, std::string> readEnv() {
  std::map<std::string, std::string> env;
  std::ifstream in(std::string(EAS_BINARY_DIR) + "/run/dovecot/env");
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (!line.empty() && line[0] != '#' && eq != std::string::npos)
      env[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return env;
}

class Conn {
 public:
  explicit Conn(int fd) : fd_(fd) {
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~Conn() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  void send(const std::string& s) {
    REQUIRE(::write(fd_, s.data(), s.size()) == static_cast<ssize_t>(s.size()));
  }
  // One reply line (the last line of a multi-line SMTP/LMTP reply).
  std::string line() {
    for (;;) {
      const auto nl = buf_.find("\r\n");
      if (nl != std::string::npos) {
        std::string l = buf_.substr(0, nl);
        buf_.erase(0, nl + 2);
        if (l.size() >= 4 && l[3] == '-') continue;
        return l;
      }
      char tmp[1024];
      const ssize_t n = ::read(fd_, tmp, sizeof tmp);
      if (n <= 0) return "<eof>";
      buf_.append(tmp, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_;
  std::string buf_;
};

int tcpConnect(const std::string& host, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int unixConnect(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  REQUIRE(path.size() < sizeof a.sun_path);
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

TEST_CASE("the dovecot fixture keeps its contract") {
  const auto env = readEnv();
  for (const char* key :
       {"IMAP_HOST", "IMAP_PORT", "LMTP_SOCKET", "MAIL_ROOT", "EAS_TEST_USER1", "EAS_TEST_PASS1",
        "EAS_TEST_USER2", "EAS_TEST_PASS2", "EAS_TEST_USER3", "EAS_TEST_PASS3_HEX",
        "EAS_TEST_USER4", "EAS_TEST_PASS4"}) {
    INFO(key);
    CHECK(env.count(key) == 1);
  }
  REQUIRE(env.count("IMAP_PORT") == 1);
  CHECK(env.at("EAS_TEST_USER1") == "alice@example.test");
  CHECK(env.at("EAS_TEST_PASS1") == "alice-pass-1");
  CHECK(env.at("EAS_TEST_USER2") == "bob@example.test");
  CHECK(env.at("EAS_TEST_PASS2") == "bob-pass-2");

  SECTION("IMAP greets and accepts LOGIN") {
    Conn c(tcpConnect(env.at("IMAP_HOST"), std::stoi(env.at("IMAP_PORT"))));
    REQUIRE(c.ok());
    CHECK(c.line().rfind("* OK", 0) == 0);
    c.send("a LOGIN alice@example.test alice-pass-1\r\n");
    CHECK(c.line().rfind("a OK", 0) == 0);
    c.send("b LOGOUT\r\n");
  }

  SECTION("LMTP delivers into MAIL_ROOT and refuses unknown users") {
    const std::filesystem::path inbox =
        std::filesystem::path(env.at("MAIL_ROOT")) / "example.test" / "bob" / "Maildir" / "new";
    const auto count = [&] {
      std::size_t n = 0;
      if (std::filesystem::exists(inbox))
        for (const auto& e : std::filesystem::directory_iterator(inbox))
          n += e.is_regular_file() ? 1 : 0;
      return n;
    };
    const std::size_t before = count();
    Conn c(unixConnect(env.at("LMTP_SOCKET")));
    REQUIRE(c.ok());
    CHECK(c.line().rfind("220", 0) == 0);
    c.send("LHLO test\r\n");
    CHECK(c.line().rfind("250", 0) == 0);
    c.send("MAIL FROM:<fixture@example.test>\r\n");
    CHECK(c.line().rfind("250", 0) == 0);
    c.send("RCPT TO:<nobody@example.test>\r\n");
    CHECK(c.line().rfind("550", 0) == 0);
    c.send("RCPT TO:<bob@example.test>\r\n");
    CHECK(c.line().rfind("250", 0) == 0);
    c.send("DATA\r\n");
    CHECK(c.line().rfind("354", 0) == 0);
    c.send("From: fixture@example.test\r\nSubject: fixture check\r\n\r\nhello\r\n.\r\n");
    CHECK(c.line().rfind("250", 0) == 0);
    c.send("QUIT\r\n");
    CHECK(count() == before + 1);
  }
}
