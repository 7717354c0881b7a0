#include "core/commands/folder_update_command.h"

#include "core/commands/folder_ops_common.h"

namespace eas::commands {
namespace {

namespace fh = wbxml::tags::FolderHierarchy;

class FolderUpdateCommand final : public Command {
 public:
  std::optional<CommandReply> handle(CommandContext& ctx) override {
    FolderOpSpec spec;
    spec.root = fh::FolderUpdate;
    spec.name = "folderupdate";
    spec.plan = [](const wbxml::Element& root, const FolderOpInputs& in,
                   const std::string&) -> std::optional<sync::FolderOpPlan> {
      const wbxml::Element* id = root.child(fh::ServerId);
      const wbxml::Element* parent = root.child(fh::ParentId);
      const wbxml::Element* name = root.child(fh::DisplayName);
      if (!id || id->text().empty() || !parent || !name) return std::nullopt;
      return sync::planFolderUpdate(in.stored, in.backend, id->text(), parent->text(),
                                    name->text());
    };
    return runFolderOp(ctx, spec);
  }
};

}  // namespace

std::unique_ptr<Command> makeFolderUpdateCommand() {
  return std::make_unique<FolderUpdateCommand>();
}

}  // namespace eas::commands
