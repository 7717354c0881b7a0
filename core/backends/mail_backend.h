// The mail store as the EAS commands see it: domain verbs over folders and
// messages identified by (folder name, UID). One MailBackend serves one
// authenticated user for the length of one request; it is not shared between
// threads. Every expected failure is a Status with a stable reason token:
//   imap.unavailable          server unreachable or connection dropped (retry later)
//   imap.auth_failed          the server refused the credentials
//   imap.no_such_folder       the folder does not exist (or cannot be selected)
//   imap.already_exists       a create or rename onto an existing name
//   imap.uidvalidity_changed  the watermark belongs to an earlier life of the folder
//   imap.refused              the server answered NO to a valid command
//   imap.protocol             a response we could not parse, or a missing capability
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/status.h"

namespace eas::backend {

// What a folder is for. FolderSync maps these to EAS folder types.
enum class FolderRole { kNone, kInbox, kDrafts, kSent, kTrash, kJunk, kArchive };
std::string_view folderRoleName(FolderRole role);

struct FolderInfo {
  std::string name;        // full name as the server spells it (modified UTF-7)
  std::string displayName; // last hierarchy level, decoded to UTF-8
  char delimiter = 0;      // hierarchy delimiter, 0 when the server has none
  FolderRole role = FolderRole::kNone;
  bool selectable = true;  // false for \Noselect / \NonExistent
  std::vector<std::string> attributes;  // LIST attributes, e.g. "\HasNoChildren"
};

struct FolderState {
  std::uint32_t uidValidity = 0;
  std::uint32_t uidNext = 0;
  std::uint32_t messages = 0;
  std::optional<std::uint64_t> highestModseq;  // absent: no CONDSTORE for this folder
};

// Message flags as bits; other keywords are kept as strings.
enum MessageFlag : std::uint32_t {
  kFlagSeen = 1u << 0,
  kFlagFlagged = 1u << 1,
  kFlagAnswered = 1u << 2,
  kFlagDeleted = 1u << 3,
  kFlagDraft = 1u << 4,
  kFlagForwarded = 1u << 5,  // the $Forwarded keyword
};

// What the caller already knows about one message (for change detection).
struct KnownItem {
  KnownItem() = default;
  KnownItem(std::uint32_t u, std::uint32_t f, std::vector<std::string> k = {})
      : uid(u), flags(f), keywords(std::move(k)) {}
  std::uint32_t uid = 0;
  std::uint32_t flags = 0;  // MessageFlag bits
  // The other keywords, sorted. Compared too: another client tagging a
  // message (a category for the device) is a change.
  std::vector<std::string> keywords;
};

inline bool sameFlags(const KnownItem& a, const KnownItem& b) {
  return a.flags == b.flags && a.keywords == b.keywords;
}

// Where the caller's view of a folder stands. Built from the FolderState
// returned with the previous Changes.
struct Watermark {
  std::uint32_t uidValidity = 0;
  std::uint32_t uidNext = 0;
  std::optional<std::uint64_t> modseq;
};

struct Changes {
  // State read BEFORE the changes were collected: a change made meanwhile
  // may be reported again next time, never lost.
  FolderState state;
  std::vector<std::uint32_t> added;     // UIDs not among the known items, ascending
  // Known UIDs whose flags or keywords differ (the new ones). A message flagged
  // \Deleted but not yet expunged is reported here with kFlagDeleted.
  std::vector<KnownItem> flagsChanged;
  std::vector<std::uint32_t> expunged;  // known UIDs that are gone, ascending
  bool byModseq = false;                // CHANGEDSINCE was used (else a full UID+FLAGS scan)
};

struct Address {
  std::string name;     // display name as sent (may still be RFC 2047-encoded)
  std::string mailbox;  // local part; empty name+host with a mailbox marks a group start
  std::string host;
  std::string toString() const;  // "Name" <mailbox@host> or mailbox@host
};

struct Envelope {
  std::string date, subject, inReplyTo, messageId;  // raw header values
  std::vector<Address> from, sender, replyTo, to, cc, bcc;
};

// One node of BODYSTRUCTURE. `section` is the IMAP part number ("1",
// "2.1"); for a multipart node it is the prefix of its children ("" at the root).
struct BodyPart {
  std::string section;
  std::string type, subtype;  // lower case, e.g. "text" / "plain"
  std::vector<std::pair<std::string, std::string>> params;  // names lower case
  std::string id, description, encoding;                    // encoding lower case
  std::uint32_t size = 0;   // encoded octets (leaf parts)
  std::uint32_t lines = 0;  // text/* and message/rfc822
  std::string disposition;  // lower case, "" if none
  std::vector<std::pair<std::string, std::string>> dispositionParams;
  std::vector<BodyPart> children;  // multipart children, or the body of a message/rfc822
  bool isMultipart() const { return type == "multipart"; }
  std::string param(std::string_view name) const;            // "" if absent
  std::string dispositionParam(std::string_view name) const;  // "" if absent
};

// A body section to fetch, e.g. {"1", 0, 5120} or {"", 0, 5120} (the first
// 5 KB of the whole message) or {"HEADER"}. Sections: "", "HEADER", "TEXT",
// "<part>", "<part>.MIME", "<part>.HEADER", "<part>.TEXT" (part like "1.2").
struct SectionRequest {
  std::string section;
  std::uint32_t offset = 0;
  std::optional<std::uint32_t> length;  // absent: to the end
};

struct FetchRequest {
  bool envelope = true;
  bool bodyStructure = true;
  bool headers = false;  // BODY.PEEK[HEADER] into MessageData::headers
  std::vector<SectionRequest> sections;  // fetched for every UID, results in this order
};

struct MessageData {
  std::uint32_t uid = 0;
  std::uint32_t flags = 0;            // MessageFlag bits
  std::vector<std::string> keywords;  // other keywords, as sent
  std::int64_t internalDate = 0;      // unix seconds, UTC
  std::uint32_t size = 0;             // RFC822.SIZE
  std::optional<Envelope> envelope;
  std::optional<BodyPart> structure;
  std::string headers;
  std::vector<std::string> sections;  // raw (transfer-encoded) bytes, per FetchRequest::sections
};

// A UID SEARCH in one folder: every criterion that is set must match (AND);
// an empty SearchCriteria matches every message. Dates compare by day, as
// IMAP does (SINCE/BEFORE on INTERNALDATE; the caller refines by the exact
// time it fetched if it needs to). Text is UTF-8 (sent with CHARSET UTF-8).
struct SearchCriteria {
  std::optional<std::int64_t> since;   // unix seconds: INTERNALDATE on or after that day
  std::optional<std::int64_t> before;  // unix seconds: INTERNALDATE before that day
  std::string text;                    // TEXT: anywhere in headers or body
  std::string subject;                 // SUBJECT
  std::string body;                    // BODY
  bool undeleted_only = false;         // UNDELETED
};

class MailBackend {
 public:
  virtual ~MailBackend() = default;

