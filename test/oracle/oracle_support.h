// Helpers for the libwbxml2 oracle tests: a canonical element tree that
// both sides (libwbxml2's XML, our decoded Document) are reduced to, and a
// way to run the libwbxml2 tools on temp files.
//
// Canonical form, and how whitespace is normalised:
//   * an element is (code page, token, content kind, content bytes, children);
//   * XML names are mapped to (page, token) with libwbxml2's own table
//     (libwbxml_tags.tsv, probed from its tools), never with ours;
//   * text is trimmed of leading and trailing XML whitespace (space, tab, CR,
//     LF), as xml2wbxml and wbxml2xml do without -k; inner whitespace is kept;
//   * whitespace-only text between child elements is dropped (indentation);
//   * empty text, no content and <x/> are the same thing (kind None);
//   * content of a tag libwbxml2 treats as opaque (tsv column 5) is base64 in
//     the XML and is compared as the decoded bytes (kind Opaque).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/wbxml/wbxml.h"

namespace eas::oracle {

struct CanonNode {
  enum class Kind { kNone, kText, kOpaque };
  std::uint8_t page = 0;
  std::uint8_t token = 0;
  Kind kind = Kind::kNone;
  std::string content;
  std::vector<CanonNode> children;
};

struct LibwbxmlTag {
  std::uint8_t page;
  std::uint8_t token;
  bool opaque;
};

// libwbxml2's ActiveSync table, from test/oracle/libwbxml_tags.tsv.
class LibwbxmlTable {
 public:
  // Loads the table; on failure `error()` is non-empty.
  explicit LibwbxmlTable(const std::string& tsv_path);
  const std::string& error() const { return error_; }
  // (namespace without ':', name) -> tag, or nullptr.
  const LibwbxmlTag* find(std::string_view ns, std::string_view name) const;
  bool isOpaque(std::uint8_t page, std::uint8_t token) const;
  std::string name(std::uint8_t page, std::uint8_t token) const;

 private:
  std::map<std::pair<std::string, std::string>, LibwbxmlTag> by_name_;
  std::map<std::pair<int, int>, std::string> names_;
  std::map<std::pair<int, int>, bool> opaque_;
  std::string error_;
};

// The table every test uses (loaded once from the source tree).
const LibwbxmlTable& libwbxmlTable();

// Parses XML as libwbxml2 writes it (default namespaces "Page:" or prefixed
// ones) into the canonical tree. Returns false and sets *error on malformed
// XML or an element libwbxml2 does not know.
bool canonFromXml(std::string_view xml, CanonNode* out, std::string* error);

// Our decoded document in canonical form. Text and opaque keep their kind;
// text is trimmed like XML text.
CanonNode canonFromDocument(const eas::wbxml::Document& doc);

// Builds the canonical tree from decodeStream() callbacks.
class CanonBuilder : public eas::wbxml::DecodeHandler {
 public:
  void startElement(eas::wbxml::Tag tag, bool has_content) override;
  void text(std::string_view utf8) override;
  void opaque(std::string_view bytes) override;
  void endElement(eas::wbxml::Tag tag) override;
  // REQUIRES: the stream ended without error.
  CanonNode take();
  const std::string& error() const { return error_; }

 private:
  std::vector<CanonNode> stack_;
  std::vector<std::string> pending_;  // raw text per open element
  CanonNode root_;
  bool done_ = false;
  std::string error_;
};

// Empty if equal, else a description of the first difference with its path
// ("/Sync/Collections/Collection/Commands/Add[57]/...: text differs ...").
std::string diffCanon(const CanonNode& expected, const CanonNode& actual);

// A fresh directory under the build tree, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

struct ToolResult {
  int exit_code = -1;  // -1: could not start or killed by a signal
  std::string output;  // stdout + stderr, for failure messages
};
// Runs argv[0] (a path) with stdout and stderr captured into `log_path`.
// If `stdout_path` is not empty, stdout goes there instead (binary safe);
// stdin is `stdin_path`, or /dev/null.
ToolResult runTool(const std::vector<std::string>& argv, const std::string& log_path,
                   const std::string& stdout_path = {}, const std::string& stdin_path = {});

bool readFile(const std::string& path, std::string* out);
bool writeFile(const std::string& path, std::string_view data);
std::string hexPrefix(std::string_view bytes, std::size_t n = 48);

// Corpus documents (test/corpus/wbxml/*.xml), sorted by name.
std::vector<std::string> corpusDocuments();
std::string corpusDir();

}  // namespace eas::oracle
