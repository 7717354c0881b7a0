// Reaching a device's mail for ItemOperations, GetAttachment and
// GetItemEstimate, with the ownership rule (design.md): a CollectionId,
// ServerId or FileReference is resolved only through the folder map of the
// authenticated login + DeviceId, so another user's ids, or ids this device
// never got from FolderSync, are "not found", exactly like ids that never
// existed (nothing tells an attacker which ones are real).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/backends/mail_backend.h"
#include "core/base/status.h"
#include "storage/metadata_store.h"

namespace eas::commands {

// The device's folder for `collection_id`. Errors:
//   itemops.unknown_collection  (NotFound) not in this device's folder map
//   store.*                     the store's own failures
Result<storage::Folder> findDeviceFolder(storage::MetadataStore& store,
                                         const storage::DeviceRef& ref,
                                         std::string_view collection_id);

// An attachment's decoded bytes and MIME type.
struct AttachmentData {
  std::string content_type;  // "image/png"; "application/octet-stream" if unknown
  std::string bytes;         // Content-Transfer-Encoding undone
};

// FileReference "<CollectionId>:<UID>:<IMAP part>" (core/items fileReference
// with the ServerId as prefix) to the part's decoded bytes. Errors:
//   itemops.unknown_attachment  (NotFound) malformed or hashed reference, a
//                               collection not in the device's map, no such
//                               message or part, or a multipart container
//   store.* / imap.*            the store's or the backend's failures
Result<AttachmentData> fetchAttachment(storage::MetadataStore& store,
                                       backend::MailBackend& mail,
                                       const storage::DeviceRef& ref,
                                       std::string_view file_reference);

}  // namespace eas::commands
