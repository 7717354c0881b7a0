// The declarative command table (style item 3): every EAS command with its
// base64 code, what the dispatcher enforces for it, its WBXML root element
// and its handler factory. Like Dovecot's imap4rev1_commands[] with
// COMMAND_FLAG_*: the flags describe the command, the dispatcher acts on them.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/commands/command.h"
#include "core/protocol/capabilities.h"
#include "core/protocol/protocol_version.h"
#include "core/wbxml/codepages.h"

namespace eas::commands {

enum CommandFlags : unsigned {
  kNoFlags = 0,
  // The policy-key stage runs for it (PROV §3.1.5.1). Provision and Ping are
  // exempt: devices send no X-MS-PolicyKey with them.
  kNeedsProvisioning = 1u << 0,
  // May answer later without holding a thread (Ping, Sync with Wait).
  kMayPark = 1u << 1,
  // An empty body is a valid request (Ping and Sync resend the last one).
  kEmptyBodyOk = 1u << 2,
  // Has no request body at all (GetAttachment: everything is in the URL).
  kNoBody = 1u << 3,
  // Before 14.0 the body is message/rfc822, not WBXML (CMD §2.2.1.17).
  kMimeBodyBefore14 = 1u << 4,
};

struct CommandSpec {
  std::string_view name;    // as in Cmd= and MS-ASProtocolCommands
  std::uint8_t code;        // base64 command code (HTTP §2.2.1.1.1.1.2)
  unsigned flags;
  protocol::ProtocolVersion min_version;
  protocol::ProtocolVersion max_version;
  bool has_root;            // has a WBXML request/response root element
  wbxml::Tag root;          // e.g. tags::FolderHierarchy::FolderSync
  wbxml::Tag status;        // its top-level Status element
  CommandFactory factory;   // nullptr: not implemented yet
};

// In command-code order (the order of MS-ASProtocolCommands).
std::span<const CommandSpec> commandTable();

// Cmd= value, case-insensitive ("Sync", "sync"); nullptr if unknown.
const CommandSpec* findCommand(std::string_view name);
// Base64 command code; nullptr if unknown.
const CommandSpec* findCommandByCode(std::uint8_t code);
// The same in another table (tests give the HTTP layer a table whose
// entries have fake factories).
const CommandSpec* findCommand(std::span<const CommandSpec> table, std::string_view name);
const CommandSpec* findCommandByCode(std::span<const CommandSpec> table, std::uint8_t code);

// Whether the negotiated version has the command (the table's version range).
bool availableIn(const CommandSpec& spec, const protocol::Capabilities& caps);

// "Sync,SendMail,...": every command available in some version <= max.
std::string protocolCommandsHeader(protocol::ProtocolVersion max);
std::string protocolCommandsHeader(std::span<const CommandSpec> table,
                                   protocol::ProtocolVersion max);

}  // namespace eas::commands
