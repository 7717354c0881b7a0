// XML bridge fuzz target (the eas-wbxml encode path). For any input:
//   * xmlToWbxml() never crashes;
//   * what it accepts is valid WBXML: decode() accepts it;
//   * fixed point: toXml(decode(b)) read by xmlToWbxml() gives b again, for
//     pretty and compact output (our XML form is lossless for our own bytes);
//   * no accepted document mixes text and child elements in one element
//     (the codec refuses mixed content: xml.mixed_content / wbxml.mixed_content).
// A broken property aborts, which libFuzzer reports as a crash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/wbxml/wbxml.h"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "wbxml_xml_fuzz: %s\n", what);
  std::abort();
}

bool hasMixedContent(const eas::wbxml::Element& e) {
  if (!e.text().empty() && e.firstChild() != nullptr) return true;
  for (const eas::wbxml::Element& c : e.children()) {
    if (hasMixedContent(c)) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto bytes = eas::wbxml::xmlToWbxml(input);
  if (!bytes.ok()) {
    if (bytes.status().reason().empty()) fail("rejected without a reason token");
    return 0;
  }
  auto doc = eas::wbxml::decode(*bytes);
  if (!doc.ok()) fail("xmlToWbxml() wrote WBXML that decode() rejects");
  if (hasMixedContent(doc->root())) fail("xmlToWbxml() accepted mixed content");
  for (bool pretty : {true, false}) {
    eas::wbxml::XmlOptions opts;
    opts.pretty = pretty;
    auto again = eas::wbxml::xmlToWbxml(eas::wbxml::toXml(*doc, opts));
    if (!again.ok()) fail("toXml() output is rejected by xmlToWbxml()");
    if (*again != *bytes) fail("toXml()/xmlToWbxml() is not a fixed point");
  }
  return 0;
}
