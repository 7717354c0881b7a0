#include "core/protocol/query.h"

#include <array>
#include <cstddef>

namespace eas::protocol {
namespace {

constexpr std::string_view kB64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

bool isAlnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// A query is plain when, ignoring trailing base64 padding, it has a '=' or
// a '&'; neither is in the base64 alphabet (HTTP §2.2.1.1.1).
bool looksPlain(std::string_view q) {
  while (!q.empty() && q.back() == '=') q.remove_suffix(1);
  while (q.size() >= 3 && equalsIgnoreCase(q.substr(q.size() - 3), "%3D")) q.remove_suffix(3);
  return q.find('=') != std::string_view::npos || q.find('&') != std::string_view::npos;
}

Status invalid(std::string reason, std::string msg) {
  return Status::InvalidArgument(std::move(reason), std::move(msg));
}

Result<bool> parseTF(std::string_view name, std::string_view v) {
  if (v == "T" || v == "t") return true;
  if (v == "F" || v == "f") return false;
  return invalid("http.bad_param_value", std::string(name) + " must be T or F");
}

Result<EasQuery> parsePlain(std::string_view q) {
  EasQuery out;
  out.form = EasQuery::Form::kPlain;
  bool seen[11] = {};
  while (!q.empty()) {
    const std::size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view raw_value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    std::optional<std::string> value = percentDecode(raw_value);
    if (!value) return invalid("http.bad_percent_encoding", "bad %-escape in " + std::string(key));

    struct Field {
      std::string_view name;
      std::string* text;  // a text parameter, or
      bool* flag;         // a T/F parameter
    };
    const Field fields[] = {
        {"Cmd", &out.command, nullptr},
        {"User", &out.user, nullptr},
        {"DeviceId", &out.device_id, nullptr},
        {"DeviceType", &out.device_type, nullptr},
        {"AttachmentName", &out.attachment_name, nullptr},
        {"CollectionId", &out.collection_id, nullptr},
        {"ItemId", &out.item_id, nullptr},
        {"LongId", &out.long_id, nullptr},
        {"Occurrence", &out.occurrence, nullptr},
        {"SaveInSent", nullptr, &out.save_in_sent},
        {"AcceptMultiPart", nullptr, &out.accept_multipart},
    };
    static_assert(sizeof(fields) / sizeof(fields[0]) == sizeof(seen) / sizeof(seen[0]));
    for (std::size_t i = 0; i < std::size(fields); ++i) {
      if (!equalsIgnoreCase(key, fields[i].name)) continue;
      if (seen[i]) return invalid("http.duplicate_param", std::string(fields[i].name) + " given twice");
      seen[i] = true;
      if (fields[i].text) {
        *fields[i].text = std::move(*value);
      } else {
        Result<bool> tf = parseTF(fields[i].name, *value);
        if (!tf.ok()) return tf.status();
        *fields[i].flag = *tf;
      }
      break;
    }
  }
  if (out.command.empty()) return invalid("http.missing_cmd", "no Cmd parameter");
  return out;
}

// Reads the base64 blob's fields in order (HTTP §2.2.1.1.1.1).
class BlobReader {
 public:
  explicit BlobReader(std::string_view b) : b_(b) {}
  bool atEnd() const { return pos_ >= b_.size(); }
  bool byte(std::uint8_t* out) {
    if (pos_ >= b_.size()) return false;
    *out = static_cast<std::uint8_t>(b_[pos_++]);
    return true;
  }
  bool bytes(std::size_t n, std::string_view* out) {
    if (b_.size() - pos_ < n) return false;
    *out = b_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  std::size_t pos() const { return pos_; }
 private:
  std::string_view b_;
  std::size_t pos_ = 0;
};

std::string hexEncode(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0x0f]);
  }
  return out;
}

Status truncated(std::string_view field) {
  return invalid("http.truncated_base64", "base64 query ends inside " + std::string(field));
}

Result<EasQuery> parseBase64(std::string_view q) {
  std::optional<std::string> text = percentDecode(q);
  if (!text) return invalid("http.bad_percent_encoding", "bad %-escape in the base64 query");
  std::optional<std::string> blob = base64Decode(*text);
  if (!blob) return invalid("http.bad_base64", "query is neither plain nor base64");

  EasQuery out;
  out.form = EasQuery::Form::kBase64;
  BlobReader r(*blob);
  std::uint8_t version_byte = 0, code = 0, lo = 0, hi = 0, len = 0;
  if (!r.byte(&version_byte)) return truncated("the protocol version");
  out.version = versionFromBase64Byte(version_byte);
  if (!out.version)
    return Status::NotSupported("http.unsupported_version",
                                "base64 protocol version " + std::to_string(version_byte));
  if (!r.byte(&code)) return truncated("the command code");
  out.command_code = code;
  if (!r.byte(&lo) || !r.byte(&hi)) return truncated("the locale");
  out.locale = static_cast<std::uint16_t>(lo | (hi << 8));  // little-endian

  std::string_view field;
  if (!r.byte(&len)) return truncated("the DeviceId length");
  if (len == 0) return invalid("http.bad_device_id", "base64 DeviceId of length 0");
  if (!r.bytes(len, &field)) return truncated("the DeviceId");
  bool printable = true;
  for (unsigned char c : field) printable = printable && isAlnum(c);
  // A binary GUID is hex-encoded, as Z-Push does, so that it is a valid
  // plain-form DeviceId (1*32 ALPHA/DIGIT) everywhere else.
  out.device_id = printable ? std::string(field) : hexEncode(field);

  if (!r.byte(&len)) return truncated("the PolicyKey length");
  if (len != 0 && len != 4)
    return invalid("http.bad_policy_key", "base64 PolicyKey length " + std::to_string(len));
  if (len == 4) {
    if (!r.bytes(4, &field)) return truncated("the PolicyKey");
    std::uint32_t key = 0;
    for (int i = 3; i >= 0; --i) key = (key << 8) | static_cast<unsigned char>(field[i]);
    out.policy_key = key;  // little-endian
  }

  if (!r.byte(&len)) return truncated("the DeviceType length");
  if (!r.bytes(len, &field)) return truncated("the DeviceType");
  out.device_type = std::string(field);

  while (!r.atEnd()) {
    std::uint8_t tag = 0;
    r.byte(&tag);
    if (!r.byte(&len)) return truncated("a parameter length");
    if (!r.bytes(len, &field)) return truncated("a parameter value");
    switch (tag) {
      case 0: out.attachment_name = std::string(field); break;
      case 1: out.collection_id = std::string(field); break;
      case 2: break;  // CollectionName: obsolete, ignored
      case 3: out.item_id = std::string(field); break;
      case 4: out.long_id = std::string(field); break;
      case 5: break;  // ParentId: obsolete, ignored
      case 6: out.occurrence = std::string(field); break;
      case 7: {
        if (field.empty() || field.size() > 4)
          return invalid("http.bad_options", "Options of length " + std::to_string(field.size()));
        const auto bits = static_cast<unsigned char>(field[0]);
        out.save_in_sent = (bits & 0x01) != 0;
        out.accept_multipart = (bits & 0x02) != 0;
        break;
      }
      case 8: out.user = std::string(field); break;
      default:
        return invalid("http.bad_param_tag", "base64 parameter tag " + std::to_string(tag));
    }
  }
  return out;
}

