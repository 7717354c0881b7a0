// Pure helpers of the IMAP backend: no server needed.
#include <catch2/catch.hpp>

#include "core/backends/imap/imap_util.h"

using namespace eas::backend;
using namespace eas::backend::imap;

TEST_CASE("UID sets are sorted, merged and printed compactly", "[imap][unit]") {
  CHECK(uidSetString({}) == "");
  CHECK(uidSetString({5}) == "5");
  CHECK(uidSetString({3, 1, 2, 2, 7, 9, 10, 0}) == "1:3,7,9:10");
  CHECK(uidSetString({4294967295u, 4294967294u}) == "4294967294:4294967295");
  auto r = uidRanges({10, 11, 12, 1});
  REQUIRE(r.size() == 2);
  CHECK(r[0] == std::make_pair(1u, 1u));
  CHECK(r[1] == std::make_pair(10u, 12u));
}

TEST_CASE("UID sets parse, with * and reversed ranges", "[imap][unit]") {
  CHECK(parseUidSet("1:3,7", 0) == std::vector<std::uint32_t>{1, 2, 3, 7});
  CHECK(parseUidSet("4:2", 0) == std::vector<std::uint32_t>{2, 3, 4});
  CHECK(parseUidSet("5:*", 7) == std::vector<std::uint32_t>{5, 6, 7});
  CHECK(parseUidSet("3,3,1", 0) == std::vector<std::uint32_t>{1, 3});
  CHECK_FALSE(parseUidSet("", 0));
  CHECK_FALSE(parseUidSet("0", 0));
  CHECK_FALSE(parseUidSet("1,", 0));
  CHECK_FALSE(parseUidSet("1:x", 0));
  CHECK_FALSE(parseUidSet("5:*", 0));           // no * known
  CHECK_FALSE(parseUidSet("99999999999", 0));   // above 2^32-1
  CHECK_FALSE(parseUidSet("1:4000000000", 0));  // would expand beyond the limit
  CHECK(parseUidSet("1:10", 0, 10).has_value());
  CHECK_FALSE(parseUidSet("1:11", 0, 10));
}

TEST_CASE("flags map to bits and back", "[imap][unit]") {
  CHECK(flagBit("\\Seen") == kFlagSeen);
  CHECK(flagBit("\\SEEN") == kFlagSeen);
  CHECK(flagBit("\\Flagged") == kFlagFlagged);
  CHECK(flagBit("\\Answered") == kFlagAnswered);
  CHECK(flagBit("\\Deleted") == kFlagDeleted);
  CHECK(flagBit("\\Draft") == kFlagDraft);
  CHECK(flagBit("$forwarded") == kFlagForwarded);
  CHECK(flagBit("$Junk") == 0);
  CHECK(flagBit("Seen") == 0);  // a keyword, not the system flag
  CHECK(flagNames(0).empty());
  CHECK(flagNames(kFlagSeen | kFlagForwarded) == std::vector<std::string>{"\\Seen", "$Forwarded"});
  std::uint32_t all = 0;
  for (const auto& n : flagNames(0x3f)) all |= flagBit(n);
  CHECK(all == 0x3f);
}

TEST_CASE("folder roles: SPECIAL-USE first, then the usual names", "[imap][unit]") {
  CHECK(detectRole("INBOX", '.', {}) == FolderRole::kInbox);
  CHECK(detectRole("inbox", '/', {"\\Sent"}) == FolderRole::kInbox);
  CHECK(detectRole("Gesendet", '.', {"\\HasNoChildren", "\\Sent"}) == FolderRole::kSent);
  CHECK(detectRole("Entwürfe", '.', {"\\drafts"}) == FolderRole::kDrafts);
  CHECK(detectRole("Papierkorb", '.', {"\\Trash"}) == FolderRole::kTrash);
  CHECK(detectRole("X", '.', {"\\Junk"}) == FolderRole::kJunk);
  CHECK(detectRole("X", '.', {"\\Archive"}) == FolderRole::kArchive);
  CHECK(detectRole("Sent", '.', {"\\All"}) == FolderRole::kSent);  // \All is no role of ours
  CHECK(detectRole("Sent", '.', {}) == FolderRole::kSent);
  CHECK(detectRole("Sent Items", '/', {}) == FolderRole::kSent);
  CHECK(detectRole("sent messages", '/', {}) == FolderRole::kSent);
  CHECK(detectRole("Drafts", '.', {}) == FolderRole::kDrafts);
  CHECK(detectRole("Deleted Items", '.', {}) == FolderRole::kTrash);
  CHECK(detectRole("Trash", '.', {}) == FolderRole::kTrash);
  CHECK(detectRole("Spam", '.', {}) == FolderRole::kJunk);
  CHECK(detectRole("INBOX.Sent", '.', {}) == FolderRole::kSent);     // Courier style
  CHECK(detectRole("INBOX/Trash", '/', {}) == FolderRole::kTrash);
  CHECK(detectRole("Projects.Sent", '.', {}) == FolderRole::kNone);  // nested elsewhere
  CHECK(detectRole("INBOX.a.Sent", '.', {}) == FolderRole::kNone);
  CHECK(detectRole("Sent.2024", '.', {}) == FolderRole::kNone);
  CHECK(detectRole("Sentinel", '.', {}) == FolderRole::kNone);
  CHECK(folderRoleName(FolderRole::kTrash) == "trash");
}

