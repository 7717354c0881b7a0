// libFuzzer target: the INI reader and the config checker take any bytes
// without crashing, and every error they report points at a real line.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fcgi/runtime/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  eas::runtime::ConfigLoad load = eas::runtime::parseConfig(text, "fuzz.ini");
  int lines = 1;
  for (char c : text) lines += c == '\n';
  for (const auto& e : load.errors) {
    if (e.line < 1 || e.line > lines) std::abort();
    if (e.message.empty()) std::abort();
  }
  // A file with no error must produce a configuration within the ranges.
  if (load.ok()) {
    const auto& s = load.config.server;
    if (s.threads < 1 || s.threads > 1024 || s.workers < 0 || s.workers > 256) std::abort();
    if (load.config.auth.imap_port < 1 || load.config.auth.imap_port > 65535) std::abort();
  }
  return 0;
}
