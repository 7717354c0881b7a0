// WBXML <-> XML in the form libwbxml2's tools use for ActiveSync (see xml.h).
#include "core/wbxml/xml.h"

#include <expat.h>

#include <array>
#include <climits>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/wbxml/internal.h"
#include "core/wbxml/wbxml.h"

namespace eas::wbxml {

namespace internal {

namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> buildB64Index() {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kB64[i])] = static_cast<std::int8_t>(i);
  return t;
}
constexpr std::array<std::int8_t, 256> kB64Index = buildB64Index();
}  // namespace

void base64Encode(std::string_view in, std::string* out) {
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  const std::size_t n = in.size();
  const std::size_t start = out->size();
  out->resize(start + (n + 2) / 3 * 4);
  char* o = out->data() + start;
  std::size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const std::uint32_t v = (s[i] << 16) | (s[i + 1] << 8) | s[i + 2];
    *o++ = kB64[v >> 18];
    *o++ = kB64[(v >> 12) & 63];
    *o++ = kB64[(v >> 6) & 63];
    *o++ = kB64[v & 63];
  }
  if (i < n) {
    std::uint32_t v = s[i] << 16;
    if (i + 1 < n) v |= s[i + 1] << 8;
    *o++ = kB64[v >> 18];
    *o++ = kB64[(v >> 12) & 63];
    *o++ = i + 1 < n ? kB64[(v >> 6) & 63] : '=';
    *o++ = '=';
  }
}

bool base64Decode(std::string_view in, std::string* out) {
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t pad = 0;
  std::size_t symbols = 0;
  for (const char ch : in) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    if (c == '=') {
      ++pad;
      continue;
    }
    if (pad != 0) return false;  // data after padding
    const std::int8_t v = kB64Index[c];
    if (v < 0) return false;
    ++symbols;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if (symbols % 4 == 1) return false;
  if (pad != 0 && (symbols + pad) % 4 != 0) return false;
  if (pad > 2) return false;
  return true;
}

}  // namespace internal

bool isSecretTag(Tag t) {
  using namespace tags;  // NOLINT
  return t == Settings::Password || t == ItemOperations::Password || t == Search::Password ||
         t == AirSyncBase::Data || t == AirSyncBase::Content || t == Email::Body ||
         t == Email::MIMEData || t == ComposeMail::Mime || t == ItemOperations::Data;
}

namespace {

// XML 1.0 Char production, checked on valid UTF-8.
bool isXmlSafeText(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char c = p[i];
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return false;
    // U+FFFE and U+FFFF (EF BF BE / EF BF BF) are not XML characters.
    if (c == 0xEF && i + 2 < n && p[i + 1] == 0xBF && (p[i + 2] == 0xBE || p[i + 2] == 0xBF)) {
      return false;
    }
  }
  return true;
}

void appendEscaped(std::string_view s, std::string* out) {
  std::size_t run = 0;  // start of the pending unescaped run
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char* rep = nullptr;
    switch (s[i]) {
      case '&':
        rep = "&amp;";
        break;
      case '<':
        rep = "&lt;";
        break;
      case '>':
        rep = "&gt;";
        break;
      case '"':
        rep = "&quot;";
        break;
      case '\'':
        rep = "&apos;";
        break;
      case '\r':
        rep = "&#13;";
        break;  // parsers would turn a raw CR into LF
      default:
        continue;
    }
    out->append(s.data() + run, i - run);
    out->append(rep);
    run = i + 1;
  }
  out->append(s.data() + run, s.size() - run);
}

class XmlWriter {
 public:
  XmlWriter(const XmlOptions& o, std::string* out) : o_(o), out_(out) {}

