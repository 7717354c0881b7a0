#include "fcgi/runtime/log_setup.h"

#include <syslog.h>

#include <string>

namespace eas::runtime {
namespace {

int syslogPriority(log::Level level) {
  switch (level) {
    case log::Level::kDebug:
      return LOG_DEBUG;
    case log::Level::kInfo:
      return LOG_INFO;
    case log::Level::kWarn:
      return LOG_WARNING;
    case log::Level::kError:
      return LOG_ERR;
  }
  return LOG_INFO;
}

}  // namespace

void applyLogConfig(const ServerConfig& config) {
  log::setLevel(config.log_level);
  if (config.log == ServerConfig::LogTarget::kSyslog) {
    ::closelog();
    ::openlog("eas-fcgi", LOG_PID | LOG_NDELAY, config.syslog_facility);
    // syslog(3) is thread-safe in glibc.
    log::setSink([](log::Level level, std::string_view line) {
      ::syslog(syslogPriority(level), "%.*s", static_cast<int>(line.size()), line.data());
    });
  } else {
    log::setSink(nullptr);  // the default stderr sink
  }
}

}  // namespace eas::runtime
