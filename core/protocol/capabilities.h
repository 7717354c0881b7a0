// What the negotiated protocol version allows, resolved once per request.
// Every per-version difference the HTTP layer and the commands act on is a
// field here, so no code outside capabilities.cpp compares versions
// (style item 3; the ClickHouse trap in "What to avoid").
#pragma once

#include "core/protocol/protocol_version.h"

namespace eas::protocol {

struct Capabilities {
  ProtocolVersion version = ProtocolVersion::k141;

  // 14.0+: common errors are HTTP 200 with a WBXML Status 101-184 in the
  // command's root element; 2.5/12.x send the HTTP code instead (CMD §2.2.2).
  bool wbxml_common_status = true;
  // 2.5/12.x: "retry after Provision" is HTTP 449, not Status 140-144 (CMD §2.2.2).
  bool provision_via_http_449 = false;
  // GetAttachment / GetHierarchy exist up to 12.1 (CMD §2.2.1.8 note; RS).
  bool get_attachment = false;
  bool get_hierarchy = false;
  // 14.0+: SendMail/SmartReply/SmartForward carry ComposeMail WBXML; 2.5/12.x
  // send message/rfc822 with SaveInSent/ItemId/... in the URL (CMD §2.2.1.17).
  bool compose_mail_wbxml = true;
  // 16.0+: a SmartForward may carry airsyncbase:Body and Forwardees instead
  // of Mime (CMD §2.2.3.169; statuses 178 and 179).
  bool compose_body_forward = false;
  // 12.0+: ItemOperations, Settings, ResolveRecipients, ValidateCert.
  bool item_operations = true;
  // 16.1: Find (CMD §2.2.1.2).
  bool find = false;
  // 16.0+: clients echo Set-Cookie (HTTP §2.2.1.1.2.4).
  bool cookies = false;
  // 16.0+: Sync Add/Change of email in Drafts, airsyncbase:Attachments
  // Add/Delete in them and email2:Send (CMD §3.1.5.4; EMAIL §2.2.2.69).
  bool draft_sync = false;
};

Capabilities capabilitiesFor(ProtocolVersion version);

}  // namespace eas::protocol
