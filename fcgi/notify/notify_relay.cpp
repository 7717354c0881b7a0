#include "fcgi/notify/notify_relay.h"

namespace eas::notify::relay {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::string escape(std::string_view field) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(field.size());
  for (char ch : field) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f || c == '%') {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

Result<std::string> unescape(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '%') {
      out.push_back(field[i]);
      continue;
    }
    if (field.size() - i < 3) return Status::InvalidArgument("relay.bad_escape", "short %XX");
    const int hi = hexValue(field[i + 1]);
    const int lo = hexValue(field[i + 2]);
    if (hi < 0 || lo < 0) return Status::InvalidArgument("relay.bad_escape", "bad %XX");
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

Result<std::vector<std::string>> splitLine(std::string_view line) {
  std::vector<std::string> fields;
  std::size_t start = 0;
  while (true) {
    const std::size_t sp = line.find(' ', start);
    auto f = unescape(line.substr(start, sp == std::string_view::npos ? sp : sp - start));
    if (!f.ok()) return f.status();
    fields.push_back(std::move(f).value());
    if (sp == std::string_view::npos) break;
    start = sp + 1;
  }
  return fields;
}

std::string watchLine(std::string_view user) { return "WATCH " + escape(user) + "\n"; }
std::string unwatchLine(std::string_view user) { return "UNWATCH " + escape(user) + "\n"; }

std::string eventLine(const ChangeEvent& e) {
  return "EVENT " + escape(e.user) + " " + escape(e.source) + " " + escape(e.kind) + " " +
         escape(e.folder) + "\n";
}

Result<ChangeEvent> parseEventLine(std::string_view line) {
  auto f = splitLine(line);
  if (!f.ok()) return f.status();
  if (f->size() != 5 || (*f)[0] != "EVENT" || (*f)[1].empty())
    return Status::InvalidArgument("relay.bad_line", "not an EVENT line");
  ChangeEvent e;
  e.user = std::move((*f)[1]);
  e.source = std::move((*f)[2]);
  e.kind = std::move((*f)[3]);
  e.folder = std::move((*f)[4]);
  return e;
}

std::string userKey(std::string_view user) {
  std::string k(user);
  for (char& c : k)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return k;
}

}  // namespace eas::notify::relay
