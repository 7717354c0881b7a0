// The contract between the dispatcher and one EAS command. One class per
// command, one file per class (core/commands/<name>_command.{h,cpp}); a
// handler is glue: typed request from the WBXML tree, pure logic elsewhere,
// WBXML reply. The dispatcher has already enforced the command table's
// flags (version, provisioning, body form), so handlers never re-check them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/status.h"
#include "core/protocol/capabilities.h"
#include "core/protocol/query.h"
#include "core/commands/services.h"
#include "core/wbxml/wbxml.h"

namespace eas::commands {

struct CommandSpec;

// What a command is given; everything is valid for the duration of handle().
struct CommandRequest {
  const CommandSpec* spec = nullptr;
  protocol::Capabilities capabilities;
  const protocol::EasQuery* query = nullptr;  // DeviceId, DeviceType, parameters
  std::string login;                          // authenticated "user@domain"
  // The verified password, in memory only, for backend logins (IMAP
  // session pool). Never logged, never stored.
  std::string password;
  const Services* services = nullptr;         // never null when dispatched by the HTTP layer
  std::optional<std::uint32_t> policy_key;    // X-MS-PolicyKey or the base64 field
  bool accept_multipart = false;              // query parameter or MS-ASAcceptMultiPart: T
  std::string_view user_agent;
  const wbxml::Document* document = nullptr;  // null: empty body or a MIME body
  std::string_view body;                      // raw body (message/rfc822 on 12.x SendMail)
};

struct CommandReply {
  // Non-OK: core/status_map decides the answer (HTTP code or common Status).
  Status status;
  std::string body;  // WBXML unless content_type says otherwise; may be empty
  std::string content_type = "application/vnd.ms-sync.wbxml";
  std::vector<std::pair<std::string, std::string>> headers;
  int eas_status = 0;  // the top-level Status in `body`, for the log line
};

// A reply that comes later, from any thread (a parked Ping or Sync).
class DeferredReply {
 public:
  virtual ~DeferredReply() = default;
  // Sends the reply; call exactly once.
  virtual void send(CommandReply&& reply) = 0;
  // True once the client has gone; the parked request may free itself.
  virtual bool clientGone() const = 0;
  // The connection to the web server, for an event loop that watches many
  // parked replies (EPOLLRDHUP); -1 when there is none to watch. The
  // watcher must stop watching before send(), which closes it.
  virtual int connectionFd() const { return -1; }
};

class CommandContext {
 public:
  virtual ~CommandContext() = default;
  virtual const CommandRequest& request() const = 0;
  // Takes over the reply: handle() then returns nullopt and the command
  // answers through the DeferredReply. Only commands flagged kMayPark.
  virtual std::unique_ptr<DeferredReply> park() = 0;
};

class Command {
 public:
  virtual ~Command() = default;
  // The reply now, or nullopt after ctx.park().
  virtual std::optional<CommandReply> handle(CommandContext& ctx) = 0;
};

using CommandFactory = std::unique_ptr<Command> (*)();

}  // namespace eas::commands
