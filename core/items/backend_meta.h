// MessageMeta from what the IMAP backend fetched (header-only: uses the
// backend's plain structs, links nothing).
#pragma once

#include <string>
#include <utility>

#include "core/backends/mail_backend.h"
#include "core/items/category_keywords.h"
#include "core/items/email_item.h"

namespace eas::items {

// `file_reference_prefix` is usually the item's ServerId ("<collection>:<uid>").
inline MessageMeta metaFromBackend(const backend::MessageData& d,
                                   std::string file_reference_prefix) {
  MessageMeta m;
  m.internal_date = d.internalDate;
  m.seen = (d.flags & backend::kFlagSeen) != 0;
  m.flagged = (d.flags & backend::kFlagFlagged) != 0;
  m.answered = (d.flags & backend::kFlagAnswered) != 0;
  m.forwarded = (d.flags & backend::kFlagForwarded) != 0;
  m.draft = (d.flags & backend::kFlagDraft) != 0;
  // Keywords carry category names encoded (category_keywords.h).
  m.keywords = categoriesOfKeywords(d.keywords);
  m.file_reference_prefix = std::move(file_reference_prefix);
  return m;
}

}  // namespace eas::items
