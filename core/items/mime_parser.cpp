// parseEmail(): RFC 5322 / MIME with GMime into an EmailItem.
//
// GMime is C: every object we create is released on every path (gmime::Ref),
// every pointer it returns is checked. Objects GMime returns from getters
// (headers, parts, address lists) belong to their parent and are not unref'd.
#include <gmime/gmime.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <string>
#include <vector>

#include "core/base/log.h"
#include "core/items/email_item.h"
#include "core/items/gmime_ref.h"
#include "core/items/text_utils.h"

namespace eas::items {
namespace {

constexpr int kMaxDepth = 32;            // deeper MIME trees are listed, not walked
constexpr std::size_t kMaxFrom = 32768;  // EMAIL §2.2.2.36: From holds at most 32768 characters

// Shared lenient options; a per-message clone carries the warning callback.
GMimeParserOptions* baseOptions() {
  static GMimeParserOptions* opts = [] {
    ensureGMimeInit();
    GMimeParserOptions* o = g_mime_parser_options_new();
    g_mime_parser_options_set_rfc2047_compliance_mode(o, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_address_compliance_mode(o, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_parameter_compliance_mode(o, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_allow_addresses_without_domain(o, TRUE);
    // Undeclared 8-bit header text: UTF-8 if it is valid, else windows-1252.
    const char* fallback[] = {"UTF-8", "windows-1252", nullptr};
    g_mime_parser_options_set_fallback_charsets(o, fallback);
    return o;
  }();
  return opts;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(std::string_view s) {
  const std::size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const std::size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::string header(GMimeObject* obj, const char* name) {
  if (obj == nullptr) return {};
  const char* v = g_mime_object_get_header(obj, name);
  return v ? sanitizeUtf8(trim(v)) : std::string();
}

const char* warningName(GMimeParserWarning w) {
  switch (w) {
    case GMIME_WARN_DUPLICATED_HEADER:
      return "duplicated_header";
    case GMIME_WARN_DUPLICATED_PARAMETER:
      return "duplicated_parameter";
    case GMIME_WARN_UNENCODED_8BIT_HEADER:
      return "8bit_header";
    case GMIME_WARN_INVALID_CONTENT_TYPE:
      return "invalid_content_type";
    case GMIME_WARN_INVALID_RFC2047_HEADER_VALUE:
      return "invalid_rfc2047";
    case GMIME_WARN_MALFORMED_MULTIPART:
      return "malformed_multipart";
    case GMIME_WARN_TRUNCATED_MESSAGE:
      return "truncated_message";
    case GMIME_WARN_MALFORMED_MESSAGE:
      return "malformed_message";
    case GMIME_CRIT_INVALID_HEADER_NAME:
      return "invalid_header_name";
    case GMIME_CRIT_CONFLICTING_HEADER:
      return "conflicting_header";
    case GMIME_CRIT_CONFLICTING_PARAMETER:
      return "conflicting_parameter";
    case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
      return "multipart_without_boundary";
    case GMIME_WARN_INVALID_PARAMETER:
      return "invalid_parameter";
    case GMIME_WARN_INVALID_ADDRESS_LIST:
      return "invalid_address_list";
    case GMIME_CRIT_NESTING_OVERFLOW:
      return "nesting_overflow";
    case GMIME_WARN_PART_WITHOUT_CONTENT:
      return "part_without_content";
    case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT:
      return "part_without_headers_or_content";
  }
  return "unknown";
}

void onParserWarning(gint64 /*offset*/, GMimeParserWarning code, const gchar* /*item*/,
                     gpointer user_data) {
  auto* warnings = static_cast<std::vector<std::string>*>(user_data);
  std::string w = std::string("mime.") + warningName(code);
  // One entry per kind is enough for the log line.
  if (warnings->size() < 64 && std::find(warnings->begin(), warnings->end(), w) == warnings->end())
    warnings->push_back(std::move(w));
}

// A header value inside a warning token: only [A-Za-z0-9._-], at most 40
// bytes, so a hostile charset cannot forge log lines.
std::string tokenOf(const char* v) {
  if (v == nullptr || *v == '\0') return "none";
  std::string t;
  for (const char* p = v; *p != '\0' && t.size() < 40; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    t += (std::isalnum(c) != 0 || c == '.' || c == '_' || c == '-') ? static_cast<char>(c) : '?';
  }
  return t;
}

void addWarning(EmailItem& item, std::string w) {
  if (item.warnings.size() < 64 &&
      std::find(item.warnings.begin(), item.warnings.end(), w) == item.warnings.end())
    item.warnings.push_back(std::move(w));
}

// ---- addresses ----------------------------------------------------------------

struct Mailbox {
  std::string name, addr;
};

void collectMailboxes(InternetAddressList* list, std::vector<Mailbox>& out, int depth = 0) {
  if (list == nullptr || depth > 4) return;
  const int n = internet_address_list_length(list);
  for (int i = 0; i < n && out.size() < 1000; ++i) {
    InternetAddress* ia = internet_address_list_get_address(list, i);
    if (ia == nullptr) continue;
    if (INTERNET_ADDRESS_IS_GROUP(ia)) {
      collectMailboxes(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)), out,
                       depth + 1);
      continue;
    }
    if (!INTERNET_ADDRESS_IS_MAILBOX(ia)) continue;
    const char* name = internet_address_get_name(ia);
    const char* addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
    Mailbox m{name ? sanitizeUtf8(trim(name)) : std::string(),
              addr ? sanitizeUtf8(trim(addr)) : std::string()};
    if (m.name.empty() && m.addr.empty()) continue;
    out.push_back(std::move(m));
  }
}

std::string formatMailbox(const Mailbox& m) {
  if (m.name.empty() || m.name == m.addr) return m.addr;
  std::string q = "\"";
  for (char c : m.name) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  q += "\"";
  if (m.addr.empty()) return q;
  return q + " <" + m.addr + ">";
}

std::string formatList(const std::vector<Mailbox>& boxes) {
  std::string out;
  for (const Mailbox& m : boxes) {
    if (!out.empty()) out += ", ";
    out += formatMailbox(m);
  }
  return out;
}

std::vector<Mailbox> mailboxes(GMimeMessage* msg, GMimeAddressType type) {
  std::vector<Mailbox> out;
  collectMailboxes(g_mime_message_get_addresses(msg, type), out);
  return out;
}

// ---- header-derived properties ---------------------------------------------------

int importanceOf(GMimeObject* obj) {
  const std::string imp = lower(header(obj, "Importance"));
  if (imp.rfind("high", 0) == 0) return 2;
  if (imp.rfind("low", 0) == 0) return 0;
  if (imp.rfind("normal", 0) == 0) return 1;
  const std::string prio = trim(header(obj, "X-Priority"));
  if (!prio.empty() && prio[0] >= '1' && prio[0] <= '5') {
    const int p = prio[0] - '0';
    return p <= 2 ? 2 : (p == 3 ? 1 : 0);
  }
  const std::string ms = lower(header(obj, "X-MSMail-Priority"));
  if (ms == "high") return 2;
  if (ms == "low") return 0;
  const std::string pr = lower(header(obj, "Priority"));
  if (pr == "urgent") return 2;
  if (pr == "non-urgent") return 0;
  return 1;
}

// Subject without reply/forward prefixes ("Re:", "Fwd:", "AW:", "Re[2]:" ...).
std::string normalizeSubject(std::string s) {
  static constexpr std::string_view kPrefixes[] = {"re", "fw",   "fwd", "aw",  "wg", "sv",
                                                   "vs", "antw", "tr",  "rif", "r"};
  for (int round = 0; round < 16; ++round) {
    s = trim(s);
    bool stripped = false;
    for (std::string_view p : kPrefixes) {
      if (s.size() <= p.size()) continue;
      if (lower(s.substr(0, p.size())) != p) continue;
      std::size_t k = p.size();
      if (k < s.size() && s[k] == '[') {  // Re[2]:
        const std::size_t close = s.find(']', k);
        if (close == std::string::npos || close > k + 4) continue;
        k = close + 1;
      }
      if (k < s.size() && s[k] == ':') {
        s = s.substr(k + 1);
        stripped = true;
        break;
      }
    }
    if (!stripped) break;
  }
  return trim(s);
}

std::vector<std::string> parseIds(const std::string& raw) {
  std::vector<std::string> ids;
  if (raw.empty()) return ids;
  GMimeReferences* refs = g_mime_references_parse(baseOptions(), raw.c_str());
  if (refs == nullptr) return ids;
  const int n = g_mime_references_length(refs);
  for (int i = 0; i < n && i < 256; ++i) {
    const char* id = g_mime_references_get_message_id(refs, i);
    if (id != nullptr && *id != '\0') ids.push_back(sanitizeUtf8(id));
  }
  g_mime_references_free(refs);
  return ids;
}

std::string digest(std::string_view data) {
  GChecksum* c = g_checksum_new(G_CHECKSUM_SHA256);
  if (c == nullptr) return std::string(32, '\0');
  g_checksum_update(c, reinterpret_cast<const guchar*>(data.data()),
                    static_cast<gssize>(data.size()));
  guint8 out[32];
  gsize len = sizeof out;
  g_checksum_get_digest(c, out, &len);
  g_checksum_free(c);
  return std::string(reinterpret_cast<const char*>(out), len);
}

// ConversationId: 16 bytes of SHA-256 over the thread root (the first
// References id, else In-Reply-To, else the message's own id, else the
// normalised subject). ConversationIndex: 5 bytes per level (References
// chain, then the message itself), so a reply's index extends its parent's.
void computeConversation(EmailItem& item, const std::vector<std::string>& in_reply_to) {
  std::vector<std::string> chain = item.references;
  if (chain.empty() && !in_reply_to.empty()) chain.push_back(in_reply_to.front());
  std::string root;
  if (!chain.empty()) {
    root = "id:" + lower(chain.front());
  } else if (!item.message_id.empty()) {
    root = "id:" + lower(item.message_id);
  } else {
    root = "topic:" + lower(item.thread_topic);
  }
  item.conversation_id = digest(root).substr(0, 16);
  if (!item.message_id.empty()) chain.push_back(item.message_id);
  if (chain.empty()) chain.push_back(root);
  if (chain.size() > 32) chain.erase(chain.begin() + 1, chain.end() - 31);  // root + last 31
  item.conversation_index.clear();
  for (const std::string& id : chain) item.conversation_index += digest(lower(id)).substr(0, 5);
}

// ---- parts ----------------------------------------------------------------------

std::string mimeTypeOf(GMimeObject* obj) {
  GMimeContentType* ct = obj ? g_mime_object_get_content_type(obj) : nullptr;
  if (ct == nullptr) return "text/plain";
  gmime::GFreeString t(g_mime_content_type_get_mime_type(ct));
  std::string s = lower(t.str());
  return s.empty() ? "application/octet-stream" : s;
}

// The decoded (transfer-encoding removed) bytes of a leaf part.
std::string decodedContent(GMimePart* part) {
  GMimeDataWrapper* dw = g_mime_part_get_content(part);
  if (dw == nullptr) return {};
  gmime::Ref<GMimeStream> mem(g_mime_stream_mem_new());
  if (!mem) return {};
  g_mime_data_wrapper_write_to_stream(dw, mem.get());
  GByteArray* arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.get()));
  if (arr == nullptr || arr->data == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(arr->data), arr->len);
}

std::uint64_t decodedSize(GMimePart* part) {
  GMimeDataWrapper* dw = g_mime_part_get_content(part);
  if (dw == nullptr) return 0;
  gmime::Ref<GMimeStream> ns(g_mime_stream_null_new());
  if (!ns) return 0;
  g_mime_data_wrapper_write_to_stream(dw, ns.get());
  return GMIME_STREAM_NULL(ns.get())->written;
}

std::uint64_t objectSize(GMimeObject* obj) {
  gmime::Ref<GMimeStream> ns(g_mime_stream_null_new());
  if (!ns || obj == nullptr) return 0;
  g_mime_object_write_to_stream(obj, nullptr, ns.get());
  return GMIME_STREAM_NULL(ns.get())->written;
}

std::string extensionFor(const std::string& type) {
  static constexpr std::pair<std::string_view, std::string_view> kExt[] = {
      {"image/png", ".png"},
      {"image/jpeg", ".jpg"},
      {"image/gif", ".gif"},
      {"application/pdf", ".pdf"},
      {"text/plain", ".txt"},
      {"text/html", ".html"},
      {"text/calendar", ".ics"},
      {"message/rfc822", ".eml"},
      {"application/zip", ".zip"},
      {"application/pkcs7-signature", ".p7s"},
      {"application/x-pkcs7-signature", ".p7s"},
      {"application/pkcs7-mime", ".p7m"},
      {"application/x-pkcs7-mime", ".p7m"},
      {"message/delivery-status", ".txt"}};
  for (const auto& [t, e] : kExt) {
    if (type == t) return std::string(e);
  }
  return ".bin";
}

class Walker {
 public:
  Walker(EmailItem& item, const MessageMeta& meta) : item_(item), meta_(meta) {}

  void walkRoot(GMimeObject* root) {
    if (root == nullptr) {
      addWarning(item_, "mime.no_body");
      return;
    }
    walk(root, "", 0, /*in_related=*/false);
  }

  std::string meeting_method, partstat;
  bool smime_encrypted = false, smime_signed = false;
  std::string report_type;
  bool report_failed = false;

 private:
  static std::string childSection(const std::string& parent, int index) {
    return parent.empty() ? std::to_string(index + 1) : parent + "." + std::to_string(index + 1);
  }

  void walk(GMimeObject* obj, const std::string& section, int depth, bool in_related) {
    if (obj == nullptr) return;
    if (depth > kMaxDepth) {
      addWarning(item_, "mime.too_deep");
      return;
    }
    if (GMIME_IS_MULTIPART(obj)) {
      walkMultipart(GMIME_MULTIPART(obj), section, depth);
      return;
    }
    // A non-multipart top-level body is IMAP section "1".
    const std::string sec = section.empty() ? "1" : section;
    leaf(obj, sec, in_related);
  }

  void walkMultipart(GMimeMultipart* mp, const std::string& section, int depth) {
    GMimeObject* obj = GMIME_OBJECT(mp);
    const std::string type = mimeTypeOf(obj);
    const int n = g_mime_multipart_get_count(mp);
    if (n <= 0) {
      // No boundary (or none found): GMime keeps the bytes as the prologue.
      // Show them as text rather than lose them.
      addWarning(item_, "mime.empty_multipart");
      const char* pro = g_mime_multipart_get_prologue(mp);
      if (!body_done_ && pro != nullptr && *pro != '\0') {
        bool lossy = false;
        item_.plain_body = sanitizeUtf8(toUtf8(pro, "", &lossy));
        item_.has_plain = true;
        body_done_ = true;
      }
      return;
    }
    auto child = [&](int i) { return g_mime_multipart_get_part(mp, i); };
    if (type == "multipart/alternative") {
      // The last plain and the last HTML alternative are the best ones
      // (RFC 2046 §5.1.4); containers are walked for their own bodies.
      int plain = -1, html = -1;
      const bool was_done = body_done_;
      for (int i = 0; i < n; ++i) {
        GMimeObject* c = child(i);
        if (c == nullptr) continue;
        const std::string ct = mimeTypeOf(c);
        if (GMIME_IS_MULTIPART(c)) {
          // e.g. related{html, images}: its body is one of the alternatives.
          if (!was_done) walk(c, childSection(section, i), depth + 1, false);
          continue;
        }
        if (ct == "text/plain" && !isAttachment(c))
          plain = i;
        else if (ct == "text/html" && !isAttachment(c))
          html = i;
        else if (ct == "text/calendar")
          calendar(c);
      }
      if (!was_done) {
        if (plain >= 0) setBody(child(plain), "text/plain", false);
        if (html >= 0) setBody(child(html), "text/html", false);
        if (plain >= 0 || html >= 0) body_done_ = true;
      } else {
        // A second alternative group (e.g. in a forwarded mixed body): append its text.
        if (plain >= 0) setBody(child(plain), "text/plain", true);
      }
      return;
    }
    if (type == "multipart/related") {
      const char* start = g_mime_object_get_content_type_parameter(obj, "start");
      int root = 0;
      if (start != nullptr) {
        std::string want = trim(start);
        if (!want.empty() && want.front() == '<') want = want.substr(1);
        if (!want.empty() && want.back() == '>') want.pop_back();
        for (int i = 0; i < n; ++i) {
          GMimeObject* c = child(i);
          const char* cid = c ? g_mime_object_get_content_id(c) : nullptr;
          if (cid != nullptr && want == cid) root = i;
        }
      }
      for (int i = 0; i < n; ++i) {
        walk(child(i), childSection(section, i), depth + 1, /*in_related=*/i != root);
      }
      return;
    }
    if (type == "multipart/signed") {
      smime_signed = true;
      for (int i = 0; i < n; ++i) {
        GMimeObject* c = child(i);
        if (i == 0) {
          walk(c, childSection(section, i), depth + 1, false);
        } else if (c != nullptr) {
          addAttachment(c, childSection(section, i), false);
        }
      }
      return;
    }
    if (type == "multipart/report") {
      const char* rt = g_mime_object_get_content_type_parameter(obj, "report-type");
      report_type = rt ? lower(rt) : std::string();
    }
    // multipart/mixed and anything unknown: the first displayable text is the
    // body, later inline text without a file name is appended, the rest are
    // attachments.
    for (int i = 0; i < n; ++i) {
      GMimeObject* c = child(i);
      if (c == nullptr) continue;
      const std::string sec = childSection(section, i);
      if (GMIME_IS_MULTIPART(c)) {
        walk(c, sec, depth + 1, false);
        continue;
      }
      leaf(c, sec, false);
    }
  }

  bool isAttachment(GMimeObject* obj) {
    GMimeContentDisposition* d = g_mime_object_get_content_disposition(obj);
    if (d != nullptr && g_mime_content_disposition_is_attachment(d)) return true;
    return false;
  }

  bool hasFilename(GMimeObject* obj) {
    return GMIME_IS_PART(obj) && g_mime_part_get_filename(GMIME_PART(obj)) != nullptr;
  }

  void leaf(GMimeObject* obj, const std::string& section, bool in_related) {
    const std::string type = mimeTypeOf(obj);
    if (type == "text/calendar") calendar(obj);
    if (type == "application/pkcs7-mime" || type == "application/x-pkcs7-mime") {
      smime_encrypted = true;
    }
    if (type == "message/delivery-status" && GMIME_IS_PART(obj)) {
      const std::string s = lower(decodedContent(GMIME_PART(obj)));
      if (s.find("action: failed") != std::string::npos) report_failed = true;
    }
    const bool text = type == "text/plain" || type == "text/html";
    if (text && !in_related && !isAttachment(obj) && GMIME_IS_PART(obj)) {
      if (!body_done_) {
        setBody(obj, type, false);
        body_done_ = true;
        return;
      }
      if (type == "text/plain" && !hasFilename(obj)) {
        setBody(obj, type, true);  // e.g. a list footer after an attachment
        return;
      }
    }
    if (text && in_related && !body_done_ && !isAttachment(obj) && !hasFilename(obj)) {
      setBody(obj, type, false);
      body_done_ = true;
      return;
    }
    addAttachment(obj, section, in_related);
  }

  void setBody(GMimeObject* obj, const std::string& type, bool append) {
    if (obj == nullptr || !GMIME_IS_PART(obj)) return;
    const std::string raw = decodedContent(GMIME_PART(obj));
    const char* cs = g_mime_object_get_content_type_parameter(obj, "charset");
    bool lossy = false;
    std::string text = toUtf8(raw, cs ? cs : "", &lossy);
    if (lossy) addWarning(item_, "mime.charset:" + tokenOf(cs));
    text = sanitizeUtf8(text);  // also drops NULs
    const char* format = g_mime_object_get_content_type_parameter(obj, "format");
    if (type == "text/plain" && format != nullptr && lower(format) == "flowed") {
      const char* delsp = g_mime_object_get_content_type_parameter(obj, "delsp");
      text = unflow(text, delsp != nullptr && lower(delsp) == "yes");
    }
    if (type == "text/html") {
      if (append && item_.has_html) return;
      item_.html_body = std::move(text);
      item_.has_html = true;
      return;
    }
    if (append && item_.has_plain) {
      item_.plain_body += "\n";
      item_.plain_body += text;
      return;
    }
    if (append && !item_.has_plain) return;  // the HTML body stays the whole story
    item_.plain_body = std::move(text);
    item_.has_plain = true;
  }

  void calendar(GMimeObject* obj) {
    if (!meeting_method.empty() || obj == nullptr) return;
    const char* m = g_mime_object_get_content_type_parameter(obj, "method");
    std::string content = GMIME_IS_PART(obj) ? decodedContent(GMIME_PART(obj)) : std::string();
    std::string up = content;
    for (char& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (m != nullptr) {
      meeting_method = lower(m);
    } else {
      const std::size_t p = up.find("\nMETHOD:");
      if (p != std::string::npos) {
        const std::size_t e = up.find_first_of("\r\n", p + 8);
        meeting_method = lower(trim(up.substr(p + 8, e == std::string::npos ? e : e - p - 8)));
      }
    }
    const std::size_t ps = up.find("PARTSTAT=");
    if (ps != std::string::npos) {
      const std::size_t e = up.find_first_of(";:\r\n", ps + 9);
      partstat = up.substr(ps + 9, e == std::string::npos ? std::string::npos : e - ps - 9);
    }
  }

  void addAttachment(GMimeObject* obj, const std::string& section, bool in_related) {
    if (item_.attachments.size() >= 500) {
      addWarning(item_, "mime.too_many_attachments");
      return;
    }
    EmailAttachment a;
    a.part = section;
    a.content_type = mimeTypeOf(obj);
    if (GMIME_IS_PART(obj)) {
      GMimePart* part = GMIME_PART(obj);
      const char* fn = g_mime_part_get_filename(part);
      if (fn != nullptr) a.display_name = sanitizeUtf8(trim(fn));
      a.estimated_size = decodedSize(part);
    } else if (GMIME_IS_MESSAGE_PART(obj)) {
      a.method = 5;  // embedded message (AIRS Method 5)
      GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
      if (inner != nullptr) {
        a.estimated_size = objectSize(GMIME_OBJECT(inner));
        const char* subj = g_mime_message_get_subject(inner);
        if (a.display_name.empty() && subj != nullptr && *subj != '\0') {
          a.display_name = sanitizeUtf8(trim(subj)) + ".eml";
        }
      }
      const char* fn = g_mime_object_get_content_disposition_parameter(obj, "filename");
      if (fn != nullptr && *fn != '\0') a.display_name = sanitizeUtf8(trim(fn));
    } else {
      a.estimated_size = objectSize(obj);
    }
    if (a.display_name.empty())
      a.display_name = "attachment-" + section + extensionFor(a.content_type);
    const char* cid = g_mime_object_get_content_id(obj);
    if (cid != nullptr) a.content_id = sanitizeUtf8(trim(cid));
    a.content_location = header(obj, "Content-Location");
    const char* disp = g_mime_object_get_disposition(obj);
    const bool disp_inline = disp != nullptr && lower(disp) == "inline";
    a.is_inline = (in_related && (!a.content_id.empty() || !a.content_location.empty())) ||
                  (disp_inline && !a.content_id.empty());
    a.file_reference = fileReference(meta_.file_reference_prefix, section);
    item_.attachments.push_back(std::move(a));
  }

  EmailItem& item_;
  const MessageMeta& meta_;
  bool body_done_ = false;
};

std::string messageClassOf(const Walker& w) {
  if (!w.meeting_method.empty()) {
    if (w.meeting_method == "request") return "IPM.Schedule.Meeting.Request";
    if (w.meeting_method == "cancel") return "IPM.Schedule.Meeting.Canceled";
    if (w.meeting_method == "reply") {
      if (w.partstat == "ACCEPTED") return "IPM.Schedule.Meeting.Resp.Pos";
      if (w.partstat == "TENTATIVE") return "IPM.Schedule.Meeting.Resp.Tent";
      if (w.partstat == "DECLINED") return "IPM.Schedule.Meeting.Resp.Neg";
    }
  }
  // EMAIL §2.2.2.49: SMIME = encrypted (may be signed), MultipartSigned = clear signed.
  if (w.smime_encrypted) return "IPM.Note.SMIME";
  if (w.smime_signed) return "IPM.Note.SMIME.MultipartSigned";
  if (w.report_type == "delivery-status") {
    return w.report_failed ? "REPORT.IPM.Note.NDR" : "REPORT.IPM.Note.DR";
  }
  if (w.report_type == "disposition-notification") return "REPORT.IPM.Note.IPNRN";
  return "IPM.Note";
}

void applyMeta(EmailItem& item, const MessageMeta& meta, const std::vector<Mailbox>& to,
               const std::vector<Mailbox>& cc) {
  item.read = meta.seen;
  if (meta.flag_details) {
    const FlagDetails& d = *meta.flag_details;
    item.flag.status = d.status;
    item.flag.flag_type = d.flag_type;
    item.flag.start_date = d.start_date;
    item.flag.due_date = d.due_date;
    item.flag.complete_time = d.complete_time;
    item.flag.reminder_time = d.reminder_time;
  } else if (meta.flagged) {
    item.flag.status = 2;
    item.flag.flag_type = "for Follow Up";
  }
  for (const std::string& k : meta.keywords) {
    if (item.categories.size() < 300)
      item.categories.push_back(sanitizeUtf8(k));
  }
  if (meta.forwarded) item.last_verb_executed = 3;
  if (meta.answered) item.last_verb_executed = 1;  // the more common verb wins when both are set
  if (item.last_verb_executed != 0) item.last_verb_time = meta.last_verb_time;
  item.is_draft = meta.draft || meta.in_drafts_folder;
  if (!meta.user_addresses.empty()) {
    bool found = false;
    for (const auto* list : {&to, &cc}) {
      for (const Mailbox& m : *list) {
        for (const std::string& u : meta.user_addresses) {
          if (lower(m.addr) == lower(u)) found = true;
        }
      }
    }
    item.received_as_bcc = !found;
  }
}

}  // namespace

std::string formatDateTime(std::int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return "1970-01-01T00:00:00.000Z";
  char buf[96];  // generous: -Wformat-truncation cannot bound tm_year
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.000Z", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string fileReference(std::string_view prefix, std::string_view part) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  auto escape = [](std::string_view s, std::string& out) {
    for (char ch : s) {
      const auto c = static_cast<unsigned char>(ch);
      if (std::isalnum(c) != 0 || c == '.' || c == '_' || c == '~' || c == '-' || c == ':') {
        out += ch;
      } else {
        out += '%';
        out += kHex[c >> 4];
        out += kHex[c & 15];
      }
    }
  };
  std::string ref;
  escape(prefix, ref);
  ref += ':';
  escape(part, ref);
  if (ref.size() <= 64) return ref;
  auto hex = [](std::string_view bytes) {
    std::string h;
    for (char b : bytes) {
      h += kHex[static_cast<unsigned char>(b) >> 4];
      h += kHex[static_cast<unsigned char>(b) & 15];
    }
    return h;
  };
  std::string hashed = "~" + hex(digest(prefix).substr(0, 16)) + ":";
  escape(part, hashed);
  if (hashed.size() <= 64) return hashed;
  return "~" + hex(digest(ref).substr(0, 20));
}

std::optional<std::pair<std::string, std::string>> parseFileReference(std::string_view ref) {
  if (ref.empty() || ref[0] == '~' || ref.size() > 64) return std::nullopt;
  // ':' is never escaped and part numbers have none: the last one splits.
  const std::size_t colon = ref.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == ref.size()) return std::nullopt;
  auto unescape = [](std::string_view s, std::string* out) {
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] != '%') {
        *out += s[i];
        continue;
      }
      if (i + 2 >= s.size()) return false;
      const int hi = g_ascii_xdigit_value(s[i + 1]);
      const int lo = g_ascii_xdigit_value(s[i + 2]);
      if (hi < 0 || lo < 0) return false;
      *out += static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    return true;
  };
  std::string prefix, part;
  if (!unescape(ref.substr(0, colon), &prefix) || !unescape(ref.substr(colon + 1), &part)) {
    return std::nullopt;
  }
  return std::make_pair(std::move(prefix), std::move(part));
}