  // Iterative, so a document decoded with a huge max_depth cannot exhaust
  // the stack.
  void document(const Element& root) {
    struct Open {
      const Element* e;
      std::string_view name;
    };
    std::vector<Open> stack;
    const Element* e = &root;
    std::uint8_t parent_page = 0;
    while (e) {
      const std::string_view name = open(*e, parent_page, e == &root, stack.size());
      if (!name.empty()) {
        // Children follow: descend.
        stack.push_back(Open{e, name});
        parent_page = e->page();
        e = e->firstChild();
        continue;
      }
      // e is complete; close finished parents.
      while (!e->nextSibling() && !stack.empty()) {
        e = stack.back().e;
        const std::string_view n = stack.back().name;
        stack.pop_back();
        close(n, stack.size());
      }
      if (stack.empty()) break;
      parent_page = stack.back().e->page();
      e = e->nextSibling();
    }
  }

 private:
  // Writes the start tag and content of e. Returns its name if the caller
  // must write its children and close it, empty if e is finished.
  std::string_view open(const Element& e, std::uint8_t parent_page, bool is_root,
                        std::size_t depth) {
    indent(depth);
    const Tag t = e.tag();
    const std::string_view name = o_.spec_names ? tagName(t) : libwbxmlTagName(t);
    out_->push_back('<');
    out_->append(name);
    if (is_root || t.page != parent_page) {
      out_->append(" xmlns=\"");
      out_->append(o_.spec_names ? pageName(t.page) : libwbxmlPageName(t.page));
      out_->append(":\"");
    }
    const bool has_children = e.firstChild() != nullptr;
    if (o_.mask_secrets && isSecretTag(t) && (has_children || !e.text().empty())) {
      out_->append(">***</");
      out_->append(name);
      out_->push_back('>');
      newline();
      return {};
    }
    if (e.text().empty() && !has_children) {
      out_->append("/>");
      newline();
      return {};
    }
    if (!e.text().empty()) content(e);
    out_->push_back('>');
    if (!e.text().empty()) body(e);
    if (has_children) {
      newline();
      return name;
    }
    close(name, depth, /*indented=*/false);
    return {};
  }

  void close(std::string_view name, std::size_t depth, bool indented = true) {
    if (indented) indent(depth);
    out_->append("</");
    out_->append(name);
    out_->push_back('>');
    newline();
  }

  enum class Form { kText, kBase64, kOpaqueBase64, kStringBase64 };

  // Decides how the content is written; emits the attribute if one is needed.
  void content(const Element& e) {
    const TagInfo* info = tagInfo(e.tag());
    if (info && (info->flags & kBinary)) {
      form_ = Form::kBase64;
    } else if ((!e.isOpaque() || internal::isValidUtf8(e.text())) && isXmlSafeText(e.text())) {
      form_ = Form::kText;
    } else {
      form_ = e.isOpaque() ? Form::kOpaqueBase64 : Form::kStringBase64;
      out_->append(" ");
      out_->append(kXmlContentAttribute);
      out_->append("=\"");
      out_->append(e.isOpaque() ? kXmlOpaqueBase64 : kXmlStringBase64);
      out_->append("\"");
    }
  }

  void body(const Element& e) {
    if (form_ == Form::kText) {
      appendEscaped(e.text(), out_);
    } else {
      internal::base64Encode(e.text(), out_);
    }
  }

  // Indentation stops growing past kMaxIndent levels so that very deep
  // documents do not produce quadratic output.
  static constexpr std::size_t kMaxIndent = 64;
  void indent(std::size_t depth) {
    if (o_.pretty) out_->append((depth < kMaxIndent ? depth : kMaxIndent) * 2, ' ');
  }
  void newline() {
    if (o_.pretty) out_->push_back('\n');
  }

  const XmlOptions& o_;
  std::string* out_;
  Form form_ = Form::kText;
};

}  // namespace

std::string toXml(const Document& doc, const XmlOptions& opts) {
  std::string out;
  out.reserve(doc.inputSize() * 3 + 160);
  out.append(kXmlDeclaration);
  if (opts.pretty) out.push_back('\n');
  out.append(kXmlDoctype);
  if (opts.pretty) out.push_back('\n');
  if (doc.root().tag().token == 0) return out;  // empty Document
  XmlWriter w(opts, &out);
  w.document(doc.root());
  return out;
}

