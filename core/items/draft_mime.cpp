// GMime is C: every object created here is released on every path (Ref<T>).
#include "core/items/draft_mime.h"

#include <gmime/gmime.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <utility>

#include "core/items/email_item.h"
#include "core/items/gmime_ref.h"
#include "core/items/text_utils.h"

namespace eas::items {
namespace {

using gmime::GFreeString;
using gmime::parseMessage;
using gmime::Ref;

// Header text from the device: control characters go (no header injection).
std::string clean(std::string_view v) {
  std::string out;
  for (char c : v) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) continue;
    out += c;
  }
  return sanitizeUtf8(out);
}

bool isToken(std::string_view s) {
  if (s.empty() || s.size() > 127) return false;
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u <= ' ' || u >= 0x7f || std::strchr("()<>@,;:\\\"/[]?=", c) != nullptr) return false;
  }
  return true;
}

// "image/png" -> {"image", "png"}; anything that is not type/subtype tokens
// is application/octet-stream.
std::pair<std::string, std::string> mediaType(std::string_view ct) {
  std::string_view t = ct.substr(0, ct.find(';'));
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.remove_prefix(1);
  const std::size_t slash = t.find('/');
  if (slash != std::string_view::npos && isToken(t.substr(0, slash)) && isToken(t.substr(slash + 1))) {
    std::string a(t.substr(0, slash)), b(t.substr(slash + 1));
    for (char& c : a) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (char& c : b) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    // A multipart or message type would make GMime parse our base64 as structure.
    if (a != "multipart" && a != "message") return {a, b};
  }
  return {"application", "octet-stream"};
}

// The object at an IMAP section ("2", "1.3") of a message, or null. Inside
// a message/rfc822 the numbers go on in the embedded message's body; a
// single-part body is section 1 of its message.
GMimeObject* bySection(GMimeMessage* msg, std::string_view section) {
  GMimeObject* cur = g_mime_message_get_mime_part(msg);
  while (cur && !section.empty()) {
    const std::size_t dot = section.find('.');
    std::string_view num = section.substr(0, dot);
    section = dot == std::string_view::npos ? std::string_view() : section.substr(dot + 1);
    if (num.empty() || num.size() > 4) return nullptr;
    int n = 0;
    for (char c : num) {
      if (c < '0' || c > '9') return nullptr;
      n = n * 10 + (c - '0');
    }
    if (GMIME_IS_MESSAGE_PART(cur)) {
      GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(cur));
      cur = inner ? g_mime_message_get_mime_part(inner) : nullptr;
      if (!cur) return nullptr;
    }
    if (GMIME_IS_MULTIPART(cur)) {
      GMimeMultipart* mp = GMIME_MULTIPART(cur);
      if (n < 1 || n > g_mime_multipart_get_count(mp)) return nullptr;
      cur = g_mime_multipart_get_part(mp, n - 1);
    } else if (n != 1) {
      return nullptr;
    }
  }
  return cur;
}

void addAddresses(GMimeMessage* msg, GMimeAddressType type, const std::string& text,
                  const char* header) {
  const std::string v = clean(text);
  if (v.empty()) return;
  InternetAddressList* parsed = internet_address_list_parse(nullptr, v.c_str());
  if (parsed && internet_address_list_length(parsed) > 0) {
    internet_address_list_append(g_mime_message_get_addresses(msg, type), parsed);
  } else {
    // Not an address list GMime can read: kept as text, as the device wrote it.
    g_mime_object_set_header(GMIME_OBJECT(msg), header, v.c_str(), "utf-8");
  }
  if (parsed) g_object_unref(parsed);
}

Ref<GMimePart> bodyPart(const std::string& text, bool html) {
  Ref<GMimePart> part(GMIME_PART(g_mime_text_part_new_with_subtype(html ? "html" : "plain")));
  Ref<GMimeStream> mem(g_mime_stream_mem_new_with_buffer(text.data(), text.size()));
  Ref<GMimeDataWrapper> dw(g_mime_data_wrapper_new_with_stream(mem.get(), GMIME_CONTENT_ENCODING_DEFAULT));
  g_mime_part_set_content(part.get(), dw.get());
  g_mime_object_set_content_type_parameter(GMIME_OBJECT(part.get()), "charset", "utf-8");
  // base64: the device's text travels unchanged (line ends, long lines).
  g_mime_part_set_content_encoding(part.get(), GMIME_CONTENT_ENCODING_BASE64);
  return part;
}

Ref<GMimePart> attachmentPart(const DraftAttachment& a) {
  const auto [type, subtype] = mediaType(a.content_type);
  Ref<GMimePart> part(g_mime_part_new_with_type(type.c_str(), subtype.c_str()));
  Ref<GMimeStream> mem(g_mime_stream_mem_new_with_buffer(a.content.data(), a.content.size()));
  Ref<GMimeDataWrapper> dw(g_mime_data_wrapper_new_with_stream(mem.get(), GMIME_CONTENT_ENCODING_DEFAULT));
  g_mime_part_set_content(part.get(), dw.get());
  g_mime_part_set_content_encoding(part.get(), GMIME_CONTENT_ENCODING_BASE64);
  GMimeObject* obj = GMIME_OBJECT(part.get());
  g_mime_object_set_disposition(obj, a.is_inline ? "inline" : "attachment");
  const std::string name = clean(a.display_name);
  if (!name.empty()) g_mime_part_set_filename(part.get(), name.c_str());
  const std::string cid = clean(a.content_id);
  if (!cid.empty()) g_mime_object_set_content_id(obj, cid.c_str());
  const std::string loc = clean(a.content_location);
  if (!loc.empty()) g_mime_object_set_header(obj, "Content-Location", loc.c_str(), nullptr);
  return part;
}

