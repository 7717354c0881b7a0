#include "core/commands/sync_request.h"

#include <charconv>
#include <set>

namespace eas::commands {
namespace {

namespace as = wbxml::tags::AirSync;
namespace asb = wbxml::tags::AirSyncBase;
using protocol::ProtocolVersion;

Status bad(std::string reason, std::string msg) {
  return Status::InvalidArgument(std::move(reason), std::move(msg));
}

std::optional<std::int64_t> parseInt(std::string_view text) {
  if (text.empty() || text.size() > 12) return std::nullopt;
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

Result<int> intIn(const wbxml::Element& e, std::int64_t lo, std::int64_t hi) {
  auto v = parseInt(e.text());
  if (!v || *v < lo || *v > hi)
    return bad("sync.bad_value", wbxml::qualifiedName(e.tag()) + " = '" + std::string(e.text()) + "'");
  return static_cast<int>(*v);
}

// An empty element means true; otherwise 0 or 1.
Result<bool> boolOf(const wbxml::Element& e) {
  if (e.text().empty()) return true;
  auto v = intIn(e, 0, 1);
  if (!v.ok()) return v.status();
  return *v == 1;
}

Result<items::BodyPreference> parseBodyPreference(const wbxml::Element& e) {
  items::BodyPreference p;
  int rank = -1;
  bool has_type = false;
  for (const wbxml::Element& c : e.children()) {
    int r;
    if (c.tag() == asb::Type) {
      auto v = intIn(c, 1, 4);
      if (!v.ok()) return v.status();
      p.type = *v;
      has_type = true;
      r = 0;
    } else if (c.tag() == asb::TruncationSize) {
      auto v = parseInt(c.text());  // up to 2^32-1 (AIRS §2.2.2.53)
      if (!v || *v < 0 || *v > 0xFFFFFFFFll)
        return bad("sync.bad_value", "TruncationSize = '" + std::string(c.text()) + "'");
      p.truncation_size = static_cast<std::uint32_t>(*v);
      r = 1;
    } else if (c.tag() == asb::AllOrNone) {
      auto v = boolOf(c);
      if (!v.ok()) return v.status();
      p.all_or_none = *v;
      r = 2;
    } else if (c.tag() == asb::Preview) {
      auto v = intIn(c, 0, 255);
      if (!v.ok()) return v.status();
      p.preview = static_cast<std::uint32_t>(*v);
      r = 3;
    } else {
      return bad("sync.bad_value", "unexpected " + wbxml::qualifiedName(c.tag()) + " in BodyPreference");
    }
    if (r <= rank) return bad("sync.bad_order", "BodyPreference children out of order (AIRS §2.2.2.12)");
    rank = r;
  }
  if (!has_type) return bad("sync.missing", "BodyPreference without Type");
  return p;
}

Status parseOptions(const wbxml::Element& e, SyncOptions* o, std::string* option_class) {
  std::set<int> types;
  for (const wbxml::Element& c : e.children()) {
    const wbxml::Tag t = c.tag();
    if (t == as::FilterType) {
      auto v = intIn(c, 0, 8);
      if (!v.ok()) return v.status();
      if (*v == 8) return bad("sync.bad_filter", "FilterType 8 (incomplete tasks) on Email");
      o->filter_type = *v;
    } else if (t == as::MIMESupport) {
      auto v = intIn(c, 0, 2);
      if (!v.ok()) return v.status();
      o->mime_support = *v;
    } else if (t == as::Truncation) {
      auto v = intIn(c, 0, 9);
      if (!v.ok()) return v.status();
      o->truncation_code = *v;
    } else if (t == as::MIMETruncation) {
      auto v = intIn(c, 0, 8);
      if (!v.ok()) return v.status();
      o->mime_truncation_code = *v;
    } else if (t == as::Conflict) {
      auto v = intIn(c, 0, 1);
      if (!v.ok()) return v.status();
      o->conflict = *v;
    } else if (t == as::Class) {
      *option_class = std::string(c.text());
    } else if (t == asb::BodyPreference) {
      auto p = parseBodyPreference(c);
      if (!p.ok()) return p.status();
      if (!types.insert(p->type).second)
        return bad("sync.duplicate", "two BodyPreference elements with Type " + std::to_string(p->type));
      o->body_preferences.push_back(*p);
    }
    // Anything else (RTFTruncation, MaxItems, BodyPartPreference,
    // RightsManagementSupport) does not change an Email Sync here: ignored.
  }
  return Status::Ok();
}

Status parseCommands(const wbxml::Element& e, SyncCollectionRequest* c, std::size_t* total) {
  for (const wbxml::Element& k : e.children()) {
    SyncClientCommand cmd;
    const wbxml::Tag t = k.tag();
    if (t == as::Add) cmd.kind = SyncClientCommand::Kind::kAdd;
    else if (t == as::Change) cmd.kind = SyncClientCommand::Kind::kChange;
    else if (t == as::Delete || t == as::SoftDelete) cmd.kind = SyncClientCommand::Kind::kDelete;
    else if (t == as::Fetch) cmd.kind = SyncClientCommand::Kind::kFetch;
    else return bad("sync.bad_value", "unexpected " + wbxml::qualifiedName(t) + " in Commands");
    cmd.server_id = std::string(k.childText(as::ServerId));
    cmd.client_id = std::string(k.childText(as::ClientId));
    cmd.application_data = k.child(as::ApplicationData);
    cmd.send = k.hasChild(wbxml::tags::Email2::Send);
    if (cmd.kind == SyncClientCommand::Kind::kAdd) {
      if (cmd.client_id.empty() || cmd.client_id.size() > 64)
        return bad("sync.missing", "Add without a valid ClientId");
    } else if (cmd.server_id.empty() || cmd.server_id.size() > 64) {
      return bad("sync.missing", wbxml::qualifiedName(t) + " without a valid ServerId");
    }
    if (cmd.kind == SyncClientCommand::Kind::kChange && !cmd.application_data)
      return bad("sync.missing", "Change without ApplicationData");
    if (++*total > kMaxSyncCommands)
      return bad("sync.too_many_commands", "more than " + std::to_string(kMaxSyncCommands) +
                                               " commands in one Sync (CMD §3.1.5.10)");
    c->commands.push_back(std::move(cmd));
  }
  return Status::Ok();
}

// Strict order inside a request's Collection (CMD §2.2.3.29.2). Class (2.5 to
// 12.1) is accepted anywhere; Options may appear twice (Email + SMS).
int collectionRank(wbxml::Tag t) {
  if (t == as::SyncKey) return 0;
  if (t == as::CollectionId) return 1;
  if (t == as::Supported) return 2;
  if (t == as::DeletesAsMoves) return 3;
  if (t == as::GetChanges) return 4;
  if (t == as::WindowSize) return 5;
  if (t == as::ConversationMode) return 6;
  if (t == as::Options) return 7;
  if (t == as::Commands) return 8;
  return -1;
}

Result<SyncCollectionRequest> parseCollection(const wbxml::Element& e, ProtocolVersion version,
                                              std::size_t* total_commands) {
  SyncCollectionRequest c;
  int rank = -1;
  int options_seen = 0;
  bool has_key = false, has_id = false;
  for (const wbxml::Element& k : e.children()) {
    const wbxml::Tag t = k.tag();
    if (t == as::Class) {
      c.class_name = std::string(k.text());
      continue;
    }
    const int r = collectionRank(t);
    if (r < 0) return bad("sync.bad_value", "unexpected " + wbxml::qualifiedName(t) + " in Collection");
    if (r < rank || (r == rank && r != 7))
      return bad("sync.bad_order", wbxml::qualifiedName(t) + " out of order in Collection");
    rank = r;
    switch (r) {
      case 0:
        c.sync_key = std::string(k.text());
        has_key = true;
        break;
      case 1:
        c.collection_id = std::string(k.text());
        has_id = true;
        break;
      case 2:
        break;  // Supported: ghosting concerns contacts/calendar, not Email
      case 3: {
        auto v = boolOf(k);
        if (!v.ok()) return v.status();
        c.deletes_as_moves = *v;
        break;
      }
      case 4: {
        auto v = boolOf(k);
        if (!v.ok()) return v.status();
        c.get_changes = *v;
        break;
      }
      case 5: {
        auto v = intIn(k, 0, 1 << 30);
        if (!v.ok()) return v.status();
        c.window_size = *v;
        break;
      }
      case 6: {
        auto v = boolOf(k);
        if (!v.ok()) return v.status();
        c.conversation_mode = *v && version >= ProtocolVersion::k140;
        break;
      }
      case 7: {
        SyncOptions o;
        std::string option_class;
        if (Status s = parseOptions(k, &o, &option_class); !s.ok()) return s;
        // A second Options block is only for SMS; Email's is the one
        // without Class or with Class Email.
        if (option_class.empty() || option_class == "Email") {
          if (++options_seen > 1) return bad("sync.duplicate", "two Options blocks for Email");
          c.options = std::move(o);
          c.has_options = true;
        }
        break;
      }
      case 8:
        if (Status s = parseCommands(k, &c, total_commands); !s.ok()) return s;
        break;
    }
  }
  if (!has_key || c.sync_key.empty() || c.sync_key.size() > 64)
    return bad("sync.missing", "Collection without a SyncKey");
  if (!has_id || c.collection_id.empty() || c.collection_id.size() > 64)
    return bad("sync.missing", "Collection without a CollectionId");
  if (c.sync_key == "0" && c.get_changes.value_or(false))
    return bad("sync.getchanges_with_key0", "GetChanges with SyncKey 0 (CMD §2.2.3.84)");
  return c;
}

// --- cache text ----------------------------------------------------------------

std::string optInt(const std::optional<int>& v) { return v ? std::to_string(*v) : "-"; }

std::optional<int> readOptInt(std::string_view s, bool* ok) {
  if (s == "-") return std::nullopt;
  auto v = parseInt(s);
  if (!v) {
    *ok = false;
    return std::nullopt;
  }
  return static_cast<int>(*v);
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (true) {
    std::size_t end = s.find(sep, pos);
    if (end == std::string_view::npos) {
      out.push_back(s.substr(pos));
      return out;
    }
    out.push_back(s.substr(pos, end - pos));
    pos = end + 1;
  }
}

bool cacheSafe(std::string_view s) {
  return s.find_first_of("\t\n,;") == std::string_view::npos;
}

}  // namespace

bool SyncOptions::operator==(const SyncOptions& o) const {
  if (filter_type != o.filter_type || mime_support != o.mime_support ||
      truncation_code != o.truncation_code || mime_truncation_code != o.mime_truncation_code ||
      conflict != o.conflict || body_preferences.size() != o.body_preferences.size())
    return false;
  for (std::size_t i = 0; i < body_preferences.size(); ++i) {
    const auto& a = body_preferences[i];
    const auto& b = o.body_preferences[i];
    if (a.type != b.type || a.truncation_size != b.truncation_size ||
        a.all_or_none != b.all_or_none || a.preview != b.preview)
      return false;
  }
  return true;
}

items::BodyRequest SyncOptions::bodyRequest() const {
  items::BodyRequest r;
  r.preferences = body_preferences;
  r.mime_support = mime_support;
  if (truncation_code) r.truncation_bytes = items::truncationBytesForCode(*truncation_code);
  if (mime_truncation_code)
    r.mime_truncation_bytes = items::mimeTruncationBytesForCode(*mime_truncation_code);
  return r;
}

Result<SyncRequest> parseSyncRequest(const wbxml::Element* root, ProtocolVersion version) {
  SyncRequest req;
  if (!root) {
    if (version < ProtocolVersion::k121)
      return bad("sync.missing", "a Sync without a body before 12.1");
    req.empty = true;
    return req;
  }
  if (root->tag() != as::Sync) return bad("sync.bad_root", "root is not AirSync:Sync");
  std::size_t total_commands = 0;
  bool has_collections = false;
  for (const wbxml::Element& k : root->children()) {
    const wbxml::Tag t = k.tag();
    if (t == as::Collections) {
      has_collections = true;
      for (const wbxml::Element& c : k.children()) {
        if (c.tag() != as::Collection)
          return bad("sync.bad_value", "unexpected " + wbxml::qualifiedName(c.tag()) + " in Collections");
        auto coll = parseCollection(c, version, &total_commands);
        if (!coll.ok()) return coll.status();
        for (const SyncCollectionRequest& seen : req.collections)
          if (seen.collection_id == coll->collection_id)
            return bad("sync.duplicate", "CollectionId " + coll->collection_id + " twice");
        req.collections.push_back(std::move(*coll));
      }
    } else if (t == as::Wait && version >= ProtocolVersion::k121) {
      auto v = intIn(k, 0, 1 << 30);
      if (!v.ok()) return v.status();
      req.wait_minutes = *v;
    } else if (t == as::HeartbeatInterval && version >= ProtocolVersion::k140) {
      auto v = intIn(k, 0, 1 << 30);
      if (!v.ok()) return v.status();
      req.heartbeat_seconds = *v;
    } else if (t == as::WindowSize) {
      auto v = intIn(k, 0, 1 << 30);
      if (!v.ok()) return v.status();
      req.window_size = *v;
    } else if (t == as::Partial && version >= ProtocolVersion::k121) {
      req.partial = true;
    } else {
      return bad("sync.bad_value", "unexpected " + wbxml::qualifiedName(t) + " in Sync");
    }
  }
  if (req.wait_minutes && req.heartbeat_seconds)
    return bad("sync.wait_and_heartbeat", "both Wait and HeartbeatInterval");
  req.empty = !req.partial && (!has_collections || req.collections.empty());
  if (req.empty && version < ProtocolVersion::k121)
    return bad("sync.missing", "a Sync without Collections before 12.1");
  return req;
}

int syncStatusFor(const Status&) { return 4; }

std::optional<int> waitLimitViolation(const SyncRequest& req) {
  if (req.wait_minutes) {
    if (*req.wait_minutes < 1) return 1;
    if (*req.wait_minutes > 59) return 59;
  }
  if (req.heartbeat_seconds) {
    if (*req.heartbeat_seconds < 60) return 60;
    if (*req.heartbeat_seconds > 3540) return 3540;
  }
  return std::nullopt;
}

// One line per collection, tab-separated:
// id class get_changes window dam conv has_options filter mime trunc mimetrunc
// conflict in_last prefs ("type,trunc,aon,preview;...").
std::string encodeSyncCache(const std::vector<CachedCollection>& collections) {
  std::string out;
  for (const CachedCollection& cc : collections) {
    const SyncCollectionRequest& c = cc.params;
    if (!cacheSafe(c.collection_id) || !cacheSafe(c.class_name) || c.collection_id.empty()) continue;
    const SyncOptions& o = c.options;
    out += c.collection_id + '\t' + (c.class_name.empty() ? "-" : c.class_name) + '\t' +
           (c.get_changes ? (*c.get_changes ? "1" : "0") : "-") + '\t' + optInt(c.window_size) +
           '\t' + (c.deletes_as_moves ? "1" : "0") + '\t' + (c.conversation_mode ? "1" : "0") +
           '\t' + (c.has_options ? "1" : "0") + '\t' + optInt(o.filter_type) + '\t' +
           std::to_string(o.mime_support) + '\t' + optInt(o.truncation_code) + '\t' +
           optInt(o.mime_truncation_code) + '\t' + std::to_string(o.conflict) + '\t' +
           (cc.in_last ? "1" : "0") + '\t';
    bool first = true;
    for (const items::BodyPreference& p : o.body_preferences) {
      if (!first) out += ';';
      first = false;
      out += std::to_string(p.type) + ',' +
             (p.truncation_size ? std::to_string(*p.truncation_size) : std::string("-")) + ',' +
             (p.all_or_none ? "1" : "0") + ',' + std::to_string(p.preview);
    }
    out += '\n';
  }
  return out;
}

std::vector<CachedCollection> decodeSyncCache(std::string_view text) {
  std::vector<CachedCollection> out;
  for (std::string_view line : split(text, '\n')) {
    if (line.empty()) continue;
    std::vector<std::string_view> f = split(line, '\t');
    if (f.size() != 14 || f[0].empty()) continue;
    bool ok = true;
    CachedCollection cc;
    SyncCollectionRequest& c = cc.params;
    SyncOptions& o = c.options;
    c.collection_id = std::string(f[0]);
    if (f[1] != "-") c.class_name = std::string(f[1]);
    if (f[2] != "-") c.get_changes = f[2] == "1";
    c.window_size = readOptInt(f[3], &ok);
    c.deletes_as_moves = f[4] == "1";
    c.conversation_mode = f[5] == "1";
    c.has_options = f[6] == "1";
    o.filter_type = readOptInt(f[7], &ok);
    o.mime_support = readOptInt(f[8], &ok).value_or(0);
    o.truncation_code = readOptInt(f[9], &ok);
    o.mime_truncation_code = readOptInt(f[10], &ok);
    o.conflict = readOptInt(f[11], &ok).value_or(1);
    cc.in_last = f[12] == "1";
    if (!f[13].empty()) {
      for (std::string_view p : split(f[13], ';')) {
        std::vector<std::string_view> v = split(p, ',');
        if (v.size() != 4) {
          ok = false;
          break;
        }
        items::BodyPreference bp;
        bp.type = readOptInt(v[0], &ok).value_or(1);
        if (v[1] != "-") {
          auto t = parseInt(v[1]);
          if (!t || *t < 0 || *t > 0xFFFFFFFFll) ok = false;
          else bp.truncation_size = static_cast<std::uint32_t>(*t);
        }
        bp.all_or_none = v[2] == "1";
        bp.preview = static_cast<std::uint32_t>(readOptInt(v[3], &ok).value_or(0));
        o.body_preferences.push_back(bp);
      }
    }
    if (ok) out.push_back(std::move(cc));
  }
  return out;
}

}  // namespace eas::commands
