#include "core/commands/command_table.h"

#include <cctype>

#include "core/commands/folder_create_command.h"
#include "core/commands/folder_delete_command.h"
#include "core/commands/folder_sync_command.h"
#include "core/commands/get_attachment_command.h"
#include "core/commands/get_item_estimate_command.h"
#include "core/commands/item_operations_command.h"
#include "core/commands/folder_update_command.h"
#include "core/commands/move_items_command.h"
#include "core/commands/ping_command.h"
#include "core/commands/provision_command.h"
#include "core/commands/search_command.h"
#include "core/commands/sync_command.h"
#include "core/commands/send_mail_command.h"
#include "core/commands/smart_forward_command.h"
#include "core/commands/smart_reply_command.h"

namespace eas::commands {
namespace {

using protocol::ProtocolVersion;
namespace t = wbxml::tags;

constexpr ProtocolVersion k25 = ProtocolVersion::k25;
constexpr ProtocolVersion k120 = ProtocolVersion::k120;
constexpr ProtocolVersion k121 = ProtocolVersion::k121;
constexpr ProtocolVersion k161 = ProtocolVersion::k161;
constexpr wbxml::Tag kNoTag{};

constexpr unsigned kProv = kNeedsProvisioning;

// No handler is implemented yet (factory nullptr): the dispatcher answers
// "command not supported" (501 / Status 137) until each command's issue adds
// its factory here. Version ranges: RS for MS-ASCMD; GetAttachment and
// GetHierarchy end at 12.1, Find is 16.1 only (protocol.md §3.0); codes 5-8
// are the 2.5-era collection commands still listed by MS-ASProtocolCommands.
constexpr CommandSpec kCommands[] = {
    {"Sync", 0, kProv | kMayPark | kEmptyBodyOk, k25, k161, true, t::AirSync::Sync,
     t::AirSync::Status, &makeSyncCommand},
    {"SendMail", 1, kProv | kMimeBodyBefore14, k25, k161, true, t::ComposeMail::SendMail,
     t::ComposeMail::Status, &makeSendMailCommand},
    {"SmartForward", 2, kProv | kMimeBodyBefore14, k25, k161, true, t::ComposeMail::SmartForward,
     t::ComposeMail::Status, &makeSmartForwardCommand},
    {"SmartReply", 3, kProv | kMimeBodyBefore14, k25, k161, true, t::ComposeMail::SmartReply,
     t::ComposeMail::Status, &makeSmartReplyCommand},
    {"GetAttachment", 4, kProv | kNoBody, k25, k121, false, kNoTag, kNoTag,
     &makeGetAttachmentCommand},
    {"GetHierarchy", 5, kProv | kNoBody, k25, k121, false, kNoTag, kNoTag, nullptr},
    {"CreateCollection", 6, kProv, k25, k25, false, kNoTag, kNoTag, nullptr},
    {"DeleteCollection", 7, kProv, k25, k25, false, kNoTag, kNoTag, nullptr},
    {"MoveCollection", 8, kProv, k25, k25, false, kNoTag, kNoTag, nullptr},
    {"FolderSync", 9, kProv, k25, k161, true, t::FolderHierarchy::FolderSync,
     t::FolderHierarchy::Status, &makeFolderSyncCommand},
    {"FolderCreate", 10, kProv, k25, k161, true, t::FolderHierarchy::FolderCreate,
     t::FolderHierarchy::Status, &makeFolderCreateCommand},
    {"FolderDelete", 11, kProv, k25, k161, true, t::FolderHierarchy::FolderDelete,
     t::FolderHierarchy::Status, &makeFolderDeleteCommand},
    {"FolderUpdate", 12, kProv, k25, k161, true, t::FolderHierarchy::FolderUpdate,
     t::FolderHierarchy::Status, &makeFolderUpdateCommand},
    {"MoveItems", 13, kProv, k25, k161, true, t::Move::MoveItems, t::Move::Status,
     &makeMoveItemsCommand},
    {"GetItemEstimate", 14, kProv, k25, k161, true, t::GetItemEstimate::GetItemEstimate,
     t::GetItemEstimate::Status, &makeGetItemEstimateCommand},
    {"MeetingResponse", 15, kProv, k25, k161, true, t::MeetingResponse::MeetingResponse,
     t::MeetingResponse::Status, nullptr},
    {"Search", 16, kProv, k25, k161, true, t::Search::Search, t::Search::Status,
     &makeSearchCommand},
    {"Settings", 17, kProv, k120, k161, true, t::Settings::Settings, t::Settings::Status, nullptr},
    // Ping: no X-MS-PolicyKey is sent with it (PROV §3.1.5.1), so no policy stage.
    {"Ping", 18, kMayPark | kEmptyBodyOk, k25, k161, true, t::Ping::Ping, t::Ping::Status,
     &makePingCommand},
    {"ItemOperations", 19, kProv, k120, k161, true, t::ItemOperations::ItemOperations,
     t::ItemOperations::Status, &makeItemOperationsCommand},
    {"Provision", 20, kNoFlags, k25, k161, true, t::Provision::Provision, t::Provision::Status,
     &makeProvisionCommand},
    {"ResolveRecipients", 21, kProv, k120, k161, true, t::ResolveRecipients::ResolveRecipients,
     t::ResolveRecipients::Status, nullptr},
    {"ValidateCert", 22, kProv, k120, k161, true, t::ValidateCert::ValidateCert,
     t::ValidateCert::Status, nullptr},
    {"Find", 23, kProv, k161, k161, true, t::Find::Find, t::Find::Status, nullptr},
};

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

}  // namespace

std::span<const CommandSpec> commandTable() { return kCommands; }

const CommandSpec* findCommand(std::string_view name) { return findCommand(kCommands, name); }

const CommandSpec* findCommandByCode(std::uint8_t code) {
  return findCommandByCode(kCommands, code);
}

const CommandSpec* findCommand(std::span<const CommandSpec> table, std::string_view name) {
  for (const CommandSpec& c : table)
    if (equalsIgnoreCase(c.name, name)) return &c;
  return nullptr;
}

const CommandSpec* findCommandByCode(std::span<const CommandSpec> table, std::uint8_t code) {
  for (const CommandSpec& c : table)
    if (c.code == code) return &c;
  return nullptr;
}

bool availableIn(const CommandSpec& spec, const protocol::Capabilities& caps) {
  return spec.min_version <= caps.version && caps.version <= spec.max_version;
}

std::string protocolCommandsHeader(protocol::ProtocolVersion max) {
  return protocolCommandsHeader(kCommands, max);
}

std::string protocolCommandsHeader(std::span<const CommandSpec> table,
                                   protocol::ProtocolVersion max) {
  std::string out;
  for (const CommandSpec& c : table) {
    if (c.min_version > max) continue;
    if (!out.empty()) out += ',';
    out += c.name;
  }
  return out;
}

}  // namespace eas::commands
