#include "core/commands/sync_drafts.h"

#include <algorithm>
#include <optional>

#include "core/base/log.h"
#include "core/protocol/query.h"
#include "core/items/compose_mime.h"
#include "core/items/draft_mime.h"
#include "core/items/email_item.h"
#include "core/sync/email_window.h"

namespace eas::commands {
namespace {

namespace em = wbxml::tags::Email;
namespace em2 = wbxml::tags::Email2;
namespace asb = wbxml::tags::AirSyncBase;

constexpr int kConversionError = 6;
constexpr int kNotFound = 8;
constexpr int kInvalidRecipients = 183;  // CMD §2.2.2 (16.0+)
constexpr std::size_t kMaxAttachmentsPerCommand = 100;
constexpr std::size_t kMaxClientId = 64;

// What the ApplicationData asks of the draft.
struct DraftEdit {
  items::DraftFields fields;
  std::vector<items::DraftAttachment> add;
  std::vector<std::string> delete_refs;  // FileReferences
};

// Content as text (the XML form, or a client that did not use opaque):
// base64, line breaks allowed. Nullopt when it is not base64.
std::optional<std::string> fromBase64(std::string_view in) {
  std::string packed;
  packed.reserve(in.size());
  for (char c : in)
    if (c != ' ' && c != '\r' && c != '\n' && c != '\t') packed += c;
  return protocol::base64Decode(packed);
}

Status badAttachment(std::string why) {
  return Status::InvalidArgument("sync.bad_attachment", std::move(why));
}

Result<DraftEdit> readEdit(const wbxml::Element& data, bool is_add, const DraftContext& ctx) {
  DraftEdit e;
  items::DraftFields& f = e.fields;
  f.from = ctx.user_address;
  f.to = std::string(data.childText(em::To));
  f.cc = std::string(data.childText(em::Cc));
  f.bcc = std::string(data.childText(em2::Bcc));
  f.subject = std::string(data.childText(em::Subject));
  f.now = ctx.now;
  const std::size_t at = ctx.user_address.rfind('@');
  f.message_id_host = at == std::string::npos ? "localhost" : ctx.user_address.substr(at + 1);
  if (const wbxml::Element* b = data.child(asb::Body)) {
    f.html = b->childText(asb::Type) == "2";
    f.body = std::string(b->childText(asb::Data));
  } else if (is_add) {
    f.body = std::string();
  }  // a Change without Body keeps the old one (AIRS §2.2.2.9)
  const wbxml::Element* atts = data.child(asb::Attachments);
  if (!atts) return e;
  for (const wbxml::Element& x : atts->children()) {
    if (e.add.size() + e.delete_refs.size() >= kMaxAttachmentsPerCommand)
      return badAttachment("more than " + std::to_string(kMaxAttachmentsPerCommand) + " attachments");
    if (x.tag() == asb::Delete) {
      if (is_add) return badAttachment("Attachments/Delete in an Add");
      const std::string ref(x.childText(asb::FileReference));
      if (ref.empty()) return badAttachment("Delete without FileReference");
      e.delete_refs.push_back(ref);
      continue;
    }
    if (x.tag() != asb::Add) return badAttachment("unexpected " + wbxml::qualifiedName(x.tag()));
    items::DraftAttachment a;
    a.client_id = std::string(x.childText(asb::ClientId));
    a.display_name = std::string(x.childText(asb::DisplayName));
    const std::string method(x.childText(asb::Method));
    const wbxml::Element* content = x.child(asb::Content);
    if (a.client_id.empty() || a.client_id.size() > kMaxClientId) return badAttachment("Add without a valid ClientId");
    if (a.display_name.empty()) return badAttachment("Add without DisplayName");
    if (method.size() != 1 || method[0] < '1' || method[0] > '6') return badAttachment("Add without a valid Method");
    if (!content) return badAttachment("Add without Content");
    a.method = method[0] - '0';
    if (content->isOpaque()) {
      a.content = std::string(content->text());  // byte array (DTYPE §2.7.1)
    } else {
      auto decoded = fromBase64(content->text());
      if (!decoded) return badAttachment("Content is neither opaque nor base64");
      a.content = std::move(*decoded);
    }
    a.content_type = std::string(x.childText(asb::ContentType));
    a.content_id = std::string(x.childText(asb::ContentId));
    a.content_location = std::string(x.childText(asb::ContentLocation));
    a.is_inline = x.childText(asb::IsInline) == "1";
    for (const items::DraftAttachment& o : e.add)
      if (o.client_id == a.client_id) return badAttachment("ClientId " + a.client_id + " twice");
    e.add.push_back(std::move(a));
  }
  return e;
}

// The IMAP sections of this draft's attachments that the FileReferences
// name; an error for one that is not of this draft.
Result<std::vector<std::string>> sectionsOf(const std::vector<std::string>& refs,
                                            const std::string& server_id) {
  std::vector<std::string> out;
  for (const std::string& r : refs) {
    auto parsed = items::parseFileReference(r);
    if (!parsed || parsed->first != server_id)
      return Status::NotFound("sync.unknown_attachment", "FileReference '" + r.substr(0, 64) +
                                                             "' is not of " + server_id);
    out.push_back(parsed->second);
  }
  return out;
}

Result<std::string> fetchDraft(const DraftContext& ctx, std::uint32_t uid) {
  backend::FetchRequest what;
  what.envelope = false;
  what.bodyStructure = false;
  what.sections.push_back({"", 0, std::nullopt});
  auto got = ctx.mail->fetchMessages(ctx.folder, {uid}, what);
  if (!got.ok()) return got.status();
  if (got->empty() || got->front().sections.empty() || got->front().sections[0].empty())
    return Status::NotFound("sync.draft_gone", "no draft at UID " + std::to_string(uid));
  return std::move(got->front().sections[0]);
}

// SMTP and preparation failures as ComposeMail answers them (CMD §2.2.2).
int sendStatusFor(const Status& s) {
  const std::string& r = s.reason();
  if (r == "compose.no_recipients" || r == "smtp.no_recipients") return kInvalidRecipients;
  if (r == "smtp.too_large") return 122;
  if (r == "smtp.unavailable" || r == "smtp.temporary" || r == "smtp.rejected" ||
      r == "smtp.auth_failed" || r == "smtp.bad_address" || r == "smtp.protocol")
    return 120;
  return 110;
}

std::string sentFolder(const DraftContext& ctx) {
  if (!ctx.sent_folder.empty()) return ctx.sent_folder;
  auto folders = ctx.mail->listFolders();
  if (folders.ok())
    for (const backend::FolderInfo& f : *folders)
      if (f.role == backend::FolderRole::kSent && f.selectable) return f.name;
  return {};
}

bool isUnavailable(const Status& s) { return s.reason() == "imap.unavailable"; }

// Submits the stored draft; on success its Sent copy is APPENDed and the
// draft expunged. The outcome's status says what the device is told.
void sendDraft(const DraftContext& ctx, const std::string& server_id, std::string_view mime,
               std::uint32_t uid, DraftOutcome* out) {
  auto fail = [&](int status, const Status& why) {
    log::warn("sync: draft " + server_id + " not sent, kept in Drafts: status=" +
              std::to_string(status) + " user=" + ctx.user_address + " " + why.toString());
    out->status = status;
  };
  if (!ctx.smtp)
    return fail(110, Status::Internal("sync.send_not_configured", "no SMTP submitter"));
  items::OutgoingOptions opts;
  opts.user_address = ctx.user_address;
  opts.now = ctx.now;
  const std::size_t at = ctx.user_address.rfind('@');
  opts.message_id_host = at == std::string::npos ? "localhost" : ctx.user_address.substr(at + 1);
  auto prepared = items::prepareOutgoing(mime, opts);
  if (!prepared.ok()) {
    if (prepared.status().reason() == "compose.no_recipients")
      return fail(kInvalidRecipients,
                  Status::InvalidArgument("sync.draft_no_recipients", "no usable To, Cc or Bcc"));
    return fail(sendStatusFor(prepared.status()), prepared.status());
  }
  backend::Submission sub;
  sub.envelope_from = prepared->envelope_from;
  sub.recipients = prepared->recipients;
  sub.message = prepared->message;
  sub.login = ctx.user_address;
  sub.password = ctx.password;
  if (Status s = ctx.smtp->submit(sub); !s.ok()) return fail(sendStatusFor(s), s);
  log::info("sync: draft " + server_id + " sent user=" + ctx.user_address + " recipients=" +
            std::to_string(sub.recipients.size()) + " bytes=" + std::to_string(sub.message.size()));
  out->sent = true;
  out->attachments.clear();  // their FileReferences name a draft that is gone
  // After this point the mail is gone: problems are logged, not answered.
  const std::string sent = sentFolder(ctx);
  if (sent.empty()) {
    log::warn("sync: draft " + server_id + " sent, but no Sent folder for the copy user=" +
              ctx.user_address);
  } else if (auto copy = ctx.mail->appendMessage(sent, prepared->sent_copy, backend::kFlagSeen);
             !copy.ok()) {
    log::warn("sync: draft " + server_id + " sent, but the Sent copy failed: " +
              copy.status().toString());
  }
  if (Status s = ctx.mail->deleteMessages(ctx.folder, {uid}); !s.ok())
    log::warn("sync: draft " + server_id + " sent, but not removed from Drafts: " + s.toString());
}

}  // namespace

bool changesDraftContent(const wbxml::Element& data) {
  for (wbxml::Tag t : {em::To, em::Cc, em2::Bcc, em::Subject, asb::Body, asb::Attachments})
    if (data.hasChild(t)) return true;
  return false;
}

Result<DraftOutcome> applyDraftCommand(const DraftContext& ctx, const SyncClientCommand& c,
                                       std::uint32_t previous_uid) {
  DraftOutcome out;
  const bool is_add = previous_uid == 0;
  const std::string old_sid = is_add ? std::string() : sync::itemServerId(ctx.collection_id, previous_uid);
  const std::string name = is_add ? "new draft " + c.client_id : "draft " + old_sid;
  auto refuse = [&](int status, const Status& why) {
    log::info("sync: " + name + " refused: status=" + std::to_string(status) + " user=" +
              ctx.user_address + " " + why.toString());
    out.status = status;
    return out;
  };

  const bool rebuild = is_add || changesDraftContent(*c.application_data);
  std::string mime;           // the draft as stored now
  std::uint32_t uid = previous_uid;
  if (rebuild) {
    auto edit = readEdit(*c.application_data, is_add, ctx);
    if (!edit.ok()) return refuse(kConversionError, edit.status());
    std::string previous;
    std::vector<std::string> drop;
    if (!is_add) {
      auto sections = sectionsOf(edit->delete_refs, old_sid);
      if (!sections.ok()) return refuse(kNotFound, sections.status());
      drop = std::move(*sections);
      auto old = fetchDraft(ctx, previous_uid);
      if (!old.ok()) {
        if (isUnavailable(old.status())) return old.status();
        return refuse(kNotFound, old.status());
      }
      previous = std::move(*old);
    }
    auto built = items::buildDraft(edit->fields, previous, drop, edit->add);
    if (!built.ok()) {
      const bool unknown = built.status().reason() == "draft.unknown_attachment";
      return refuse(unknown ? kNotFound : kConversionError,
                    unknown ? Status::NotFound("sync.unknown_attachment", built.status().message())
                            : built.status());
    }
    auto appended = ctx.mail->appendMessage(ctx.folder, built->message,
                                            backend::kFlagDraft | backend::kFlagSeen);
    if (!appended.ok() && isUnavailable(appended.status())) return appended.status();
    if (!appended.ok() || *appended == 0)
      return refuse(kConversionError,
                    Status::Internal("sync.draft_not_stored",
                                     appended.ok() ? "no UIDPLUS" : appended.status().toString()));
    uid = *appended;
    out.uid = uid;
    const std::string sid = sync::itemServerId(ctx.collection_id, uid);
    for (std::size_t i = 0; i < edit->add.size() && i < built->added_sections.size(); ++i)
      out.attachments.push_back({edit->add[i].client_id, items::fileReference(sid, built->added_sections[i])});
    if (!is_add) {
      // The old draft goes; the item map keeps it, so the device gets its Delete.
      if (Status s = ctx.mail->deleteMessages(ctx.folder, {previous_uid}); !s.ok()) {
        if (isUnavailable(s)) return s;
        log::warn("sync: draft " + old_sid + " replaced by " + sid + " but not expunged: " + s.toString());
      }
    }
    log::info("sync: " + name + " stored as " + sid + " attachments+" +
              std::to_string(edit->add.size()) + "-" + std::to_string(drop.size()) +
              " user=" + ctx.user_address);
    mime = std::move(built->message);
  }
  if (!c.send) return out;
  if (!rebuild) {
    auto stored = fetchDraft(ctx, uid);
    if (!stored.ok()) {
      if (isUnavailable(stored.status())) return stored.status();
      return refuse(kNotFound, stored.status());
    }
    mime = std::move(*stored);
  }
  sendDraft(ctx, sync::itemServerId(ctx.collection_id, uid), mime, uid, &out);
  return out;
}

}  // namespace eas::commands
