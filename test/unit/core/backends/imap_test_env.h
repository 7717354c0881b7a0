// Shared helpers of the IMAP backend tests against the Dovecot fixture.
#pragma once

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/backends/imap/imap_backend.h"

namespace eas::backend::imap::testenv {

// KEY=VALUE lines of ${build}/run/<fixture>/env. A missing file fails the test.
inline std::map<std::string, std::string> loadEnv(const std::string& fixture) {
  const std::string path = std::string(EAS_BINARY_DIR) + "/run/" + fixture + "/env";
  std::ifstream in(path);
  if (!in) FAIL("fixture env file missing: " << path << " (run with the ctest fixture)");
  std::map<std::string, std::string> env;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto eq = line.find('=');
    if (eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return env;
}

inline std::string unhex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

struct Account {
  std::string login, password;
};

inline Account account(const std::map<std::string, std::string>& env, int n) {
  const std::string k = std::to_string(n);
  Account a;
  a.login = env.at("EAS_TEST_USER" + k);
  auto it = env.find("EAS_TEST_PASS" + k);
  a.password = it != env.end() ? it->second : unhex(env.at("EAS_TEST_PASS" + k + "_HEX"));
  return a;
}

inline ImapConfig configFor(const std::map<std::string, std::string>& env) {
  ImapConfig c;
  c.host = env.at("IMAP_HOST");
  c.port = std::stoi(env.at("IMAP_PORT"));
  c.timeoutSeconds = 10;
  return c;
}

// A folder name no other test (or run) uses.
inline std::string uniqueName(const std::string& what) {
  static int counter = 0;
  return "eas-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) + "-" + what;
}

// Deletes the folders it was given when the test ends, pass or fail.
class FolderCleanup {
 public:
  FolderCleanup(ImapSessionPool& pool, Account account) : pool_(pool), account_(std::move(account)) {}
  ~FolderCleanup() {
    auto b = pool_.backendFor(account_.login, account_.password);
    // Newest first: children before their parents.
    for (auto it = folders_.rbegin(); it != folders_.rend(); ++it) (void)b->deleteFolder(*it);
  }
  const std::string& add(std::string name) { folders_.push_back(std::move(name)); return folders_.back(); }

 private:
  ImapSessionPool& pool_;
  Account account_;
  std::vector<std::string> folders_;
};

// A small RFC 5322 message with CRLF line ends.
inline std::string textMessage(const std::string& subject, const std::string& body,
                               const std::string& from = "Alice Example <alice@example.test>") {
  return "From: " + from + "\r\nTo: Bob <bob@example.test>, carol@example.test\r\n" +
         "Subject: " + subject + "\r\nDate: Tue, 01 Dec 2026 08:00:00 +0100\r\n" +
         "Message-ID: <" + subject + "@example.test>\r\nMIME-Version: 1.0\r\n" +
         "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body;
}

}  // namespace eas::backend::imap::testenv
