// Public API of the WBXML codec (MS-ASWBXML). Everything a command handler,
// the HTTP layer, the tools and the tests need; internals live beside it.
//
// The decoder never throws and never reads past its input: every malformed
// document is a Status with a stable reason token ("wbxml.<what>").
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "core/wbxml/codepages.h"  // Tag, the code page tables, tag constants

namespace eas::wbxml {

struct DecodeLimits {
  std::size_t max_depth = 64;                  // nesting deeper -> wbxml.too_deep
  std::size_t max_size = 64u * 1024u * 1024u;  // larger -> wbxml.too_large
};

// One element of a decoded document. Elements are owned by their Document
// and stay valid as long as it lives. Text and opaque data are views into
// the Document's storage (zero-copy where the input allows it).
class Element {
 public:
  Tag tag() const { return tag_; }
  std::uint8_t page() const { return tag_.page; }
  // Text content (STR_I) or opaque bytes (OPAQUE); empty if neither.
  std::string_view text() const { return text_; }
  bool hasContent() const { return has_content_; }
  bool isOpaque() const { return opaque_; }

  // Children in document order.
  const Element* firstChild() const { return first_child_; }
  const Element* nextSibling() const { return next_sibling_; }
  std::size_t childCount() const;

  // First child with this tag, or nullptr.
  const Element* child(Tag t) const;
  // Text of the first child with this tag, or `fallback` if absent.
  std::string_view childText(Tag t, std::string_view fallback = {}) const;
  bool hasChild(Tag t) const { return child(t) != nullptr; }

  // Range-for over children: for (const Element& c : e.children()) ...
  class Iterator {
   public:
    explicit Iterator(const Element* e) : e_(e) {}
    const Element& operator*() const { return *e_; }
    const Element* operator->() const { return e_; }
    Iterator& operator++() {
      e_ = e_->next_sibling_;
      return *this;
    }
    bool operator!=(const Iterator& o) const { return e_ != o.e_; }
    bool operator==(const Iterator& o) const { return e_ == o.e_; }

   private:
    const Element* e_;
  };
  struct Range {
    const Element* first;
    Iterator begin() const { return Iterator(first); }
    Iterator end() const { return Iterator(nullptr); }
  };
  Range children() const { return Range{first_child_}; }

 private:
  friend class Document;
  friend class DocumentBuilder;
  Tag tag_{};
  bool has_content_ = false;
  bool opaque_ = false;
  std::string_view text_;
  const Element* first_child_ = nullptr;
  const Element* next_sibling_ = nullptr;
};

// A decoded document: owns its elements and their text.
class Document {
 public:
  Document();
  ~Document();
  Document(Document&&) noexcept;
  Document& operator=(Document&&) noexcept;
  Document(const Document&) = delete;
  Document& operator=(const Document&) = delete;

  // REQUIRES: a document returned by decode() always has a root. A
  // default-constructed Document returns an empty element with tag {0, 0}.
  const Element& root() const;
  // Size of the WBXML this document was decoded from (0 if none).
  std::size_t inputSize() const;

 private:
  friend class DocumentBuilder;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Strict decoder. Copies what it must; the input may be freed afterwards.
// An element may hold text (STR_I/OPAQUE, several are joined) or child
// elements, not both: no ActiveSync element mixes them, and the tree could
// not keep their order (wbxml.mixed_content).
Result<Document> decode(std::string_view wbxml, const DecodeLimits& limits = {});
// The same, taking over the caller's buffer instead of copying it (the HTTP
// layer's request body): decodeOwned(std::move(body)).
Result<Document> decodeOwned(std::string wbxml, const DecodeLimits& limits = {});

// Streaming decoder: SAX-style callbacks, no tree. Same checks as decode().
// Events are delivered as the input is read, so a handler may have seen some
// events before a malformed input's error is returned. Views passed to the
// callbacks point into `wbxml`. Empty elements get startElement(tag, false)
// followed at once by endElement(tag).
class DecodeHandler {
 public:
  virtual ~DecodeHandler() = default;
  virtual void startElement(Tag tag, bool has_content) = 0;
  virtual void text(std::string_view utf8) = 0;
  virtual void opaque(std::string_view bytes) = 0;
  virtual void endElement(Tag tag) = 0;
};
Status decodeStream(std::string_view wbxml, DecodeHandler& handler,
                    const DecodeLimits& limits = {});

// Where the Writer sends its bytes. Implementations: a std::string, an
// ostream, or the FastCGI output stream, so a large response is written
// once, never built twice in memory.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual void write(const char* data, std::size_t n) = 0;
};
class StringSink final : public Sink {
 public:
  explicit StringSink(std::string* out) : out_(out) {}
  void write(const char* data, std::size_t n) override { out_->append(data, n); }

