// Strict MS-ASWBXML decoder: one parse loop, templated on what receives the
// events (the tree builder or a DecodeHandler), so the tree path has no
// virtual calls. The tree keeps one copy of the input; text and opaque data
// are views into it.
#include <algorithm>
#include <cstring>
#include <forward_list>
#include <memory>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

#include "core/wbxml/internal.h"
#include "core/wbxml/wbxml.h"

namespace eas::wbxml {

using internal::MbResult;
static_assert(std::is_trivially_destructible_v<Element>);
static_assert(alignof(Element) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);

struct Document::Impl {
  std::string data;  // the input (copied once, or moved in by decodeOwned)
  // Element arena: raw blocks; elements are placement-constructed when handed
  // out, so an over-estimated block costs only untouched memory. Element is
  // trivially destructible.
  std::vector<std::unique_ptr<std::byte[]>> blocks;
  // Text of elements with several strings (rare; no allocation until used).
  std::forward_list<std::string> joined;
  const Element* root = nullptr;
};

Document::Document() = default;
Document::~Document() = default;
Document::Document(Document&&) noexcept = default;
Document& Document::operator=(Document&&) noexcept = default;

const Element& Document::root() const {
  static const Element kEmpty;
  if (!impl_ || !impl_->root) return kEmpty;
  return *impl_->root;
}

std::size_t Document::inputSize() const { return impl_ ? impl_->data.size() : 0; }

std::size_t Element::childCount() const {
  std::size_t n = 0;
  for (const Element* c = first_child_; c; c = c->next_sibling_) ++n;
  return n;
}

const Element* Element::child(Tag t) const {
  for (const Element* c = first_child_; c; c = c->next_sibling_) {
    if (c->tag_ == t) return c;
  }
  return nullptr;
}

std::string_view Element::childText(Tag t, std::string_view fallback) const {
  const Element* c = child(t);
  return c ? c->text_ : fallback;
}

namespace {

Status malformed(const char* reason, const char* what, std::size_t offset) {
  std::string msg(what);
  msg += " at byte offset ";
  msg += std::to_string(offset);
  return Status::InvalidArgument(reason, std::move(msg));
}

Status tooDeep(std::size_t limit, std::size_t offset) {
  return Status::LimitExceeded("wbxml.too_deep", "nesting deeper than " + std::to_string(limit) +
                                                     " at byte offset " + std::to_string(offset));
}

// [page][token] -> known, as one load in the parse loop (tagInfo() is in
// another translation unit).
struct KnownTable {
  bool known[kNumCodePages][64] = {};
  KnownTable() {
    for (const TagInfo& t : allTags()) known[t.page][t.token] = true;
  }
};
const KnownTable& knownTable() {
  static const KnownTable table;
  return table;
}

// Stack of open elements: inline for the default depth limit, heap beyond.
// Each level remembers whether the element has text or children, to refuse
// mixed content.
class TagStack {
 public:
  static constexpr std::uint8_t kHasText = 1;
  static constexpr std::uint8_t kHasChild = 2;
  struct Level {
    Tag tag;
    std::uint8_t flags;
  };

  explicit TagStack(std::size_t max_depth) {
    if (max_depth > kInline) {
      heap_.resize(max_depth);
      data_ = heap_.data();
    }
  }
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  Level& back() { return data_[size_ - 1]; }
  void pop() { --size_; }
  void push(Tag t) { data_[size_++] = Level{t, 0}; }  // REQUIRES: size() < max_depth

