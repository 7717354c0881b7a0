#include "core/commands/folder_delete_command.h"

#include "core/commands/folder_ops_common.h"

namespace eas::commands {
namespace {

namespace fh = wbxml::tags::FolderHierarchy;

class FolderDeleteCommand final : public Command {
 public:
  std::optional<CommandReply> handle(CommandContext& ctx) override {
    FolderOpSpec spec;
    spec.root = fh::FolderDelete;
    spec.name = "folderdelete";
    spec.plan = [](const wbxml::Element& root, const FolderOpInputs& in,
                   const std::string&) -> std::optional<sync::FolderOpPlan> {
      const wbxml::Element* id = root.child(fh::ServerId);
      if (!id || id->text().empty()) return std::nullopt;
      return sync::planFolderDelete(in.stored, in.backend, id->text());
    };
    return runFolderOp(ctx, spec);
  }
};

}  // namespace

std::unique_ptr<Command> makeFolderDeleteCommand() {
  return std::make_unique<FolderDeleteCommand>();
}

}  // namespace eas::commands
