// GMime is C: every object created here is released on every path (Ref<T>).
#include "core/items/compose_mime.h"

#include <gmime/gmime.h>

#include <algorithm>
#include <cctype>

#include "core/items/email_item.h"
#include "core/items/gmime_ref.h"
#include "core/items/text_utils.h"

namespace eas::items {
namespace {

using gmime::GFreeString;
using gmime::parseMessage;
using gmime::Ref;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A bare address a submission can use: one '@', no spaces or brackets.
bool usableAddress(std::string_view a) {
  if (a.empty() || a.size() > 254) return false;
  if (std::count(a.begin(), a.end(), '@') != 1 || a.front() == '@' || a.back() == '@') return false;
  for (char c : a)
    if (static_cast<unsigned char>(c) <= ' ' || c == '<' || c == '>' || c == ',') return false;
  return true;
}

void collect(InternetAddressList* list, std::vector<std::string>* out) {
  if (!list) return;
  const int n = internet_address_list_length(list);
  for (int i = 0; i < n; ++i) {
    InternetAddress* ia = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_GROUP(ia)) {
      collect(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)), out);
    } else if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
      const char* addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
      if (!addr || !usableAddress(addr)) continue;
      std::string a(addr);
      const std::string key = lower(a);
      bool seen = false;
      for (const std::string& o : *out) seen = seen || lower(o) == key;
      if (!seen) out->push_back(std::move(a));
    }
  }
}

bool isText(GMimeObject* o, const char* subtype) {
  GMimeContentType* ct = g_mime_object_get_content_type(o);
  return ct && g_mime_content_type_is_type(ct, "text", subtype);
}

// The body text parts of a message: the first text/plain and text/html that
// are not attachments, through multipart/mixed, alternative and related.
void findBody(GMimeObject* o, GMimeTextPart** plain, GMimeTextPart** html) {
  if (GMIME_IS_MULTIPART(o)) {
    GMimeMultipart* mp = GMIME_MULTIPART(o);
    const int n = g_mime_multipart_get_count(mp);
    for (int i = 0; i < n; ++i) findBody(g_mime_multipart_get_part(mp, i), plain, html);
    return;
  }
  if (!GMIME_IS_TEXT_PART(o) || g_mime_part_is_attachment(GMIME_PART(o))) return;
  if (!*plain && isText(o, "plain")) *plain = GMIME_TEXT_PART(o);
  if (!*html && isText(o, "html")) *html = GMIME_TEXT_PART(o);
}

// What a forward carries: attachment parts and attached messages, and with
// `calendar` also the text/calendar parts (a meeting request's invitation).
void findAttachments(GMimeObject* o, std::vector<GMimeObject*>* out, bool calendar = false) {
  if (GMIME_IS_MULTIPART(o)) {
    GMimeMultipart* mp = GMIME_MULTIPART(o);
    const int n = g_mime_multipart_get_count(mp);
    for (int i = 0; i < n; ++i) findAttachments(g_mime_multipart_get_part(mp, i), out, calendar);
  } else if (GMIME_IS_MESSAGE_PART(o)) {
    out->push_back(o);
  } else if (GMIME_IS_PART(o)) {
    GMimePart* p = GMIME_PART(o);
    const bool named = g_mime_part_get_filename(p) != nullptr;
    if (g_mime_part_is_attachment(p) || (named && !GMIME_IS_TEXT_PART(o)) ||
        (calendar && isText(o, "calendar")))
      out->push_back(o);
  }
}

std::string headerOr(GMimeObject* o, const char* name) {
  const char* v = g_mime_object_get_header(o, name);
  return v ? std::string(v) : std::string();
}

std::string htmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// Inside <body>...</body> when the document has one.
std::string htmlBodyContent(const std::string& html) {
  const std::string l = lower(html);
  std::size_t start = l.find("<body");
  if (start == std::string::npos) return html;
  start = l.find('>', start);
  if (start == std::string::npos) return html;
  std::size_t end = l.rfind("</body");
  if (end == std::string::npos || end < start) end = html.size();
  return html.substr(start + 1, end - start - 1);
}

std::string quoteLines(std::string_view text) {
  std::string out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out += line.empty() || line.front() == '>' ? ">" : "> ";
    out += line;
    out += '\n';
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return out;
}

