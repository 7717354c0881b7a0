// Text helpers of the Email class: UTF-8 checks and cuts, charset conversion,
// HTML <-> plain text. Pure functions; they never throw on bad input.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace eas::items {

// g_mime_init() exactly once (GMime's charset tables); every entry point that
// touches GMime calls it first.
void ensureGMimeInit();

bool isValidUtf8(std::string_view s);
// Invalid sequences become U+FFFD; NUL and C0 controls other than TAB, LF and
// CR are dropped (they cannot travel in a WBXML string).
std::string sanitizeUtf8(std::string_view s);
// The largest n <= max_bytes that does not split a UTF-8 sequence of `s`.
std::size_t utf8CutPoint(std::string_view s, std::size_t max_bytes);
// The first `max_chars` code points of `s` (valid UTF-8 assumed).
std::string utf8Prefix(std::string_view s, std::size_t max_chars);

// Bytes in `charset` (a MIME charset name, may be empty or unknown) to valid
// UTF-8. Unknown or empty charsets: UTF-8 if the bytes are valid UTF-8, else
// windows-1252. Sets *lossy when bytes had to be replaced or guessed.
std::string toUtf8(std::string_view bytes, std::string_view charset, bool* lossy);

// Visible text of an HTML document: tags stripped, script/style/head dropped,
// entities decoded, block elements and <br> as line breaks.
std::string htmlToText(std::string_view html);
// Plain text as a small HTML document (escaped, line breaks as <br>).
std::string textToHtml(std::string_view text);
// RFC 3676 format=flowed to plain lines: a line ending in a space joins the
// next one of the same quote depth (the space dropped with delsp=yes); the
// space-stuffing at line start and the "-- " signature line are respected.
std::string unflow(std::string_view text, bool delsp);
// Whitespace runs collapsed to one space, trimmed (for Preview).
std::string collapseWhitespace(std::string_view text);

}  // namespace eas::items
