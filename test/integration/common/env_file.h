// KEY=VALUE files written by the test fixtures (test/servers/...).
#pragma once

#include <map>
#include <string>

namespace eas::testing {

class EnvFile {
 public:
  // Reads `path`. Lines are KEY=VALUE; blank lines and '#' comments are
  // skipped; a value may be wrapped in single or double quotes.
  // Throws std::runtime_error if the file cannot be read, so that a test
  // whose fixture did not run fails instead of passing.
  static EnvFile load(const std::string& path);
  // ${EAS_BINARY_DIR}/run/<fixture>/env, e.g. load of "eas_stack".
  static EnvFile loadFixture(const std::string& fixture);

  bool has(const std::string& key) const { return values_.count(key) != 0; }
  // Throws std::runtime_error naming the file and key when absent.
  const std::string& get(const std::string& key) const;
  std::string getOr(const std::string& key, const std::string& fallback) const;
  const std::string& path() const { return path_; }

  // EAS_TEST_USER<n>, and EAS_TEST_PASS<n> or the hex-decoded
  // EAS_TEST_PASS<n>_HEX (the Dovecot fixture's users). Throw when absent.
  std::string testUser(int n) const;
  std::string testPassword(int n) const;

 private:
  std::string path_;
  std::map<std::string, std::string> values_;
};

}  // namespace eas::testing
