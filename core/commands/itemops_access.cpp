#include "core/commands/itemops_access.h"

#include "core/commands/itemops_util.h"
#include "core/items/email_item.h"
#include "core/sync/email_window.h"

namespace eas::commands {
namespace {

Status unknownAttachment(std::string_view ref, std::string why) {
  return Status::NotFound("itemops.unknown_attachment",
                          "FileReference '" + std::string(ref.substr(0, 64)) + "': " + why);
}

const backend::BodyPart* findSection(const backend::BodyPart& node, const std::string& section) {
  if (node.section == section && !node.isMultipart()) return &node;
  for (const backend::BodyPart& child : node.children)
    if (const backend::BodyPart* hit = findSection(child, section)) return hit;
  return nullptr;
}

}  // namespace

Result<storage::Folder> findDeviceFolder(storage::MetadataStore& store,
                                         const storage::DeviceRef& ref,
                                         std::string_view collection_id) {
  auto folders = store.listFolders(ref);
  if (!folders.ok()) return folders.status();
  for (storage::Folder& f : *folders)
    if (f.server_id == collection_id) return std::move(f);
  return Status::NotFound("itemops.unknown_collection",
                          "collection '" + std::string(collection_id.substr(0, 64)) +
                              "' is not in the device's folder map");
}

Result<AttachmentData> fetchAttachment(storage::MetadataStore& store,
                                       backend::MailBackend& mail,
                                       const storage::DeviceRef& ref,
                                       std::string_view file_reference) {
  auto parsed = items::parseFileReference(file_reference);
  if (!parsed) return unknownAttachment(file_reference, "malformed");
  const std::string& prefix = parsed->first;  // "<CollectionId>:<UID>"
  const std::string& section = parsed->second;
  const std::size_t colon = prefix.rfind(':');
  if (colon == std::string::npos) return unknownAttachment(file_reference, "no item id");
  const std::string collection = prefix.substr(0, colon);
  const std::optional<std::uint32_t> uid = sync::itemUid(collection, prefix);
  if (!uid || *uid == 0) return unknownAttachment(file_reference, "no UID");

  auto folder = findDeviceFolder(store, ref, collection);
  if (!folder.ok()) {
    if (folder.status().isNotFound()) return unknownAttachment(file_reference, "foreign collection");
    return folder.status();
  }
  backend::FetchRequest what;
  what.envelope = false;
  what.bodyStructure = true;
  auto messages = mail.fetchMessages(folder->backend_id, {*uid}, what);
  if (!messages.ok()) {
    if (messages.status().reason() == "imap.no_such_folder")
      return unknownAttachment(file_reference, "folder gone");
    return messages.status();
  }
  if (messages->empty() || !(*messages)[0].structure)
    return unknownAttachment(file_reference, "no such message");
  const backend::BodyPart* part = findSection(*(*messages)[0].structure, section);
  if (!part) return unknownAttachment(file_reference, "no such part");

  auto raw = mail.fetchPart(folder->backend_id, *uid, section, 0, std::nullopt);
  if (!raw.ok()) {
    if (raw.status().isNotFound()) return unknownAttachment(file_reference, "part gone");
    return raw.status();
  }
  AttachmentData out;
  out.content_type = part->type.empty() ? std::string("application/octet-stream")
                                        : part->type + "/" + part->subtype;
  out.bytes = decodeTransferEncoding(part->encoding, *raw);
  return out;
}

}  // namespace eas::commands