 private:
  static constexpr std::size_t kInline = 64;
  Level inline_[kInline];
  std::vector<Level> heap_;
  Level* data_ = inline_;
  std::size_t size_ = 0;
};

Status mixedContent(std::size_t offset) {
  return malformed("wbxml.mixed_content", "element with both text and child elements", offset);
}

Status tooLarge(std::size_t size, std::size_t limit) {
  return Status::LimitExceeded("wbxml.too_large", "document of " + std::to_string(size) +
                                                      " bytes exceeds " + std::to_string(limit));
}

// The parse loop. H provides start(Tag, bool has_content), text(string_view),
// opaque(string_view) and end(Tag).
template <class H>
Status parse(const std::uint8_t* d, std::size_t n, const DecodeLimits& limits, H& h) {
  std::size_t pos = 0;
  if (n == 0) return malformed("wbxml.truncated", "empty input", 0);
  if (d[0] != 0x03) return malformed("wbxml.bad_version", "WBXML version is not 1.3", 0);
  pos = 1;
  std::uint32_t v = 0;
  auto readMb = [&](const char* what) -> Status {
    const std::size_t at = pos;
    switch (internal::readMbUint32(d, n, &pos, &v)) {
      case MbResult::kOk:
        return Status();
      case MbResult::kTruncated:
        return malformed("wbxml.truncated", what, at);
      case MbResult::kOverflow:
        return malformed("wbxml.mb_u_int32_overflow", what, at);
    }
    return Status();
  };
  std::size_t at = pos;
  EAS_RETURN_IF_ERROR(readMb("public identifier"));
  if (v != 1) return malformed("wbxml.bad_public_id", "public identifier is not 1", at);
  at = pos;
  EAS_RETURN_IF_ERROR(readMb("charset"));
  if (v != 106) return malformed("wbxml.bad_charset", "charset is not UTF-8 (106)", at);
  at = pos;
  EAS_RETURN_IF_ERROR(readMb("string table length"));
  if (v != 0) return malformed("wbxml.string_table", "string table is not empty", at);

  // Open elements (tag for end(), text/child flags); no allocation up to depth 64.
  TagStack open(std::min(limits.max_depth, n));  // depth <= number of bytes
  const KnownTable& known = knownTable();
  std::uint8_t page = 0;
  bool root_done = false;
  bool root_seen = false;

  while (pos < n) {
    const std::size_t off = pos;
    const std::uint8_t b = d[pos];
    if (root_done) return malformed("wbxml.trailing_data", "data after the root element", off);
    switch (b) {
      case internal::kSwitchPage:
        if (pos + 1 >= n) return malformed("wbxml.truncated", "SWITCH_PAGE without page", off);
        page = d[pos + 1];
        if (page >= kNumCodePages) {
          return malformed("wbxml.unknown_codepage", "unknown code page", off + 1);
        }
        pos += 2;
        continue;
      case internal::kEnd:
        if (open.empty()) return malformed("wbxml.unbalanced_end", "END without open element", off);
        h.end(open.back().tag);
        open.pop();
        ++pos;
        if (open.empty()) root_done = true;
        continue;
      case internal::kStrI: {
        if (open.empty()) {
          return malformed("wbxml.content_outside_element", "string outside any element", off);
        }
        if (open.back().flags & TagStack::kHasChild) return mixedContent(off);
        open.back().flags |= TagStack::kHasText;
        const std::uint8_t* s = d + pos + 1;
        const std::size_t avail = n - pos - 1;
        const void* nul = avail ? std::memchr(s, 0, avail) : nullptr;
        if (!nul) return malformed("wbxml.truncated", "unterminated inline string", off);
        const std::size_t len = static_cast<const std::uint8_t*>(nul) - s;
        const std::size_t bad = internal::findInvalidUtf8(s, len);
        if (bad != std::string_view::npos) {
          return malformed("wbxml.invalid_utf8", "invalid UTF-8 in inline string", pos + 1 + bad);
        }
        h.text(std::string_view(reinterpret_cast<const char*>(s), len));
        pos += len + 2;
        continue;
      }
      case internal::kOpaque: {
        if (open.empty()) {
          return malformed("wbxml.content_outside_element", "opaque data outside any element", off);
        }
        if (open.back().flags & TagStack::kHasChild) return mixedContent(off);
        open.back().flags |= TagStack::kHasText;
        ++pos;
        EAS_RETURN_IF_ERROR(readMb("opaque length"));
        if (v > n - pos) {
          return malformed("wbxml.opaque_length", "opaque length beyond the input", off);
        }
        h.opaque(std::string_view(reinterpret_cast<const char*>(d + pos), v));
        pos += v;
        continue;
      }
      case internal::kStrT:
        return malformed("wbxml.string_table_ref", "STR_T (string table reference)", off);
      case internal::kEntity:
      case internal::kLiteral:
      case internal::kExtI0:
      case internal::kExtI0 + 1:
      case internal::kExtI0 + 2:
      case internal::kPi:
      case internal::kLiteralC:
      case internal::kExtT0:
      case internal::kExtT0 + 1:
      case internal::kExtT0 + 2:
      case internal::kLiteralA:
      case internal::kExt0:
      case internal::kExt0 + 1:
      case internal::kExt0 + 2:
      case internal::kLiteralAc:
        return malformed("wbxml.unsupported_token",
                         "ENTITY/LITERAL/EXT/PI token not used by ActiveSync", off);
      default:
        break;
    }
    // A tag. Tokens 0x00..0x04 of each 0x40 block are globals handled above.
    if (b & internal::kAttributeBit) {
      return malformed("wbxml.attributes", "tag with attributes", off);
    }
    const Tag tag{page, static_cast<std::uint8_t>(b & 0x3F)};
    if (!known.known[page][tag.token])
      return malformed("wbxml.unknown_token", "unknown tag token", off);
    if (open.size() + 1 > limits.max_depth) return tooDeep(limits.max_depth, off);
    if (!open.empty()) {
      if (open.back().flags & TagStack::kHasText) return mixedContent(off);
      open.back().flags |= TagStack::kHasChild;
    }
    root_seen = true;
    ++pos;
    if (b & internal::kContentBit) {
      h.start(tag, true);
      open.push(tag);
    } else {
      h.start(tag, false);
      h.end(tag);
      if (open.empty()) root_done = true;
    }
  }
  if (!open.empty()) {
    return malformed("wbxml.unclosed", "input ends inside an element", n);
  }
  if (!root_seen) return malformed("wbxml.empty_document", "no root element", n);
  return Status();
}

}  // namespace

// Builds the tree. Elements come from blocks sized from an estimate of the
// element count, so there is no allocation per element.
class DocumentBuilder {
 public:
  static Result<Document> decode(std::string wbxml, const DecodeLimits& limits) {
    if (wbxml.size() > limits.max_size) return tooLarge(wbxml.size(), limits.max_size);
    Document doc;
    doc.impl_ = std::make_unique<Document::Impl>();
    Document::Impl* impl = doc.impl_.get();
    impl->data = std::move(wbxml);
    const std::size_t n = impl->data.size();
    DocumentBuilder builder(impl, n);
    Status st = parse(reinterpret_cast<const std::uint8_t*>(impl->data.data()), n, limits, builder);
    if (!st.ok()) return st;
    return doc;
  }

