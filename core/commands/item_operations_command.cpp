#include "core/commands/item_operations_command.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/backends/mail_backend.h"
#include "core/base/log.h"
#include "core/commands/itemops_access.h"
#include "core/commands/itemops_util.h"
#include "core/items/backend_meta.h"
#include "core/items/email_item.h"
#include "core/protocol/query.h"
#include "core/sync/email_window.h"
#include "storage/metadata_store.h"

namespace eas::commands {
namespace {

namespace io = wbxml::tags::ItemOperations;
namespace as = wbxml::tags::AirSync;
namespace asb = wbxml::tags::AirSyncBase;
namespace se = wbxml::tags::Search;

// CMD §2.2.3.177.8.
constexpr int kOk = 1;
constexpr int kProtocolError = 2;
constexpr int kServerError = 3;
constexpr int kNotFound = 6;
constexpr int kBadRange = 8;
constexpr int kStoreUnknown = 9;
constexpr int kTooMany = 11;
constexpr int kConversionFailed = 14;
constexpr int kBadAttachment = 15;

// CMD §3.1.5.10: Fetch + Move + EmptyFolderContents per request.
constexpr std::size_t kMaxOperations = 100;

constexpr std::string_view kMultipartType = "application/vnd.ms-sync.multipart";

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

CommandReply topStatus(int status) {
  CommandReply r;
  wbxml::Writer w(&r.body);
  w.start(io::ItemOperations).element(io::Status, status).end();
  w.flush();
  r.eas_status = status;
  return r;
}

// One request's shared state: the device, a lazily opened backend, the
// multipart parts collected so far.
struct Session {
  const CommandRequest& req;
  storage::MetadataStore& store;
  MailBackendProvider& provider;
  storage::DeviceRef ref;
  std::unique_ptr<backend::MailBackend> mail;
  std::vector<std::string> parts;  // multipart parts after the WBXML (Part 1..n)

