// Ping's pure parts (CMD §2.2.1.13, protocol.md §3.7): the request as a
// typed struct, the parameters a device's empty Ping reuses (kept in the
// store's request cache, "ping"), the limits, the reply, and the seed's
// "at most three FolderSync requests per unknown folder" bookkeeping
// (request cache "ping_unknown"). No I/O here; ping_command.cpp is the glue.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "core/protocol/capabilities.h"
#include "core/wbxml/wbxml.h"

namespace eas::commands::ping {

// Ping Status values (CMD §2.2.3.177.11).
inline constexpr int kExpired = 1;
inline constexpr int kChanges = 2;
inline constexpr int kMissingParameters = 3;
inline constexpr int kSyntaxError = 4;
inline constexpr int kBadHeartbeat = 5;
inline constexpr int kTooManyFolders = 6;
inline constexpr int kFolderSyncRequired = 7;
inline constexpr int kServerError = 8;

// Request cache names.
inline constexpr char kParamsCache[] = "ping";
inline constexpr char kUnknownCache[] = "ping_unknown";

// After this many Status 7 answers for one unknown folder id, the folder is
// left out of the device's Pings and the user gets the notice (the seed's
// "ActiveSync Folder Push Request Status" mail).
inline constexpr int kMaxFolderSyncRequests = 3;

struct FolderRef {
  std::string id;     // the folder's ServerId
  std::string klass;  // Email, Calendar, Contacts, Tasks, Notes
  bool operator==(const FolderRef&) const = default;
};

// What one request carried; absent parts come from the cache.
struct Params {
  std::optional<int> heartbeat_seconds;
  std::optional<std::vector<FolderRef>> folders;
  bool operator==(const Params&) const = default;
};

// `doc` null: the empty Ping (no body). Errors (all answered Status 4):
//   ping.wrong_root, ping.empty (<Ping/> with neither child),
//   ping.bad_heartbeat (not a decimal number), ping.no_folders (Folders
//   without a Folder), ping.bad_folder (no Id or Class), ping.bad_class
//   (unknown Class, or Notes before 14.0), ping.duplicate_folder.
Result<Params> parseRequest(const wbxml::Document* doc, const protocol::Capabilities& caps);

// The cache text: "hb <seconds>\n" then "f <class> <id>\n" per folder.
std::string encodeParams(const Params& p);
// Unreadable text gives empty Params (as if nothing was cached).
Params decodeParams(std::string_view text);

// The request's parts over the cached ones.
Params merge(const Params& request, const Params& cached);

// Status 5 (with the limit to send) or 6 (with MaxFolders), or nullopt
// when the parameters are within the limits.
struct LimitViolation {
  int status = 0;
  int limit = 0;
};
std::optional<LimitViolation> checkLimits(int heartbeat_seconds, std::size_t folder_count,
                                          int min_heartbeat, int max_heartbeat, int max_folders);

// Folder id -> how many times the device was told to FolderSync because of
// it (values above kMaxFolderSyncRequests: left out, notice queued).
using UnknownCounts = std::map<std::string, int>;
std::string encodeUnknown(const UnknownCounts& counts);
UnknownCounts decodeUnknown(std::string_view text);

// What to do with the unknown ids of one Ping.
struct UnknownDecision {
  bool folder_sync_required = false;  // answer Status 7
  std::vector<std::string> left_out;  // ids to drop from the watch
  std::vector<std::string> notify;    // ids left out for the first time: queue the notice
  UnknownCounts counts;               // the new counts to store
  bool changed = false;               // counts differ from the input
};
// `known`: ids of the request that the device's hierarchy has (their
// counts are dropped: the device caught up); `unknown`: the others.
UnknownDecision decideUnknown(const UnknownCounts& counts, const std::vector<std::string>& known,
                              const std::vector<std::string>& unknown);

// The reply document.
struct Reply {
  int status = kExpired;
  std::vector<std::string> changed_folders;  // with Status 2
  std::optional<int> heartbeat_seconds;      // with Status 5
  std::optional<int> max_folders;            // with Status 6
};
std::string encodeReply(const Reply& r);

}  // namespace eas::commands::ping
