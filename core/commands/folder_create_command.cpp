#include "core/commands/folder_create_command.h"

#include <charconv>

#include "core/commands/folder_ops_common.h"

namespace eas::commands {
namespace {

namespace fh = wbxml::tags::FolderHierarchy;

class FolderCreateCommand final : public Command {
 public:
  std::optional<CommandReply> handle(CommandContext& ctx) override {
    FolderOpSpec spec;
    spec.root = fh::FolderCreate;
    spec.name = "foldercreate";
    spec.needs_new_id = true;
    spec.plan = [](const wbxml::Element& root, const FolderOpInputs& in,
                   const std::string& new_id) -> std::optional<sync::FolderOpPlan> {
      const wbxml::Element* parent = root.child(fh::ParentId);
      const wbxml::Element* name = root.child(fh::DisplayName);
      const wbxml::Element* type_el = root.child(fh::Type);
      if (!parent || !name || !type_el) return std::nullopt;
      int type = 0;
      std::string_view t = type_el->text();
      auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), type);
      if (t.empty() || ec != std::errc() || ptr != t.data() + t.size()) return std::nullopt;
      return sync::planFolderCreate(in.stored, in.backend, in.mode, parent->text(), name->text(),
                                    type, new_id);
    };
    return runFolderOp(ctx, spec);
  }
};

}  // namespace

std::unique_ptr<Command> makeFolderCreateCommand() {
  return std::make_unique<FolderCreateCommand>();
}

}  // namespace eas::commands
