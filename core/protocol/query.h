// The request query of /Microsoft-Server-ActiveSync in both forms
// (MS-ASHTTP §2.2.1.1.1): plain "Cmd=Sync&User=..&DeviceId=..&DeviceType=.."
// and the base64 blob. Pure functions: no I/O, never throw. Every malformed
// query is a Status with its own reason token ("http.bad_base64", ...).
//
// Parsing is split in two so that the caller knows the command and the
// version before it decides how to answer a bad DeviceId (HTTP 400 on 12.x,
// Status 108 in the command's root element on 14.0+):
//   parseQuery()     structure: the form, the fields, base64 layout;
//   validateQuery()  values: DeviceId / DeviceType grammar, parameter sizes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/status.h"
#include "core/protocol/protocol_version.h"

namespace eas::protocol {

struct EasQuery {
  enum class Form { kPlain, kBase64 };
  Form form = Form::kPlain;

  // Plain form: the Cmd value as sent ("Sync"). Base64 form: empty, and
  // command_code holds the code (HTTP §2.2.1.1.1.1.2); the command table
  // maps either to a command.
  std::string command;
  std::optional<std::uint8_t> command_code;

  std::string user;         // informational only: authenticate on Authorization
  std::string device_id;    // a binary base64 DeviceId is hex-encoded (lower case)
  std::string device_type;

  // Command parameters (HTTP §2.2.1.1.1.2.5 / §2.2.1.1.1.1.3).
  std::string attachment_name;
  std::string collection_id;
  std::string item_id;
  std::string long_id;
  std::string occurrence;
  bool save_in_sent = false;
  bool accept_multipart = false;

  // Base64 form only: what the plain form sends as headers.
  std::optional<ProtocolVersion> version;
  std::uint16_t locale = 0;  // LCID, e.g. 0x0409
  std::optional<std::uint32_t> policy_key;
};

// Failures (InvalidArgument unless noted):
//   http.missing_cmd            empty query, or a plain query without Cmd
//   http.bad_percent_encoding   "%" not followed by two hex digits
//   http.duplicate_param        a plain parameter given twice
//   http.bad_param_value        SaveInSent / AcceptMultiPart not T or F
//   http.bad_base64             characters or length that are not base64
//   http.truncated_base64       a base64 field runs past the end of the blob
//   http.unsupported_version    (NotSupported) a base64 version byte other than 121..161
//   http.bad_device_id          base64 DeviceId length 0
//   http.bad_policy_key         base64 PolicyKey length other than 0 or 4
//   http.bad_param_tag          base64 parameter tag that HTTP §2.2.1.1.1.1.3 does not define
//   http.bad_options            base64 Options parameter of length 0 or > 4
// Unknown plain parameters are ignored (devices add their own).
Result<EasQuery> parseQuery(std::string_view raw_query);

// Values of a parsed query:
//   http.missing_device_id / http.bad_device_id     DeviceId is 1*32(ALPHA / DIGIT)
//   http.missing_device_type / http.bad_device_type DeviceType is 1*32 VCHAR
//   (IT MS-ASCMD S21 sends 35-character values and expects 108 / 109)
//   http.param_too_long  CollectionId / ItemId > 64, LongId > 256 (CMD §2.2.3)
Status validateQuery(const EasQuery& query);

// The base64 form of `query` (for tests and the test client). Uses
// query.version (REQUIRES: set), query.command_code (REQUIRES: set) and
// the other fields; empty parameters are left out. A device_id of 32 hex
// digits stays text (the encoder does not guess GUIDs).
std::string encodeBase64Query(const EasQuery& query);

// Standard base64 (RFC 4648 §4), with padding. Decoding accepts missing
// padding; nullopt on any other defect.
std::string base64Encode(std::string_view bytes);
std::optional<std::string> base64Decode(std::string_view text);

// Percent-decoding of one query component; nullopt on a bad escape. '+'
// stays '+' (the query is not form-encoded; "user+tag@x" must survive).
std::optional<std::string> percentDecode(std::string_view text);

}  // namespace eas::protocol
