#include "core/commands/compose_command.h"

#include <cctype>
#include <optional>
#include <vector>

#include "core/backends/mail_backend.h"
#include "core/backends/mail_submitter.h"
#include "core/base/log.h"
#include "core/commands/command_table.h"
#include "core/commands/dispatcher.h"
#include "core/items/compose_mime.h"
#include "core/sync/email_window.h"
#include "storage/metadata_store.h"

namespace eas::commands {
namespace {

namespace cm = wbxml::tags::ComposeMail;
namespace asb = wbxml::tags::AirSyncBase;

// A claimed ClientId, released unless keep() is called (the message went):
// every failure path between claim and submission gives it back.
class ClientIdClaim {
 public:
  ClientIdClaim() = default;
  ClientIdClaim(storage::MetadataStore* store, storage::DeviceRef ref, std::string id)
      : store_(store), ref_(std::move(ref)), id_(std::move(id)) {}
  ClientIdClaim(const ClientIdClaim&) = delete;
  ClientIdClaim& operator=(const ClientIdClaim&) = delete;
  ~ClientIdClaim() {
    if (!store_ || kept_) return;
    Status s = store_->releaseClientId(ref_, id_);
    if (!s.ok())
      log::warn("compose: releasing ClientId " + id_ + " failed; a retry will answer 118 user=" +
                ref_.user + " " + s.toString());
  }
  void keep() { kept_ = true; }

 private:
  storage::MetadataStore* store_ = nullptr;
  storage::DeviceRef ref_;
  std::string id_;
  bool kept_ = false;
};

std::string_view kindName(ComposeKind k) {
  switch (k) {
    case ComposeKind::kSendMail: return "SendMail";
    case ComposeKind::kSmartReply: return "SmartReply";
    case ComposeKind::kSmartForward: return "SmartForward";
  }
  return "?";
}

wbxml::Tag rootTag(ComposeKind k) {
  switch (k) {
    case ComposeKind::kSendMail: return cm::SendMail;
    case ComposeKind::kSmartReply: return cm::SmartReply;
    case ComposeKind::kSmartForward: return cm::SmartForward;
  }
  return cm::SendMail;
}

ComposeFailure fail(int eas_status, Status status) { return ComposeFailure{eas_status, std::move(status)}; }

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// "2026-11-30T10:00:00.000Z" (DTYPE dateTime); the fraction and zone are optional.
bool looksLikeDateTime(std::string_view s) {
  if (s.size() < 19 || s.size() > 30) return false;
  for (std::size_t i = 0; i < 19; ++i) {
    const char c = s[i];
    const bool want_digit = !(i == 4 || i == 7 || i == 10 || i == 13 || i == 16);
    if (want_digit ? !std::isdigit(static_cast<unsigned char>(c))
                   : c != (i == 10 ? 'T' : (i < 10 ? '-' : ':')))
      return false;
  }
  return true;
}

std::optional<std::uint32_t> parseUidText(std::string_view s) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v == 0 || v > 0xFFFFFFFFull) return std::nullopt;
  return static_cast<std::uint32_t>(v);
}

// "<collection>:<uid>" split at the last ':'.
std::optional<SourceRef> splitServerId(std::string_view id) {
  const std::size_t colon = id.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  auto uid = parseUidText(id.substr(colon + 1));
  if (!uid) return std::nullopt;
  return SourceRef{std::string(id.substr(0, colon)), *uid};
}

class ComposeCommand final : public Command {
 public:
  explicit ComposeCommand(ComposeKind kind) : kind_(kind) {}

