// A small INI reader that keeps line numbers, so that --check-config can
// point at file:line for every problem. Syntax: "[section]", "key = value",
// whole-line comments starting with '#' or ';', blank lines. Values are
// trimmed; a value wrapped in double quotes keeps its inner spaces.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace eas::runtime {

struct IniEntry {
  std::string section;  // lower-cased
  std::string key;      // lower-cased
  std::string value;
  int line = 0;
};

struct IniSyntaxError {
  int line = 0;
  std::string message;
};

struct IniDocument {
  std::vector<IniEntry> entries;                      // in file order
  std::vector<IniSyntaxError> errors;                 // lines that are not INI
  std::vector<std::pair<std::string, int>> sections;  // every "[name]" with its line
};

// Never fails as a whole: lines that cannot be read become errors and the
// rest is still returned.
IniDocument parseIni(std::string_view text);

}  // namespace eas::runtime
