// Decoder fuzz target. For any input:
//   * decode(), decodeOwned() and decodeStream() never crash and agree on
//     accept/reject (decodeOwned() also on the tree);
//   * when accepted, decodeStream()'s events describe the same tree;
//   * encode(decode(x)) decodes again, to the same tree;
//   * toXml() (plain and masked) and xmlToWbxml(toXml()) never crash;
//   * no accepted document mixes text and child elements (wbxml.mixed_content).
// A broken property aborts, which libFuzzer reports as a crash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/wbxml/wbxml.h"

namespace {

using eas::wbxml::Element;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "wbxml_decode_fuzz: %s\n", what);
  std::abort();
}

// Same tree: tags, kinds and bytes. An element whose content is empty is the
// same whether the encoder wrote it as <x/> or as content-flagged.
bool sameTree(const Element& a, const Element& b) {
  if (a.tag() != b.tag() || a.text() != b.text()) return false;
  if (!a.text().empty() && a.isOpaque() != b.isOpaque()) return false;
  const Element* ca = a.firstChild();
  const Element* cb = b.firstChild();
  for (; ca != nullptr && cb != nullptr; ca = ca->nextSibling(), cb = cb->nextSibling()) {
    if (!sameTree(*ca, *cb)) return false;
  }
  return ca == nullptr && cb == nullptr;
}

// Flattens decodeStream() events, and the same from a tree, for comparison.
// The tree keeps one content per element (all its strings joined, opaque if
// any piece was), so the log records each element's joined content at its end.
class EventLog : public eas::wbxml::DecodeHandler {
 public:
  void startElement(eas::wbxml::Tag tag, bool /*has_content*/) override {
    out_ += 'S';
    out_ += static_cast<char>(tag.page);
    out_ += static_cast<char>(tag.token);
    open_.emplace_back();
  }
  void text(std::string_view utf8) override { append(utf8, false); }
  void opaque(std::string_view bytes) override { append(bytes, true); }
  void endElement(eas::wbxml::Tag tag) override {
    out_ += 'E';
    out_ += static_cast<char>(tag.page);
    out_ += static_cast<char>(tag.token);
    if (open_.empty()) {
      out_ += '!';
      return;
    }
    const Content& c = open_.back();
    if (!c.bytes.empty()) {
      out_ += c.opaque ? 'O' : 'T';
      out_ += std::to_string(c.bytes.size());
      out_ += ':';
      out_ += c.bytes;
    }
    open_.pop_back();
  }
  std::string take() { return std::move(out_); }

 private:
  struct Content {
    std::string bytes;
    bool opaque = false;
  };
  void append(std::string_view s, bool opaque) {
    if (open_.empty()) {
      out_ += '?';
      return;
    }
    open_.back().bytes += s;
    open_.back().opaque = open_.back().opaque || opaque;
  }
  std::string out_;
  std::vector<Content> open_;
};

bool hasMixedContent(const Element& e) {
  if (!e.text().empty() && e.firstChild() != nullptr) return true;
  for (const Element& c : e.children()) {
    if (hasMixedContent(c)) return true;
  }
  return false;
}

void logTree(const Element& e, EventLog* log) {
  log->startElement(e.tag(), e.hasContent());
  if (!e.text().empty()) {
    if (e.isOpaque()) {
      log->opaque(e.text());
    } else {
      log->text(e.text());
    }
  }
  for (const Element& c : e.children()) logTree(c, log);
  log->endElement(e.tag());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  eas::wbxml::DecodeLimits limits;
  limits.max_size = 1u << 20;  // keeps each run fast; the limit itself is exercised

  auto doc = eas::wbxml::decode(input, limits);
  EventLog stream_log;
  const eas::Status stream_status = eas::wbxml::decodeStream(input, stream_log, limits);
  if (doc.ok() != stream_status.ok()) fail("decode() and decodeStream() disagree on accept/reject");
  auto owned = eas::wbxml::decodeOwned(std::string(input), limits);
  if (owned.ok() != doc.ok()) fail("decode() and decodeOwned() disagree on accept/reject");
  if (owned.ok() && !sameTree(doc->root(), owned->root())) fail("decodeOwned() gives another tree");
  if (!doc.ok()) {
    if (doc.status().reason() != stream_status.reason()) {
      fail("decode() and decodeStream() give different reasons");
    }
    if (doc.status().reason().rfind("wbxml.", 0) != 0) fail("reason token without wbxml. prefix");
    return 0;
  }

  if (hasMixedContent(doc->root())) fail("decode() accepted mixed content");
  EventLog tree_log;
  logTree(doc->root(), &tree_log);
  if (tree_log.take() != stream_log.take()) fail("decodeStream() events differ from decode() tree");

  const std::string re = eas::wbxml::encode(*doc);
  auto again = eas::wbxml::decode(re, limits);
  if (!again.ok()) fail("encode(decode(x)) does not decode");
  if (!sameTree(doc->root(), again->root())) fail("encode(decode(x)) decodes to another tree");

  const std::string xml = eas::wbxml::toXml(*doc);
  eas::wbxml::XmlOptions masked;
  masked.pretty = false;
  masked.mask_secrets = true;
  (void)eas::wbxml::toXml(*doc, masked);
  (void)eas::wbxml::xmlToWbxml(xml);
  return 0;
}
