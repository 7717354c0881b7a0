// The relay protocol between eas-notifyd and the workers over the unix
// socket (described in fcgi/notify/README.md): one text line per message,
// fields separated by one space, each field percent-escaped so that spaces,
// controls and '%' never appear raw. Pure functions, shared by the daemon
// and NotifyClient.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "fcgi/notify/notify_client.h"

namespace eas::notify::relay {

// The daemon's first line on every connection.
inline constexpr std::string_view kGreeting = "EASNOTIFYD 1";
// A longer line is a protocol error: the peer is disconnected.
inline constexpr std::size_t kMaxLineBytes = 4096;

// Bytes <= 0x20, 0x7f and '%' become %XX.
std::string escape(std::string_view field);
// Reason: relay.bad_escape.
Result<std::string> unescape(std::string_view field);

// Splits at every single space (empty fields are kept) and unescapes.
Result<std::vector<std::string>> splitLine(std::string_view line);

// "WATCH <user>" / "UNWATCH <user>" (client -> daemon).
std::string watchLine(std::string_view user);
std::string unwatchLine(std::string_view user);
// "EVENT <user> <source> <kind> <folder>" (daemon -> client).
std::string eventLine(const ChangeEvent& e);
// Parses an EVENT line (without its newline). Reason: relay.bad_line.
Result<ChangeEvent> parseEventLine(std::string_view line);

// ASCII lowercase: users are matched case-insensitively (Dovecot logs users
// in as %Lu, a device may type its login in any case).
std::string userKey(std::string_view user);

}  // namespace eas::notify::relay
