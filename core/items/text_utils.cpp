#include "core/items/text_utils.h"

#include <gmime/gmime.h>
#include <iconv.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>

namespace eas::items {
namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 if invalid (RFC 3629:
// no overlongs, no surrogates, nothing above U+10FFFF).
std::size_t seqLen(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  const auto c1 = static_cast<unsigned char>(s[i + 1]);
  if (c1 < lo || c1 > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    const auto ck = static_cast<unsigned char>(s[i + k]);
    if (ck < 0x80 || ck > 0xBF) return 0;
  }
  return n;
}

void appendUtf8(std::string& out, std::uint32_t cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

constexpr char kReplacement[] = "\xEF\xBF\xBD";

// windows-1252 0x80..0x9F (the rest is Latin-1); 0 where undefined.
constexpr std::uint16_t kCp1252High[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

std::string fromCp1252(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 4);
  for (char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      out += ch;
    } else if (c < 0xA0) {
      appendUtf8(out, kCp1252High[c - 0x80] ? kCp1252High[c - 0x80] : 0xFFFD);
    } else {
      appendUtf8(out, c);
    }
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return r;
}

// The iconv name to use for a MIME charset: supersets the way mail clients
// read them (Latin-1 and ASCII labels are windows-1252 in practice, GB2312
// text is often GBK, Shift_JIS from Windows is CP932).
std::string iconvName(const std::string& cs) {
  if (cs == "iso-8859-1" || cs == "latin1" || cs == "iso8859-1" || cs == "us-ascii" ||
      cs == "ascii" || cs == "windows-1252" || cs == "cp1252") {
    return "windows-1252";
  }
  if (cs == "gb2312" || cs == "gbk" || cs == "x-gbk" || cs == "euc-cn") return "GB18030";
  if (cs == "shift_jis" || cs == "shift-jis" || cs == "sjis" || cs == "x-sjis") return "CP932";
  if (cs == "ks_c_5601-1987" || cs == "euc-kr") return "CP949";
  const char* n = g_mime_charset_iconv_name(cs.c_str());
  return n ? std::string(n) : cs;
}

// iconv loop: an invalid or truncated sequence becomes U+FFFD and one input
// byte is skipped, so conversion always finishes. Returns false if the
// converter cannot be opened.
bool convertWithIconv(std::string_view bytes, const std::string& from, std::string* out,
                      bool* lossy) {
  iconv_t cd = g_mime_iconv_open("UTF-8", from.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) return false;
  out->clear();
  out->reserve(bytes.size() * 2 + 16);
  std::string buf(4096, '\0');
  char* in = const_cast<char*>(bytes.data());
  std::size_t inleft = bytes.size();
  while (inleft > 0) {
    char* o = buf.data();
    std::size_t oleft = buf.size();
    const std::size_t rc = iconv(cd, &in, &inleft, &o, &oleft);
    out->append(buf.data(), buf.size() - oleft);
    if (rc == static_cast<std::size_t>(-1)) {
      if (errno == E2BIG) continue;
      // EILSEQ or EINVAL (truncated at the end): replace one byte, go on.
      out->append(kReplacement);
      *lossy = true;
      ++in;
      --inleft;
      iconv(cd, nullptr, nullptr, nullptr, nullptr);
    }
  }
  char* o = buf.data();
  std::size_t oleft = buf.size();
  iconv(cd, nullptr, nullptr, &o, &oleft);  // flush shift state
  out->append(buf.data(), buf.size() - oleft);
  g_mime_iconv_close(cd);
  return true;
}

bool startsWithCi(std::string_view s, std::size_t at, std::string_view word) {
  if (at + word.size() > s.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    char c = s[at + i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != word[i]) return false;
  }
  return true;
}

struct Entity {
  const char* name;
  std::uint32_t cp;
};
constexpr Entity kEntities[] = {
    {"amp", '&'},       {"lt", '<'},       {"gt", '>'},       {"quot", '"'},     {"apos", '\''},
    {"nbsp", 0xA0},     {"copy", 0xA9},    {"reg", 0xAE},     {"trade", 0x2122}, {"euro", 0x20AC},
    {"hellip", 0x2026}, {"mdash", 0x2014}, {"ndash", 0x2013}, {"laquo", 0xAB},   {"raquo", 0xBB},
    {"lsquo", 0x2018},  {"rsquo", 0x2019}, {"ldquo", 0x201C}, {"rdquo", 0x201D}, {"bull", 0x2022},
    {"middot", 0xB7},   {"deg", 0xB0},     {"auml", 0xE4},    {"ouml", 0xF6},    {"uuml", 0xFC},
    {"Auml", 0xC4},     {"Ouml", 0xD6},    {"Uuml", 0xDC},    {"szlig", 0xDF},   {"eacute", 0xE9},
    {"egrave", 0xE8},   {"agrave", 0xE0},  {"aacute", 0xE1},  {"ccedil", 0xE7},  {"ntilde", 0xF1},
    {"oacute", 0xF3},   {"iacute", 0xED},  {"uacute", 0xFA},  {"Eacute", 0xC9},  {"times", 0xD7},
    {"pound", 0xA3},    {"yen", 0xA5},     {"cent", 0xA2},    {"sect", 0xA7},    {"shy", 0xAD},
};

// Decodes the entity at html[i] == '&'; returns bytes consumed (0: not an entity).
std::size_t decodeEntity(std::string_view html, std::size_t i, std::string& out) {
  // Look no further than the longest entity: "&&&&..." must stay linear.
  const std::size_t semi = html.substr(0, std::min(html.size(), i + 14)).find(';', i + 1);
  if (semi == std::string_view::npos || semi - i > 12) return 0;
  const std::string_view body = html.substr(i + 1, semi - i - 1);
  if (body.size() >= 2 && body[0] == '#') {
    std::uint32_t cp = 0;
    const bool hex = body[1] == 'x' || body[1] == 'X';
    const std::string_view digits = body.substr(hex ? 2 : 1);
    if (digits.empty()) return 0;
    for (char c : digits) {
      int d;
      if (c >= '0' && c <= '9') {
        d = c - '0';
      } else if (hex && c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
      } else if (hex && c >= 'A' && c <= 'F') {
        d = c - 'A' + 10;
      } else {
        return 0;
      }
      cp = cp * (hex ? 16u : 10u) + static_cast<std::uint32_t>(d);
      if (cp > 0x10FFFF) cp = 0x110000;  // stays invalid, no overflow
    }
    if (cp == 0xA0) cp = ' ';
    appendUtf8(out, cp);
    return semi - i + 1;
  }
  for (const Entity& e : kEntities) {
    if (body == e.name) {
      appendUtf8(out, e.cp == 0xA0 ? ' ' : e.cp);
      return semi - i + 1;
    }
  }
  return 0;
}

bool isBlockTag(std::string_view name) {
  static constexpr std::string_view kBlocks[] = {
      "p",  "div",     "tr",      "li",     "ul",         "ol",      "table", "h1", "h2",
      "h3", "h4",      "h5",      "h6",     "blockquote", "pre",     "hr",    "dl", "dt",
      "dd", "section", "article", "header", "footer",     "address", "center"};
  for (std::string_view b : kBlocks) {
    if (name == b) return true;
  }
  return false;
}

}  // namespace

void ensureGMimeInit() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

bool isValidUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = seqLen(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string sanitizeUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = seqLen(s, i);
    if (n == 0) {
      out.append(kReplacement);
      ++i;
      continue;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (n == 1 && (c < 0x20 || c == 0x7F) && c != '\t' && c != '\n' && c != '\r') {
      ++i;
      continue;
    }
    out.append(s.data() + i, n);
    i += n;
  }
  return out;
}

std::size_t utf8CutPoint(std::string_view s, std::size_t max_bytes) {
  if (max_bytes >= s.size()) return s.size();
  std::size_t n = max_bytes;
  // Step back over continuation bytes: s[n] must start a sequence.
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return n;
}

std::string utf8Prefix(std::string_view s, std::size_t max_chars) {
  std::size_t i = 0, chars = 0;
  while (i < s.size() && chars < max_chars) {
    const std::size_t n = seqLen(s, i);
    i += n == 0 ? 1 : n;
    ++chars;
  }
  return std::string(s.substr(0, i));
}

std::string toUtf8(std::string_view bytes, std::string_view charset, bool* lossy) {
  bool dummy = false;
  if (lossy == nullptr) lossy = &dummy;
  const std::string cs = lower(charset);
  if (cs.empty() || cs == "utf-8" || cs == "utf8" || cs == "us-ascii" || cs == "ascii") {
    if (isValidUtf8(bytes)) return std::string(bytes);
    if (cs == "utf-8" || cs == "utf8") {
      // Declared UTF-8 but broken: keep what is valid.
      *lossy = true;
      return sanitizeUtf8(bytes);
    }
    *lossy = true;  // undeclared 8-bit text: the most common legacy charset
    return fromCp1252(bytes);
  }
  ensureGMimeInit();
  const std::string name = iconvName(cs);
  if (name == "windows-1252") return fromCp1252(bytes);
  std::string out;
  if (convertWithIconv(bytes, name, &out, lossy) ||
      (name != cs && convertWithIconv(bytes, cs, &out, lossy))) {
    return isValidUtf8(out) ? out : sanitizeUtf8(out);
  }
  *lossy = true;  // unknown charset
  return isValidUtf8(bytes) ? std::string(bytes) : fromCp1252(bytes);
}

std::string htmlToText(std::string_view html) {
  std::string out;
  out.reserve(html.size() / 2);
  bool pending_space = false;
  int pre = 0;
  auto newline = [&](int max_run) {
    pending_space = false;
    int run = 0;
    for (std::size_t k = out.size(); k > 0 && out[k - 1] == '\n'; --k) ++run;
    if (out.empty() || run >= max_run) return;
    out += '\n';
  };
  std::size_t i = 0;
  while (i < html.size()) {
    const char c = html[i];
    if (c == '<') {
      if (html.compare(i, 4, "<!--") == 0) {
        const std::size_t e = html.find("-->", i + 4);
        i = e == std::string_view::npos ? html.size() : e + 3;
        continue;
      }
      const std::size_t e = html.find('>', i + 1);
      if (e == std::string_view::npos) break;  // an unterminated tag: drop the rest
      std::size_t k = i + 1;
      const bool closing = k < e && html[k] == '/';
      if (closing) ++k;
      std::string name;
      while (k < e && (std::isalnum(static_cast<unsigned char>(html[k])) != 0)) {
        name += static_cast<char>(std::tolower(static_cast<unsigned char>(html[k])));
        ++k;
      }
      i = e + 1;
      if (!closing && (name == "script" || name == "style" || name == "head" || name == "title")) {
        // Skip to the matching close tag.
        const std::string close = "</" + name;
        std::size_t j = i;
        while (j < html.size() && !startsWithCi(html, j, close)) ++j;
        const std::size_t end = html.find('>', j);
        i = end == std::string_view::npos ? html.size() : end + 1;
        continue;
      }
      if (name == "br") {
        out += '\n';
        pending_space = false;
      } else if (name == "pre") {
        pre += closing ? (pre > 0 ? -1 : 0) : 1;
        newline(2);
      } else if (name == "td" || name == "th") {
        if (closing) pending_space = true;
      } else if (isBlockTag(name)) {
        newline(name == "p" || name == "blockquote" ? 2 : 1);
        if (name == "p" && !closing && !out.empty()) newline(2);
      }
      continue;
    }
    if (c == '&') {
      std::string ent;
      const std::size_t n = decodeEntity(html, i, ent);
      if (n > 0) {
        if (pending_space && !out.empty() && out.back() != '\n') out += ' ';
        pending_space = false;
        out += ent;
        i += n;
        continue;
      }
    }
    if (pre == 0 && (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f')) {
      pending_space = true;
      ++i;
      continue;
    }
    if (pending_space && !out.empty() && out.back() != '\n') out += ' ';
    pending_space = false;
    out += c;
    ++i;
  }
  // Trim trailing spaces on each line and surrounding blank lines.
  std::string res;
  res.reserve(out.size());
  std::size_t start = 0;
  while (start <= out.size()) {
    std::size_t nl = out.find('\n', start);
    if (nl == std::string::npos) nl = out.size();
    std::string_view line(out.data() + start, nl - start);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
    res.append(line);
    if (nl < out.size()) res += '\n';
    start = nl + 1;
  }
  const std::size_t b = res.find_first_not_of('\n');
  if (b == std::string::npos) return {};
  const std::size_t e = res.find_last_not_of('\n');
  return sanitizeUtf8(std::string_view(res).substr(b, e - b + 1));
}

std::string textToHtml(std::string_view text) {
  std::string out = "<html><head><meta charset=\"utf-8\"></head><body>";
  out.reserve(text.size() + text.size() / 8 + 64);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\r':
        break;
      case '\n':
        out += "<br>\n";
        break;
      default:
        out += c;
    }
  }
  out += "</body></html>";
  return out;
}

std::string unflow(std::string_view text, bool delsp) {
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  int open_depth = -1;  // quote depth of a flowed line waiting for its continuation
  while (pos <= text.size()) {
    std::size_t nl = text.find('\n', pos);
    const bool last = nl == std::string_view::npos;
    if (last) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    int depth = 0;
    while (!line.empty() && line.front() == '>') {
      ++depth;
      line.remove_prefix(1);
    }
    if (!line.empty() && line.front() == ' ') line.remove_prefix(1);  // stuffing
    const bool sig = line == "-- ";
    const bool flowed = !sig && !line.empty() && line.back() == ' ';
    if (open_depth != depth) {
      if (open_depth >= 0) out += '\n';  // depth changed: the flowed paragraph ends
      out.append(static_cast<std::size_t>(depth), '>');
      if (depth > 0) out += ' ';
    }
    std::string_view body = line;
    if (flowed && delsp) body.remove_suffix(1);
    out.append(body);
    if (flowed) {
      open_depth = depth;
    } else {
      open_depth = -1;
      if (!last) out += '\n';
    }
    if (last) break;
    pos = nl + 1;
  }
  return out;
}

std::string collapseWhitespace(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool space = false;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

}  // namespace eas::items
