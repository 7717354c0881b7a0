// Streaming WBXML encoder and encode(Document).
#include <cassert>
#include <charconv>
#include <cstring>
#include <vector>

#include "core/wbxml/internal.h"
#include "core/wbxml/wbxml.h"

namespace eas::wbxml {

Writer::Writer(Sink& sink) : sink_(&sink) {
  open_.reserve(16);
  put(internal::kHeader, sizeof internal::kHeader);
}

Writer::Writer(std::string* out) : direct_(out) {
  open_.reserve(16);
  put(internal::kHeader, sizeof internal::kHeader);
}

Writer::~Writer() { flush(); }

void Writer::emit(const char* data, std::size_t n) {
  if (direct_) {
    direct_->append(data, n);
  } else {
    sink_->write(data, n);
  }
}

void Writer::flush() {
  if (used_ != 0) {
    emit(buf_, used_);
    used_ = 0;
  }
}

void Writer::put(const char* data, std::size_t n) {
  written_ += n;
  if (n <= kBufferSize - used_) {
    std::memcpy(buf_ + used_, data, n);
    used_ += n;
    return;
  }
  flush();
  if (n >= kBufferSize / 2) {
    emit(data, n);  // large payloads go straight through
    return;
  }
  std::memcpy(buf_, data, n);
  used_ = n;
}

void Writer::flushPendingStart(bool with_content) {
  const Tag t = open_.back();
  if (t.page != page_) {
    put(static_cast<char>(internal::kSwitchPage));
    put(static_cast<char>(t.page));
    page_ = t.page;
  }
  put(static_cast<char>(with_content ? (t.token | internal::kContentBit) : t.token));
  pending_ = false;
}

Writer& Writer::start(Tag tag) {
  assert(tag.page < kNumCodePages && tag.token >= kFirstTagToken && tag.token <= kLastTagToken);
  if (pending_) flushPendingStart(true);
  open_.push_back(tag);
  pending_ = true;
  return *this;
}

Writer& Writer::end() {
  assert(!open_.empty() && "Writer::end() without an open element");
  if (open_.empty()) return *this;
  if (pending_) {
    flushPendingStart(false);  // <tag/>: the bare token, no END
  } else {
    put(static_cast<char>(internal::kEnd));
  }
  open_.pop_back();
  if (open_.empty()) flush();
  return *this;
}

Writer& Writer::text(std::string_view utf8) {
  assert(!open_.empty() && "Writer::text() outside an element");
  if (utf8.empty() || open_.empty()) return *this;
  if (std::memchr(utf8.data(), 0, utf8.size()) != nullptr) return opaque(utf8);
  stringContent(utf8);
  return *this;
}

void Writer::stringContent(std::string_view utf8) {
  if (pending_) flushPendingStart(true);
  put(static_cast<char>(internal::kStrI));
  put(utf8.data(), utf8.size());
  put('\0');
}

Writer& Writer::opaque(std::string_view bytes) {
  assert(!open_.empty() && "Writer::opaque() outside an element");
  if (open_.empty()) return *this;
  assert(bytes.size() <= 0xFFFFFFFFu);
  if (pending_) flushPendingStart(true);
  char head[6];
  head[0] = static_cast<char>(internal::kOpaque);
  const std::size_t n =
      1 + internal::writeMbUint32(static_cast<std::uint32_t>(bytes.size()), head + 1);
  put(head, n);
  put(bytes.data(), bytes.size());
  return *this;
}

Writer& Writer::element(Tag tag, std::string_view utf8) { return start(tag).text(utf8).end(); }

Writer& Writer::element(Tag tag, std::int64_t value) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, value);
  return start(tag).text(std::string_view(buf, r.ptr - buf)).end();
}

Writer& Writer::empty(Tag tag) { return start(tag).end(); }

Writer& Writer::opaqueElement(Tag tag, std::string_view bytes) {
  return start(tag).opaque(bytes).end();
}

std::size_t Writer::depth() const { return open_.size(); }
std::size_t Writer::bytesWritten() const { return written_; }

void encodeTo(const Document& doc, Writer& w) {
  // Iterative walk: a document decoded with a large max_depth must not
  // exhaust the stack.
  const Element* e = &doc.root();
  if (e->tag().token == 0) return;  // empty Document
  std::vector<const Element*> stack;
  stack.reserve(32);
  while (e) {
    w.start(e->tag());
    if (!e->text().empty()) {
      if (e->isOpaque()) {
        w.opaque(e->text());
      } else {
        w.stringContent(e->text());  // decoded STR_I text has no NUL
      }
    }
    if (e->firstChild()) {
      stack.push_back(e);
      e = e->firstChild();
      continue;
    }
    w.end();
    while (!e->nextSibling() && !stack.empty()) {
      e = stack.back();
      stack.pop_back();
      w.end();
    }
    e = stack.empty() ? nullptr : e->nextSibling();
  }
}

std::string encode(const Document& doc) {
  std::string out;
  out.reserve(doc.inputSize() + 16);
  Writer w(&out);
  encodeTo(doc, w);
  return out;
}

}  // namespace eas::wbxml
