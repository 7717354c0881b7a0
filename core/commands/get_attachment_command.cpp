#include "core/commands/get_attachment_command.h"

#include <string>

#include "core/backends/mail_backend.h"
#include "core/base/log.h"
#include "core/commands/itemops_access.h"
#include "storage/metadata_store.h"

namespace eas::commands {
namespace {

class GetAttachmentCommand final : public Command {
 public:
  std::optional<CommandReply> handle(CommandContext& ctx) override {
    const CommandRequest& req = ctx.request();
    CommandReply r;
    const std::string name = req.query ? req.query->attachment_name : std::string();
    if (name.empty()) {
      r.status = Status::InvalidArgument("getattachment.missing_name", "no AttachmentName");
      return r;
    }
    storage::MetadataStore* store = req.services ? req.services->store : nullptr;
    MailBackendProvider* provider = req.services ? req.services->mail : nullptr;
    if (!store || !provider) {
      r.status = Status::Internal("itemops.no_services", "no store or mail backend");
      return r;
    }
    const storage::DeviceRef ref{req.login, req.query->device_id};
    auto mail = provider->open(req.login, req.password);
    auto data = fetchAttachment(*store, *mail, ref, name);
    if (!data.ok()) {
      if (data.status().isNotFound()) {
        r.status = Status::NotFound("attachment.not_found", data.status().message());
      } else {
        log::warn("getattachment: user=" + req.login + " " + data.status().toString());
        r.status = data.status();
      }
      return r;
    }
    r.content_type = std::move(data->content_type);
    r.body = std::move(data->bytes);
    // An empty attachment has no body: the HTTP layer then sends no
    // Content-Type, only Content-Length: 0.
    return r;
  }
};

}  // namespace

std::unique_ptr<Command> makeGetAttachmentCommand() {
  return std::make_unique<GetAttachmentCommand>();
}

}  // namespace eas::commands
