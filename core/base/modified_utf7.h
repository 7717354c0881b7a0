// UTF-8 -> IMAP modified UTF-7 (RFC 3501 §5.1.3), the one encoder of the
// tree: the IMAP backend names folders with it, folder operations encode a
// device's new folder name with it. Decoding stays in the IMAP backend.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace eas {

// nullopt when `utf8` is not valid UTF-8 (overlong forms, surrogates, code
// points past U+10FFFF, truncated sequences) or holds a NUL: a device's
// folder name must be refused, not guessed.
std::optional<std::string> encodeModifiedUtf7(std::string_view utf8);

// Invalid bytes become U+FFFD; never fails. For names that came from
// elsewhere (an event's folder) where something must be sent.
std::string encodeModifiedUtf7Lenient(std::string_view utf8);

}  // namespace eas
