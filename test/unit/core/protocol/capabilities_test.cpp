#include <catch2/catch.hpp>

#include "core/protocol/capabilities.h"

using eas::protocol::Capabilities;
using eas::protocol::capabilitiesFor;
using eas::protocol::ProtocolVersion;

TEST_CASE("capabilities per version", "[capabilities]") {
  struct Row {
    ProtocolVersion v;
    bool wbxml_status, http449, get_attachment, compose_wbxml, item_ops, find, cookies;
  };
  const Row rows[] = {
      {ProtocolVersion::k25, false, true, true, false, false, false, false},
      {ProtocolVersion::k120, false, true, true, false, true, false, false},
      {ProtocolVersion::k121, false, true, true, false, true, false, false},
      {ProtocolVersion::k140, true, false, false, true, true, false, false},
      {ProtocolVersion::k141, true, false, false, true, true, false, false},
      {ProtocolVersion::k160, true, false, false, true, true, false, true},
      {ProtocolVersion::k161, true, false, false, true, true, true, true},
  };
  for (const Row& r : rows) {
    INFO(eas::protocol::toString(r.v));
    const Capabilities c = capabilitiesFor(r.v);
    CHECK(c.version == r.v);
    CHECK(c.wbxml_common_status == r.wbxml_status);
    CHECK(c.provision_via_http_449 == r.http449);
    CHECK(c.get_attachment == r.get_attachment);
    CHECK(c.get_hierarchy == r.get_attachment);
    CHECK(c.compose_mail_wbxml == r.compose_wbxml);
    CHECK(c.item_operations == r.item_ops);
    CHECK(c.find == r.find);
    CHECK(c.cookies == r.cookies);
  }
}

TEST_CASE("protocol version text, base64 byte and OPTIONS list", "[capabilities]") {
  using namespace eas::protocol;
  for (ProtocolVersion v : kAllVersions) CHECK(parseProtocolVersion(toString(v)) == v);
  CHECK_FALSE(parseProtocolVersion("191").has_value());
  CHECK_FALSE(parseProtocolVersion("14").has_value());
  CHECK_FALSE(parseProtocolVersion(" 14.1").has_value());
  CHECK(versionFromBase64Byte(141) == ProtocolVersion::k141);
  CHECK(versionFromBase64Byte(121) == ProtocolVersion::k121);
  CHECK_FALSE(versionFromBase64Byte(120).has_value());
  CHECK_FALSE(versionFromBase64Byte(25).has_value());
  CHECK(versionListUpTo(ProtocolVersion::k161) == "2.5,12.0,12.1,14.0,14.1,16.0,16.1");
  CHECK(versionListUpTo(ProtocolVersion::k141) == "2.5,12.0,12.1,14.0,14.1");
}
