#include "core/commands/get_item_estimate_command.h"

#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "core/backends/mail_backend.h"
#include "core/base/log.h"
#include "core/commands/email_collection.h"
#include "core/commands/itemops_access.h"
#include "core/commands/provision_command.h"  // domainOf
#include "core/commands/sync_request.h"
#include "core/sync/email_window.h"
#include "storage/metadata_store.h"

namespace eas::commands {
namespace {

namespace gie = wbxml::tags::GetItemEstimate;
namespace as = wbxml::tags::AirSync;

// CMD §2.2.3.177.7.
constexpr int kOk = 1;
constexpr int kInvalidCollection = 2;
constexpr int kNotPrimed = 3;
constexpr int kInvalidSyncKey = 4;

// CMD §3.1.5.10 default for Collection elements.
constexpr std::size_t kMaxCollections = 1000;

struct CollectionQuery {
  std::string collection_id;
  std::string sync_key;
  std::optional<int> filter_type;  // absent: the Sync's sticky Options decide
  std::optional<bool> conversation_mode;  // absent: the Sync's cached one decides
};

// Where Sync keeps each collection's sticky Options, and the policy that
// bounds every FilterType (core/commands/sync_command.cpp).

bool parseNumber(std::string_view text, std::uint64_t* out) {
  if (text.empty() || text.size() > 19) return false;
  for (char c : text)
    if (c < '0' || c > '9') return false;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && p == text.data() + text.size();
}

Status badRequest(std::string what) {
  return Status::InvalidArgument("getitemestimate.bad_request", std::move(what));
}

Status parseFilter(const wbxml::Element* el, std::optional<int>* out) {
  if (!el) return Status();
  std::uint64_t v = 0;
  if (!parseNumber(el->text(), &v) || v > 8)
    return badRequest("FilterType '" + std::string(el->text().substr(0, 20)) + "'");
  *out = static_cast<int>(v);
  return Status();
}

Result<std::vector<CollectionQuery>> parseRequest(const wbxml::Document* doc) {
  if (!doc) return badRequest("no body");
  const wbxml::Element* collections = doc->root().child(gie::Collections);
  if (!collections) return badRequest("no Collections");
  std::vector<CollectionQuery> out;
  for (const wbxml::Element& c : collections->children()) {
    if (c.tag() != gie::Collection) return badRequest("unexpected element in Collections");
    if (out.size() == kMaxCollections)
      return Status::LimitExceeded("getitemestimate.too_many_collections",
                                   "more than " + std::to_string(kMaxCollections));
    CollectionQuery q;
    const wbxml::Element* id = c.child(gie::CollectionId);
    const wbxml::Element* key = c.child(as::SyncKey);
    if (!id || id->text().empty() || id->text().size() > 64) return badRequest("CollectionId");
    if (!key) return badRequest("no SyncKey");
    q.collection_id = std::string(id->text());
    q.sync_key = std::string(key->text());
    EAS_RETURN_IF_ERROR(parseFilter(c.child(as::FilterType), &q.filter_type));
    if (const wbxml::Element* conv = c.child(as::ConversationMode))
      q.conversation_mode = conv->text().empty() || conv->text() == "1";
    if (const wbxml::Element* options = c.child(as::Options))
      EAS_RETURN_IF_ERROR(parseFilter(options->child(as::FilterType), &q.filter_type));
    out.push_back(std::move(q));
  }
  if (out.empty()) return badRequest("no Collection");
  return out;
}

struct Estimate {
  int status = kOk;
  std::uint64_t count = 0;
};

// The ConversationMode the last Sync of this collection sent (cached).
bool stickyConversationMode(storage::MetadataStore& store, const storage::DeviceRef& ref,
                            const std::string& collection_id) {
  auto cached = store.getRequestCache(ref, std::string(kSyncCacheName));
  if (!cached.ok()) return false;
  for (const CachedCollection& c : decodeSyncCache(*cached))
    if (c.params.collection_id == collection_id) return c.params.conversation_mode;
  return false;
}

class GetItemEstimateCommand final : public Command {
 public:
  std::optional<CommandReply> handle(CommandContext& ctx) override {
    const CommandRequest& req = ctx.request();
    CommandReply r;
    auto queries = parseRequest(req.document);
    if (!queries.ok()) {
      r.status = queries.status();
      return r;
    }
    storage::MetadataStore* store = req.services ? req.services->store : nullptr;
    MailBackendProvider* provider = req.services ? req.services->mail : nullptr;
    if (!store || !provider) {
      r.status = Status::Internal("itemops.no_services", "no store or mail backend");
      return r;
    }
    const storage::DeviceRef ref{req.login, req.query ? req.query->device_id : std::string()};
    const std::int64_t now = req.services->clock ? req.services->clock->unixSeconds() : Clock::real().unixSeconds();
    std::unique_ptr<backend::MailBackend> mail;
    std::optional<std::optional<std::int64_t>> policy;  // read once, when needed

    std::vector<Estimate> estimates;
    for (const CollectionQuery& q : *queries) {
      Estimate e;
      auto folder = findDeviceFolder(*store, ref, q.collection_id);
      std::uint64_t key = 0;
      if (!folder.ok()) {
        if (!folder.status().isNotFound()) {
          r.status = folder.status();
          return r;
        }
        e.status = kInvalidCollection;
      } else if (!parseNumber(q.sync_key, &key)) {
        e.status = kInvalidSyncKey;
      } else if (key == 0) {
        e.status = kNotPrimed;
      } else {
        auto lookup = store->lookupSyncKey(ref, q.collection_id, key);
        if (!lookup.ok()) {
          if (lookup.status().reason() != "store.unknown_synckey") {
            r.status = lookup.status();
            return r;
          }
          e.status = kInvalidSyncKey;
        } else {
          if (!mail) mail = provider->open(req.login, req.password);
          if (!policy) policy = policyEmailCutoff(*store, ref, now);
          const std::optional<int> filter =
              q.filter_type ? q.filter_type : stickyFilterType(*store, ref, q.collection_id);
          const std::optional<std::int64_t> cutoff = stricterCutoff(
              filter ? emailFilterCutoff(*filter, now) : std::nullopt, *policy);
          // As Sync: ConversationMode pulls older mail of a thread in the window in.
          const bool conversation =
              q.conversation_mode ? *q.conversation_mode
                                  : stickyConversationMode(*store, ref, q.collection_id);
          auto changes =
              pendingEmailChanges(*mail, folder->backend_id, lookup->state, cutoff, conversation);
          std::vector<storage::ItemEntry> known = lookup->state.items;
          if (!changes.ok() && changes.status().reason() == "imap.uidvalidity_changed") {
            // The folder was recreated: the next Sync starts it over, so
            // everything in it (under the filter) is what it would send.
            storage::SyncState fresh;
            changes = pendingEmailChanges(*mail, folder->backend_id, fresh, cutoff, conversation);
            known.clear();
          }
          if (!changes.ok()) {
            log::warn("getitemestimate: user=" + req.login + " collection=" + q.collection_id +
                      " " + changes.status().toString());
            r.status = changes.status();
            return r;
          }
          const sync::EmailWindow all =
              sync::planEmailWindow(*changes, known, std::numeric_limits<int>::max());
          e.count = all.adds.size() + all.changes.size() + all.deletes.size();
        }
      }
      estimates.push_back(e);
    }

    wbxml::Writer w(&r.body);
    w.start(gie::GetItemEstimate);
    for (std::size_t i = 0; i < estimates.size(); ++i) {
      w.start(gie::Response).element(gie::Status, estimates[i].status);
      w.start(gie::Collection).element(gie::CollectionId, (*queries)[i].collection_id);
      if (estimates[i].status == kOk)
        w.element(gie::Estimate, static_cast<std::int64_t>(estimates[i].count));
      w.end().end();
    }
    w.end();
    w.flush();
    r.eas_status = estimates.size() == 1 ? estimates[0].status : kOk;
    return r;
  }
};

}  // namespace

std::unique_ptr<Command> makeGetItemEstimateCommand() {
  return std::make_unique<GetItemEstimateCommand>();
}

}  // namespace eas::commands