namespace {

constexpr char kNsSeparator = '|';

bool isXmlSpace(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return false;
  }
  return true;
}

class XmlReader {
 public:
  XmlReader(Writer* w, const DecodeLimits& limits) : w_(w), limits_(limits) {}

  Status run(std::string_view xml) {
    XML_Parser p = XML_ParserCreateNS(nullptr, kNsSeparator);
    if (!p) return Status::Internal("xml.parser", "cannot create the XML parser");
    parser_ = p;
    XML_SetUserData(p, this);
    XML_SetElementHandler(p, &XmlReader::onStart, &XmlReader::onEnd);
    XML_SetCharacterDataHandler(p, &XmlReader::onText);
    XML_SetStartDoctypeDeclHandler(p, &XmlReader::onDoctype);
    XML_SetEntityDeclHandler(p, &XmlReader::onEntityDecl);
    XML_SetSkippedEntityHandler(p, &XmlReader::onSkippedEntity);
    XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
    const char* data = xml.data();
    std::size_t left = xml.size();
    bool ok = true;
    do {
      const std::size_t chunk = left > (INT_MAX / 2) ? (INT_MAX / 2) : left;
      left -= chunk;
      if (XML_Parse(p, data, static_cast<int>(chunk), left == 0) != XML_STATUS_OK) {
        ok = false;
        break;
      }
      data += chunk;
    } while (left != 0);
    if (!ok && status_.ok()) {
      status_ = Status::InvalidArgument(
          "xml.syntax", std::string(XML_ErrorString(XML_GetErrorCode(p))) + " at line " +
                            std::to_string(XML_GetCurrentLineNumber(p)) + ", column " +
                            std::to_string(XML_GetCurrentColumnNumber(p)));
    }
    XML_ParserFree(p);
    parser_ = nullptr;
    return status_;
  }

 private:
  struct Frame {
    Tag tag;
    enum Mode { kText, kBase64Opaque, kBase64String } mode;
    bool has_children;
  };

  void fail(const char* reason, std::string msg) {
    if (!status_.ok()) return;
    msg += " at line " + std::to_string(XML_GetCurrentLineNumber(parser_));
    status_ = Status::InvalidArgument(reason, std::move(msg));
    XML_StopParser(parser_, XML_FALSE);
  }

  // Text collected so far belongs to the innermost open element; it is
  // written when that element closes. Around child elements only
  // whitespace (formatting) is allowed; it is dropped. WBXML documents
  // with both text and children are refused by the decoder, so the reader
  // refuses them too.
  bool flushText(const Frame& f, bool around_children) {
    if (text_.empty()) return true;
    if (around_children) {
      if (!isXmlSpace(text_)) {
        fail("xml.mixed_content", qualifiedName(f.tag) + " has both text and child elements");
        return false;
      }
      text_.clear();
      return true;
    }
    if (f.mode == Frame::kText) {
      w_->text(text_);
    } else {
      decoded_.clear();
      if (!internal::base64Decode(text_, &decoded_)) {
        fail("xml.bad_base64", "invalid base64 in " + qualifiedName(f.tag));
        return false;
      }
      if (f.mode == Frame::kBase64Opaque) {
        if (!decoded_.empty()) w_->opaque(decoded_);
      } else {
        if (!internal::isValidUtf8(decoded_)) {
          fail("xml.invalid_utf8", "string-base64 content is not UTF-8");
          return false;
        }
        w_->text(decoded_);
      }
    }
    text_.clear();
    return true;
  }