TEST_CASE("one folder per role: SPECIAL-USE beats a name, shallower beats deeper", "[imap][unit]") {
  auto folder = [](std::string name, std::vector<std::string> attrs) {
    FolderInfo f;
    f.name = std::move(name);
    f.delimiter = '.';
    f.attributes = std::move(attrs);
    f.role = detectRole(f.name, f.delimiter, f.attributes);
    return f;
  };
  std::vector<FolderInfo> fs{folder("Sent", {}), folder("Gesendet", {"\\Sent"}),
                             folder("INBOX.Trash", {}), folder("Trash", {}), folder("Drafts", {})};
  resolveRoleConflicts(fs);
  CHECK(fs[0].role == FolderRole::kNone);
  CHECK(fs[1].role == FolderRole::kSent);
  CHECK(fs[2].role == FolderRole::kNone);
  CHECK(fs[3].role == FolderRole::kTrash);
  CHECK(fs[4].role == FolderRole::kDrafts);
}

TEST_CASE("section specs parse and print", "[imap][unit]") {
  struct Case { const char* in; const char* out; };
  for (const Case& c : {Case{"", ""}, Case{"HEADER", "HEADER"}, Case{"text", "TEXT"}, Case{"1", "1"},
                        Case{"1.2.3", "1.2.3"}, Case{"2.MIME", "2.MIME"}, Case{"3.header", "3.HEADER"},
                        Case{"4.1.TEXT", "4.1.TEXT"}}) {
    auto s = parseSection(c.in);
    REQUIRE(s.has_value());
    CHECK(sectionString(*s) == c.out);
  }
  CHECK(parseSection("1.2")->part == std::vector<std::uint32_t>{1, 2});
  CHECK(parseSection("1.2")->kind == Section::Kind::kPart);
  CHECK(parseSection("")->kind == Section::Kind::kAll);
  for (const char* bad : {"0", "1.", "1..2", "MIME", "1.X", "HEADER.FIELDS", "1.2.", "a", "99999999999"})
    CHECK_FALSE(parseSection(bad).has_value());
}

TEST_CASE("modified UTF-7 mailbox names", "[imap][unit]") {
  CHECK(decodeMailboxName("INBOX") == std::string("INBOX"));
  CHECK(decodeMailboxName("&-") == std::string("&"));
  CHECK(decodeMailboxName("Entw&APw-rfe") == std::string("Entwürfe"));
  CHECK(decodeMailboxName("&ZeVnLIqe-") == std::string("日本語"));
  CHECK(decodeMailboxName("&2D3eAA-") == std::string("\xF0\x9F\x98\x80"));  // U+1F600, a surrogate pair
  CHECK_FALSE(decodeMailboxName("&APw"));       // unterminated
  CHECK_FALSE(decodeMailboxName("&AGE-"));      // encoded printable ASCII
  CHECK_FALSE(decodeMailboxName("&2D0-"));      // lone high surrogate
  CHECK_FALSE(decodeMailboxName("&AP!-"));      // not base64
  CHECK_FALSE(decodeMailboxName("caf\xC3\xA9"));  // raw 8-bit
  CHECK(encodeMailboxName("Entwürfe") == "Entw&APw-rfe");
  CHECK(encodeMailboxName("a&b") == "a&-b");
  CHECK(encodeMailboxName("日本語") == "&ZeVnLIqe-");
  for (const char* s : {"Bücher ✓", "x\xF0\x9F\x98\x80y", "Deleted Items", "&&", "ÄÖÜ äöü ß"})
    CHECK(decodeMailboxName(encodeMailboxName(s)) == std::string(s));
  CHECK(displayNameOf("INBOX.Entw&APw-rfe", '.') == "Entwürfe");
  CHECK(displayNameOf("a/b/c", '/') == "c");
  CHECK(displayNameOf("flat", 0) == "flat");
  CHECK(displayNameOf("bad&", '.') == "bad&");  // undecodable: kept raw
}

TEST_CASE("addresses print in the EAS form", "[imap][unit]") {
  CHECK((Address{"Alice", "alice", "example.test"}).toString() == "\"Alice\" <alice@example.test>");
  CHECK((Address{"", "bob", "example.test"}).toString() == "bob@example.test");
  CHECK((Address{"A \"B\" \\", "x", "y"}).toString() == "\"A \\\"B\\\" \\\\\" <x@y>");
  BodyPart p;
  p.params = {{"charset", "utf-8"}, {"name", "a.txt"}};
  CHECK(p.param("CHARSET") == "utf-8");
  CHECK(p.param("format").empty());
}
