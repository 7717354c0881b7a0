// Sample documents shared by the codec's unit tests.
#pragma once

#include <string>
#include <vector>

namespace eas::wbxml::testing {

// Bytes from a hex string; spaces ignored, "quoted" parts are literal ASCII.
std::string hex(const std::string& spec);

// Valid documents (name, bytes) covering page switches, empty elements,
// opaque data, deep nesting and every code page.
struct NamedDoc {
  std::string name;
  std::string bytes;
};
const std::vector<NamedDoc>& sampleDocs();

}  // namespace eas::wbxml::testing