bool isVchar(unsigned char c) { return c >= 0x21 && c <= 0x7e; }

}  // namespace

std::optional<std::string> percentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (text.size() - i < 3) return std::nullopt;
    const int hi = hexValue(text[i + 1]), lo = hexValue(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>((hi << 4) | lo));
    i += 2;
  }
  return out;
}

std::string base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (static_cast<unsigned char>(bytes[i]) << 16) |
                            (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                            static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(kB64Alphabet[(v >> 18) & 63]);
    out.push_back(kB64Alphabet[(v >> 12) & 63]);
    out.push_back(kB64Alphabet[(v >> 6) & 63]);
    out.push_back(kB64Alphabet[v & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out.push_back(kB64Alphabet[(v >> 18) & 63]);
    out.push_back(kB64Alphabet[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kB64Alphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> base64Decode(std::string_view text) {
  std::size_t pad = 0;
  while (!text.empty() && text.back() == '=' && pad < 2) {
    text.remove_suffix(1);
    ++pad;
  }
  if (text.size() % 4 == 1) return std::nullopt;
  if (pad > 0 && (text.size() + pad) % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const std::size_t v = kB64Alphabet.find(c);
    if (v == std::string_view::npos) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // Leftover bits must be zero in canonical base64.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

Result<EasQuery> parseQuery(std::string_view raw_query) {
  if (raw_query.empty()) return invalid("http.missing_cmd", "empty query");
  if (looksPlain(raw_query)) return parsePlain(raw_query);
  return parseBase64(raw_query);
}

Status validateQuery(const EasQuery& q) {
  if (q.device_id.empty()) return invalid("http.missing_device_id", "no DeviceId");
  if (q.device_id.size() > 32) return invalid("http.bad_device_id", "DeviceId longer than 32");
  for (unsigned char c : q.device_id)
    if (!isAlnum(c)) return invalid("http.bad_device_id", "DeviceId is not ALPHA/DIGIT");
  if (q.device_type.empty()) return invalid("http.missing_device_type", "no DeviceType");
  if (q.device_type.size() > 32) return invalid("http.bad_device_type", "DeviceType longer than 32");
  for (unsigned char c : q.device_type)
    if (!isVchar(c)) return invalid("http.bad_device_type", "DeviceType is not VCHAR");
  if (q.collection_id.size() > 64 || q.item_id.size() > 64 || q.long_id.size() > 256)
    return invalid("http.param_too_long", "CollectionId/ItemId > 64 or LongId > 256");
  return Status::Ok();
}

std::string encodeBase64Query(const EasQuery& q) {
  std::string b;
  b.push_back(static_cast<char>(base64Byte(q.version.value_or(ProtocolVersion::k141))));
  b.push_back(static_cast<char>(q.command_code.value_or(0)));
  b.push_back(static_cast<char>(q.locale & 0xff));
  b.push_back(static_cast<char>(q.locale >> 8));
  auto field = [&b](std::string_view v) {
    b.push_back(static_cast<char>(v.size() & 0xff));
    b.append(v.substr(0, 255));
  };
  field(q.device_id);
  if (q.policy_key) {
    b.push_back(4);
    for (int i = 0; i < 4; ++i) b.push_back(static_cast<char>((*q.policy_key >> (8 * i)) & 0xff));
  } else {
    b.push_back(0);
  }
  field(q.device_type);
  auto param = [&](std::uint8_t tag, std::string_view v) {
    if (v.empty()) return;
    b.push_back(static_cast<char>(tag));
    field(v);
  };
  param(0, q.attachment_name);
  param(1, q.collection_id);
  param(3, q.item_id);
  param(4, q.long_id);
  param(6, q.occurrence);
  const char options = static_cast<char>((q.save_in_sent ? 1 : 0) | (q.accept_multipart ? 2 : 0));
  if (options != 0) param(7, std::string_view(&options, 1));
  param(8, q.user);
  return base64Encode(b);
}

}  // namespace eas::protocol
