#include "core/commands/sync_device_changes.h"

#include <algorithm>
#include <cctype>
#include <deque>
#include <map>

#include "core/base/log.h"
#include "core/commands/sync_drafts.h"
#include "core/items/backend_meta.h"
#include "core/sync/email_window.h"
#include "core/sync/search_results.h"

namespace eas::commands {
namespace {

namespace as = wbxml::tags::AirSync;
namespace em = wbxml::tags::Email;
namespace tk = wbxml::tags::Tasks;
using Kind = SyncClientCommand::Kind;

constexpr int kOk = 1;
constexpr int kConversionError = 6;
constexpr int kNotFound = 8;

// Bounds on what one message may cost: the whole message up to 2 MiB; with
// a truncation, that plus a margin for headers and the other alternative.
constexpr std::uint32_t kMaxFetchBytes = 2u << 20;
constexpr std::uint32_t kMinFetchBytes = 64u << 10;
constexpr std::size_t kMaxFlagType = 256;

std::string timeText(const std::optional<std::int64_t>& t) {
  return t ? std::to_string(*t) : std::string();
}

std::optional<std::int64_t> timeFrom(std::string_view t) {
  if (t.empty() || t.size() > 18) return std::nullopt;  // no overflow
  std::int64_t v = 0;
  bool neg = t[0] == '-';
  for (std::size_t i = neg ? 1 : 0; i < t.size(); ++i) {
    if (t[i] < '0' || t[i] > '9') return std::nullopt;
    v = v * 10 + (t[i] - '0');
  }
  return neg ? -v : v;
}

// What the encoder sends at most (items/mime_parser keeps as many).
constexpr std::size_t kMaxCategories = 300;

// Replaces the message's category keywords by `wanted` (system keywords
// such as $Forwarded or Junk stay).
Status applyCategories(backend::MailBackend& mail, const std::string& folder, std::uint32_t uid,
                       const std::vector<std::string>& wanted) {
  backend::FetchRequest what;
  what.envelope = false;
  what.bodyStructure = false;
  auto cur = mail.fetchMessages(folder, {uid}, what);
  if (!cur.ok()) return cur.status();
  if (cur->empty()) return Status::NotFound("imap.no_such_message");
  std::vector<std::string> add, remove;
  for (const std::string& c : wanted) add.push_back(categoryKeyword(c));
  const std::vector<std::string>& have = cur->front().keywords;
  for (const std::string& k : have)
    if (items::isCategoryKeyword(k) && std::find(add.begin(), add.end(), k) == add.end()) remove.push_back(k);
  add.erase(std::remove_if(add.begin(), add.end(),
                           [&](const std::string& k) {
                             return std::find(have.begin(), have.end(), k) != have.end();
                           }),
            add.end());
  if (add.empty() && remove.empty()) return Status::Ok();
  return mail.setKeywords(folder, {uid}, add, remove);
}

DraftContext draftContext(backend::MailBackend& mail, const DeviceChangesInput& in) {
  DraftContext ctx;
  ctx.mail = &mail;
  ctx.folder = in.folder;
  ctx.collection_id = in.collection->collection_id;
  ctx.sent_folder = in.sent_folder;
  ctx.user_address = in.user_address;
  ctx.password = in.password;
  ctx.now = in.now;
  ctx.smtp = in.smtp;
  return ctx;
}

}  // namespace

Result<FlagEdit> flagEditFrom(const wbxml::Element& data) {
  FlagEdit edit;
  for (const wbxml::Element& c : data.children()) {
    if (c.tag() == em::Read) {
      if (c.text() == "1") edit.set |= backend::kFlagSeen;
      else if (c.text() == "0") edit.clear |= backend::kFlagSeen;
      else return Status::InvalidArgument("sync.bad_item_data", "Read is not 0 or 1");
    } else if (c.tag() == em::Flag) {
      std::string_view status = c.childText(em::Status);
      items::FlagDetails d;
      if (!c.firstChild() || status == "0") {
        edit.clear |= backend::kFlagFlagged;  // an empty <Flag/> clears the flag
        d.status = 0;
      } else if (status == "2") {
        edit.set |= backend::kFlagFlagged;
        d.status = 2;
      } else if (status == "1") {
        // Complete: IMAP has no "done" state; the flag goes, the details say complete.
        edit.clear |= backend::kFlagFlagged;
        d.status = 1;
      } else {
        return Status::InvalidArgument("sync.bad_item_data", "Flag Status is not 0, 1 or 2");
      }
      if (d.status != 0) {
        d.flag_type = std::string(c.childText(em::FlagType)).substr(0, kMaxFlagType);
        // The UTC forms win over the local ones; an unreadable date is left out.
        auto date = [&c](wbxml::Tag utc, wbxml::Tag local) {
          auto v = sync::parseEasDateTime(c.childText(utc));
          return v ? v : sync::parseEasDateTime(c.childText(local));
        };
        d.start_date = date(tk::UtcStartDate, tk::StartDate);
        d.due_date = date(tk::UtcDueDate, tk::DueDate);
        d.complete_time = date(em::CompleteTime, tk::DateCompleted);
        if (c.childText(tk::ReminderSet) == "1")
          d.reminder_time = sync::parseEasDateTime(c.childText(tk::ReminderTime));
      }
      edit.flag = std::move(d);
    }
    // Categories: categoriesFrom(); other properties are not stored.
  }
  edit.clear &= ~edit.set;
  return edit;
}

std::string flagDetailsText(const items::FlagDetails& d) {
  if (d.status == 0) return {};
  return "flag1:" + std::to_string(d.status) + ":" + timeText(d.start_date) + ":" +
         timeText(d.due_date) + ":" + timeText(d.complete_time) + ":" + timeText(d.reminder_time) +
         ":" + d.flag_type;
}

std::optional<items::FlagDetails> flagDetailsFor(std::string_view etag, std::uint32_t flags) {
  constexpr std::string_view kPrefix = "flag1:";
  if (etag.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::string_view rest = etag.substr(kPrefix.size());
  std::vector<std::string_view> f;
  for (int i = 0; i < 5; ++i) {
    const std::size_t colon = rest.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    f.push_back(rest.substr(0, colon));
    rest.remove_prefix(colon + 1);
  }
  items::FlagDetails d;
  if (f[0] == "1") d.status = 1;
  else if (f[0] == "2") d.status = 2;
  else return std::nullopt;
  const bool flagged = (flags & backend::kFlagFlagged) != 0;
  if (flagged != (d.status == 2)) return std::nullopt;
  for (int i = 1; i <= 4; ++i)
    if (!f[i].empty() && !timeFrom(f[i])) return std::nullopt;  // not ours
  d.start_date = timeFrom(f[1]);
  d.due_date = timeFrom(f[2]);
  d.complete_time = timeFrom(f[3]);
  d.reminder_time = timeFrom(f[4]);
  d.flag_type = std::string(rest);
  return d;
}

void writeFlagChangeData(wbxml::Writer& w, std::uint32_t flags, std::string_view etag,
                         bool with_flag) {
  w.element(em::Read, static_cast<std::int64_t>((flags & backend::kFlagSeen) ? 1 : 0));
  if (!with_flag) return;
  std::optional<items::FlagDetails> d = flagDetailsFor(etag, flags);
  if (!d && (flags & backend::kFlagFlagged)) d = items::FlagDetails{};  // 2, "for Follow Up"
  if (!d) {
    w.empty(em::Flag);
    return;
  }
  // As the item encoder writes a Flag (EMAIL §2.2.2.34).
  w.start(em::Flag).element(em::Status, static_cast<std::int64_t>(d->status));
  if (!d->flag_type.empty()) w.element(em::FlagType, d->flag_type);
  if (d->start_date) {
    w.element(tk::StartDate, items::formatDateTime(*d->start_date));
    w.element(tk::UtcStartDate, items::formatDateTime(*d->start_date));
  }
  if (d->due_date) {
    w.element(tk::DueDate, items::formatDateTime(*d->due_date));
    w.element(tk::UtcDueDate, items::formatDateTime(*d->due_date));
  }
  w.element(tk::ReminderSet, static_cast<std::int64_t>(d->reminder_time ? 1 : 0));
  if (d->reminder_time) w.element(tk::ReminderTime, items::formatDateTime(*d->reminder_time));
  if (d->status == 1 && d->complete_time) {
    w.element(em::CompleteTime, items::formatDateTime(*d->complete_time));
    w.element(tk::DateCompleted, items::formatDateTime(*d->complete_time));
  }
  w.end();
}

void dropStaleFlagDetails(std::vector<storage::ItemChange>& changes) {
  for (storage::ItemChange& c : changes) {
    if (c.kind != storage::ItemChange::Kind::kPut || c.item.etag.empty()) continue;
    if (!flagDetailsFor(c.item.etag, sync::flagsFromText(c.item.flags))) c.item.etag.clear();
  }
}

std::optional<std::vector<std::string>> categoriesFrom(const wbxml::Element& data) {
  const wbxml::Element* cats = data.child(em::Categories);
  if (!cats) return std::nullopt;
  std::vector<std::string> out;
  for (const wbxml::Element& c : cats->children()) {
    if (c.tag() != em::Category || c.text().empty()) continue;
    std::string name(c.text());
    if (std::find(out.begin(), out.end(), name) == out.end() && out.size() < kMaxCategories)
      out.push_back(std::move(name));
  }
  return out;
}

std::uint32_t fetchCapFor(const items::BodyRequest& body) {
  std::uint64_t want = 0;
  bool whole = false;
  if (body.preferences.empty()) {
    if (body.truncation_bytes) want = std::max<std::uint64_t>(want, *body.truncation_bytes);
    else whole = true;
    if (body.mime_support > 0) {
      if (body.mime_truncation_bytes) want = std::max<std::uint64_t>(want, *body.mime_truncation_bytes);
      else whole = true;
    }
  }
  for (const items::BodyPreference& p : body.preferences) {
    if (p.truncation_size) want = std::max<std::uint64_t>(want, *p.truncation_size);
    else whole = true;
  }
  if (whole) return kMaxFetchBytes;
  // The text part may follow the headers and another alternative of
  // similar size; HTML runs longer than its text.
  const std::uint64_t cap = std::max<std::uint64_t>(kMinFetchBytes, want * 3 + 16384);
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(cap, kMaxFetchBytes));
}

Result<std::vector<FetchedEmail>> fetchEmailItems(
    backend::MailBackend& mail, const std::string& folder, const std::string& collection_id,
    const std::vector<std::uint32_t>& uids, std::uint32_t cap,
    const std::vector<storage::ItemEntry>* items) {
  std::vector<FetchedEmail> out;
  if (uids.empty()) return out;
  std::map<std::string, std::string_view> etags;
  if (items)
    for (const storage::ItemEntry& e : *items)
      if (!e.etag.empty()) etags.emplace(e.server_id, e.etag);
  std::vector<std::uint32_t> sorted = uids;
  std::sort(sorted.begin(), sorted.end());
  backend::FetchRequest what;
  what.envelope = false;
  what.bodyStructure = false;
  what.sections.push_back({"", 0, cap});
  auto fetched = mail.fetchMessages(folder, sorted, what);
  if (!fetched.ok()) return fetched.status();
  out.reserve(fetched->size());
  for (backend::MessageData& d : *fetched) {
    const std::string server_id = sync::itemServerId(collection_id, d.uid);
    items::MessageMeta meta = items::metaFromBackend(d, server_id);
    if (auto e = etags.find(server_id); e != etags.end())
      meta.flag_details = flagDetailsFor(e->second, d.flags);
    std::string_view bytes = d.sections.empty() ? std::string_view() : std::string_view(d.sections[0]);
    auto item = items::parseEmail(bytes, meta);
    if (!item.ok()) {
      // Still sent (as an empty message with its date and read state), so
      // it is in the item map and can never hold the next windows back.
      log::warn("sync: message " + server_id + " unreadable, sent empty: " + item.status().toString());
      items::EmailItem empty;
      empty.read = meta.seen;
      if (meta.internal_date) empty.date_received = meta.internal_date;
      empty.warnings.push_back(item.status().reason());
      out.push_back({d.uid, d.flags, std::move(empty), d.keywords});
      continue;
    }
    if (!item->warnings.empty()) {
      std::string w;
      for (const std::string& x : item->warnings) w += (w.empty() ? "" : ",") + x;
      log::info("sync: message " + server_id + " sent with what could be read: " + w);
    }
    if (d.size > cap) item->warnings.push_back("sync.fetched_prefix");
    out.push_back({d.uid, d.flags, std::move(*item), d.keywords});
  }
  return out;
}

Result<DeviceChangesResult> applyDeviceChanges(backend::MailBackend& mail,
                                               const DeviceChangesInput& in) {
  DeviceChangesResult out;
  const std::string& cid = in.collection->collection_id;
  std::map<std::string, const storage::ItemEntry*> by_sid;
  for (const storage::ItemEntry& e : *in.items) by_sid.emplace(e.server_id, &e);
  std::vector<std::uint32_t> fetch_uids;
  std::vector<std::string> fetch_sids;
  std::deque<storage::ItemEntry> changed;  // stable addresses for by_sid

  auto fail = [&](const SyncClientCommand& c, int status) {
    SyncItemResponse r;
    r.kind = c.kind;
    r.server_id = c.server_id;
    r.client_id = c.client_id;
    r.status = status;
    out.responses.push_back(std::move(r));
  };

  for (const SyncClientCommand& c : in.collection->commands) {
    if (c.kind == Kind::kAdd) {
      // Email Add only of a 16.x draft (CMD: clients MUST NOT sync Drafts before).
      if (!in.drafts || !c.application_data) {
        fail(c, kConversionError);
        continue;
      }
      auto d = applyDraftCommand(draftContext(mail, in), c, 0);
      if (!d.ok()) return d.status();
      SyncItemResponse r;
      r.kind = Kind::kAdd;
      r.client_id = c.client_id;
      r.status = d->status;
      r.attachments = std::move(d->attachments);
      if (d->uid != 0) {
        // Recorded even when sent (the draft is then gone, and the device
        // gets its Delete) or kept after a failed Send (183, 120...).
        r.server_id = sync::itemServerId(cid, d->uid);
        storage::ItemEntry e;
        e.server_id = r.server_id;
        e.backend_id = std::to_string(d->uid);
        e.flags = sync::flagsText(backend::kFlagDraft | backend::kFlagSeen);
        out.item_changes.push_back({storage::ItemChange::Kind::kPut, std::move(e)});
      }
      out.responses.push_back(std::move(r));
      continue;
    }
    if (c.send && !in.drafts) {
      log::info("sync: email2:Send of " + c.server_id + " outside a 16.x Drafts collection refused");
      fail(c, kConversionError);
      continue;
    }
    auto uid = sync::itemUid(cid, c.server_id);
    auto it = by_sid.find(c.server_id);
    if (!uid || it == by_sid.end()) {
      fail(c, kNotFound);
      continue;
    }
    if (c.kind == Kind::kFetch) {
      fetch_uids.push_back(*uid);
      fetch_sids.push_back(c.server_id);
      continue;
    }
    if (c.kind == Kind::kChange && in.drafts &&
        (c.send || changesDraftContent(*c.application_data))) {
      // A new draft, the old one expunged; then maybe sent. The item map
      // keeps the old entry, so the next Sync tells the device: Delete of
      // the old ServerId, Add of the new (a Change cannot rename an item).
      auto d = applyDraftCommand(draftContext(mail, in), c, *uid);
      if (!d.ok()) return d.status();
      // Answered when it failed or added attachments (CMD §2.2.3.154).
      if (d->status != kOk || !d->attachments.empty()) {
        SyncItemResponse r;
        r.kind = Kind::kChange;
        r.server_id = c.server_id;
        r.status = d->status;
        r.attachments = std::move(d->attachments);
        out.responses.push_back(std::move(r));
      }
      continue;
    }
    if (c.kind == Kind::kChange) {
      auto edit = flagEditFrom(*c.application_data);
      if (!edit.ok()) {
        log::info("sync: change of " + c.server_id + " refused: " + edit.status().toString());
        fail(c, kConversionError);
        continue;
      }
      if (edit->set) {
        if (Status s = mail.setFlags(in.folder, {*uid}, edit->set); !s.ok()) {
          if (s.reason() == "imap.unavailable") return s;
          fail(c, kNotFound);
          continue;
        }
      }
      if (edit->clear) {
        if (Status s = mail.clearFlags(in.folder, {*uid}, edit->clear); !s.ok()) {
          if (s.reason() == "imap.unavailable") return s;
          fail(c, kNotFound);
          continue;
        }
      }
      storage::ItemEntry e = *it->second;
      std::vector<std::string> keywords = sync::keywordsFromText(e.flags);
      if (auto cats = in.categories ? categoriesFrom(*c.application_data) : std::nullopt) {
        if (Status s = applyCategories(mail, in.folder, *uid, *cats); !s.ok()) {
          if (s.reason() == "imap.unavailable") return s;
          // The flags above are kept (and recorded); the Categories are not.
          log::info("sync: categories of " + c.server_id + " not stored: " + s.toString());
          fail(c, kConversionError);
        } else {
          // Recorded as now stored, so the next Sync does not echo them back.
          keywords.erase(std::remove_if(keywords.begin(), keywords.end(),
                                        [](const std::string& k) { return items::isCategoryKeyword(k); }),
                         keywords.end());
          for (const std::string& cat : *cats) keywords.push_back(categoryKeyword(cat));
        }
      }
      std::uint32_t flags = sync::flagsFromText(e.flags);
      flags = (flags | edit->set) & ~edit->clear;
      e.flags = sync::flagsText(flags, keywords);
      if (edit->flag) e.etag = flagDetailsText(*edit->flag);
      out.item_changes.push_back({storage::ItemChange::Kind::kPut, e});
      if (auto b = by_sid.find(c.server_id); b != by_sid.end()) {
        changed.push_back(std::move(e));  // a later Fetch in this request sees it
        b->second = &changed.back();
      }
      continue;
    }
    // Delete.
    Status s;
    if (in.collection->deletes_as_moves && !in.trash_folder.empty() && in.trash_folder != in.folder) {
      auto moved = mail.moveMessages(in.folder, {*uid}, in.trash_folder);
      s = moved.status();
    } else {
      s = mail.deleteMessages(in.folder, {*uid});
    }
    if (!s.ok()) {
      if (s.reason() == "imap.unavailable") return s;
      log::info("sync: delete of " + c.server_id + " failed: " + s.toString());
      fail(c, kNotFound);
      continue;
    }
    storage::ItemChange del;
    del.kind = storage::ItemChange::Kind::kDelete;
    del.item.server_id = c.server_id;
    out.item_changes.push_back(std::move(del));
    by_sid.erase(c.server_id);
  }

  if (!fetch_uids.empty()) {
    std::vector<storage::ItemEntry> known;
    for (const auto& [sid, e] : by_sid) known.push_back(*e);
    auto items = fetchEmailItems(mail, in.folder, cid, fetch_uids, in.fetch_cap, &known);
    if (!items.ok()) {
      if (items.status().reason() == "imap.unavailable") return items.status();
      for (const std::string& sid : fetch_sids) {
        SyncItemResponse r;
        r.kind = Kind::kFetch;
        r.server_id = sid;
        r.status = kNotFound;
        out.responses.push_back(std::move(r));
      }
    } else {
      std::map<std::uint32_t, items::EmailItem*> got;
      for (FetchedEmail& f : *items) got.emplace(f.uid, &f.item);
      for (std::size_t i = 0; i < fetch_uids.size(); ++i) {
        SyncItemResponse r;
        r.kind = Kind::kFetch;
        r.server_id = fetch_sids[i];
        auto g = got.find(fetch_uids[i]);
        if (g == got.end()) {
          r.status = kNotFound;
        } else {
          r.status = kOk;
          r.item = *g->second;
        }
        out.responses.push_back(std::move(r));
      }
    }
  }
  return out;
}

}  // namespace eas::commands
