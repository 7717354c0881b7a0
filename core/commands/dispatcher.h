// The dispatcher: acts on the command table's flags so that handlers never
// re-check them, and runs the handler. The HTTP layer calls these in its
// stage order (fcgi/http/eas_request_handler.cpp); everything here is pure
// except dispatch(), which runs the command.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/base/status.h"
#include "core/commands/command.h"
#include "core/commands/command_table.h"
#include "core/protocol/capabilities.h"

namespace eas::commands {

// OK, or NotSupported("http.command_not_supported") when the negotiated
// version does not have the command (GetAttachment on 14.0+, Find below 16.1).
Status checkAvailable(const CommandSpec& spec, const protocol::Capabilities& caps);

// Whether the policy-key stage applies (kNeedsProvisioning).
inline bool needsPolicyCheck(const CommandSpec& spec) {
  return (spec.flags & kNeedsProvisioning) != 0;
}
inline bool mayPark(const CommandSpec& spec) { return (spec.flags & kMayPark) != 0; }

enum class BodyForm {
  kNone,   // no body is read (GetAttachment)
  kWbxml,  // application/vnd.ms-sync.wbxml (or application/vnd.ms-sync)
  kMime,   // message/rfc822 (12.x SendMail, SmartReply, SmartForward)
};
BodyForm expectedBody(const CommandSpec& spec, const protocol::Capabilities& caps);

// Checks the body's presence and Content-Type against the command:
//   http.missing_body      empty, and the command needs one (not Ping/Sync)
//   http.bad_content_type  the wrong type for the body form
// Content-Type parameters ("; charset=...") and case are ignored.
Status checkBody(const CommandSpec& spec, const protocol::Capabilities& caps,
                 std::string_view content_type, std::size_t body_size);

// Runs the command's handler. A command without a factory answers
// NotSupported("http.command_not_implemented"). nullopt: the command parked.
std::optional<CommandReply> dispatch(const CommandSpec& spec, CommandContext& ctx);

// <Root><Status>n</Status></Root> for the spec's root element: the 14.0+
// answer for a common status. REQUIRES: spec.has_root.
std::string statusReplyBody(const CommandSpec& spec, int eas_status);

}  // namespace eas::commands