  backend::MailBackend& backend() {
    if (!mail) mail = provider.open(req.login, req.password);
    return *mail;
  }
  void warn(std::string_view what, const Status& s) const {
    log::warn("itemoperations: " + std::string(what) + " user=" + req.login +
              " device=" + ref.device_id + " " + s.toString());
  }
};

// ---- Fetch of an attachment -------------------------------------------------

void fetchAttachment(Session& s, wbxml::Writer& w, const wbxml::Element& fetch,
                     std::string_view file_reference) {
  int status = kOk;
  std::optional<ByteRange> range;
  if (const wbxml::Element* options = fetch.child(io::Options)) {
    for (const wbxml::Element& o : options->children()) {
      if (o.tag() != io::Range) {
        status = kProtocolError;  // with FileReference, Range is the only option
        break;
      }
      auto r = parseByteRange(o.text());
      if (!r.ok()) {
        status = kBadRange;
        break;
      }
      range = *r;
    }
  }
  AttachmentData data;
  RangeSlice slice;
  if (status == kOk) {
    auto got = commands::fetchAttachment(s.store, s.backend(), s.ref, file_reference);
    if (!got.ok()) {
      status = got.status().isNotFound() ? kBadAttachment : kServerError;
      if (status == kServerError) s.warn("attachment", got.status());
      else log::info("itemoperations: " + got.status().toString() + " user=" + s.req.login);
    } else {
      data = std::move(got.value());
      slice.length = data.bytes.size();
      if (range) {
        auto sl = sliceFor(*range, data.bytes.size());
        if (!sl.ok()) status = kBadRange;
        else slice = *sl;
      }
    }
  }
  w.start(io::Fetch).element(io::Status, status).element(asb::FileReference, file_reference);
  if (status == kOk) {
    const std::string_view bytes = std::string_view(data.bytes).substr(
        static_cast<std::size_t>(slice.offset), static_cast<std::size_t>(slice.length));
    w.start(io::Properties).element(asb::ContentType, data.content_type);
    if (range) {
      w.element(io::Range, slice.text());
      w.element(io::Total, static_cast<std::int64_t>(data.bytes.size()));
    }
    if (s.req.accept_multipart) {
      s.parts.emplace_back(bytes);
      w.element(io::Part, static_cast<std::int64_t>(s.parts.size()));
    } else {
      w.element(io::Data, protocol::base64Encode(bytes));
    }
    w.end();
  }
  w.end();
}

// ---- Fetch of a whole item ------------------------------------------------------

// Copies `e` into `w`, with each airsyncbase:Body's Data moved into a
// multipart part and replaced by ItemOperations:Part (CMD §2.2.1.10.1,
// AIRS §2.2.2.9: Part sits where Data was).
void emitWithParts(Session& s, wbxml::Writer& w, const wbxml::Element& e, bool in_body) {
  if (in_body && e.tag() == asb::Data) {
    s.parts.emplace_back(e.text());
    w.element(io::Part, static_cast<std::int64_t>(s.parts.size()));  // ItemOperations:Part, also inside Body
    return;
  }
  if (e.firstChild()) {
    w.start(e.tag());
    for (const wbxml::Element& c : e.children()) emitWithParts(s, w, c, e.tag() == asb::Body);
    w.end();
  } else if (e.isOpaque()) {
    w.opaqueElement(e.tag(), e.text());
  } else if (!e.text().empty()) {
    w.element(e.tag(), e.text());
  } else {
    w.empty(e.tag());
  }
}

// The item's Properties; with multipart, the body bytes go to a part.
void writeItemProperties(Session& s, wbxml::Writer& w, const items::EmailItem& item,
                         const items::BodyRequest& body_request) {
  const auto version = items::ProtocolVersionView::of(s.req.capabilities.version);
  if (!s.req.accept_multipart) {
    w.start(io::Properties);
    items::writeEmailApplicationData(w, item, body_request, version);
    w.end();
    return;
  }
  std::string scratch;
  {
    wbxml::Writer sw(&scratch);
    sw.start(io::Properties);
    items::writeEmailApplicationData(sw, item, body_request, version);
    sw.end();
    sw.flush();
  }
  auto doc = wbxml::decode(scratch);
  if (!doc.ok()) {  // our own encoder's output: a bug, but still answer inline
    log::error("itemoperations: re-reading Properties failed " + doc.status().toString());
    w.start(io::Properties);
    items::writeEmailApplicationData(w, item, body_request, version);
    w.end();
    return;
  }
  emitWithParts(s, w, doc->root(), false);
}

void fetchItem(Session& s, wbxml::Writer& w, const wbxml::Element& fetch) {
  const wbxml::Element* long_id_el = fetch.child(se::LongId);
  std::string collection(fetch.childText(as::CollectionId));
  std::string server_id(fetch.childText(as::ServerId));
  const std::string long_id(long_id_el ? long_id_el->text() : std::string_view());
  if (long_id_el) {
    // Our LongIds are ServerIds ("<collection>:<uid>"), valid in any folder.
    server_id = long_id;
    const std::size_t colon = long_id.rfind(':');
    collection = colon == std::string::npos ? std::string() : long_id.substr(0, colon);
  }

  int status = kOk;
  const wbxml::Element* options = fetch.child(io::Options);
  items::BodyRequest body_request;
  if ((!long_id_el && (collection.empty() || server_id.empty())) ||
      (options && options->hasChild(io::Range))) {
    status = kProtocolError;  // Range is for attachments only
  } else if (auto br = parseBodyRequest(options); !br.ok()) {
    status = kProtocolError;
  } else {
    body_request = std::move(br.value());
  }

  std::optional<items::EmailItem> item;
  if (status == kOk) {
    std::optional<std::uint32_t> uid = sync::itemUid(collection, server_id);
    auto folder = findDeviceFolder(s.store, s.ref, collection);
    if (!folder.ok()) {
      status = folder.status().isNotFound() ? kNotFound : kServerError;
      if (status == kServerError) s.warn("store", folder.status());
    } else if (!uid) {
      status = kNotFound;
    } else {
      backend::FetchRequest what;
      what.envelope = false;
      what.bodyStructure = false;
      what.sections.push_back({"", 0, std::nullopt});
      auto got = s.backend().fetchMessages(folder->backend_id, {*uid}, what);
      if (!got.ok()) {
        status = got.status().reason() == "imap.no_such_folder" ? kNotFound : kServerError;
        if (status == kServerError) s.warn("fetch", got.status());
      } else if (got->empty() || got->front().sections.empty()) {
        status = kNotFound;
      } else {
        const backend::MessageData& m = got->front();
        auto parsed = items::parseEmail(m.sections.front(), items::metaFromBackend(m, server_id));
        if (!parsed.ok()) {
          status = kConversionFailed;
          s.warn("parse " + server_id, parsed.status());
        } else {
          if (!parsed->warnings.empty())
            log::info("itemoperations: " + server_id + " parsed with " +
                      std::to_string(parsed->warnings.size()) + " warning(s), first " +
                      parsed->warnings.front());
          item = std::move(parsed.value());
        }
      }
    }
  }

  w.start(io::Fetch).element(io::Status, status);
  if (long_id_el) {
    w.element(se::LongId, long_id);
  } else {
    if (!collection.empty()) w.element(as::CollectionId, collection);
    if (!server_id.empty()) w.element(as::ServerId, server_id);
  }
  if (item) {
    w.element(as::Class, "Email");
    writeItemProperties(s, w, *item, body_request);
  }
  w.end();
}

void fetchOperation(Session& s, wbxml::Writer& w, const wbxml::Element& fetch) {
  const wbxml::Element* store = fetch.child(io::Store);
  int status = kOk;
  if (!store) status = kProtocolError;
  else if (!equalsIgnoreCase(store->text(), "Mailbox")) status = kStoreUnknown;
  const wbxml::Element* file_reference = fetch.child(asb::FileReference);
  if (status == kOk && file_reference) {
    fetchAttachment(s, w, fetch, file_reference->text());
    return;
  }
  if (status == kOk && (fetch.hasChild(as::ServerId) || fetch.hasChild(se::LongId) ||
                        fetch.hasChild(as::CollectionId))) {
    fetchItem(s, w, fetch);
    return;
  }
  if (status == kOk) status = kProtocolError;  // nothing to fetch named
  w.start(io::Fetch).element(io::Status, status).end();
}

// ---- EmptyFolderContents ------------------------------------------------------

void emptyFolder(Session& s, wbxml::Writer& w, const wbxml::Element& op) {
  const std::string collection(op.childText(as::CollectionId));
  const wbxml::Element* options = op.child(io::Options);
  const bool subfolders = options && options->hasChild(io::DeleteSubFolders);
  int status = kOk;
  if (collection.empty()) status = kProtocolError;
  std::optional<storage::Folder> folder;
  if (status == kOk) {
    auto f = findDeviceFolder(s.store, s.ref, collection);
    if (!f.ok()) {
      status = f.status().isNotFound() ? kNotFound : kServerError;
      if (status == kServerError) s.warn("store", f.status());
    } else {
      folder = std::move(f.value());
    }
  }
  if (status == kOk) {
    backend::MailBackend& mail = s.backend();
    auto uids = mail.searchMessages(folder->backend_id, backend::SearchCriteria{});
    Status done = uids.ok() ? Status() : uids.status();
    if (done.ok() && !uids->empty()) done = mail.deleteMessages(folder->backend_id, *uids);
    if (done.ok() && subfolders) {
      auto all = mail.listFolders();
      if (!all.ok()) {
        done = all.status();
      } else {
        std::vector<std::string> children;
        for (const backend::FolderInfo& f : *all) {
          if (f.delimiter == 0) continue;
          const std::string prefix = folder->backend_id + f.delimiter;
          if (f.name.size() > prefix.size() && f.name.compare(0, prefix.size(), prefix) == 0)
            children.push_back(f.name);
        }
        // Deepest first, so a parent is empty when it goes.
        std::sort(children.begin(), children.end(),
                  [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
        for (const std::string& name : children) {
          done = mail.deleteFolder(name);
          if (!done.ok()) break;
        }
      }
    }
    if (!done.ok()) {
      status = done.reason() == "imap.no_such_folder" ? kNotFound : kServerError;
      s.warn("empty folder", done);
    }
  }
  w.start(io::EmptyFolderContents).element(io::Status, status);
  if (!collection.empty()) w.element(as::CollectionId, collection);
  w.end();
}

class ItemOperationsCommand final : public Command {
 public:
  std::optional<CommandReply> handle(CommandContext& ctx) override {
    const CommandRequest& req = ctx.request();
    if (!req.document) return topStatus(kProtocolError);
    const wbxml::Element& root = req.document->root();
    std::size_t operations = 0;
    for (const wbxml::Element& op : root.children()) {
      if (op.tag() != io::Fetch && op.tag() != io::EmptyFolderContents && op.tag() != io::Move)
        return topStatus(kProtocolError);
      ++operations;
    }
    if (operations == 0) return topStatus(kProtocolError);
    if (operations > kMaxOperations) return topStatus(kTooMany);

    storage::MetadataStore* store = req.services ? req.services->store : nullptr;
    MailBackendProvider* provider = req.services ? req.services->mail : nullptr;
    if (!store || !provider) {
      CommandReply r;
      r.status = Status::Internal("itemops.no_services", "no store or mail backend");
      return r;
    }
    Session s{req, *store, *provider,
              storage::DeviceRef{req.login, req.query ? req.query->device_id : std::string()},
              nullptr, {}};

    CommandReply r;
    std::string wbxml_body;
    {
      wbxml::Writer w(&wbxml_body);
      w.start(io::ItemOperations).element(io::Status, kOk).start(io::Response);
      for (const wbxml::Element& op : root.children()) {
        if (op.tag() == io::Fetch) {
          fetchOperation(s, w, op);
        } else if (op.tag() == io::EmptyFolderContents) {
          emptyFolder(s, w, op);
        } else {
          // Move (conversations, 14.0+) is not implemented: say it failed.
          w.start(io::Move).element(io::Status, kServerError).end();
        }
      }
      w.end().end();
      w.flush();
    }
    r.eas_status = kOk;
    if (!req.accept_multipart) {
      r.body = std::move(wbxml_body);
      return r;
    }
    std::vector<std::string_view> views;
    views.reserve(s.parts.size() + 1);
    views.push_back(wbxml_body);
    for (const std::string& p : s.parts) views.push_back(p);
    auto multipart = buildMultipart(views);
    if (!multipart.ok()) {
      log::warn("itemoperations: " + multipart.status().toString() + " user=" + req.login);
      return topStatus(kTooMany);  // "requested data size too large"
    }
    r.body = std::move(multipart.value());
    r.content_type = std::string(kMultipartType);
    return r;
  }
};

}  // namespace

std::unique_ptr<Command> makeItemOperationsCommand() {
  return std::make_unique<ItemOperationsCommand>();
}

}  // namespace eas::commands