  std::optional<CommandReply> handle(CommandContext& ctx) override {
    const CommandRequest& req = ctx.request();
    ComposeRequest r;
    if (auto f = parseComposeRequest(req, kind_, &r)) return failed(req, r, *f, "request");

    const Services* sv = req.services;
    if (!sv || !sv->smtp || !sv->store || !sv->mail)
      return failed(req, r,
                    fail(110, Status::Internal("compose.not_configured",
                                               "no SMTP submitter, store or mail backend")),
                    "services");
    if (!r.account_id.empty() && !equalsIgnoreCase(r.account_id, req.login))
      return failed(req, r, fail(166, Status::InvalidArgument("compose.bad_account_id", r.account_id)),
                    "AccountId");

    const storage::DeviceRef ref{req.login, req.query ? req.query->device_id : std::string()};
    // Claimed before anything can be sent: a concurrent duplicate in another
    // worker finds the row and answers 118 (CMD §2.2.3.28.1).
    std::optional<ClientIdClaim> claim;
    if (!r.client_id.empty()) {
      auto claimed = sv->store->claimClientId(ref, r.client_id, kRememberedClientIds);
      if (!claimed.ok()) return failed(req, r, fail(110, claimed.status()), "store");
      if (!*claimed) {
        log::info(std::string(kindName(kind_)) + ": ClientId " + r.client_id +
                  " already sent; not sent again user=" + req.login + " device=" + ref.device_id);
        return statusReply(118);
      }
      claim.emplace(sv->store, ref, r.client_id);
    }

    auto backend = sv->mail->open(req.login, req.password);
    std::string original, folder;
    std::uint32_t uid = 0;
    const bool needs_original = kind_ != ComposeKind::kSendMail;
    if (needs_original) {
      auto src = sourceRef(r);
      if (!src) return failed(req, r, fail(150, Status::NotFound("compose.no_source_item", "")), "Source");
      auto folders = sv->store->listFolders(ref);
      if (!folders.ok()) return failed(req, r, fail(110, folders.status()), "store");
      for (const storage::Folder& f : *folders)
        if (f.server_id == src->collection_id) folder = f.backend_id;
      if (folder.empty())
        return failed(req, r,
                      fail(150, Status::NotFound("compose.unknown_collection", src->collection_id)),
                      "Source");
      uid = src->uid;
      // Fetched even with ReplaceMime: an unknown item is 150 either way.
      auto msg = backend->fetchFullMessage(folder, uid);
      if (!msg.ok()) {
        const bool gone = msg.status().code() == StatusCode::kNotFound;
        return failed(req, r, gone ? fail(150, msg.status()) : fail(110, msg.status()), "original");
      }
      original = std::move(*msg);
      if (original.empty())
        return failed(req, r, fail(150, Status::NotFound("compose.no_source_item", "empty")),
                      "original");
    }

    items::OutgoingOptions opts;
    opts.user_address = req.login;
    opts.now = sv->clock->unixSeconds();
    const std::size_t at = req.login.rfind('@');
    opts.message_id_host = at == std::string::npos ? "localhost" : req.login.substr(at + 1);
    Result<items::OutgoingMessage> out = Status::Internal("compose.failed", "");
    if (r.body_form) {
      items::BodyForward fwd;
      fwd.html = r.body_html;
      fwd.note = std::string(r.body_data);
      for (const ComposeRequest::Forwardee& f : r.forwardees) fwd.to.push_back({f.name, f.email});
      out = items::buildForward(fwd, opts, original);
    } else {
      items::OriginalUse use = items::OriginalUse::kNone;
      if (!r.replace_mime && kind_ == ComposeKind::kSmartReply) use = items::OriginalUse::kReply;
      if (!r.replace_mime && kind_ == ComposeKind::kSmartForward)
        use = items::OriginalUse::kForward;
      out = items::prepareOutgoing(r.mime, opts, original, use);
    }
    if (!out.ok()) return failed(req, r, failureFor(out.status()), "MIME");

    backend::Submission sub;
    sub.envelope_from = out->envelope_from;
    sub.recipients = out->recipients;
    sub.message = out->message;
    sub.login = req.login;
    sub.password = req.password;
    if (Status s = sv->smtp->submit(sub); !s.ok()) return failed(req, r, failureFor(s), "SMTP");
    log::info(std::string(kindName(kind_)) + ": submitted user=" + req.login + " device=" +
              ref.device_id + " recipients=" + std::to_string(sub.recipients.size()) +
              " bytes=" + std::to_string(sub.message.size()));

    // After this point the mail is gone: problems are logged, not answered.
    if (claim) claim->keep();
    if (needs_original) {
      const std::uint32_t flag =
          kind_ == ComposeKind::kSmartReply ? backend::kFlagAnswered : backend::kFlagForwarded;
      if (Status s = backend->setFlags(folder, {uid}, flag); !s.ok()) warn(req, "flagging the original", s);
    }
    if (r.save_in_sent) saveInSent(req, *sv, ref, *backend, out->sent_copy);

    CommandReply ok;  // HTTP 200, empty body
    ok.content_type.clear();
    return ok;
  }

 private:
  void warn(const CommandRequest& req, std::string_view what, const Status& s) const {
    log::warn(std::string(kindName(kind_)) + ": sent, but " + std::string(what) + " failed user=" +
              req.login + " " + s.toString());
  }

  void saveInSent(const CommandRequest& req, const Services& sv, const storage::DeviceRef& ref,
                  backend::MailBackend& backend, const std::string& copy) const {
    std::string sent;
    if (auto folders = backend.listFolders(); folders.ok()) {
      for (const backend::FolderInfo& f : *folders)
        if (f.role == backend::FolderRole::kSent && f.selectable) {
          sent = f.name;
          break;
        }
    }
    if (sent.empty()) {
      if (auto stored = sv.store->listFolders(ref); stored.ok())
        for (const storage::Folder& f : *stored)
          if (f.type == 5) sent = f.backend_id;
    }
    if (sent.empty()) {
      warn(req, "saving in Sent Items", Status::NotFound("compose.no_sent_folder", "no Sent folder"));
      return;
    }
    auto appended = backend.appendMessage(sent, copy, backend::kFlagSeen);
    if (!appended.ok()) warn(req, "saving in Sent Items", appended.status());
  }

