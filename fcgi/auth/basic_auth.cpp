// HTTP Basic (RFC 7617) as ActiveSync devices send it (MS-ASHTTP
// §2.2.1.1.2.2): the user is an e-mail address, or DOMAIN\user from devices
// set up for an Exchange domain.
#include <openssl/crypto.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fcgi/auth/authenticator.h"

namespace eas::auth {
namespace {

constexpr std::string_view kWhitespace = " \t";

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(kWhitespace);
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(kWhitespace);
  return s.substr(first, last - first + 1);
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

std::string toLowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

int base64Value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Strict standard base64: padding optional, no embedded whitespace, no
// trailing bits set (so each credential has exactly one encoding).
std::optional<std::string> decodeBase64(std::string_view in) {
  std::size_t pad = 0;
  while (pad < in.size() && in[in.size() - 1 - pad] == '=') ++pad;
  if (pad > 2 || (pad > 0 && in.size() % 4 != 0)) return std::nullopt;
  in.remove_suffix(pad);
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() / 4 * 3 + 2);
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    const int v = base64Value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

Status malformed(std::string message) {
  return Status::Unauthenticated("auth.malformed", std::move(message));
}

}  // namespace

Result<Credentials> parseBasicAuthorization(std::string_view header_value,
                                            std::string_view default_domain) {
  if (header_value.size() > kMaxAuthorizationBytes)
    return malformed("Authorization header too long");
  const std::string_view value = trim(header_value);
  if (value.empty()) return Status::Unauthenticated("auth.missing", "no Authorization header");

  const auto space = value.find_first_of(kWhitespace);
  const std::string_view scheme = value.substr(0, space);
  if (!equalsIgnoreCase(scheme, "basic"))
    return Status::Unauthenticated("auth.not_basic", "Authorization scheme is not Basic");
  if (space == std::string_view::npos) return malformed("Basic without credentials");
  const std::string_view token = trim(value.substr(space));
  if (token.empty()) return malformed("Basic without credentials");

  std::optional<std::string> decoded = decodeBase64(token);
  if (!decoded) return malformed("credentials are not valid base64");
  // The decoded pair holds the password: clear it however we leave.
  struct Wipe {
    std::string& s;
    ~Wipe() {
      if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
    }
  } wipe{*decoded};
  // NUL, CR and LF cannot be carried to the IMAP server and never belong in
  // a login or password.
  if (decoded->find_first_of(std::string_view("\0\r\n", 3)) != std::string::npos)
    return malformed("control character in credentials");

  const auto colon = decoded->find(':');
  if (colon == std::string::npos) return malformed("no colon between user and password");
  Credentials creds;
  creds.raw_user = decoded->substr(0, colon);
  creds.password = decoded->substr(colon + 1);
  if (creds.raw_user.empty()) return malformed("empty user");

  std::string_view user = creds.raw_user;
  if (const auto backslash = user.find('\\'); backslash != std::string_view::npos) {
    user.remove_prefix(backslash + 1);  // the NT domain part says nothing about the mail domain
    if (user.empty()) return malformed("empty user after DOMAIN\\");
  }
  if (const auto at = user.rfind('@'); at != std::string_view::npos) {
    const std::string_view local = user.substr(0, at);
    const std::string_view domain = user.substr(at + 1);
    if (local.empty() || domain.empty()) return malformed("empty local part or domain");
    creds.login.reserve(user.size());
    creds.login.append(local).append("@").append(toLowerAscii(domain));
  } else if (!default_domain.empty()) {
    creds.login.append(user).append("@").append(toLowerAscii(default_domain));
  } else {
    creds.login.assign(user);
  }
  return creds;
}

}  // namespace eas::auth
