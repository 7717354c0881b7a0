// Search (CMD §2.2.1.16; protocol.md §3.12) in the Mailbox store, with the
// IMAP server's UID SEARCH; GAL answers an empty result.
//
// Mailbox query: <Query><And> with airsync:Class (Email; other classes have
// no results here), airsync:CollectionId (0..n; none = every folder of the
// device's hierarchy), FreeText (IMAP TEXT: headers and body), GreaterThan /
// LessThan on email:DateReceived (exclusive; IMAP SINCE/BEFORE by day, then
// the exact time from INTERNALDATE). Options: Range (default and maximum
// span 0-99), DeepTraversal (the subfolders of each CollectionId too),
// RebuildResults (accepted: results are never cached, every Search is
// computed afresh, so paging with the same query is stable as long as the
// mailbox does not change), airsyncbase:BodyPreference and
// airsync:MIMESupport for the Properties. Results newest first, each with
// airsync:Class, LongId ("<collection>:<uid>", what ItemOperations takes),
// airsync:CollectionId and Properties (the Email class); only the results
// inside Range are fetched (one UID FETCH per folder, of a prefix sized by
// the BodyPreference as Sync does: fetchCapFor). Total = all hits.
//
// Statuses. Search level: 1, or 3 when the store or the mail backend is not
// configured. Store level (CMD §2.2.3.177.13): 1; 2 invalid request (no
// Name or Query, bad Range, bad dateTime, bad BodyPreference, a store we do
// not have such as DocumentLibrary); 3 server error (IMAP or metadata store
// unreachable); 8 query too complex (Class/FreeText/CollectionId outside And,
// Or, EqualTo, nested And, two FreeText, ConversationId, a comparison on
// another property than DateReceived); 11 a CollectionId that is not in the
// device's hierarchy, or no hierarchy yet (FolderSync required); 10 the
// folders could not be searched within 30 s (Services::clock). No body =
// 103 (HTTP 400 on 12.x). GAL (Name=GAL): Store Status 1, an empty Result
// and Total 0 until a directory backend exists.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/commands/command.h"
#include "core/items/email_item.h"

namespace eas::commands {

struct MailboxSearch {
  std::vector<std::string> collection_ids;
  std::string free_text;
  std::string class_name = "Email";
  std::optional<std::int64_t> greater_than, less_than;  // DateReceived, exclusive
  std::pair<std::uint32_t, std::uint32_t> range{0, 99};
  bool deep_traversal = false;
  bool rebuild_results = false;
  items::BodyRequest body;
};

struct SearchParse {
  int store_status = 1;  // 1 = parsed
  std::string reason;    // token when not, e.g. "search.too_complex"
  MailboxSearch search;
};

// The Query and Options of a Mailbox Store element.
SearchParse parseMailboxSearch(const wbxml::Element& store);

std::unique_ptr<Command> makeSearchCommand();

}  // namespace eas::commands
