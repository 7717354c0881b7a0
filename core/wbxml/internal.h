// Helpers shared by the decoder, the Writer and the XML bridge. Not part of
// the public API (tests may use them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace eas::wbxml::internal {

// WBXML global tokens (WBXML 1.3 §7.1) and the EAS header.
inline constexpr std::uint8_t kSwitchPage = 0x00;
inline constexpr std::uint8_t kEnd = 0x01;
inline constexpr std::uint8_t kEntity = 0x02;
inline constexpr std::uint8_t kStrI = 0x03;
inline constexpr std::uint8_t kLiteral = 0x04;
inline constexpr std::uint8_t kExtI0 = 0x40;
inline constexpr std::uint8_t kPi = 0x43;
inline constexpr std::uint8_t kLiteralC = 0x44;
inline constexpr std::uint8_t kExtT0 = 0x80;
inline constexpr std::uint8_t kStrT = 0x83;
inline constexpr std::uint8_t kLiteralA = 0x84;
inline constexpr std::uint8_t kExt0 = 0xC0;
inline constexpr std::uint8_t kOpaque = 0xC3;
inline constexpr std::uint8_t kLiteralAc = 0xC4;
inline constexpr std::uint8_t kContentBit = 0x40;
inline constexpr std::uint8_t kAttributeBit = 0x80;
inline constexpr char kHeader[4] = {0x03, 0x01, 0x6A, 0x00};

enum class MbResult { kOk, kTruncated, kOverflow };

// Reads an mb_u_int32 at data[*pos], advancing *pos. At most 5 bytes; a value
// above 2^32-1 or a 6th continuation byte is an overflow.
inline MbResult readMbUint32(const std::uint8_t* data, std::size_t size, std::size_t* pos,
                             std::uint32_t* out) {
  std::uint64_t v = 0;
  for (int i = 0; i < 5; ++i) {
    if (*pos >= size) return MbResult::kTruncated;
    const std::uint8_t b = data[(*pos)++];
    v = (v << 7) | (b & 0x7F);
    if ((b & 0x80) == 0) {
      if (v > 0xFFFFFFFFu) return MbResult::kOverflow;
      *out = static_cast<std::uint32_t>(v);
      return MbResult::kOk;
    }
  }
  return MbResult::kOverflow;
}

// Appends v as mb_u_int32; returns the number of bytes (1..5).
inline std::size_t writeMbUint32(std::uint32_t v, char out[5]) {
  char tmp[5];
  std::size_t n = 0;
  do {
    tmp[n++] = static_cast<char>(v & 0x7F);
    v >>= 7;
  } while (v != 0);
  for (std::size_t i = 0; i < n; ++i) {
    char b = tmp[n - 1 - i];
    if (i + 1 < n) b = static_cast<char>(b | 0x80);
    out[i] = b;
  }
  return n;
}

// Offset of the first byte of an invalid UTF-8 sequence (overlong forms,
// surrogates, code points above U+10FFFF, truncated sequences), or npos.
// ASCII is checked 8 bytes at a time.
inline std::size_t findInvalidUtf8(const std::uint8_t* s, std::size_t n) {
  std::size_t i = 0;
  while (i < n) {
#if defined(__SSE2__)
    // 32 ASCII bytes per step (SSE2 is part of x86-64).
    while (i + 32 <= n) {
      const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i + 16));
      if (_mm_movemask_epi8(_mm_or_si128(a, b)) != 0) break;
      i += 32;
    }
#endif
    if (i + 8 <= n) {
      std::uint64_t w;
      std::memcpy(&w, s + i, 8);
      if ((w & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    const std::uint8_t c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    std::uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the 2nd byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // > U+10FFFF
    } else {
      return i;  // continuation byte, C0/C1 overlong, F5..FF
    }
    if (i + len > n) return i;
    if (s[i + 1] < lo || s[i + 1] > hi) return i;
    for (std::size_t k = 2; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

inline bool isValidUtf8(std::string_view s) {
  return findInvalidUtf8(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()) ==
         std::string_view::npos;
}

// Standard base64 with padding (RFC 4648 §4).
void base64Encode(std::string_view in, std::string* out);
// Accepts padded or unpadded input; ignores ASCII whitespace. False on any
// other character or a bad length.
bool base64Decode(std::string_view in, std::string* out);

}  // namespace eas::wbxml::internal
