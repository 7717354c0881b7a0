// Points eas::log at stderr or syslog with the configured level.
#pragma once

#include "fcgi/runtime/config.h"

namespace eas::runtime {

// Safe to call again on reload (the syslog connection is reopened).
void applyLogConfig(const ServerConfig& config);

}  // namespace eas::runtime
