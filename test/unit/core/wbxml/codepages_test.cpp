#include "core/wbxml/codepages.h"

#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <string>

using namespace eas::wbxml;  // NOLINT

TEST_CASE("page names match MS-ASWBXML 2.1.2.1 in both directions", "[wbxml][codepages]") {
  const char* expected[] = {"AirSync",
                            "Contacts",
                            "Email",
                            "AirNotify",
                            "Calendar",
                            "Move",
                            "GetItemEstimate",
                            "FolderHierarchy",
                            "MeetingResponse",
                            "Tasks",
                            "ResolveRecipients",
                            "ValidateCert",
                            "Contacts2",
                            "Ping",
                            "Provision",
                            "Search",
                            "GAL",
                            "AirSyncBase",
                            "Settings",
                            "DocumentLibrary",
                            "ItemOperations",
                            "ComposeMail",
                            "Email2",
                            "Notes",
                            "RightsManagement",
                            "Find"};
  for (std::uint8_t p = 0; p < kNumCodePages; ++p) {
    CHECK(pageName(p) == expected[p]);
    CHECK(pageByName(expected[p]) == p);
    CHECK(pageByName(std::string(expected[p]) + ":") == p);
  }
  CHECK(pageName(26).empty());
  CHECK(pageByName("Gal") == 16);
  CHECK(libwbxmlPageName(16) == "Gal");
  CHECK(libwbxmlPageName(7) == "FolderHierarchy");
  CHECK_FALSE(pageByName("airsync").has_value());
  CHECK_FALSE(pageByName("").has_value());
}

TEST_CASE("every table entry round-trips through the lookups", "[wbxml][codepages]") {
  std::map<std::uint8_t, int> per_page;
  for (const TagInfo& t : allTags()) {
    per_page[t.page]++;
    CHECK(tagInfo(t.tag()) == &t);
    CHECK(tagName(t.tag()) == t.name);
    CHECK(tagByName(t.page, t.name) == t.tag());
    if (!t.libwbxml.empty()) {
      CHECK(tagByName(t.page, t.libwbxml) == t.tag());
      CHECK(libwbxmlTagName(t.tag()) == t.libwbxml);
    } else {
      CHECK(libwbxmlTagName(t.tag()) == t.name);
    }
    CHECK(t.token >= 0x05);
    CHECK(t.token <= 0x3F);
  }
  CHECK(per_page.size() == kNumCodePages);
  // Counts of spec tokens per page (MS-ASWBXML.cs) plus the obsolete ones.
  CHECK(per_page[0] == 33 + 4);
  CHECK(per_page[7] == 17 + 3);
  CHECK(per_page[13] == 8 + 1);
  CHECK(per_page[14] == 54 + 1);
  CHECK(per_page[25] == 22);
}

TEST_CASE("unknown tokens and names are rejected", "[wbxml][codepages]") {
  CHECK_FALSE(isKnownTag(Tag{0, 0x04}));
  CHECK_FALSE(isKnownTag(Tag{0, 0x2A}));
  CHECK_FALSE(isKnownTag(Tag{26, 0x05}));
  CHECK_FALSE(isKnownTag(Tag{13, 0x0E}));
  CHECK_FALSE(isKnownTag(Tag{25, 0x0F}));  // Find has a gap at 0F/10
  CHECK(tagName(Tag{0, 0x2A}).empty());
  CHECK_FALSE(tagByName(0, "sync").has_value());
  CHECK_FALSE(tagByName(0, "").has_value());
  CHECK_FALSE(tagByName(26, "Sync").has_value());
  CHECK(qualifiedName(tags::Ping::HeartbeatInterval) == "Ping:HeartbeatInterval");
  CHECK(qualifiedName(Tag{25, 0x3F}) == "0x19:0x3f");
}

TEST_CASE("tag constants carry the protocol.md tokens", "[wbxml][codepages]") {
  using namespace tags;  // NOLINT
  STATIC_REQUIRE(AirSync::Sync == Tag{0, 0x05});
  STATIC_REQUIRE(AirSync::HeartbeatInterval == Tag{0, 0x29});
  STATIC_REQUIRE(AirSync::MoreAvailable == Tag{0, 0x14});
  STATIC_REQUIRE(FolderHierarchy::FolderSync == Tag{7, 0x16});
  STATIC_REQUIRE(FolderHierarchy::SyncKey == Tag{7, 0x12});
  STATIC_REQUIRE(Ping::HeartbeatInterval == Tag{13, 0x08});
  STATIC_REQUIRE(Ping::MaxFolders == Tag{13, 0x0D});
  STATIC_REQUIRE(Provision::RequireStorageCardEncryption == Tag{14, 0x10});
  STATIC_REQUIRE(Provision::AccountOnlyRemoteWipe == Tag{14, 0x3B});
  STATIC_REQUIRE(Find::Picture == Tag{25, 0x22});
  STATIC_REQUIRE(ComposeMail::Mime == Tag{21, 0x10});
  STATIC_REQUIRE(Email2::ConversationIndex == Tag{22, 0x0A});
  STATIC_REQUIRE(GAL::Data == Tag{16, 0x12});
  STATIC_REQUIRE(AirSync::Sync != AirSync::Responses);
  CHECK(tagName(Calendar::Email) == "Email");
  CHECK(libwbxmlTagName(Calendar::Email) == "Attendee_Email");
  CHECK(libwbxmlTagName(Provision::RequireStorageCardEncryption) == "DeviceEncryptionEnabled");
  CHECK(tagByName(2, "Reply-To") == Email::ReplyTo);
  CHECK((tagInfo(Email::Body)->flags & kObsolete) != 0);
  CHECK((tagInfo(ComposeMail::Mime)->flags & kBinary) != 0);
  CHECK((tagInfo(Find::Find)->flags & kNotInLibwbxml) != 0);
}

TEST_CASE("names and aliases are unique within a page", "[wbxml][codepages]") {
  std::set<std::pair<int, std::string>> seen;
  for (const TagInfo& t : allTags()) {
    CHECK(seen.insert({t.page, std::string(t.name)}).second);
    if (!t.libwbxml.empty()) CHECK(seen.insert({t.page, std::string(t.libwbxml)}).second);
  }
}
