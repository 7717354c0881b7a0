#include "test/integration/common/env_file.h"

#include <fstream>
#include <stdexcept>

namespace eas::testing {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

}  // namespace

EnvFile EnvFile::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("env file missing (did the fixture run?): " + path);
  EnvFile env;
  env.path_ = path;
  std::string line;
  while (std::getline(in, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("export ", 0) == 0) line = trim(line.substr(7));
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = trim(line.substr(0, eq));
    std::string value = trim(line.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front())
      value = value.substr(1, value.size() - 2);
    env.values_[key] = value;
  }
  return env;
}

EnvFile EnvFile::loadFixture(const std::string& fixture) {
  return load(std::string(EAS_BINARY_DIR) + "/run/" + fixture + "/env");
}

const std::string& EnvFile::get(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) throw std::runtime_error(path_ + " has no " + key);
  return it->second;
}

std::string EnvFile::getOr(const std::string& key, const std::string& fallback) const {
  auto it = values_.find(key);
  return it == values_.end() ? fallback : it->second;
}

std::string EnvFile::testUser(int n) const { return get("EAS_TEST_USER" + std::to_string(n)); }

std::string EnvFile::testPassword(int n) const {
  const std::string key = "EAS_TEST_PASS" + std::to_string(n);
  if (has(key)) return get(key);
  const std::string& hex = get(key + "_HEX");
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

}  // namespace eas::testing
