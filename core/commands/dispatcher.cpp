#include "core/commands/dispatcher.h"

#include <cassert>
#include <cctype>

#include "core/wbxml/wbxml.h"

namespace eas::commands {
namespace {

// "Application/Vnd.MS-Sync.WBXML; charset=x" -> "application/vnd.ms-sync.wbxml"
std::string mediaType(std::string_view content_type) {
  content_type = content_type.substr(0, content_type.find(';'));
  while (!content_type.empty() && (content_type.back() == ' ' || content_type.back() == '\t'))
    content_type.remove_suffix(1);
  while (!content_type.empty() && (content_type.front() == ' ' || content_type.front() == '\t'))
    content_type.remove_prefix(1);
  std::string out(content_type);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

Status checkAvailable(const CommandSpec& spec, const protocol::Capabilities& caps) {
  if (availableIn(spec, caps)) return Status::Ok();
  return Status::NotSupported("http.command_not_supported",
                              std::string(spec.name) + " is not in protocol " +
                                  std::string(protocol::toString(caps.version)));
}

BodyForm expectedBody(const CommandSpec& spec, const protocol::Capabilities& caps) {
  if (spec.flags & kNoBody) return BodyForm::kNone;
  if ((spec.flags & kMimeBodyBefore14) && !caps.compose_mail_wbxml) return BodyForm::kMime;
  return BodyForm::kWbxml;
}

Status checkBody(const CommandSpec& spec, const protocol::Capabilities& caps,
                 std::string_view content_type, std::size_t body_size) {
  const BodyForm form = expectedBody(spec, caps);
  if (form == BodyForm::kNone) return Status::Ok();
  if (body_size == 0) {
    if (spec.flags & kEmptyBodyOk) return Status::Ok();
    return Status::InvalidArgument("http.missing_body",
                                   std::string(spec.name) + " needs a request body");
  }
  const std::string type = mediaType(content_type);
  const bool ok = form == BodyForm::kMime
                      ? type == "message/rfc822"
                      : (type == "application/vnd.ms-sync.wbxml" || type == "application/vnd.ms-sync");
  if (ok) return Status::Ok();
  return Status::InvalidArgument(
      "http.bad_content_type",
      "Content-Type '" + std::string(content_type) + "' for " + std::string(spec.name));
}

std::optional<CommandReply> dispatch(const CommandSpec& spec, CommandContext& ctx) {
  if (spec.factory == nullptr) {
    CommandReply reply;
    reply.status = Status::NotSupported("http.command_not_implemented",
                                        std::string(spec.name) + " is not implemented yet");
    return reply;
  }
  std::unique_ptr<Command> command = spec.factory();
  return command->handle(ctx);
}

std::string statusReplyBody(const CommandSpec& spec, int eas_status) {
  assert(spec.has_root);
  std::string out;
  wbxml::StringSink sink(&out);
  wbxml::Writer w(sink);
  w.start(spec.root).element(spec.status, std::int64_t{eas_status}).end();
  return out;
}

}  // namespace eas::commands
