#include "core/base/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

namespace eas::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::mutex g_mu;

void stderrSink(Level level, std::string_view line) {
  char ts[32];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::string out;
  out.reserve(line.size() + 48);
  out += ts;
  out += ' ';
  out += std::to_string(::getpid());
  out += ' ';
  out += levelName(level);
  out += ' ';
  out += line;
  out += '\n';
  // One write() per line keeps lines whole across threads and processes.
  ssize_t ignored = ::write(2, out.data(), out.size());
  (void)ignored;
}

std::function<void(Level, std::string_view)>& sinkRef() {
  static std::function<void(Level, std::string_view)> sink = stderrSink;
  return sink;
}

}  // namespace

void setLevel(Level level) { g_level.store(static_cast<int>(level)); }
bool enabled(Level level) { return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed); }

void setSink(std::function<void(Level, std::string_view)> sink) {
  std::lock_guard<std::mutex> lock(g_mu);
  sinkRef() = sink ? std::move(sink) : stderrSink;
}

void write(Level level, std::string_view line) {
  std::function<void(Level, std::string_view)> sink;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    sink = sinkRef();
  }
  sink(level, line);
}

std::string_view levelName(Level level) {
  switch (level) {
    case Level::kDebug: return "DEBUG";
    case Level::kInfo: return "INFO";
    case Level::kWarn: return "WARN";
    case Level::kError: return "ERROR";
  }
  return "?";
}

}  // namespace eas::log
