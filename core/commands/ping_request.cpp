#include "core/commands/ping_request.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <sstream>

namespace eas::commands::ping {
namespace {

namespace tp = wbxml::tags::Ping;

Status syntax(std::string_view reason, std::string message = {}) {
  return Status::InvalidArgument(std::string(reason), std::move(message));
}

bool parseInt(std::string_view text, int* out) {
  if (text.empty() || text.size() > 9) return false;
  for (char c : text)
    if (c < '0' || c > '9') return false;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && p == text.data() + text.size();
}

bool knownClass(std::string_view c, const protocol::Capabilities& caps) {
  if (c == "Email" || c == "Calendar" || c == "Contacts" || c == "Tasks") return true;
  // Notes exists only on 14.0+ (protocol.md §4.5).
  return c == "Notes" && caps.version >= protocol::ProtocolVersion::k140;
}

// Cache values are single tokens; ids and classes never hold spaces or
// newlines when they come from a parsed request, but be safe.
bool token(std::string_view s) {
  return !s.empty() && s.find_first_of(" \t\r\n") == std::string_view::npos;
}

}  // namespace

Result<Params> parseRequest(const wbxml::Document* doc, const protocol::Capabilities& caps) {
  Params p;
  if (doc == nullptr) return p;  // the empty Ping: everything from the cache
  const wbxml::Element& root = doc->root();
  if (root.tag() != tp::Ping) return syntax("ping.wrong_root");
  const wbxml::Element* hb = root.child(tp::HeartbeatInterval);
  const wbxml::Element* folders = root.child(tp::Folders);
  if (!hb && !folders) return syntax("ping.empty", "<Ping/> with neither HeartbeatInterval nor Folders");
  if (hb) {
    int v = 0;
    if (!parseInt(hb->text(), &v))
      return syntax("ping.bad_heartbeat", "HeartbeatInterval '" + std::string(hb->text()) + "'");
    p.heartbeat_seconds = v;
  }
  if (folders) {
    std::vector<FolderRef> list;
    std::set<std::string_view> seen;
    for (const wbxml::Element& f : folders->children()) {
      if (f.tag() != tp::Folder) continue;
      std::string_view id = f.childText(tp::Id);
      std::string_view klass = f.childText(tp::Class);
      if (!token(id) || !f.hasChild(tp::Class)) return syntax("ping.bad_folder", "Folder without Id or Class");
      if (!knownClass(klass, caps))
        return syntax("ping.bad_class", "Class '" + std::string(klass) + "'");
      // A duplicate Id is a syntax error (CMD §2.2.3.90).
      if (!seen.insert(id).second) return syntax("ping.duplicate_folder", "Id " + std::string(id));
      list.push_back({std::string(id), std::string(klass)});
    }
    if (list.empty()) return syntax("ping.no_folders", "Folders without a Folder");
    p.folders = std::move(list);
  }
  return p;
}

std::string encodeParams(const Params& p) {
  std::string out;
  if (p.heartbeat_seconds) out += "hb " + std::to_string(*p.heartbeat_seconds) + "\n";
  if (p.folders)
    for (const FolderRef& f : *p.folders) out += "f " + f.klass + " " + f.id + "\n";
  return out;
}

Params decodeParams(std::string_view text) {
  Params p;
  std::vector<FolderRef> folders;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string kind, a, b, extra;
    fields >> kind >> a >> b >> extra;
    if (!extra.empty()) return {};
    if (kind == "hb" && b.empty()) {
      int v = 0;
      if (!parseInt(a, &v)) return {};
      p.heartbeat_seconds = v;
    } else if (kind == "f" && token(a) && token(b)) {
      folders.push_back({b, a});
    } else {
      return {};
    }
  }
  if (!folders.empty()) p.folders = std::move(folders);
  return p;
}

Params merge(const Params& request, const Params& cached) {
  Params out;
  out.heartbeat_seconds = request.heartbeat_seconds ? request.heartbeat_seconds : cached.heartbeat_seconds;
  out.folders = request.folders ? request.folders : cached.folders;
  return out;
}

std::optional<LimitViolation> checkLimits(int heartbeat_seconds, std::size_t folder_count,
                                          int min_heartbeat, int max_heartbeat, int max_folders) {
  if (heartbeat_seconds < min_heartbeat) return LimitViolation{kBadHeartbeat, min_heartbeat};
  if (heartbeat_seconds > max_heartbeat) return LimitViolation{kBadHeartbeat, max_heartbeat};
  if (folder_count > static_cast<std::size_t>(std::max(0, max_folders)))
    return LimitViolation{kTooManyFolders, max_folders};
  return std::nullopt;
}

std::string encodeUnknown(const UnknownCounts& counts) {
  std::string out;
  for (const auto& [id, n] : counts) out += std::to_string(n) + " " + id + "\n";
  return out;
}

UnknownCounts decodeUnknown(std::string_view text) {
  UnknownCounts out;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string n, id, extra;
    fields >> n >> id >> extra;
    int v = 0;
    if (!extra.empty() || !token(id) || !parseInt(n, &v)) return {};
    out[id] = v;
  }
  return out;
}

UnknownDecision decideUnknown(const UnknownCounts& counts, const std::vector<std::string>& known,
                              const std::vector<std::string>& unknown) {
  UnknownDecision d;
  d.counts = counts;
  for (const std::string& id : known) d.changed |= d.counts.erase(id) > 0;
  // Any unknown folder the device has been told about fewer than three
  // times: tell it (again) to FolderSync.
  for (const std::string& id : unknown) {
    auto it = d.counts.find(id);
    if (it == d.counts.end() || it->second < kMaxFolderSyncRequests) d.folder_sync_required = true;
  }
  for (const std::string& id : unknown) {
    int& n = d.counts[id];
    if (d.folder_sync_required) {
      if (n < kMaxFolderSyncRequests) {
        ++n;
        d.changed = true;
      }
      continue;
    }
    // Told three times and still pinging it: leave it out, notice once.
    d.left_out.push_back(id);
    if (n == kMaxFolderSyncRequests) {
      n = kMaxFolderSyncRequests + 1;
      d.notify.push_back(id);
      d.changed = true;
    }
  }
  return d;
}

std::string encodeReply(const Reply& r) {
  std::string out;
  wbxml::Writer w(&out);
  w.start(tp::Ping).element(tp::Status, r.status);
  if (r.status == kChanges && !r.changed_folders.empty()) {
    w.start(tp::Folders);
    for (const std::string& id : r.changed_folders) w.element(tp::Folder, id);
    w.end();
  }
  if (r.heartbeat_seconds) w.element(tp::HeartbeatInterval, *r.heartbeat_seconds);
  if (r.max_folders) w.element(tp::MaxFolders, *r.max_folders);
  w.end();
  w.flush();
  return out;
}

}  // namespace eas::commands::ping
