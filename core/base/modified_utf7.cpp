#include "core/base/modified_utf7.h"

#include <cstdint>
#include <vector>

namespace eas {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";
constexpr std::uint32_t kInvalid = 0xFFFFFFFF;

// The code point at `i` (advancing `i`), or kInvalid (advancing one byte).
std::uint32_t nextCodePoint(std::string_view s, std::size_t& i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if (c < 0x80) {
    ++i;
    return c;
  } else if ((c & 0xe0) == 0xc0) {
    cp = c & 0x1f;
    n = 2;
  } else if ((c & 0xf0) == 0xe0) {
    cp = c & 0x0f;
    n = 3;
  } else if ((c & 0xf8) == 0xf0) {
    cp = c & 0x07;
    n = 4;
  } else {
    ++i;
    return kInvalid;
  }
  if (i + n > s.size()) {
    ++i;
    return kInvalid;
  }
  for (std::size_t k = 1; k < n; ++k) {
    const unsigned char cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xc0) != 0x80) {
      ++i;
      return kInvalid;
    }
    cp = (cp << 6) | (cc & 0x3f);
  }
  // Overlong forms, surrogates and values beyond Unicode are not UTF-8.
  static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    ++i;
    return kInvalid;
  }
  i += n;
  return cp;
}

std::optional<std::string> encode(std::string_view in, bool strict) {
  std::string out;
  std::vector<std::uint16_t> pending;  // UTF-16 units of the current shifted run
  auto flush = [&] {
    if (pending.empty()) return;
    out += '&';
    std::uint32_t acc = 0;
    int bits = 0;
    for (std::uint16_t u : pending) {
      acc = (acc << 16) | u;
      bits += 16;
      while (bits >= 6) {
        bits -= 6;
        out += kAlphabet[(acc >> bits) & 0x3f];
      }
      acc &= (1u << bits) - 1;
    }
    if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 0x3f];
    out += '-';
    pending.clear();
  };
  for (std::size_t i = 0; i < in.size();) {
    const unsigned char c = static_cast<unsigned char>(in[i]);
    if (c >= 0x20 && c <= 0x7e) {
      flush();
      out += c == '&' ? std::string("&-") : std::string(1, static_cast<char>(c));
      ++i;
      continue;
    }
    if (c == 0 && strict) return std::nullopt;
    std::uint32_t cp = nextCodePoint(in, i);  // control characters are shifted too
    if (cp == kInvalid) {
      if (strict) return std::nullopt;
      cp = 0xFFFD;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      pending.push_back(static_cast<std::uint16_t>(0xd800 + (cp >> 10)));
      pending.push_back(static_cast<std::uint16_t>(0xdc00 + (cp & 0x3ff)));
    } else {
      pending.push_back(static_cast<std::uint16_t>(cp));
    }
  }
  flush();
  return out;
}

}  // namespace

std::optional<std::string> encodeModifiedUtf7(std::string_view utf8) { return encode(utf8, true); }

std::string encodeModifiedUtf7Lenient(std::string_view utf8) { return *encode(utf8, false); }

}  // namespace eas