  CommandReply statusReply(int eas_status) const {
    CommandReply reply;
    wbxml::Writer w(&reply.body);
    w.start(rootTag(kind_)).element(cm::Status, std::int64_t{eas_status}).end();
    w.flush();
    reply.eas_status = eas_status;
    return reply;
  }

  CommandReply failed(const CommandRequest& req, const ComposeRequest& r, const ComposeFailure& f,
                      std::string_view step) const {
    log::warn(std::string(kindName(kind_)) + ": not sent (" + std::string(step) + ") status=" +
              std::to_string(f.eas_status) + " user=" + req.login +
              (r.client_id.empty() ? std::string() : " client_id=" + r.client_id) + " " +
              f.status.toString());
    if (req.capabilities.wbxml_common_status) return statusReply(f.eas_status);
    CommandReply reply;
    reply.status = f.status.ok() ? Status::Internal("compose.failed", "") : f.status;
    reply.eas_status = f.eas_status;
    return reply;
  }

  const ComposeKind kind_;
};

bool usableForwardeeAddress(std::string_view a) {
  if (a.empty() || a.size() > 254) return false;
  std::size_t ats = 0;
  for (char c : a) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '<' || c == '>' || c == ',' || c == '"' ||
        c == 0x7f)
      return false;
    ats += c == '@';
  }
  return ats == 1 && a.front() != '@' && a.back() != '@';
}

// 16.0+: which of Mime / airsyncbase:Body / Forwardees a request carries
// (CMD §2.2.3.169: with Body or Forwardees, Mime, SaveInSentItems,
// ReplaceMime and rm:TemplateID MUST NOT be present; AIRS §2.2.2.9: Body's
// only ComposeMail parent is SmartForward). Fills the Body form of `out`.
std::optional<ComposeFailure> parseBodyForms(const wbxml::Element& root, ComposeKind kind,
                                             ComposeRequest* out) {
  auto combo = [](const char* reason, std::string what) {
    return fail(178, Status::InvalidArgument(reason, std::move(what)));
  };
  auto params = [](const char* reason, std::string what) {
    return fail(179, Status::InvalidArgument(reason, std::move(what)));
  };
  const wbxml::Element* mime = root.child(cm::Mime);
  const wbxml::Element* body = root.child(asb::Body);
  const wbxml::Element* forwardees = root.child(cm::Forwardees);
  if (kind != ComposeKind::kSmartForward) {
    if (body || forwardees || root.hasChild(asb::Attachments))
      return combo("compose.body_not_allowed",
                   "airsyncbase:Body, Attachments and Forwardees belong to SmartForward only");
    return std::nullopt;
  }
  if (mime && (body || forwardees))
    return combo("compose.mime_and_body", "Mime together with airsyncbase:Body or Forwardees");
  if (mime) return std::nullopt;
  if (!body && !forwardees)
    return combo("compose.no_mime_or_body", "neither Mime nor airsyncbase:Body/Forwardees");
  if (root.hasChild(cm::SaveInSentItems) || root.hasChild(cm::ReplaceMime) ||
      root.hasChild(wbxml::tags::RightsManagement::TemplateID))
    return combo("compose.body_form_options",
                 "SaveInSentItems, ReplaceMime or TemplateID without Mime");
  for (const wbxml::Element& c : root.children()) {
    const wbxml::Tag t = c.tag();
    if (t != cm::ClientId && t != cm::Source && t != cm::AccountId && t != asb::Body &&
        t != cm::Forwardees)
      return params("compose.unexpected_element",
                    "element page " + std::to_string(t.page) + " token " +
                        std::to_string(t.token) + " in a Body-form SmartForward");
  }
  if (!forwardees) return params("compose.bad_forwardees", "no Forwardees");
  for (const wbxml::Element& f : forwardees->children()) {
    if (f.tag() != cm::Forwardee) return params("compose.bad_forwardees", "not a Forwardee");
    ComposeRequest::Forwardee fw;
    bool has_email = false;
    for (const wbxml::Element& c : f.children()) {
      if (c.tag() == cm::ForwardeeEmail) {
        fw.email = std::string(c.text());
        has_email = true;
      } else if (c.tag() == cm::ForwardeeName) {
        fw.name = std::string(c.text());
      } else {
        return params("compose.bad_forwardees", "unknown element in a Forwardee");
      }
    }
    if (!has_email || !usableForwardeeAddress(fw.email))
      return params("compose.bad_forwardees", "Forwardee without a usable Email: " + fw.email);
    for (char ch : fw.name)
      if (ch == '\r' || ch == '\n' || ch == '\0')
        return params("compose.bad_forwardees", "Forwardee Name with a line break");
    out->forwardees.push_back(std::move(fw));
    if (out->forwardees.size() > kMaxForwardees)
      return params("compose.bad_forwardees", "more than " + std::to_string(kMaxForwardees));
  }
  if (out->forwardees.empty()) return params("compose.bad_forwardees", "no Forwardee");
  if (body) {
    const std::string_view type = body->childText(asb::Type);
    if (type != "1" && type != "2")
      return params("compose.bad_forward_body", "Body Type '" + std::string(type) + "'");
    out->body_html = type == "2";
    out->body_data = body->childText(asb::Data);
  }
  out->body_form = true;
  return std::nullopt;
}

}  // namespace

