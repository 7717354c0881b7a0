#include "core/commands/search_command.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <string>

#include "core/backends/mail_backend.h"
#include "core/base/log.h"
#include "core/commands/sync_device_changes.h"
#include "core/items/backend_meta.h"
#include "core/sync/email_window.h"
#include "core/sync/search_results.h"
#include "storage/metadata_store.h"

namespace eas::commands {
namespace {

namespace se = wbxml::tags::Search;
namespace as = wbxml::tags::AirSync;
namespace asb = wbxml::tags::AirSyncBase;
namespace em = wbxml::tags::Email;

constexpr int kOk = 1;
constexpr int kInvalidRequest = 2;
constexpr int kServerError = 3;
constexpr int kTooComplex = 8;
constexpr int kTimedOut = 10;
// A search that has not collected its hits by then answers Status 10 rather
// than keep the device (and a worker thread) waiting past its HTTP timeout.
constexpr std::int64_t kSearchBudgetMs = 30'000;
constexpr int kFolderSyncRequired = 11;

SearchParse fail(int status, std::string reason) {
  SearchParse p;
  p.store_status = status;
  p.reason = std::move(reason);
  return p;
}

bool parseUint(std::string_view s, std::uint32_t* out) {
  if (s.empty() || s.size() > 10) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// One airsyncbase:BodyPreference: Type, TruncationSize, AllOrNone, Preview
// in this order (AIRS §2.2.2.12); nullopt when it is not.
std::optional<items::BodyPreference> parsePreference(const wbxml::Element& e) {
  items::BodyPreference p;
  int rank = 0;
  bool has_type = false;
  for (const wbxml::Element& c : e.children()) {
    std::uint32_t v = 0;
    if (!parseUint(c.text(), &v)) return std::nullopt;
    int r = 0;
    if (c.tag() == asb::Type) {
      if (v < 1 || v > 4) return std::nullopt;
      p.type = static_cast<int>(v);
      has_type = true;
      r = 1;
    } else if (c.tag() == asb::TruncationSize) {
      p.truncation_size = v;
      r = 2;
    } else if (c.tag() == asb::AllOrNone) {
      if (v > 1) return std::nullopt;
      p.all_or_none = v == 1;
      r = 3;
    } else if (c.tag() == asb::Preview) {
      if (v > 255) return std::nullopt;
      p.preview = v;
      r = 4;
    } else {
      return std::nullopt;
    }
    if (r <= rank) return std::nullopt;
    rank = r;
  }
  if (!has_type) return std::nullopt;
  return p;
}

// GreaterThan / LessThan: <email:DateReceived/><Value>dateTime</Value>.
int parseComparison(const wbxml::Element& e, std::optional<std::int64_t>* out) {
  if (out->has_value()) return kTooComplex;
  bool date_received = false;
  std::optional<std::int64_t> value;
  for (const wbxml::Element& c : e.children()) {
    if (c.tag() == em::DateReceived) {
      date_received = true;
    } else if (c.tag() == se::Value) {
      value = sync::parseEasDateTime(c.text());
      if (!value) return kInvalidRequest;
    } else {
      return kTooComplex;  // another property
    }
  }
  if (!date_received) return kTooComplex;
  if (!value) return kInvalidRequest;
  *out = value;
  return kOk;
}

void writeEmpty(wbxml::Writer& w) { w.empty(se::Result); }

}  // namespace

SearchParse parseMailboxSearch(const wbxml::Element& store) {
  SearchParse out;
  MailboxSearch& s = out.search;
  const wbxml::Element* query = store.child(se::Query);
  if (!query) return fail(kInvalidRequest, "search.no_query");
  const wbxml::Element* conj = nullptr;
  for (const wbxml::Element& c : query->children()) {
    if (c.tag() == se::And && !conj) {
      conj = &c;
    } else if (c.tag() == se::And || c.tag() == se::Or || c.tag() == se::EqualTo ||
               c.tag() == se::FreeText || c.tag() == as::Class || c.tag() == as::CollectionId ||
               c.tag() == se::GreaterThan || c.tag() == se::LessThan) {
      return fail(kTooComplex, "search.too_complex");  // outside And (IT S14_TC02-05)
    } else {
      return fail(kInvalidRequest, "search.bad_query");
    }
  }
  if (!conj) return fail(kInvalidRequest, "search.empty_query");
  bool has_text = false;
  for (const wbxml::Element& c : conj->children()) {
    if (c.tag() == as::Class) {
      s.class_name = std::string(c.text());
    } else if (c.tag() == as::CollectionId) {
      if (c.text().empty()) return fail(kInvalidRequest, "search.bad_collection");
      s.collection_ids.emplace_back(c.text());
    } else if (c.tag() == se::FreeText) {
      if (has_text) return fail(kTooComplex, "search.too_complex");
      has_text = true;
      s.free_text = std::string(c.text());
    } else if (c.tag() == se::GreaterThan || c.tag() == se::LessThan) {
      const int st =
          parseComparison(c, c.tag() == se::GreaterThan ? &s.greater_than : &s.less_than);
      if (st != kOk)
        return fail(st, st == kTooComplex ? "search.too_complex" : "search.bad_datetime");
    } else if (c.tag() == se::And || c.tag() == se::Or || c.tag() == se::EqualTo ||
               c.tag() == se::ConversationId) {
      return fail(kTooComplex, "search.too_complex");
    } else {
      return fail(kInvalidRequest, "search.bad_query");
    }
  }
  if (const wbxml::Element* opts = store.child(se::Options)) {
    std::set<int> types;
    for (const wbxml::Element& c : opts->children()) {
      if (c.tag() == se::Range) {
        auto r = sync::parseSearchRange(c.text());
        if (!r) return fail(kInvalidRequest, "search.bad_range");
        s.range = sync::clampSearchRange(*r);
      } else if (c.tag() == se::DeepTraversal) {
        s.deep_traversal = true;
      } else if (c.tag() == se::RebuildResults) {
        s.rebuild_results = true;
      } else if (c.tag() == asb::BodyPreference) {
        auto p = parsePreference(c);
        if (!p || !types.insert(p->type).second)
          return fail(kInvalidRequest, "search.bad_body_preference");
        s.body.preferences.push_back(*p);
      } else if (c.tag() == as::MIMESupport) {
        std::uint32_t v = 0;
        if (!parseUint(c.text(), &v) || v > 2) return fail(kInvalidRequest, "search.bad_mime_support");
        s.body.mime_support = static_cast<int>(v);
      } else if (c.tag() == se::UserName || c.tag() == se::Password || c.tag() == se::Picture) {
        // DocumentLibrary credentials and GAL pictures: nothing to do here.
      } else {
        return fail(kInvalidRequest, "search.bad_option");
      }
    }
  }
  return out;
}

namespace {

class SearchCommand final : public Command {
 public:
  std::optional<CommandReply> handle(CommandContext& ctx) override {
    const CommandRequest& req = ctx.request();
    CommandReply r;
    if (!req.document) {
      r.status = Status::InvalidArgument("search.no_body", "Search without a body");
      return r;
    }
    const wbxml::Element* store_el = req.document->root().child(se::Store);
    if (!store_el) {
      r.status = Status::InvalidArgument("search.no_store", "Search without a Store");
      return r;
    }
    storage::MetadataStore* store = req.services ? req.services->store : nullptr;
    MailBackendProvider* mail = req.services ? req.services->mail : nullptr;
    if (!store || !mail) {
      log::warn("search: no store or mail backend configured");
      return searchStatus(kServerError);
    }
    const std::string_view name = store_el->childText(se::Name);
    if (name == "GAL") return galReply();
    if (name != "Mailbox") return storeStatus(kInvalidRequest, "search.unsupported_store", req);

    SearchParse parsed = parseMailboxSearch(*store_el);
    if (parsed.store_status != kOk) return storeStatus(parsed.store_status, parsed.reason, req);
    const MailboxSearch& q = parsed.search;

    const storage::DeviceRef ref{req.login, req.query ? req.query->device_id : std::string()};
    auto stored = store->listFolders(ref);
    if (!stored.ok()) {
      log::warn("search: store user=" + req.login + " " + stored.status().toString());
      return storeStatus(kServerError, "search.store", req);
    }
    if (stored->empty()) return storeStatus(kFolderSyncRequired, "search.no_hierarchy", req);

    // The folders searched: the CollectionIds (and their subfolders with
    // DeepTraversal), or all of the device's folders.
    std::vector<const storage::Folder*> folders;
    std::set<std::string> chosen;
    auto add = [&](const storage::Folder& f) {
      if (chosen.insert(f.server_id).second) folders.push_back(&f);
    };
    if (q.collection_ids.empty()) {
      for (const storage::Folder& f : *stored) add(f);
    } else {
      for (const std::string& id : q.collection_ids) {
        auto it = std::find_if(stored->begin(), stored->end(),
                               [&](const storage::Folder& f) { return f.server_id == id; });
        if (it == stored->end())
          return storeStatus(kFolderSyncRequired, "search.unknown_collection", req);
        add(*it);
      }
      if (q.deep_traversal) {
        for (std::size_t i = 0; i < folders.size(); ++i) {  // grows while walked
          const std::string parent = folders[i]->server_id;
          for (const storage::Folder& f : *stored)
            if (f.parent_id == parent) add(f);
        }
      }
    }

    // Only Email is searched here; other classes have no items in mail folders.
    std::vector<sync::SearchHit> hits;
    auto backend = mail->open(req.login, req.password);
    if (q.class_name == "Email") {
      backend::SearchCriteria crit;
      crit.text = q.free_text;
      crit.since = sync::imapSinceFor(q.greater_than);
      crit.before = sync::imapBeforeFor(q.less_than);
      crit.undeleted_only = true;
      backend::FetchRequest dates;
      dates.envelope = false;
      dates.bodyStructure = false;
      const Clock& clock = req.services->clock ? *req.services->clock : Clock::real();
      const std::int64_t deadline = clock.monotonicMs() + kSearchBudgetMs;
      for (const storage::Folder* f : folders) {
        if (clock.monotonicMs() > deadline)
          return storeStatus(kTimedOut, "search.timed_out", req);
        auto uids = backend->searchMessages(f->backend_id, crit);
        if (!uids.ok() && uids.status().reason() == "imap.no_such_folder") continue;  // gone
        if (!uids.ok()) return backendFailure(req, uids.status());
        if (uids->empty()) continue;
        auto meta = backend->fetchMessages(f->backend_id, *uids, dates);
        if (!meta.ok()) return backendFailure(req, meta.status());
        for (const backend::MessageData& d : *meta)
          hits.push_back({f->server_id, f->backend_id, d.uid, d.internalDate});
      }
    }
    sync::refineHits(hits, q.greater_than, q.less_than);
    const auto [begin, end] = sync::pageOf(hits.size(), q.range);

    // Fetch only the page: one UID FETCH per folder.
    std::map<std::string, std::vector<std::uint32_t>> wanted;
    for (std::size_t i = begin; i < end; ++i) wanted[hits[i].folder].push_back(hits[i].uid);
    std::map<std::pair<std::string, std::uint32_t>, backend::MessageData> fetched;
    backend::FetchRequest whole;
    whole.envelope = false;
    whole.bodyStructure = false;
    // As Sync does: a prefix big enough for the requested truncation.
    whole.sections.push_back({"", 0, fetchCapFor(q.body)});
    for (auto& [folder, uids] : wanted) {
      std::sort(uids.begin(), uids.end());
      auto got = backend->fetchMessages(folder, uids, whole);
      if (!got.ok()) return backendFailure(req, got.status());
      for (backend::MessageData& d : *got) fetched.emplace(std::make_pair(folder, d.uid), std::move(d));
    }

    const items::ProtocolVersionView version =
        items::ProtocolVersionView::of(req.capabilities.version);
    CommandReply out;
    wbxml::Writer w(&out.body);
    w.start(se::Search).element(se::Status, kOk).start(se::Response).start(se::Store);
    w.element(se::Status, kOk);
    std::size_t written = 0;
    for (std::size_t i = begin; i < end; ++i) {
      auto it = fetched.find({hits[i].folder, hits[i].uid});
      if (it == fetched.end() || it->second.sections.empty()) continue;  // expunged meanwhile
      const std::string id = sync::itemServerId(hits[i].collection_id, hits[i].uid);
      auto item = items::parseEmail(it->second.sections.front(), items::metaFromBackend(it->second, id));
      if (!item.ok()) {
        log::warn("search: item " + id + " skipped: " + item.status().toString());
        continue;
      }
      w.start(se::Result).element(as::Class, "Email").element(se::LongId, id);
      w.element(as::CollectionId, hits[i].collection_id).start(se::Properties);
      items::writeEmailApplicationData(w, *item, q.body, version);
      w.end().end();
      ++written;
    }
    if (written == 0) {
      writeEmpty(w);
    } else {
      w.element(se::Range, std::to_string(begin) + "-" + std::to_string(begin + written - 1));
    }
    w.element(se::Total, static_cast<std::int64_t>(hits.size()));
    w.end().end().end();
    w.flush();
    out.eas_status = kOk;
    log::info("search: user=" + req.login + " folders=" + std::to_string(folders.size()) +
              " total=" + std::to_string(hits.size()) + " sent=" + std::to_string(written));
    return out;
  }

