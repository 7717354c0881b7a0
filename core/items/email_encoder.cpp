// writeEmailApplicationData(): an EmailItem as Email / AirSyncBase / Email2
// (and Tasks, inside Flag) elements, version-correct.
#include <algorithm>
#include <string>

#include "core/items/email_item.h"
#include "core/items/text_utils.h"
#include "core/wbxml/wbxml.h"

namespace eas::items {
namespace {

namespace E = wbxml::tags::Email;
namespace B = wbxml::tags::AirSyncBase;
namespace E2 = wbxml::tags::Email2;
namespace T = wbxml::tags::Tasks;

constexpr std::uint32_t kMaxPreview = 255;  // AIRS §2.2.2.35: 0..255 characters

std::string plainText(const EmailItem& item) {
  if (item.has_plain) return item.plain_body;
  if (item.has_html) return htmlToText(item.html_body);
  return {};
}

std::string htmlText(const EmailItem& item) {
  if (item.has_html) return item.html_body;
  if (item.has_plain) return textToHtml(item.plain_body);
  return {};
}

const BodyPreference* findType(const BodyRequest& req, int type) {
  for (const BodyPreference& p : req.preferences) {
    if (p.type == type) return &p;
  }
  return nullptr;
}

void cut(BodyOutput& out, std::string full, std::optional<std::uint32_t> limit, bool all_or_none) {
  out.estimated_size = full.size();
  if (!limit || full.size() <= *limit) {
    out.data = std::move(full);
    return;
  }
  out.truncated = true;
  if (all_or_none) return;  // AIRS §2.2.2.3: nothing rather than a part
  // Raw 8-bit MIME is not UTF-8 and goes out as OPAQUE: a byte cut is fine there.
  const std::size_t n = isValidUtf8(full) ? utf8CutPoint(full, *limit) : *limit;
  full.resize(n);
  out.data = std::move(full);
}

// Text on the wire: STR_I for valid UTF-8 without NUL, else OPAQUE (only raw
// MIME can be either; everything parsed was made valid UTF-8).
void writeData(wbxml::Writer& w, wbxml::Tag tag, const std::string& data) {
  w.start(tag);
  if (isValidUtf8(data)) {
    w.text(data);
  } else {
    w.opaque(data);
  }
  w.end();
}

void writeIfNotEmpty(wbxml::Writer& w, wbxml::Tag tag, const std::string& v) {
  if (!v.empty()) w.element(tag, v);
}

void writeFlag(wbxml::Writer& w, const EmailFlag& flag) {
  if (flag.status == 0) {
    w.empty(E::Flag);  // EMAIL §2.2.2.34: no flag is an empty container
    return;
  }
  w.start(E::Flag);
  w.element(E::Status, static_cast<std::int64_t>(flag.status));
  writeIfNotEmpty(w, E::FlagType, flag.flag_type);
  if (flag.start_date) {
    w.element(T::StartDate, formatDateTime(*flag.start_date));
    w.element(T::UtcStartDate, formatDateTime(*flag.start_date));
  }
  if (flag.due_date) {
    w.element(T::DueDate, formatDateTime(*flag.due_date));
    w.element(T::UtcDueDate, formatDateTime(*flag.due_date));
  }
  w.element(T::ReminderSet, static_cast<std::int64_t>(flag.reminder_time ? 1 : 0));
  if (flag.reminder_time) w.element(T::ReminderTime, formatDateTime(*flag.reminder_time));
  if (flag.status == 1 && flag.complete_time) {
    w.element(E::CompleteTime, formatDateTime(*flag.complete_time));
    w.element(T::DateCompleted, formatDateTime(*flag.complete_time));
  }
  w.end();
}

void writeAttachments12(wbxml::Writer& w, const EmailItem& item) {
  if (item.attachments.empty()) return;
  w.start(B::Attachments);
  for (const EmailAttachment& a : item.attachments) {
    w.start(B::Attachment);
    writeIfNotEmpty(w, B::DisplayName, a.display_name);
    w.element(B::FileReference, a.file_reference);
    w.element(B::Method, static_cast<std::int64_t>(a.method));
    w.element(B::EstimatedDataSize, static_cast<std::int64_t>(a.estimated_size));
    writeIfNotEmpty(w, B::ContentId, a.content_id);
    writeIfNotEmpty(w, B::ContentLocation, a.content_location);
    if (a.is_inline) w.element(B::IsInline, std::int64_t{1});
    w.end();
  }
  w.end();
}

void writeAttachments25(wbxml::Writer& w, const EmailItem& item) {
  if (item.attachments.empty()) return;
  w.start(E::Attachments);
  for (const EmailAttachment& a : item.attachments) {
    w.start(E::Attachment);
    w.element(E::AttMethod, static_cast<std::int64_t>(a.method));
    w.element(E::AttSize, static_cast<std::int64_t>(a.estimated_size));
    writeIfNotEmpty(w, E::DisplayName, a.display_name);
    w.element(E::AttName, a.file_reference);  // what GetAttachment is asked for
    w.end();
  }
  w.end();
}

void writeBody12(wbxml::Writer& w, const BodyOutput& body) {
  w.start(B::Body);
  w.element(B::Type, static_cast<std::int64_t>(body.type));
  w.element(B::EstimatedDataSize, static_cast<std::int64_t>(body.estimated_size));
  w.element(B::Truncated, static_cast<std::int64_t>(body.truncated ? 1 : 0));
  if (!body.data.empty()) writeData(w, B::Data, body.data);
  if (!body.preview.empty()) w.element(B::Preview, body.preview);
  w.end();
}

void writeBody25(wbxml::Writer& w, const BodyOutput& body) {
  if (body.type == 4) {
    w.element(E::MIMETruncated, static_cast<std::int64_t>(body.truncated ? 1 : 0));
    w.element(E::MIMESize, static_cast<std::int64_t>(body.estimated_size));
    if (!body.data.empty()) writeData(w, E::MIMEData, body.data);
    return;
  }
  if (body.truncated) w.element(E::BodySize, static_cast<std::int64_t>(body.estimated_size));
  w.element(E::BodyTruncated, static_cast<std::int64_t>(body.truncated ? 1 : 0));
  if (!body.data.empty()) writeData(w, E::Body, body.data);
}

}  // namespace

EmailFeatures emailFeaturesFor(ProtocolVersionView v) {
  EmailFeatures f;
  f.air_sync_base = v.major >= 12;
  f.flag = v.major >= 12;
  f.email2 = v.major >= 14;
  f.categories = v.major >= 14;
  f.preview = v.major >= 14;
  f.draft_elements = v.major >= 16;
  return f;
}

std::optional<std::uint32_t> truncationBytesForCode(int code) {
  // Z-Push SYNC_TRUNCATION_*: headers, 512 B, 1, 2, 5, 10, 20, 50, 100 KB, all.
  static constexpr std::uint32_t kBytes[] = {0,         512,       1024,      2 * 1024,  5 * 1024,
                                             10 * 1024, 20 * 1024, 50 * 1024, 100 * 1024};
  if (code >= 0 && code <= 8) return kBytes[code];
  return std::nullopt;
}

std::optional<std::uint32_t> mimeTruncationBytesForCode(int code) {
  static constexpr std::uint32_t kBytes[] = {0, 4096, 5120, 7168, 10240, 20480, 51200, 102400};
  if (code >= 0 && code <= 7) return kBytes[code];
  return std::nullopt;  // 8: the whole message
}

BodyOutput selectBody(const EmailItem& item, const BodyRequest& req, const EmailFeatures& f) {
  BodyOutput out;
  const bool mime_wanted = req.mime_support == 2 || (req.mime_support == 1 && item.is_smime);
  if (!f.air_sync_base) {
    if (mime_wanted) {
      out.type = 4;
      cut(out, item.mime, req.mime_truncation_bytes, false);
    } else {
      out.type = 1;
      cut(out, plainText(item), req.truncation_bytes, false);
    }
    return out;
  }
  const BodyPreference* p4 = findType(req, 4);
  const BodyPreference* p2 = findType(req, 2);
  const BodyPreference* p1 = findType(req, 1);
  const BodyPreference* p3 = findType(req, 3);
  const BodyPreference* chosen = nullptr;
  // MIME when MIMESupport asks for it, or when it is all the client asked for
  // (ItemOperations often sends only Type 4). RTF is not produced: plain instead.
  if (p4 != nullptr && (mime_wanted || (!p1 && !p2 && !p3))) {
    out.type = 4;
    chosen = p4;
  } else if (req.mime_support == 1 && item.is_smime && p4 == nullptr) {
    out.type = 4;  // CMD §2.2.3.110: S/MIME messages go as MIME
  } else if (p2 != nullptr && (item.has_html || p1 == nullptr)) {
    out.type = 2;
    chosen = p2;
  } else if (p1 != nullptr) {
    out.type = 1;
    chosen = p1;
  } else if (p3 != nullptr) {
    out.type = 1;
    chosen = p3;
  } else {
    out.type = 1;
  }
  std::string full = out.type == 4 ? item.mime : out.type == 2 ? htmlText(item) : plainText(item);
  cut(out, std::move(full), chosen ? chosen->truncation_size : std::nullopt,
      chosen != nullptr && chosen->all_or_none && chosen->truncation_size.has_value());
  if (f.preview && chosen != nullptr && chosen->preview > 0) {
    out.preview =
        utf8Prefix(collapseWhitespace(plainText(item)), std::min(chosen->preview, kMaxPreview));
  }
  return out;
}

void writeEmailApplicationData(wbxml::Writer& w, const EmailItem& item, const BodyRequest& req,
                               const ProtocolVersionView& version) {
  const EmailFeatures f = emailFeaturesFor(version);
  writeIfNotEmpty(w, E::To, item.to);
  writeIfNotEmpty(w, E::Cc, item.cc);
  writeIfNotEmpty(w, E::From, item.from);
  w.element(E::Subject, item.subject);
  writeIfNotEmpty(w, E::ReplyTo, item.reply_to);
  if (item.date_received) w.element(E::DateReceived, formatDateTime(*item.date_received));
  writeIfNotEmpty(w, E::DisplayTo, item.display_to);
  w.element(E::ThreadTopic, item.thread_topic);
  w.element(E::Importance, static_cast<std::int64_t>(item.importance));
  w.element(E::Read, static_cast<std::int64_t>(item.read ? 1 : 0));
  const BodyOutput body = selectBody(item, req, f);
  if (f.air_sync_base) {
    writeAttachments12(w, item);
    writeBody12(w, body);
  } else {
    writeAttachments25(w, item);
    writeBody25(w, body);
  }
  w.element(E::MessageClass, item.message_class);
  if (f.flag) {
    w.element(E::InternetCPID, static_cast<std::int64_t>(item.internet_cpid));
    writeFlag(w, item.flag);
    w.element(E::ContentClass, item.content_class);
    w.element(B::NativeBodyType, static_cast<std::int64_t>(item.native_body_type));
  }
  if (f.email2) {
    if (!item.conversation_id.empty()) w.opaqueElement(E2::ConversationId, item.conversation_id);
    if (!item.conversation_index.empty()) {
      w.opaqueElement(E2::ConversationIndex, item.conversation_index);
    }
  }
  if (f.categories) {
    if (item.categories.empty()) {
      w.empty(E::Categories);  // EMAIL §2.2.2.16: empty when none
    } else {
      w.start(E::Categories);
      for (const std::string& c : item.categories) w.element(E::Category, c);
      w.end();
    }
  }
  if (f.email2) {
    if (item.last_verb_executed != 0) {
      w.element(E2::LastVerbExecuted, static_cast<std::int64_t>(item.last_verb_executed));
      if (item.last_verb_time) {
        w.element(E2::LastVerbExecutionTime, formatDateTime(*item.last_verb_time));
      }
    }
    if (item.received_as_bcc) {
      w.element(E2::ReceivedAsBcc, static_cast<std::int64_t>(*item.received_as_bcc ? 1 : 0));
    }
    // EMAIL §2.2.2.70: Sender is who actually sent it, when that is not From.
    if (item.sender != item.from) writeIfNotEmpty(w, E2::Sender, item.sender);
  }
  if (f.draft_elements) {
    w.element(E2::IsDraft, static_cast<std::int64_t>(item.is_draft ? 1 : 0));
    if (item.is_draft) writeIfNotEmpty(w, E2::Bcc, item.bcc);
  }
}

}  // namespace eas::items