struct OriginalText {
  std::string from, date, to, cc, subject;
  std::string plain, html;  // html: body content only
  bool has_html = false;
};

OriginalText originalText(std::string_view raw, GMimeMessage* msg) {
  OriginalText t;
  auto item = parseEmail(raw, MessageMeta{});
  if (item.ok()) {
    t.from = item->from;
    t.to = item->to;
    t.cc = item->cc;
    t.subject = item->subject;
    t.plain = item->has_plain ? item->plain_body : htmlToText(item->html_body);
    t.has_html = item->has_html;
    t.html = htmlBodyContent(item->has_html ? item->html_body : textToHtml(item->plain_body));
  }
  t.date = headerOr(GMIME_OBJECT(msg), "Date");
  return t;
}

std::string plainHeaderBlock(const OriginalText& t) {
  std::string s = "\n\n-----Original Message-----\nFrom: " + t.from + "\nSent: " + t.date +
                  "\nTo: " + t.to + "\n";
  if (!t.cc.empty()) s += "Cc: " + t.cc + "\n";
  s += "Subject: " + t.subject + "\n\n";
  return s;
}

std::string htmlHeaderBlock(const OriginalText& t) {
  std::string s = "<br><hr><div><b>From:</b> " + htmlEscape(t.from) + "<br><b>Sent:</b> " +
                  htmlEscape(t.date) + "<br><b>To:</b> " + htmlEscape(t.to) + "<br>";
  if (!t.cc.empty()) s += "<b>Cc:</b> " + htmlEscape(t.cc) + "<br>";
  s += "<b>Subject:</b> " + htmlEscape(t.subject) + "</div><br>";
  return s;
}

// Replaces the part's text (GMime re-encodes to UTF-8) and picks a transfer
// encoding that can carry it.
void setText(GMimeTextPart* part, const std::string& text) {
  g_mime_text_part_set_text(part, text.c_str());
  GMimePart* p = GMIME_PART(part);
  g_mime_part_set_content_encoding(
      p, g_mime_part_get_best_content_encoding(p, GMIME_ENCODING_CONSTRAINT_7BIT));
}

std::string textOf(GMimeTextPart* part) {
  GFreeString s(g_mime_text_part_get_text(part));
  return sanitizeUtf8(s.str());
}