// Frees the per-message options after every GMime object that may point at them.
namespace {
struct OptionsHolder {
  explicit OptionsHolder(GMimeParserOptions* o) : opts(o) {}
  ~OptionsHolder() {
    if (opts != nullptr) g_mime_parser_options_free(opts);
  }
  OptionsHolder(const OptionsHolder&) = delete;
  OptionsHolder& operator=(const OptionsHolder&) = delete;
  GMimeParserOptions* opts;
};

void mergeWarnings(EmailItem& item, const std::vector<std::string>& ws) {
  for (const std::string& w : ws) addWarning(item, w);
}

// One line per message that needed repair, so a broken message is visible
// without failing the Sync. The item is named by its FileReference prefix
// (the ServerId), never by its content.
void logWarnings(const EmailItem& item, const MessageMeta& meta) {
  if (item.warnings.empty() || !log::enabled(log::Level::kWarn)) return;
  std::string line =
      "items.mime_repaired item=" +
      (meta.file_reference_prefix.empty() ? std::string("?") : meta.file_reference_prefix) +
      " warnings=";
  for (std::size_t i = 0; i < item.warnings.size(); ++i) {
    if (i > 0) line += ',';
    line += item.warnings[i];
  }
  log::warn(line);
}

}  // namespace

Result<EmailItem> parseEmail(std::string_view rfc822, const MessageMeta& meta) {
  if (rfc822.empty()) return Status::InvalidArgument("mime.empty", "empty message");
  EmailItem item;
  std::vector<std::string> parser_warnings;  // outlives every GMime object below
  OptionsHolder holder(g_mime_parser_options_clone(baseOptions()));
  GMimeParserOptions* opts = holder.opts;
  if (opts == nullptr) return Status::Internal("mime.no_memory", "parser options");
  g_mime_parser_options_set_warning_callback(opts, onParserWarning, &parser_warnings);

  gmime::Ref<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(rfc822.data(), rfc822.size()));
  gmime::Ref<GMimeParser> parser(stream ? g_mime_parser_new_with_stream(stream.get()) : nullptr);
  gmime::Ref<GMimeMessage> msg(parser ? g_mime_parser_construct_message(parser.get(), opts)
                                      : nullptr);
  item.mime.assign(rfc822.data(), rfc822.size());
  if (meta.internal_date != 0) item.date_received = meta.internal_date;
  std::vector<Mailbox> to, cc;
  if (!msg) {
    // Not even headers: show the bytes as a plain-text body.
    mergeWarnings(item, parser_warnings);
    addWarning(item, "mime.unparsable");
    bool lossy = false;
    item.plain_body = sanitizeUtf8(toUtf8(rfc822, "", &lossy));
    item.has_plain = true;
    computeConversation(item, {});
    applyMeta(item, meta, to, cc);
    logWarnings(item, meta);
    return item;
  }
  GMimeObject* mobj = GMIME_OBJECT(msg.get());
  const char* subj = g_mime_message_get_subject(msg.get());
  item.subject = subj ? sanitizeUtf8(trim(subj)) : std::string();
  to = mailboxes(msg.get(), GMIME_ADDRESS_TYPE_TO);
  cc = mailboxes(msg.get(), GMIME_ADDRESS_TYPE_CC);
  item.to = formatList(to);
  item.cc = formatList(cc);
  item.from = formatList(mailboxes(msg.get(), GMIME_ADDRESS_TYPE_FROM));
  if (item.from.size() > kMaxFrom) item.from.resize(utf8CutPoint(item.from, kMaxFrom));
  item.reply_to = formatList(mailboxes(msg.get(), GMIME_ADDRESS_TYPE_REPLY_TO));
  item.sender = formatList(mailboxes(msg.get(), GMIME_ADDRESS_TYPE_SENDER));
  item.bcc = formatList(mailboxes(msg.get(), GMIME_ADDRESS_TYPE_BCC));
  for (const Mailbox& m : to) {
    if (!item.display_to.empty()) item.display_to += "; ";
    item.display_to += m.name.empty() ? m.addr : m.name;
  }
  if (!item.date_received) {
    GDateTime* d = g_mime_message_get_date(msg.get());
    if (d != nullptr) {
      item.date_received = g_date_time_to_unix(d);
    } else {
      addWarning(item, "mime.no_date");
    }
  }
  const std::string topic = header(mobj, "Thread-Topic");
  item.thread_topic = topic.empty() ? normalizeSubject(item.subject) : topic;
  item.importance = importanceOf(mobj);
  const char* mid = g_mime_message_get_message_id(msg.get());
  if (mid != nullptr) item.message_id = sanitizeUtf8(mid);
  const char* refs_raw = g_mime_object_get_header(mobj, "References");
  item.references = parseIds(refs_raw ? refs_raw : "");
  const char* irt_raw = g_mime_object_get_header(mobj, "In-Reply-To");
  computeConversation(item, parseIds(irt_raw ? irt_raw : ""));

  Walker walker(item, meta);
  walker.walkRoot(g_mime_message_get_mime_part(msg.get()));
  item.message_class = messageClassOf(walker);
  item.is_smime = walker.smime_encrypted || walker.smime_signed;
  item.native_body_type = item.has_html ? 2 : 1;
  if (!item.has_plain && !item.has_html) addWarning(item, "mime.no_text_body");
  applyMeta(item, meta, to, cc);
  std::vector<std::string> all = std::move(parser_warnings);
  all.insert(all.end(), item.warnings.begin(), item.warnings.end());
  item.warnings.clear();
  mergeWarnings(item, all);
  logWarnings(item, meta);
  return item;
}

}  // namespace eas::items
