// The EAS protocol versions (MS-ASHTTP §2.2.1.1.2.6). The negotiated version
// is turned into a Capabilities struct once per request (capabilities.h);
// code elsewhere asks the struct, not the version.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace eas::protocol {

// Ordered: a later enumerator is a later protocol version.
enum class ProtocolVersion : std::uint8_t { k25, k120, k121, k140, k141, k160, k161 };

inline constexpr ProtocolVersion kAllVersions[] = {
    ProtocolVersion::k25,  ProtocolVersion::k120, ProtocolVersion::k121, ProtocolVersion::k140,
    ProtocolVersion::k141, ProtocolVersion::k160, ProtocolVersion::k161};

// "14.1" -> k141. Exact spelling only (the header value is a fixed token).
std::optional<ProtocolVersion> parseProtocolVersion(std::string_view text);
// k141 -> "14.1".
std::string_view toString(ProtocolVersion v);
// The base64 query's version byte (HTTP §2.2.1.1.1.1.1): 121, 140, 141, 160,
// 161. 2.5 and 12.0 have no base64 form, so 25 and 120 are rejected.
std::optional<ProtocolVersion> versionFromBase64Byte(std::uint8_t byte);
std::uint8_t base64Byte(ProtocolVersion v);  // k141 -> 141 (also 25, 120)

// "2.5,12.0,...", every version up to and including `max`, as OPTIONS and
// MS-ASProtocolVersions send it.
std::string_view versionListUpTo(ProtocolVersion max);

}  // namespace eas::protocol