 private:
  static CommandReply searchStatus(int status) {
    CommandReply r;
    wbxml::Writer w(&r.body);
    w.start(se::Search).element(se::Status, status).end();
    w.flush();
    r.eas_status = status;
    return r;
  }

  static CommandReply storeStatus(int status, const std::string& reason, const CommandRequest& req) {
    log::info("search: store status " + std::to_string(status) + " " + reason + " user=" + req.login);
    CommandReply r;
    wbxml::Writer w(&r.body);
    w.start(se::Search).element(se::Status, kOk).start(se::Response).start(se::Store);
    w.element(se::Status, status).end().end().end();
    w.flush();
    r.eas_status = kOk;
    return r;
  }

  static CommandReply backendFailure(const CommandRequest& req, const Status& st) {
    log::warn("search: backend user=" + req.login + " " + st.toString());
    return storeStatus(kServerError, "search.backend", req);
  }

  static CommandReply galReply() {
    CommandReply r;
    wbxml::Writer w(&r.body);
    w.start(se::Search).element(se::Status, kOk).start(se::Response).start(se::Store);
    w.element(se::Status, kOk);
    writeEmpty(w);
    w.element(se::Total, 0).end().end().end();
    w.flush();
    r.eas_status = kOk;
    return r;
  }
};

}  // namespace

std::unique_ptr<Command> makeSearchCommand() { return std::make_unique<SearchCommand>(); }

}  // namespace eas::commands