 private:
  std::string* out_;
};

// Streaming encoder. Emits the header on construction, SWITCH_PAGE only
// when the page changes, and the empty-element form for elements that
// get no content. Misuse (end() without start) is a bug: asserted.
// Small writes are buffered; the buffer goes to the sink when it fills, when
// the root element is closed, on flush() and on destruction.
// text("") adds nothing (an element with only empty text is written empty);
// text containing a NUL byte is written as OPAQUE, since STR_I cannot hold it.
// REQUIRES: text() gets valid UTF-8 (not checked, for speed).
class Writer {
 public:
  explicit Writer(Sink& sink);
  // Appends to *out without a Sink (as StringSink, one virtual call less).
  explicit Writer(std::string* out);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  void flush();                                     // buffered bytes -> sink
  Writer& start(Tag tag);                           // open an element
  Writer& end();                                    // close the innermost element
  Writer& text(std::string_view utf8);              // STR_I content
  Writer& opaque(std::string_view bytes);           // OPAQUE content
  Writer& element(Tag tag, std::string_view utf8);  // <tag>text</tag>
  Writer& element(Tag tag, std::int64_t value);     // <tag>decimal</tag>
  Writer& empty(Tag tag);                           // <tag/>
  Writer& opaqueElement(Tag tag, std::string_view bytes);
  std::size_t depth() const;
  std::size_t bytesWritten() const;

 private:
  friend void encodeTo(const Document& doc, Writer& w);
  void flushPendingStart(bool with_content);
  void stringContent(std::string_view utf8);  // REQUIRES: no NUL byte
  void put(const char* data, std::size_t n);
  void put(char c) {
    ++written_;
    if (used_ == kBufferSize) flush();
    buf_[used_++] = c;
  }
  void emit(const char* data, std::size_t n);  // to the sink or *direct_
  static constexpr std::size_t kBufferSize = 8192;
  Sink* sink_ = nullptr;
  std::string* direct_ = nullptr;
  std::uint8_t page_ = 0;
  std::vector<Tag> open_;
  bool pending_ = false;  // last start() not yet written (content unknown)
  std::size_t written_ = 0;
  std::size_t used_ = 0;  // bytes in buf_
  char buf_[kBufferSize];
};

// Encodes a decoded tree back to WBXML. The result is canonical: a
// content-flagged tag without content becomes the empty form, empty strings
// are dropped, several strings in one element are joined.
std::string encode(const Document& doc);
// The same, streamed into an open Writer (nothing written for an empty Document).
void encodeTo(const Document& doc, Writer& w);

// XML rendering (libwbxml2-compatible namespaces, see xml.h for details).
struct XmlOptions {
  bool pretty = true;  // one element per line, 2-space indent (else one line)
  // Replace passwords and message bodies / MIME / attachment data with "***"
  // (debug logs). Masked output is not meant to be read back.
  bool mask_secrets = false;
  // Write the spec's tag and page names instead of libwbxml2's aliases. The
  // default (aliases) is what xml2wbxml can read.
  bool spec_names = false;
};
std::string toXml(const Document& doc, const XmlOptions& opts = {});
// Tags whose content toXml(mask_secrets) replaces.
bool isSecretTag(Tag t);
// XML (as eas-wbxml / libwbxml2 write it) to WBXML. Parsed with Expat;
// DOCTYPE internal subsets and entity declarations are refused (xml.*
// reason tokens). limits.max_depth applies; max_size applies to the XML.
Result<std::string> xmlToWbxml(std::string_view xml, const DecodeLimits& limits = {});

}  // namespace eas::wbxml
