// Minimal process-wide logging. Every rejection writes one line saying why
// (with its stable reason token). The runtime picks the sink (stderr or
// syslog) and level from the configuration.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace eas::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void setLevel(Level level);
bool enabled(Level level);
// Replaces the sink; the default writes "<time> <pid> <LEVEL> line\n" to stderr.
// The sink must be thread-safe.
void setSink(std::function<void(Level, std::string_view)> sink);
void write(Level level, std::string_view line);

inline void debug(std::string_view line) { if (enabled(Level::kDebug)) write(Level::kDebug, line); }
inline void info(std::string_view line) { if (enabled(Level::kInfo)) write(Level::kInfo, line); }
inline void warn(std::string_view line) { if (enabled(Level::kWarn)) write(Level::kWarn, line); }
inline void error(std::string_view line) { if (enabled(Level::kError)) write(Level::kError, line); }

std::string_view levelName(Level level);

}  // namespace eas::log
