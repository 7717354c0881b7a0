// Pure helpers of ItemOperations, GetAttachment and GetItemEstimate: the
// Range grammar, Content-Transfer-Encoding decoding of an IMAP part, the
// MS-ASAcceptMultiPart body, and the AirSyncBase BodyPreference options.
// No I/O, never throw; bad input is a Status with an "itemops.*" reason.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "core/items/email_item.h"
#include "core/wbxml/wbxml.h"

namespace eas::commands {

// ItemOperations Range "m-n" (CMD §2.2.3.140.1): zero-based, inclusive byte
// offsets, m <= n, decimal digits only (no sign, no spaces).
//   itemops.bad_range   anything else (ItemOperations Status 8)
struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
};
Result<ByteRange> parseByteRange(std::string_view text);

// The part of `total` bytes a range selects: [offset, offset + length).
// A range that ends past the data is cut at its end (the reply names the
// range actually sent); one that starts at or past the end is
// itemops.range_outside (Status 8). An empty item has no valid range.
struct RangeSlice {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  std::string text() const;  // "m-n" as sent back
};
Result<RangeSlice> sliceFor(const ByteRange& range, std::uint64_t total);

// The decoded bytes of a MIME part body as IMAP returns it (transfer-
// encoded). `encoding` is the BODYSTRUCTURE value, any case: base64 and
// quoted-printable are decoded, 7bit/8bit/binary/empty/unknown pass
// through. Lenient as mail readers are: base64 skips characters outside
// its alphabet and stops at the first '='; quoted-printable keeps a '='
// not followed by two hex digits or a line break.
std::string decodeTransferEncoding(std::string_view encoding, std::string_view body);

// The multipart ItemOperations body (CMD §2.2.1.10.1): int32 part count,
// then {int32 offset, int32 length} per part (offsets from the body's
// start), then the parts, all integers little-endian. Part 0 is the WBXML.
//   itemops.multipart_too_large  more than 2^31-1 bytes in all
Result<std::string> buildMultipart(const std::vector<std::string_view>& parts);
// The inverse, for tests and tools: the parts as views into `body`.
//   itemops.bad_multipart  a count, offset or length that does not fit
Result<std::vector<std::string_view>> parseMultipart(std::string_view body);

// The airsyncbase:BodyPreference children of an Options element and
// airsync:MIMESupport (AIRS §2.2.2.12): Type, then TruncationSize, AllOrNone,
// Preview in that order; Type 1..4 once each.
//   itemops.bad_body_preference  wrong order, duplicate or bad value (Status 2)
Result<items::BodyRequest> parseBodyRequest(const wbxml::Element* options);

}  // namespace eas::commands