  DocumentBuilder(Document::Impl* impl, std::size_t input_size) : impl_(impl) {
    next_block_ = input_size / 6 + 8;
    frames_.reserve(32);
  }

  void start(Tag t, bool has_content) {
    Element* e = allocate();
    e->tag_ = t;
    e->has_content_ = has_content;
    if (frames_.empty()) {
      impl_->root = e;
    } else {
      Frame& f = frames_.back();
      if (f.last) {
        f.last->next_sibling_ = e;
      } else {
        f.element->first_child_ = e;
      }
      f.last = e;
    }
    // Empty elements get an end() right away; keep the frame stack uniform.
    frames_.push_back(Frame{e, nullptr});
  }
  void end(Tag) { frames_.pop_back(); }
  void text(std::string_view s) { append(s, false); }
  void opaque(std::string_view s) { append(s, true); }

 private:
  struct Frame {
    Element* element;
    Element* last;  // last child so far
  };

  Element* allocate() {
    if (left_ == 0) {
      impl_->blocks.push_back(
          std::make_unique_for_overwrite<std::byte[]>(next_block_ * sizeof(Element)));
      cur_ = impl_->blocks.back().get();
      left_ = next_block_;
      next_block_ *= 2;
    }
    --left_;
    Element* e = new (cur_) Element();
    cur_ += sizeof(Element);
    return e;
  }

  void append(std::string_view s, bool opaque) {
    Element* e = frames_.back().element;
    e->opaque_ = e->opaque_ || opaque;
    if (e->text_.empty()) {
      e->text_ = s;
      return;
    }
    // Several strings in one element (rare): join them in side storage.
    std::string joined;
    joined.reserve(e->text_.size() + s.size());
    joined.append(e->text_).append(s);
    impl_->joined.push_front(std::move(joined));
    e->text_ = impl_->joined.front();
  }

  Document::Impl* impl_;
  std::vector<Frame> frames_;
  std::byte* cur_ = nullptr;
  std::size_t left_ = 0;
  std::size_t next_block_;
};

Result<Document> decode(std::string_view wbxml, const DecodeLimits& limits) {
  if (wbxml.size() > limits.max_size) return tooLarge(wbxml.size(), limits.max_size);
  return DocumentBuilder::decode(std::string(wbxml), limits);
}

Result<Document> decodeOwned(std::string wbxml, const DecodeLimits& limits) {
  return DocumentBuilder::decode(std::move(wbxml), limits);
}

namespace {
struct HandlerAdapter {
  DecodeHandler& h;
  void start(Tag t, bool has_content) { h.startElement(t, has_content); }
  void end(Tag t) { h.endElement(t); }
  void text(std::string_view s) { h.text(s); }
  void opaque(std::string_view s) { h.opaque(s); }
};
}  // namespace

Status decodeStream(std::string_view wbxml, DecodeHandler& handler, const DecodeLimits& limits) {
  if (wbxml.size() > limits.max_size) return tooLarge(wbxml.size(), limits.max_size);
  HandlerAdapter a{handler};
  return parse(reinterpret_cast<const std::uint8_t*>(wbxml.data()), wbxml.size(), limits, a);
}

}  // namespace eas::wbxml