void appendOriginal(GMimeMessage* msg, std::string_view raw, GMimeMessage* orig, OriginalUse use,
                    bool carry_calendar = false) {
  const OriginalText t = originalText(raw, orig);
  const bool reply = use == OriginalUse::kReply;
  const std::string plain_tail =
      plainHeaderBlock(t) + (reply ? quoteLines(t.plain) : t.plain);
  const std::string html_tail =
      htmlHeaderBlock(t) + (reply ? "<blockquote style=\"margin:0 0 0 .8ex;border-left:1px solid "
                                    "#ccc;padding-left:1ex\">" + t.html + "</blockquote>"
                                  : "<div>" + t.html + "</div>");

  GMimeObject* root = g_mime_message_get_mime_part(msg);
  GMimeTextPart* plain = nullptr;
  GMimeTextPart* html = nullptr;
  if (root) findBody(root, &plain, &html);
  if (plain) {
    std::string text = textOf(plain);
    for (std::size_t i = 0; (i = text.find("\r\n", i)) != std::string::npos;) text.erase(i, 1);
    setText(plain, text + plain_tail);
  }
  if (html) {
    std::string text = textOf(html);
    const std::size_t body_end = lower(text).rfind("</body");
    if (body_end != std::string::npos) text.insert(body_end, html_tail);
    else text += html_tail;
    setText(html, text);
  }
  if (!plain && !html) {
    // No body text (an attachment alone): the quote becomes the first part.
    Ref<GMimeTextPart> part(g_mime_text_part_new_with_subtype("plain"));
    setText(part.get(), plain_tail);
    Ref<GMimeMultipart> mixed(g_mime_multipart_new_with_subtype("mixed"));
    g_mime_multipart_add(mixed.get(), GMIME_OBJECT(part.get()));
    if (root) g_mime_multipart_add(mixed.get(), root);
    g_mime_message_set_mime_part(msg, GMIME_OBJECT(mixed.get()));
  }

  if (use == OriginalUse::kForward) {
    std::vector<GMimeObject*> atts;
    GMimeObject* oroot = g_mime_message_get_mime_part(orig);
    if (oroot) findAttachments(oroot, &atts, carry_calendar);
    if (!atts.empty()) {
      GMimeObject* cur = g_mime_message_get_mime_part(msg);
      GMimeContentType* ct = cur ? g_mime_object_get_content_type(cur) : nullptr;
      if (cur && GMIME_IS_MULTIPART(cur) && ct && g_mime_content_type_is_type(ct, "multipart", "mixed")) {
        for (GMimeObject* a : atts) g_mime_multipart_add(GMIME_MULTIPART(cur), a);
      } else {
        Ref<GMimeMultipart> mixed(g_mime_multipart_new_with_subtype("mixed"));
        if (cur) g_mime_multipart_add(mixed.get(), cur);
        for (GMimeObject* a : atts) g_mime_multipart_add(mixed.get(), a);
        g_mime_message_set_mime_part(msg, GMIME_OBJECT(mixed.get()));
      }
    }
  }

  if (reply) {
    const char* orig_id = g_mime_message_get_message_id(orig);
    GMimeObject* m = GMIME_OBJECT(msg);
    if (orig_id && *orig_id && !g_mime_object_get_header(m, "In-Reply-To")) {
      const std::string id = "<" + std::string(orig_id) + ">";
      g_mime_object_set_header(m, "In-Reply-To", id.c_str(), nullptr);
      if (!g_mime_object_get_header(m, "References")) {
        std::string refs = headerOr(GMIME_OBJECT(orig), "References");
        refs = refs.empty() ? id : refs + " " + id;
        g_mime_object_set_header(m, "References", refs.c_str(), nullptr);
      }
    }
  }
}

// Every occurrence: g_mime_object_remove_header drops only the first, and a
// device (or an attacker) may send a header twice.
void removeAll(GMimeObject* o, const char* name) {
  while (g_mime_object_remove_header(o, name)) {
  }
}

std::string toCrlfString(GMimeMessage* msg) {
  GMimeFormatOptions* fo = g_mime_format_options_new();
  g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
  GFreeString s(g_mime_object_to_string(GMIME_OBJECT(msg), fo));
  g_mime_format_options_free(fo);
  return s.str();
}

bool startsWithForwardPrefix(std::string_view s) {
  const std::string l = lower(std::string(s.substr(0, 4)));
  return l.rfind("fw:", 0) == 0 || l.rfind("fwd:", 0) == 0;
}

void addDateAndMessageId(GMimeMessage* msg, const OutgoingOptions& options) {
  if (!g_mime_message_get_date(msg)) {
    GDateTime* now = g_date_time_new_from_unix_utc(options.now);
    g_mime_message_set_date(msg, now);
    g_date_time_unref(now);
  }
  if (!g_mime_message_get_message_id(msg)) {
    GFreeString id(g_mime_utils_generate_message_id(
        options.message_id_host.empty() ? "localhost" : options.message_id_host.c_str()));
    g_mime_message_set_message_id(msg, id.get());
  }
}

}  // namespace

