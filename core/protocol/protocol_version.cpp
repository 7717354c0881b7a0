#include "core/protocol/protocol_version.h"

namespace eas::protocol {
namespace {

struct VersionRow {
  ProtocolVersion version;
  std::string_view text;
  std::uint8_t byte;
  bool base64;            // has a base64 query form
  std::string_view list;  // the OPTIONS list ending at this version
};

constexpr VersionRow kRows[] = {
    {ProtocolVersion::k25, "2.5", 25, false, "2.5"},
    {ProtocolVersion::k120, "12.0", 120, false, "2.5,12.0"},
    {ProtocolVersion::k121, "12.1", 121, true, "2.5,12.0,12.1"},
    {ProtocolVersion::k140, "14.0", 140, true, "2.5,12.0,12.1,14.0"},
    {ProtocolVersion::k141, "14.1", 141, true, "2.5,12.0,12.1,14.0,14.1"},
    {ProtocolVersion::k160, "16.0", 160, true, "2.5,12.0,12.1,14.0,14.1,16.0"},
    {ProtocolVersion::k161, "16.1", 161, true, "2.5,12.0,12.1,14.0,14.1,16.0,16.1"},
};

const VersionRow& row(ProtocolVersion v) { return kRows[static_cast<std::size_t>(v)]; }

}  // namespace

std::optional<ProtocolVersion> parseProtocolVersion(std::string_view text) {
  for (const VersionRow& r : kRows)
    if (r.text == text) return r.version;
  return std::nullopt;
}

std::string_view toString(ProtocolVersion v) { return row(v).text; }

std::optional<ProtocolVersion> versionFromBase64Byte(std::uint8_t byte) {
  for (const VersionRow& r : kRows)
    if (r.base64 && r.byte == byte) return r.version;
  return std::nullopt;
}

std::uint8_t base64Byte(ProtocolVersion v) { return row(v).byte; }

std::string_view versionListUpTo(ProtocolVersion max) { return row(max).list; }

}  // namespace eas::protocol