  void start(const char* qname, const char** atts) {
    if (!status_.ok()) return;
    if (frames_.size() + 1 > limits_.max_depth) {
      status_ = Status::LimitExceeded("xml.too_deep",
                                      "nesting deeper than " + std::to_string(limits_.max_depth));
      XML_StopParser(parser_, XML_FALSE);
      return;
    }
    std::string_view q(qname);
    std::string_view local = q;
    std::uint8_t page = frames_.empty() ? 0 : frames_.back().tag.page;
    if (const auto sep = q.rfind(kNsSeparator); sep != std::string_view::npos) {
      const std::string_view ns = q.substr(0, sep);
      local = q.substr(sep + 1);
      const auto p = pageByName(ns);
      if (!p) return fail("xml.unknown_namespace", "unknown namespace \"" + std::string(ns) + "\"");
      page = *p;
    }
    const auto tag = tagByName(page, local);
    if (!tag) {
      return fail("xml.unknown_tag",
                  "unknown tag \"" + std::string(local) + "\" in " + std::string(pageName(page)));
    }
    const TagInfo* info = tagInfo(*tag);
    Frame f{*tag, (info->flags & kBinary) ? Frame::kBase64Opaque : Frame::kText, false};
    for (const char** a = atts; *a; a += 2) {
      const std::string_view name(a[0]);
      const std::string_view value(a[1]);
      if (name != kXmlContentAttribute) {
        return fail("xml.attribute", "unexpected attribute \"" + std::string(name) + "\"");
      }
      if (value == kXmlOpaqueBase64) {
        f.mode = Frame::kBase64Opaque;
      } else if (value == kXmlStringBase64) {
        f.mode = Frame::kBase64String;
      } else {
        return fail("xml.attribute", "bad " + std::string(name) + " value");
      }
    }
    if (!frames_.empty()) {
      frames_.back().has_children = true;
      if (!flushText(frames_.back(), true)) return;
    }
    frames_.push_back(f);
    w_->start(*tag);
  }

  void end() {
    if (!status_.ok()) return;
    const Frame f = frames_.back();
    frames_.pop_back();
    if (!flushText(f, f.has_children)) return;
    w_->end();
  }

  static void onStart(void* self, const XML_Char* name, const XML_Char** atts) {
    static_cast<XmlReader*>(self)->start(name, atts);
  }
  static void onEnd(void* self, const XML_Char*) { static_cast<XmlReader*>(self)->end(); }
  static void onText(void* self, const XML_Char* s, int len) {
    auto* r = static_cast<XmlReader*>(self);
    if (r->status_.ok() && !r->frames_.empty()) r->text_.append(s, static_cast<std::size_t>(len));
  }
  static void onDoctype(void* self, const XML_Char*, const XML_Char*, const XML_Char*,
                        int has_internal_subset) {
    if (has_internal_subset) {
      static_cast<XmlReader*>(self)->fail("xml.doctype_internal_subset",
                                          "DOCTYPE with an internal subset");
    }
  }
  static void onEntityDecl(void* self, const XML_Char*, int, const XML_Char*, int, const XML_Char*,
                           const XML_Char*, const XML_Char*, const XML_Char*) {
    static_cast<XmlReader*>(self)->fail("xml.entity_declaration", "entity declaration");
  }
  static void onSkippedEntity(void* self, const XML_Char* name, int) {
    static_cast<XmlReader*>(self)->fail(
        "xml.entity_reference", "reference to undefined entity \"" + std::string(name) + "\"");
  }

  Writer* w_;
  const DecodeLimits& limits_;
  XML_Parser parser_ = nullptr;
  Status status_;
  std::vector<Frame> frames_;
  std::string text_;
  std::string decoded_;
};

}  // namespace

Result<std::string> xmlToWbxml(std::string_view xml, const DecodeLimits& limits) {
  if (xml.size() > limits.max_size) {
    return Status::LimitExceeded("xml.too_large", "XML of " + std::to_string(xml.size()) +
                                                      " bytes exceeds " +
                                                      std::to_string(limits.max_size));
  }
  std::string out;
  out.reserve(xml.size() / 2 + 16);
  Status st;
  {
    Writer w(&out);
    XmlReader reader(&w, limits);
    st = reader.run(xml);
    if (st.ok() && w.depth() != 0) st = Status::InvalidArgument("xml.syntax", "unclosed element");
  }
  if (!st.ok()) return st;
  if (out.size() <= sizeof internal::kHeader) {
    return Status::InvalidArgument("xml.empty_document", "no root element");
  }
  return out;
}

}  // namespace eas::wbxml
