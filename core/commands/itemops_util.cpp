#include "core/commands/itemops_util.h"

#include <charconv>
#include <cstring>
#include <limits>

namespace eas::commands {
namespace {

namespace asb = wbxml::tags::AirSyncBase;
namespace as = wbxml::tags::AirSync;

bool parseDecimal(std::string_view text, std::uint64_t* out) {
  if (text.empty() || text.size() > 19) return false;
  for (char c : text)
    if (c < '0' || c > '9') return false;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && p == text.data() + text.size();
}

Status badRange(std::string_view text) {
  return Status::InvalidArgument("itemops.bad_range", "Range '" + std::string(text.substr(0, 40)) + "'");
}

int base64Value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

int hexValue(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string decodeBase64(std::string_view in) {
  std::string out;
  out.reserve(in.size() / 4 * 3);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char ch : in) {
    if (ch == '=') break;
    const int v = base64Value(static_cast<unsigned char>(ch));
    if (v < 0) continue;  // line breaks, spaces, junk
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

std::string decodeQuotedPrintable(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c != '=') {
      out += c;
      continue;
    }
    // Soft line break: "=" CRLF, "=" LF, also with trailing blanks before it.
    std::size_t j = i + 1;
    while (j < in.size() && (in[j] == ' ' || in[j] == '\t')) ++j;
    if (j < in.size() && (in[j] == '\n' || in[j] == '\r')) {
      if (in[j] == '\r' && j + 1 < in.size() && in[j + 1] == '\n') ++j;
      i = j;
      continue;
    }
    if (j == in.size() && j > i + 1) {  // "=" and blanks at the very end
      i = j - 1;
      continue;
    }
    if (i + 2 < in.size()) {
      const int hi = hexValue(static_cast<unsigned char>(in[i + 1]));
      const int lo = hexValue(static_cast<unsigned char>(in[i + 2]));
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += c;  // a stray '=' is kept
  }
  return out;
}

void putLe32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

std::uint32_t getLe32(std::string_view in, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i)
    v = (v << 8) | static_cast<unsigned char>(in[at + static_cast<std::size_t>(i)]);
  return v;
}

Status badPreference(std::string what) {
  return Status::InvalidArgument("itemops.bad_body_preference", std::move(what));
}

}  // namespace

Result<ByteRange> parseByteRange(std::string_view text) {
  const std::size_t dash = text.find('-');
  if (dash == std::string_view::npos) return badRange(text);
  ByteRange r;
  if (!parseDecimal(text.substr(0, dash), &r.first) ||
      !parseDecimal(text.substr(dash + 1), &r.last) || r.first > r.last)
    return badRange(text);
  return r;
}

std::string RangeSlice::text() const {
  return std::to_string(offset) + "-" + std::to_string(offset + length - 1);
}

Result<RangeSlice> sliceFor(const ByteRange& range, std::uint64_t total) {
  if (range.first >= total)
    return Status::InvalidArgument("itemops.range_outside",
                                   "range starts at " + std::to_string(range.first) + " of " +
                                       std::to_string(total) + " bytes");
  RangeSlice s;
  s.offset = range.first;
  const std::uint64_t end = range.last >= total - 1 ? total - 1 : range.last;
  s.length = end - range.first + 1;
  return s;
}

std::string decodeTransferEncoding(std::string_view encoding, std::string_view body) {
  if (equalsIgnoreCase(encoding, "base64")) return decodeBase64(body);
  if (equalsIgnoreCase(encoding, "quoted-printable")) return decodeQuotedPrintable(body);
  return std::string(body);
}

Result<std::string> buildMultipart(const std::vector<std::string_view>& parts) {
  constexpr std::uint64_t kMax = std::numeric_limits<std::int32_t>::max();
  std::uint64_t total = 4 + 8 * static_cast<std::uint64_t>(parts.size());
  for (std::string_view p : parts) total += p.size();
  if (total > kMax)
    return Status::LimitExceeded("itemops.multipart_too_large",
                                 std::to_string(total) + " bytes in a multipart body");
  std::string out;
  out.reserve(static_cast<std::size_t>(total));
  putLe32(out, static_cast<std::uint32_t>(parts.size()));
  std::uint64_t offset = 4 + 8 * static_cast<std::uint64_t>(parts.size());
  for (std::string_view p : parts) {
    putLe32(out, static_cast<std::uint32_t>(offset));
    putLe32(out, static_cast<std::uint32_t>(p.size()));
    offset += p.size();
  }
  for (std::string_view p : parts) out.append(p.data(), p.size());
  return out;
}

Result<std::vector<std::string_view>> parseMultipart(std::string_view body) {
  auto bad = [](std::string what) {
    return Status::InvalidArgument("itemops.bad_multipart", std::move(what));
  };
  if (body.size() < 4) return bad("shorter than the part count");
  const std::uint32_t count = getLe32(body, 0);
  if (count > (body.size() - 4) / 8) return bad("part table runs past the end");
  std::vector<std::string_view> parts;
  parts.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::uint64_t offset = getLe32(body, 4 + 8 * static_cast<std::size_t>(i));
    const std::uint64_t length = getLe32(body, 8 + 8 * static_cast<std::size_t>(i));
    if (offset > body.size() || length > body.size() - offset)
      return bad("part " + std::to_string(i) + " runs past the end");
    parts.push_back(body.substr(static_cast<std::size_t>(offset), static_cast<std::size_t>(length)));
  }
  return parts;
}

Result<items::BodyRequest> parseBodyRequest(const wbxml::Element* options) {
  items::BodyRequest req;
  if (!options) return req;
  bool seen_type[5] = {false, false, false, false, false};
  for (const wbxml::Element& child : options->children()) {
    if (child.tag() == as::MIMESupport) {
      std::uint64_t v = 0;
      if (!parseDecimal(child.text(), &v) || v > 2) return badPreference("MIMESupport");
      req.mime_support = static_cast<int>(v);
      continue;
    }
    if (child.tag() != asb::BodyPreference) continue;
    items::BodyPreference pref;
    int stage = 0;  // 1 Type, 2 TruncationSize, 3 AllOrNone, 4 Preview
    for (const wbxml::Element& e : child.children()) {
      std::uint64_t v = 0;
      int this_stage = 0;
      if (e.tag() == asb::Type) this_stage = 1;
      else if (e.tag() == asb::TruncationSize) this_stage = 2;
      else if (e.tag() == asb::AllOrNone) this_stage = 3;
      else if (e.tag() == asb::Preview) this_stage = 4;
      else return badPreference("unexpected element in BodyPreference");
      if (this_stage <= stage) return badPreference("BodyPreference children out of order");
      if (stage == 0 && this_stage != 1) return badPreference("BodyPreference without Type first");
      stage = this_stage;
      if (!parseDecimal(e.text(), &v)) return badPreference("not a number");
      switch (this_stage) {
        case 1:
          if (v < 1 || v > 4 || seen_type[v]) return badPreference("bad or duplicate Type");
          seen_type[v] = true;
          pref.type = static_cast<int>(v);
          break;
        case 2:
          if (v > std::numeric_limits<std::uint32_t>::max()) return badPreference("TruncationSize");
          pref.truncation_size = static_cast<std::uint32_t>(v);
          break;
        case 3:
          if (v > 1) return badPreference("AllOrNone");
          pref.all_or_none = v == 1;
          break;
        case 4:
          if (v > 255) return badPreference("Preview");
          pref.preview = static_cast<std::uint32_t>(v);
          break;
      }
    }
    if (stage == 0) return badPreference("empty BodyPreference");
    req.preferences.push_back(pref);
  }
  return req;
}

}  // namespace eas::commands