  virtual Result<std::vector<FolderInfo>> listFolders() = 0;
  virtual Result<FolderState> folderState(const std::string& folder) = 0;
  // `known` sorted by UID ascending. A watermark from another UIDVALIDITY
  // fails with imap.uidvalidity_changed (the caller re-syncs the folder);
  // uidValidity 0 means an initial sync (every message is `added`).
  virtual Result<Changes> changesSince(const std::string& folder, const Watermark& since,
                                       const std::vector<KnownItem>& known) = 0;
  // One UID FETCH for all `uids`. UIDs that no longer exist are absent from
  // the result, which is sorted by UID.
  virtual Result<std::vector<MessageData>> fetchMessages(const std::string& folder,
                                                         const std::vector<std::uint32_t>& uids,
                                                         const FetchRequest& what) = 0;
  // Raw bytes of one section (e.g. an attachment "2"), from `offset`, at most
  // `length` bytes (absent: to the end). NotFound "imap.no_such_message".
  virtual Result<std::string> fetchPart(const std::string& folder, std::uint32_t uid,
                                        const std::string& section, std::uint32_t offset,
                                        std::optional<std::uint32_t> length) = 0;
  virtual Result<std::string> fetchFullMessage(const std::string& folder, std::uint32_t uid) = 0;
  // UIDs matching `criteria`, ascending.
  virtual Result<std::vector<std::uint32_t>> searchMessages(const std::string& folder,
                                                            const SearchCriteria& criteria) = 0;

  // MessageFlag bits (Seen, Flagged, Answered, Deleted, Draft, Forwarded).
  virtual Status setFlags(const std::string& folder, const std::vector<std::uint32_t>& uids,
                          std::uint32_t flags) = 0;
  virtual Status clearFlags(const std::string& folder, const std::vector<std::uint32_t>& uids,
                            std::uint32_t flags) = 0;
  // Adds and removes IMAP keywords (atoms, e.g. "Work"; no system flags) on
  // these UIDs. Either list may be empty; a keyword in both is added.
  virtual Status setKeywords(const std::string& folder, const std::vector<std::uint32_t>& uids,
                             const std::vector<std::string>& add,
                             const std::vector<std::string>& remove) = 0;
  // Returns the new UIDs in `to`, in the order of `uids` (0 where the server
  // did not say).
  virtual Result<std::vector<std::uint32_t>> moveMessages(const std::string& from,
                                                          const std::vector<std::uint32_t>& uids,
                                                          const std::string& to) = 0;
  // Flags \Deleted and expunges exactly these UIDs.
  virtual Status deleteMessages(const std::string& folder,
                                const std::vector<std::uint32_t>& uids) = 0;
  // Returns the new UID (0 when the server has no UIDPLUS).
  virtual Result<std::uint32_t> appendMessage(const std::string& folder, std::string_view message,
                                              std::uint32_t flags) = 0;

  virtual Status createFolder(const std::string& name) = 0;
  virtual Status renameFolder(const std::string& from, const std::string& to) = 0;
  virtual Status deleteFolder(const std::string& name) = 0;
};

}  // namespace eas::backend
