#include "test/oracle/oracle_support.h"

#include <expat.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

extern char** environ;

namespace eas::oracle {
namespace {

constexpr std::string_view kXmlSpace = " \t\r\n";

std::string_view trim(std::string_view s) {
  const auto b = s.find_first_not_of(kXmlSpace);
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(kXmlSpace);
  return s.substr(b, e - b + 1);
}

bool base64Decode(std::string_view in, std::string* out) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  out->clear();
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t pad = 0;
  for (char c : in) {
    if (c == '=') {
      ++pad;
      continue;
    }
    if (kXmlSpace.find(c) != std::string_view::npos) continue;
    const int v = value(c);
    if (v < 0 || pad > 0) return false;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return pad <= 2;
}

// Sets kind/content of a finished node from its raw text.
bool finishNode(CanonNode* node, std::string_view raw, bool opaque_tag, bool raw_is_bytes,
                std::string* error) {
  if (!node->children.empty()) {
    if (!trim(raw).empty()) {
      *error = "element has both text and children";
      return false;
    }
    return true;
  }
  if (raw_is_bytes) {  // OPAQUE from our decoder: the bytes themselves
    if (!raw.empty()) {
      node->kind = CanonNode::Kind::kOpaque;
      node->content = std::string(raw);
    }
    return true;
  }
  const std::string_view t = trim(raw);
  if (t.empty()) return true;
  if (opaque_tag) {
    node->kind = CanonNode::Kind::kOpaque;
    if (!base64Decode(t, &node->content)) {
      *error = "content of an opaque tag is not base64";
      return false;
    }
    return true;
  }
  node->kind = CanonNode::Kind::kText;
  node->content = std::string(t);
  return true;
}

struct XmlCtx {
  XML_Parser parser = nullptr;
  const LibwbxmlTable* table = nullptr;
  std::vector<CanonNode> stack;
  std::vector<std::string> text;
  CanonNode root;
  bool have_root = false;
  std::string error;
};

void onStart(void* data, const XML_Char* name, const XML_Char** /*attrs*/) {
  auto* ctx = static_cast<XmlCtx*>(data);
  if (!ctx->error.empty()) return;
  std::string_view full(name);
  const auto sep = full.find('|');
  if (sep == std::string_view::npos) {
    ctx->error = "element <" + std::string(full) + "> has no namespace";
    XML_StopParser(ctx->parser, XML_FALSE);
    return;
  }
  std::string_view ns = full.substr(0, sep);
  if (!ns.empty() && ns.back() == ':') ns.remove_suffix(1);
  const std::string_view local = full.substr(sep + 1);
  const LibwbxmlTag* tag = ctx->table->find(ns, local);
  if (tag == nullptr) {
    ctx->error =
        "libwbxml2 does not know <" + std::string(local) + "> in namespace " + std::string(ns);
    XML_StopParser(ctx->parser, XML_FALSE);
    return;
  }
  if (ctx->stack.empty() && ctx->have_root) {
    ctx->error = "second root element";
    XML_StopParser(ctx->parser, XML_FALSE);
    return;
  }
  CanonNode node;
  node.page = tag->page;
  node.token = tag->token;
  ctx->stack.push_back(std::move(node));
  ctx->text.emplace_back();
}

void onEnd(void* data, const XML_Char* /*name*/) {
  auto* ctx = static_cast<XmlCtx*>(data);
  if (!ctx->error.empty() || ctx->stack.empty()) return;
  CanonNode node = std::move(ctx->stack.back());
  ctx->stack.pop_back();
  const std::string raw = std::move(ctx->text.back());
  ctx->text.pop_back();
  if (!finishNode(&node, raw, ctx->table->isOpaque(node.page, node.token), false, &ctx->error)) {
    ctx->error += " (<" + ctx->table->name(node.page, node.token) + ">)";
    XML_StopParser(ctx->parser, XML_FALSE);
    return;
  }
  if (ctx->stack.empty()) {
    ctx->root = std::move(node);
    ctx->have_root = true;
  } else {
    ctx->stack.back().children.push_back(std::move(node));
  }
}

void onText(void* data, const XML_Char* s, int len) {
  auto* ctx = static_cast<XmlCtx*>(data);
  if (!ctx->text.empty()) ctx->text.back().append(s, static_cast<std::size_t>(len));
}

CanonNode canonElement(const eas::wbxml::Element& e) {
  CanonNode node;
  node.page = e.page();
  node.token = e.tag().token;
  for (const eas::wbxml::Element& c : e.children()) node.children.push_back(canonElement(c));
  std::string ignored;
  finishNode(&node, e.text(), false, e.isOpaque(), &ignored);
  if (!ignored.empty()) {
    // Keep the text so that the diff shows it rather than hiding it.
    node.kind = CanonNode::Kind::kText;
    node.content = std::string(e.text());
  }
  return node;
}

std::string printable(std::string_view s, std::size_t max = 60) {
  std::string out;
  for (char c : s.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F) {
      out.push_back(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

const char* kindName(CanonNode::Kind k) {
  switch (k) {
    case CanonNode::Kind::kNone:
      return "none";
    case CanonNode::Kind::kText:
      return "text";
    case CanonNode::Kind::kOpaque:
      return "opaque";
  }
  return "?";
}

std::string diffAt(const CanonNode& a, const CanonNode& b, const std::string& path, int index) {
  const auto& table = libwbxmlTable();
  std::string here = path + "/" + table.name(a.page, a.token);
  if (index > 0) here += "[" + std::to_string(index) + "]";
  if (a.page != b.page || a.token != b.token) {
    return here + ": expected tag " + table.name(a.page, a.token) + " (page " +
           std::to_string(a.page) + "), got " + table.name(b.page, b.token) + " (page " +
           std::to_string(b.page) + ")";
  }
  if (a.kind != b.kind) {
    return here + ": expected " + kindName(a.kind) + " content '" + printable(a.content) +
           "', got " + kindName(b.kind) + " '" + printable(b.content) + "'";
  }
  if (a.content != b.content) {
    std::size_t i = 0;
    while (i < a.content.size() && i < b.content.size() && a.content[i] == b.content[i]) ++i;
    return here + ": content differs at byte " + std::to_string(i) + " (sizes " +
           std::to_string(a.content.size()) + " vs " + std::to_string(b.content.size()) +
           "): expected '" + printable(std::string_view(a.content).substr(i)) + "', got '" +
           printable(std::string_view(b.content).substr(i)) + "'";
  }
  std::map<std::pair<int, int>, int> seen;
  const std::size_t n = std::min(a.children.size(), b.children.size());
  for (std::size_t i = 0; i < n; ++i) {
    const CanonNode& ca = a.children[i];
    const int index = seen[{ca.page, ca.token}]++;
    std::string d = diffAt(ca, b.children[i], here, index);
    if (!d.empty()) return d;
  }
  if (a.children.size() != b.children.size()) {
    return here + ": expected " + std::to_string(a.children.size()) + " children, got " +
           std::to_string(b.children.size());
  }
  return {};
}

}  // namespace

LibwbxmlTable::LibwbxmlTable(const std::string& tsv_path) {
  std::ifstream in(tsv_path);
  if (!in) {
    error_ = "cannot read " + tsv_path;
    return;
  }
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    int page = 0;
    std::string token_hex, ns, name;
    int opaque = 0;
    if (!(fields >> page >> token_hex >> ns >> name >> opaque)) {
      error_ = "bad line in " + tsv_path + ": " + line;
      return;
    }
    const int token = std::stoi(token_hex, nullptr, 16);
    LibwbxmlTag tag{static_cast<std::uint8_t>(page), static_cast<std::uint8_t>(token), opaque != 0};
    by_name_[{ns, name}] = tag;
    names_[{page, token}] = name;
    opaque_[{page, token}] = opaque != 0;
  }
  if (by_name_.empty()) error_ = "empty table " + tsv_path;
}

const LibwbxmlTag* LibwbxmlTable::find(std::string_view ns, std::string_view name) const {
  auto it = by_name_.find({std::string(ns), std::string(name)});
  return it == by_name_.end() ? nullptr : &it->second;
}

bool LibwbxmlTable::isOpaque(std::uint8_t page, std::uint8_t token) const {
  auto it = opaque_.find({page, token});
  return it != opaque_.end() && it->second;
}

std::string LibwbxmlTable::name(std::uint8_t page, std::uint8_t token) const {
  auto it = names_.find({page, token});
  if (it != names_.end()) return it->second;
  char buf[24];
  std::snprintf(buf, sizeof buf, "?%u:0x%02x", page, token);
  return buf;
}

const LibwbxmlTable& libwbxmlTable() {
  static const LibwbxmlTable table(std::string(EAS_SOURCE_DIR) + "/test/oracle/libwbxml_tags.tsv");
  return table;
}

bool canonFromXml(std::string_view xml, CanonNode* out, std::string* error) {
  XmlCtx ctx;
  ctx.table = &libwbxmlTable();
  if (!ctx.table->error().empty()) {
    *error = ctx.table->error();
    return false;
  }
  ctx.parser = XML_ParserCreateNS("UTF-8", '|');
  XML_SetUserData(ctx.parser, &ctx);
  XML_SetElementHandler(ctx.parser, onStart, onEnd);
  XML_SetCharacterDataHandler(ctx.parser, onText);
  const XML_Status st = XML_Parse(ctx.parser, xml.data(), static_cast<int>(xml.size()), XML_TRUE);
  if (st != XML_STATUS_OK && ctx.error.empty()) {
    ctx.error = std::string("XML error: ") + XML_ErrorString(XML_GetErrorCode(ctx.parser)) +
                " at line " + std::to_string(XML_GetCurrentLineNumber(ctx.parser));
  }
  XML_ParserFree(ctx.parser);
  if (ctx.error.empty() && !ctx.have_root) ctx.error = "no root element";
  if (!ctx.error.empty()) {
    *error = ctx.error;
    return false;
  }
  *out = std::move(ctx.root);
  return true;
}

CanonNode canonFromDocument(const eas::wbxml::Document& doc) { return canonElement(doc.root()); }

void CanonBuilder::startElement(eas::wbxml::Tag tag, bool /*has_content*/) {
  if (done_) error_ = "element after the root ended";
  CanonNode node;
  node.page = tag.page;
  node.token = tag.token;
  stack_.push_back(std::move(node));
  pending_.emplace_back();
}

void CanonBuilder::text(std::string_view utf8) {
  if (stack_.empty()) {
    error_ = "text outside any element";
    return;
  }
  if (stack_.back().kind == CanonNode::Kind::kOpaque) error_ = "text after opaque";
  pending_.back().append(utf8);
  stack_.back().kind = CanonNode::Kind::kText;
}

void CanonBuilder::opaque(std::string_view bytes) {
  if (stack_.empty()) {
    error_ = "opaque outside any element";
    return;
  }
  if (stack_.back().kind == CanonNode::Kind::kText) error_ = "opaque after text";
  pending_.back().append(bytes);
  stack_.back().kind = CanonNode::Kind::kOpaque;
}

void CanonBuilder::endElement(eas::wbxml::Tag tag) {
  if (stack_.empty()) {
    error_ = "end without start";
    return;
  }
  CanonNode node = std::move(stack_.back());
  stack_.pop_back();
  if (node.page != tag.page || node.token != tag.token) error_ = "endElement tag mismatch";
  const bool is_bytes = node.kind == CanonNode::Kind::kOpaque;
  node.kind = CanonNode::Kind::kNone;
  std::string err;
  if (!finishNode(&node, pending_.back(), false, is_bytes, &err)) error_ = err;
  pending_.pop_back();
  if (stack_.empty()) {
    root_ = std::move(node);
    done_ = true;
  } else {
    stack_.back().children.push_back(std::move(node));
  }
}

CanonNode CanonBuilder::take() { return std::move(root_); }

std::string diffCanon(const CanonNode& expected, const CanonNode& actual) {
  return diffAt(expected, actual, "", 0);
}

TempDir::TempDir() {
  const std::string base = std::string(EAS_BINARY_DIR) + "/oracle-tmp";
  std::filesystem::create_directories(base);
  std::string templ = base + "/run-XXXXXX";
  if (mkdtemp(templ.data()) != nullptr) path_ = templ;
}

TempDir::~TempDir() {
  if (!path_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
}

ToolResult runTool(const std::vector<std::string>& argv, const std::string& log_path,
                   const std::string& stdout_path, const std::string& stdin_path) {
  ToolResult result;
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(
      &actions, STDIN_FILENO, stdin_path.empty() ? "/dev/null" : stdin_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (stdout_path.empty()) {
    posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, stdout_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    result.output = "cannot start " + argv[0];
    return result;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) break;
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  readFile(log_path, &result.output);
  return result;
}

bool readFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

bool writeFile(const std::string& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  return static_cast<bool>(out);
}

std::string hexPrefix(std::string_view bytes, std::size_t n) {
  std::string out;
  char buf[4];
  for (std::size_t i = 0; i < bytes.size() && i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%02X ", static_cast<unsigned char>(bytes[i]));
    out += buf;
  }
  if (bytes.size() > n) out += "...";
  return out;
}

std::string corpusDir() { return std::string(EAS_SOURCE_DIR) + "/test/corpus/wbxml"; }

std::vector<std::string> corpusDocuments() {
  std::vector<std::string> docs;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(corpusDir(), ec)) {
    if (entry.path().extension() == ".xml") docs.push_back(entry.path().string());
  }
  std::sort(docs.begin(), docs.end());
  return docs;
}

}  // namespace eas::oracle
