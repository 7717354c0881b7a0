// The Sync request as a typed value (CMD §2.2.1.21): collections with their
// SyncKey, options and device commands, plus Wait / HeartbeatInterval /
// WindowSize / Partial. Parsing is pure and never throws; a request that
// breaks the protocol is a Status whose reason starts with "sync." and
// which syncStatusFor() maps to the Sync Status to answer (4, 13, 14).
//
// Also the per-device request cache (what an empty or Partial request
// repeats, and the sticky Options of each collection): a small text form
// of the collections' parameters, without SyncKeys and commands.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "core/items/email_item.h"
#include "core/protocol/protocol_version.h"
#include "core/wbxml/wbxml.h"

namespace eas::commands {

// Upper bound on Add + Change + Delete + Fetch in one request (CMD §3.1.5.10).
inline constexpr std::size_t kMaxSyncCommands = 200;

struct SyncOptions {
  std::optional<int> filter_type;  // 0..7 for Email; 8 is refused
  int mime_support = 0;            // 0 never, 1 S/MIME, 2 always
  std::optional<int> truncation_code;       // 2.5 AirSync:Truncation 0..9
  std::optional<int> mime_truncation_code;  // AirSync:MIMETruncation 0..8
  int conflict = 1;                         // 1: server wins
  std::vector<items::BodyPreference> body_preferences;
  bool operator==(const SyncOptions&) const;
  // The body request the encoder takes.
  items::BodyRequest bodyRequest() const;
};

// One device command inside <Commands>.
struct SyncClientCommand {
  enum class Kind { kAdd, kChange, kDelete, kFetch } kind = Kind::kChange;
  std::string server_id;  // Change, Delete, Fetch
  std::string client_id;  // Add
  // The ApplicationData element (Add, Change); valid while the request's
  // Document lives. Null when absent.
  const wbxml::Element* application_data = nullptr;
  bool send = false;  // email2:Send beside ApplicationData (16.x drafts, EMAIL §2.2.2.69)
};

struct SyncCollectionRequest {
  std::string sync_key;       // as sent; empty for a collection taken from the cache
  std::string collection_id;  // 1..64 characters
  std::string class_name;     // <= 12.1 Class, "" if absent
  std::optional<bool> get_changes;  // absent; an empty element is true
  std::optional<int> window_size;   // as sent (see sync::effectiveWindowSize)
  bool deletes_as_moves = true;     // absent or empty: true (CMD §2.2.3.43)
  bool conversation_mode = false;
  bool has_options = false;  // Options were sent (else the cached ones apply)
  SyncOptions options;
  std::vector<SyncClientCommand> commands;
};

struct SyncRequest {
  bool empty = false;    // no body, or a Sync without Collections (and not Partial)
  bool partial = false;  // <Partial/>: merge with the cached collections
  std::optional<int> wait_minutes;        // 12.1+
  std::optional<int> heartbeat_seconds;   // 14.0+
  std::optional<int> window_size;         // global, under Sync
  std::vector<SyncCollectionRequest> collections;
};

// `root` is the document's root (must be AirSync:Sync); null = no body.
// Reasons: sync.bad_root, sync.bad_order, sync.bad_value, sync.missing,
// sync.duplicate, sync.too_many_commands, sync.getchanges_with_key0,
// sync.wait_and_heartbeat, sync.bad_filter.
Result<SyncRequest> parseSyncRequest(const wbxml::Element* root, protocol::ProtocolVersion version);

// The Sync Status for a parse failure (4 for every sync.* reason).
int syncStatusFor(const Status& parse_error);

// Status 14's Limit when the long-poll interval is out of range (Wait 1..59
// minutes, HeartbeatInterval 60..3540 seconds), else nullopt.
std::optional<int> waitLimitViolation(const SyncRequest& req);

// The cache: each collection's parameters (not its SyncKey or commands),
// with `in_last` telling which were in the last full request.
struct CachedCollection {
  SyncCollectionRequest params;
  bool in_last = true;
};
std::string encodeSyncCache(const std::vector<CachedCollection>& collections);
// Lines that do not parse are skipped (a cache from an older build is
// simply partly forgotten).
std::vector<CachedCollection> decodeSyncCache(std::string_view text);

}  // namespace eas::commands
