#include "core/protocol/capabilities.h"

namespace eas::protocol {

// The only place that compares protocol versions.
Capabilities capabilitiesFor(ProtocolVersion v) {
  using V = ProtocolVersion;
  Capabilities c;
  c.version = v;
  const bool legacy = v <= V::k121;  // 2.5, 12.0, 12.1
  c.wbxml_common_status = !legacy;
  c.provision_via_http_449 = legacy;
  c.get_attachment = legacy;
  c.get_hierarchy = legacy;
  c.compose_mail_wbxml = !legacy;
  c.compose_body_forward = v >= V::k160;
  c.item_operations = v >= V::k120;
  c.find = v >= V::k161;
  c.cookies = v >= V::k160;
  c.draft_sync = v >= V::k160;
  return c;
}

}  // namespace eas::protocol