Result<OutgoingMessage> buildForward(const BodyForward& forward, const OutgoingOptions& options,
                                     std::string_view original) {
  ensureGMimeInit();
  Ref<GMimeMessage> orig = parseMessage(original);
  GMimeHeaderList* oh = orig ? g_mime_object_get_header_list(GMIME_OBJECT(orig.get())) : nullptr;
  if (!oh || g_mime_header_list_get_count(oh) == 0)
    return Status::InvalidArgument("compose.bad_mime", "the original has no readable header");

  Ref<GMimeMessage> msg(g_mime_message_new(TRUE));
  g_mime_message_add_mailbox(msg.get(), GMIME_ADDRESS_TYPE_FROM, nullptr,
                             options.user_address.c_str());
  for (const ForwardRecipient& r : forward.to) {
    if (!usableAddress(r.address)) continue;
    g_mime_message_add_mailbox(msg.get(), GMIME_ADDRESS_TYPE_TO,
                               r.name.empty() ? nullptr : sanitizeUtf8(r.name).c_str(),
                               r.address.c_str());
  }
  OutgoingMessage out;
  out.envelope_from = options.user_address;
  collect(g_mime_message_get_addresses(msg.get(), GMIME_ADDRESS_TYPE_TO), &out.recipients);
  if (out.recipients.empty())
    return Status::InvalidArgument("compose.no_recipients", "no usable forwardee address");

  const char* osubject = g_mime_message_get_subject(orig.get());
  const std::string subject = osubject ? sanitizeUtf8(osubject) : std::string();
  out.subject = startsWithForwardPrefix(subject) ? subject : "Fw: " + subject;
  g_mime_message_set_subject(msg.get(), out.subject.c_str(), "utf-8");
  addDateAndMessageId(msg.get(), options);

  Ref<GMimeTextPart> note(g_mime_text_part_new_with_subtype(forward.html ? "html" : "plain"));
  g_mime_text_part_set_charset(note.get(), "utf-8");
  setText(note.get(), sanitizeUtf8(forward.note));
  g_mime_message_set_mime_part(msg.get(), GMIME_OBJECT(note.get()));
  appendOriginal(msg.get(), original, orig.get(), OriginalUse::kForward, /*carry_calendar=*/true);

  out.message = toCrlfString(msg.get());
  out.sent_copy = out.message;
  return out;
}

Result<OutgoingMessage> prepareOutgoing(std::string_view mime, const OutgoingOptions& options,
                                        std::string_view original, OriginalUse use) {
  std::size_t blank = 0;
  while (blank < mime.size() && std::isspace(static_cast<unsigned char>(mime[blank]))) ++blank;
  if (blank == mime.size()) return Status::InvalidArgument("compose.empty_mime", "no message");
  Ref<GMimeMessage> msg = parseMessage(mime);
  if (!msg) return Status::InvalidArgument("compose.bad_mime", "not a MIME message");
  GMimeHeaderList* headers = g_mime_object_get_header_list(GMIME_OBJECT(msg.get()));
  if (!headers || g_mime_header_list_get_count(headers) == 0)
    return Status::InvalidArgument("compose.bad_mime", "no header could be read");

  OutgoingMessage out;
  out.envelope_from = options.user_address;
  for (GMimeAddressType type : {GMIME_ADDRESS_TYPE_TO, GMIME_ADDRESS_TYPE_CC, GMIME_ADDRESS_TYPE_BCC})
    collect(g_mime_message_get_addresses(msg.get(), type), &out.recipients);
  if (out.recipients.empty())
    return Status::InvalidArgument("compose.no_recipients", "no usable To, Cc or Bcc address");

  // From is the authenticated user (CMD §2.2.1.17); keep the name the device chose.
  InternetAddressList* from = g_mime_message_get_from(msg.get());
  std::string name;
  if (from && internet_address_list_length(from) > 0) {
    const char* n = internet_address_get_name(internet_address_list_get_address(from, 0));
    if (n) name = n;
  }
  GMimeObject* obj = GMIME_OBJECT(msg.get());
  removeAll(obj, "From");
  removeAll(obj, "Sender");
  from = g_mime_message_get_from(msg.get());
  internet_address_list_clear(from);
  internet_address_list_add(from, internet_address_mailbox_new(name.empty() ? nullptr : name.c_str(),
                                                               options.user_address.c_str()));
  // internet_address_list_add took its own reference; drop ours.
  g_object_unref(internet_address_list_get_address(from, 0));

  addDateAndMessageId(msg.get(), options);
  const char* subject = g_mime_message_get_subject(msg.get());
  out.subject = subject ? sanitizeUtf8(subject) : std::string();

  if (use != OriginalUse::kNone && !original.empty()) {
    // The parts taken over from the original are referenced by `msg`.
    Ref<GMimeMessage> orig = parseMessage(original);
    if (orig) appendOriginal(msg.get(), original, orig.get(), use);
  }
  out.sent_copy = toCrlfString(msg.get());
  removeAll(obj, "Bcc");
  out.message = toCrlfString(msg.get());
  return out;
}

}  // namespace eas::items