std::optional<ComposeFailure> parseComposeRequest(const CommandRequest& req, ComposeKind kind,
                                                  ComposeRequest* out) {
  out->kind = kind;
  auto bad = [](std::string what) {
    return fail(103, Status::InvalidArgument("compose.bad_request", std::move(what)));
  };
  const bool needs_source = kind != ComposeKind::kSendMail;
  if (!req.capabilities.compose_mail_wbxml) {
    // 2.5 / 12.x: the MIME is the body, the rest is in the query.
    out->mime = req.body;
    if (req.query) {
      out->save_in_sent = req.query->save_in_sent;
      out->folder_id = req.query->collection_id;
      out->item_id = req.query->item_id;
      out->long_id = req.query->long_id;
    }
    if (needs_source && out->item_id.empty() && out->long_id.empty())
      return bad("no ItemId or LongId in the query");
    return std::nullopt;
  }
  if (!req.document) return bad("no ComposeMail body");
  const wbxml::Element& root = req.document->root();
  if (root.tag() != rootTag(kind)) return bad("wrong root element");
  const wbxml::Element* client_id = root.child(cm::ClientId);
  if (!client_id || client_id->text().empty()) return bad("no ClientId");
  if (client_id->text().size() > kMaxClientIdLength) return bad("ClientId longer than 40");
  out->client_id = std::string(client_id->text());
  for (char c : out->client_id)
    if (c == '\n' || c == '\r' || c == '\0') return bad("ClientId with a line break");
  out->save_in_sent = root.hasChild(cm::SaveInSentItems);
  out->replace_mime = root.hasChild(cm::ReplaceMime);
  out->account_id = std::string(root.childText(cm::AccountId));
  const wbxml::Element* mime = root.child(cm::Mime);
  if (req.capabilities.compose_body_forward) {
    if (auto f = parseBodyForms(root, kind, out)) return f;
  }
  if (!mime && !out->body_form) return bad("no Mime");
  if (mime) out->mime = mime->text();
  if (needs_source) {
    const wbxml::Element* src = root.child(cm::Source);
    if (!src) return bad("no Source");
    out->folder_id = std::string(src->childText(cm::FolderId));
    out->item_id = std::string(src->childText(cm::ItemId));
    out->long_id = std::string(src->childText(cm::LongId));
    out->instance_id = std::string(src->childText(cm::InstanceId));
    if (out->item_id.empty() && out->long_id.empty()) return bad("Source without ItemId or LongId");
    if (src->hasChild(cm::InstanceId) && !looksLikeDateTime(out->instance_id))
      return fail(104, Status::InvalidArgument("compose.bad_instance_id", out->instance_id));
  }
  return std::nullopt;
}

ComposeFailure failureFor(const Status& s) {
  const std::string& r = s.reason();
  if (r == "compose.empty_mime" || r == "compose.bad_mime") return fail(107, s);
  if (r == "compose.no_recipients" || r == "smtp.no_recipients") return fail(119, s);
  if (r == "smtp.too_large") return fail(122, s);
  if (r == "smtp.unavailable" || r == "smtp.temporary" || r == "smtp.rejected" ||
      r == "smtp.auth_failed")
    return fail(120, s);
  return fail(110, s);
}

std::optional<SourceRef> sourceRef(const ComposeRequest& r) {
  if (!r.item_id.empty()) {
    if (!r.folder_id.empty()) {
      if (auto uid = sync::itemUid(r.folder_id, r.item_id)) return SourceRef{r.folder_id, *uid};
    }
    return splitServerId(r.item_id);
  }
  if (!r.long_id.empty()) return splitServerId(r.long_id);
  return std::nullopt;
}

std::unique_ptr<Command> makeComposeCommand(ComposeKind kind) {
  return std::make_unique<ComposeCommand>(kind);
}

}  // namespace eas::commands
