// The device's <Commands> in a Sync of an Email collection, applied to the
// backend: Change (Read, Flag, Categories as IMAP keywords; 16.x drafts
// replaced and/or sent), Add (16.x drafts APPENDed and maybe sent:
// core/commands/sync_drafts; else Status 6), Delete
// (DeletesAsMoves: to the Deleted Items folder, else expunged), Fetch. What
// the device did is recorded in the item map so it is not echoed back.
// I/O glue; the results are plain values the Sync command writes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/backends/mail_backend.h"
#include "core/backends/mail_submitter.h"
#include "core/commands/sync_request.h"
#include "core/items/category_keywords.h"
#include "core/items/email_item.h"
#include "storage/metadata_store.h"

namespace eas::commands {

// What a Read / Flag change asks of the IMAP flags.
struct FlagEdit {
  std::uint32_t set = 0;
  std::uint32_t clear = 0;
  // A <Flag> was given: its details (status 0 for an empty or cleared flag),
  // kept with the item because IMAP only has \Flagged.
  std::optional<items::FlagDetails> flag;
};
// From a Change's ApplicationData. Fails (Status 6) with sync.bad_item_data
// for a non-boolean Read or a Flag Status other than 0, 1, 2.
Result<FlagEdit> flagEditFrom(const wbxml::Element& application_data);

// A Change's email:Categories: nullopt when absent (unchanged), else the
// whole new set (an empty <Categories/> clears it).
std::optional<std::vector<std::string>> categoriesFrom(const wbxml::Element& application_data);

// Category names <-> IMAP keywords: core/items/category_keywords.h.
using items::categoryFromKeyword;
using items::categoryKeyword;

// Flag details in the item map's `etag` field (unused for IMAP items, which
// have no ETag): "flag1:<status>:<start>:<due>:<complete>:<reminder>:<type>",
// times as unix seconds, empty when absent; "" for no details.
std::string flagDetailsText(const items::FlagDetails& d);
// The kept details if they still agree with the IMAP flags (\Flagged set
// for status 2, clear for status 1): another client's flag edit wins.
std::optional<items::FlagDetails> flagDetailsFor(std::string_view etag, std::uint32_t flags);
// Forgets details another client's flag edit made obsolete (in the item
// map changes about to be committed), so they do not come back later.
void dropStaleFlagDetails(std::vector<storage::ItemChange>& changes);
// A Sync <Change>'s Read and Flag (12.0+: with_flag) for these flags, with
// the kept details when they apply.
void writeFlagChangeData(wbxml::Writer& w, std::uint32_t flags, std::string_view etag,
                         bool with_flag);

struct SyncItemResponse {
  SyncClientCommand::Kind kind = SyncClientCommand::Kind::kChange;
  std::string server_id, client_id;
  int status = 1;
  std::optional<items::EmailItem> item;  // Fetch with Status 1
  // 16.x drafts: each attachment added, {ClientId, FileReference}, answered
  // in ApplicationData/Attachments/Attachment (AIRS §2.2.2.7).
  std::vector<std::pair<std::string, std::string>> attachments;
};

struct DeviceChangesResult {
  std::vector<SyncItemResponse> responses;     // only what the spec answers
  std::vector<storage::ItemChange> item_changes;
};

struct DeviceChangesInput {
  const SyncCollectionRequest* collection = nullptr;
  std::string folder;        // IMAP name of the collection
  std::string trash_folder;  // IMAP name of the type-4 folder, "" if none
  const std::vector<storage::ItemEntry>* items = nullptr;  // the state's item map
  std::uint32_t fetch_cap = 0;  // bytes fetched per message for Fetch (fetchCapFor)
  // Categories are applied; a device before 14.0 has none to send (the
  // Sync command may set this from the version).
  bool categories = true;
  // 16.x in the Drafts folder (type 3): Add APPENDs a draft, a Change with
  // message fields replaces it. Else an Add answers Status 6.
  bool drafts = false;
  std::string user_address;  // From: of a draft
  std::int64_t now = 0;      // Date: of a draft (unix seconds)
  // email2:Send of a draft: the submitter (null: Status 110), the user's
  // password for SMTP AUTH, the Sent Items folder ("" -> by SPECIAL-USE).
  backend::MailSubmitter* smtp = nullptr;
  std::string password;
  std::string sent_folder;
};

// Backend failures that should end the whole Sync in Status 16
// (imap.unavailable) are returned as errors; everything item-level is a
// response status.
Result<DeviceChangesResult> applyDeviceChanges(backend::MailBackend& mail,
                                               const DeviceChangesInput& in);

struct FetchedEmail {
  std::uint32_t uid = 0;
  std::uint32_t flags = 0;  // MessageFlag bits as fetched
  items::EmailItem item;
  std::vector<std::string> keywords;  // the other IMAP keywords as fetched (for the item map)
};
// Fetches and parses messages of one folder (one UID FETCH of at most `cap`
// bytes per message), with the flag details kept in `items` (the item map,
// if given). Messages that vanished are absent; one that cannot be
// parsed at all is logged and given as an empty item. Sorted by UID.
Result<std::vector<FetchedEmail>> fetchEmailItems(
    backend::MailBackend& mail, const std::string& folder, const std::string& collection_id,
    const std::vector<std::uint32_t>& uids, std::uint32_t cap,
    const std::vector<storage::ItemEntry>* items = nullptr);

// How many bytes of each message to fetch for this body request: enough for
// the requested truncation with a margin, bounded (nullopt: never).
std::uint32_t fetchCapFor(const items::BodyRequest& body);

}  // namespace eas::commands
