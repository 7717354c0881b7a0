// Output helpers for easctl: aligned text tables and JSON.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace eas::easctl {

// A table: header row and rows of cells. Printed as aligned columns, or as a
// JSON array of objects keyed by the header (cells that look like integers
// become numbers).
struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

void printTable(std::ostream& out, const Table& t);
void printJson(std::ostream& out, const Table& t);
// A JSON string literal with every byte that is not printable ASCII escaped.
std::string jsonString(const std::string& s);

}  // namespace eas::easctl