std::string toCrlfString(GMimeMessage* msg) {
  GMimeFormatOptions* fo = g_mime_format_options_new();
  g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
  GFreeString s(g_mime_object_to_string(GMIME_OBJECT(msg), fo));
  g_mime_format_options_free(fo);
  return s.str();
}

}  // namespace

Result<DraftMessage> buildDraft(const DraftFields& fields, std::string_view previous,
                                const std::vector<std::string>& drop_sections,
                                const std::vector<DraftAttachment>& add) {
  ensureGMimeInit();
  Ref<GMimeMessage> old;
  std::vector<GMimeObject*> kept;  // owned by `old`, which outlives the output
  std::string old_body;
  bool old_html = false;
  std::string message_id;
  if (!previous.empty()) {
    old = parseMessage(previous);
    auto item = parseEmail(previous, MessageMeta{});
    if (!old || !item.ok()) return Status::InvalidArgument("draft.bad_previous", "not a MIME message");
    for (const std::string& s : drop_sections) {
      const bool known = std::any_of(item->attachments.begin(), item->attachments.end(),
                                     [&](const EmailAttachment& a) { return a.part == s; });
      if (!known) return Status::InvalidArgument("draft.unknown_attachment", "no attachment at " + s);
    }
    for (const EmailAttachment& a : item->attachments) {
      if (std::find(drop_sections.begin(), drop_sections.end(), a.part) != drop_sections.end()) continue;
      // An attachment inside one kept whole (an embedded message) goes with it.
      const bool nested = std::any_of(item->attachments.begin(), item->attachments.end(),
                                      [&](const EmailAttachment& o) {
                                        return o.part != a.part && a.part.rfind(o.part + ".", 0) == 0;
                                      });
      if (nested) continue;
      if (GMimeObject* o = bySection(old.get(), a.part)) kept.push_back(o);
    }
    old_html = item->has_html;
    old_body = old_html ? item->html_body : item->plain_body;
    if (const char* id = g_mime_message_get_message_id(old.get())) message_id = id;
  } else if (!drop_sections.empty()) {
    return Status::InvalidArgument("draft.unknown_attachment", "nothing to delete from");
  }

  Ref<GMimeMessage> msg(g_mime_message_new(TRUE));
  InternetAddressList* from = g_mime_message_get_from(msg.get());
  InternetAddress* me = internet_address_mailbox_new(nullptr, clean(fields.from).c_str());
  internet_address_list_add(from, me);
  g_object_unref(me);
  addAddresses(msg.get(), GMIME_ADDRESS_TYPE_TO, fields.to, "To");
  addAddresses(msg.get(), GMIME_ADDRESS_TYPE_CC, fields.cc, "Cc");
  addAddresses(msg.get(), GMIME_ADDRESS_TYPE_BCC, fields.bcc, "Bcc");
  g_mime_message_set_subject(msg.get(), clean(fields.subject).c_str(), "utf-8");
  GDateTime* now = g_date_time_new_from_unix_utc(fields.now);
  g_mime_message_set_date(msg.get(), now);
  g_date_time_unref(now);
  if (message_id.empty()) {
    GFreeString id(g_mime_utils_generate_message_id(
        fields.message_id_host.empty() ? "localhost" : fields.message_id_host.c_str()));
    message_id = id.str();
  }
  g_mime_message_set_message_id(msg.get(), message_id.c_str());

  const bool keep_body = !fields.body.has_value();
  Ref<GMimePart> body = bodyPart(sanitizeUtf8(keep_body ? old_body : *fields.body),
                                 keep_body ? old_html : fields.html);
  DraftMessage out;
  if (kept.empty() && add.empty()) {
    g_mime_message_set_mime_part(msg.get(), GMIME_OBJECT(body.get()));
    out.message = toCrlfString(msg.get());
    return out;
  }
  Ref<GMimeMultipart> mixed(g_mime_multipart_new_with_subtype("mixed"));
  g_mime_multipart_add(mixed.get(), GMIME_OBJECT(body.get()));
  for (GMimeObject* o : kept) g_mime_multipart_add(mixed.get(), o);
  int section = 1 + static_cast<int>(kept.size());
  for (const DraftAttachment& a : add) {
    Ref<GMimePart> p = attachmentPart(a);
    g_mime_multipart_add(mixed.get(), GMIME_OBJECT(p.get()));
    out.added_sections.push_back(std::to_string(++section));
  }
  g_mime_message_set_mime_part(msg.get(), GMIME_OBJECT(mixed.get()));
  out.message = toCrlfString(msg.get());
  return out;
}

}  // namespace eas::items
