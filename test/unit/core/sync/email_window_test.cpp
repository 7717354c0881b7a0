// planEmailWindow and its helpers: window order and size, MoreAvailable,
// the watermark rule, ids and flags round-trips.
#include "core/sync/email_window.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace eas;
using namespace eas::sync;

namespace {

std::vector<storage::ItemEntry> mapOf(const std::vector<std::pair<std::uint32_t, std::uint32_t>>& uids) {
  std::vector<storage::ItemEntry> out;
  for (auto [uid, flags] : uids)
    out.push_back({itemServerId("7", uid), std::to_string(uid), flagsText(flags), ""});
  return out;
}

}  // namespace

TEST_CASE("window size: default 100, at most 512", "[sync][email]") {
  CHECK(effectiveWindowSize(std::nullopt) == 100);
  CHECK(effectiveWindowSize(0) == 100);
  CHECK(effectiveWindowSize(-3) == 100);
  CHECK(effectiveWindowSize(25) == 25);
  CHECK(effectiveWindowSize(512) == 512);
  CHECK(effectiveWindowSize(10000) == 512);
}

TEST_CASE("item ids and flag text round-trip", "[sync][email]") {
  CHECK(itemServerId("7", 42) == "7:42");
  CHECK(itemUid("7", "7:42") == 42u);
  CHECK_FALSE(itemUid("7", "8:42").has_value());
  CHECK_FALSE(itemUid("7", "77:42").has_value());
  CHECK_FALSE(itemUid("7", "7:").has_value());
  CHECK_FALSE(itemUid("7", "7:x").has_value());
  CHECK_FALSE(itemUid("7", "7:0").has_value());
  CHECK_FALSE(itemUid("7", "7:99999999999").has_value());
  std::uint32_t all = backend::kFlagSeen | backend::kFlagFlagged | backend::kFlagAnswered |
                      backend::kFlagDeleted | backend::kFlagDraft | backend::kFlagForwarded;
  CHECK(flagsFromText(flagsText(all)) == all);
  CHECK(flagsText(backend::kFlagSeen | backend::kFlagFlagged) == "\\Seen \\Flagged");
  CHECK(flagsFromText("\\Seen junk $Forwarded") == (backend::kFlagSeen | backend::kFlagForwarded));
  CHECK(flagsFromText("") == 0u);
}

TEST_CASE("known items come sorted from the item map", "[sync][email]") {
  auto items = mapOf({{9, backend::kFlagSeen}, {3, 0}});
  items.push_back({"7:bad", "not-a-uid", "", ""});
  auto known = knownItems(items);
  REQUIRE(known.size() == 2);
  CHECK(known[0].uid == 3);
  CHECK(known[1].uid == 9);
  CHECK(known[1].flags == backend::kFlagSeen);
}

TEST_CASE("keywords ride in the flag text, sorted, and come back as known items", "[sync][email]") {
  const std::string text = flagsText(backend::kFlagSeen | backend::kFlagForwarded, {"Work", "$MDNSent", "Proj&20X"});
  CHECK(text == "\\Seen $Forwarded $MDNSent Proj&20X Work");
  CHECK(flagsFromText(text) == (backend::kFlagSeen | backend::kFlagForwarded));
  CHECK(keywordsFromText(text) == std::vector<std::string>{"$MDNSent", "Proj&20X", "Work"});
  CHECK(keywordsFromText("\\Seen \\Recent") == std::vector<std::string>{});
  CHECK(flagsText(0, {"not an atom", ""}) == "");  // never written: it would split on read
  std::vector<storage::ItemEntry> items = {{"7:4", "4", text, ""}};
  auto known = knownItems(items);
  REQUIRE(known.size() == 1);
  CHECK(known[0].keywords == std::vector<std::string>{"$MDNSent", "Proj&20X", "Work"});
  CHECK(backend::sameFlags(known[0], {4, backend::kFlagSeen | backend::kFlagForwarded, {"$MDNSent", "Proj&20X", "Work"}}));
  CHECK_FALSE(backend::sameFlags(known[0], {4, backend::kFlagSeen | backend::kFlagForwarded, {"$MDNSent", "Work"}}));
  // A keyword-only change is planned as a Change, recorded with the new set.
  backend::Changes ch;
  ch.flagsChanged = {{4, backend::kFlagSeen | backend::kFlagForwarded, {"Urgent"}}};
  EmailWindow w = planEmailWindow(ch, items, 100);
  REQUIRE(w.changes.size() == 1);
  CHECK(w.changes[0].keywords == std::vector<std::string>{"Urgent"});
  REQUIRE(w.item_changes.size() == 1);
  CHECK(w.item_changes[0].item.flags == "\\Seen $Forwarded Urgent");
}

TEST_CASE("watermarks convert both ways", "[sync][email]") {
  backend::FolderState st;
  st.uidValidity = 1234;
  st.uidNext = 77;
  st.highestModseq = 900;
  storage::Watermark w = toStoreWatermark(st);
  CHECK(w.uidvalidity == 1234);
  CHECK(w.uidnext == 77);
  CHECK(w.highestmodseq == 900);
  backend::Watermark b = toBackendWatermark(w);
  CHECK(b.uidValidity == 1234u);
  CHECK(b.uidNext == 77u);
  CHECK(b.modseq == std::optional<std::uint64_t>(900));
  st.highestModseq.reset();
  CHECK_FALSE(toBackendWatermark(toStoreWatermark(st)).modseq.has_value());
}

TEST_CASE("initial window: newest first, MoreAvailable, watermark held", "[sync][email]") {
  backend::Changes ch;
  for (std::uint32_t uid = 1; uid <= 250; ++uid) ch.added.push_back(uid);
  EmailWindow w = planEmailWindow(ch, {}, 100);
  REQUIRE(w.adds.size() == 100);
  CHECK(w.adds.front() == 250u);
  CHECK(w.adds.back() == 151u);
  CHECK(w.more_available);
  CHECK_FALSE(w.advance_watermark);
  CHECK(w.item_changes.empty());  // puts for adds are the caller's, after the fetch

  // Next window: the first 100 are in the map now.
  std::vector<storage::ItemEntry> items;
  for (std::uint32_t uid : w.adds) items.push_back({itemServerId("7", uid), std::to_string(uid), "", ""});
  EmailWindow w2 = planEmailWindow(ch, items, 100);
  REQUIRE(w2.adds.size() == 100);
  CHECK(w2.adds.front() == 150u);
  CHECK(w2.more_available);
  for (std::uint32_t uid : w2.adds) items.push_back({itemServerId("7", uid), std::to_string(uid), "", ""});
  EmailWindow w3 = planEmailWindow(ch, items, 100);
  CHECK(w3.adds.size() == 50);
  CHECK_FALSE(w3.more_available);
  CHECK(w3.advance_watermark);
}

TEST_CASE("deletes, then flag changes, then adds, in one window", "[sync][email]") {
  auto items = mapOf({{1, 0}, {2, 0}, {3, 0}, {4, 0}});
  backend::Changes ch;
  ch.expunged = {1, 99};                                     // 99: never sent, nothing to say
  ch.flagsChanged = {{2, backend::kFlagSeen}, {3, backend::kFlagSeen | backend::kFlagDeleted},
                     {55, backend::kFlagSeen}};              // 55 unknown: ignored
  ch.added = {5, 6};
  EmailWindow w = planEmailWindow(ch, items, 100);
  CHECK(w.deletes == std::vector<std::string>{"7:1", "7:3"});  // \Deleted counts as gone
  REQUIRE(w.changes.size() == 1);
  CHECK(w.changes[0].uid == 2u);
  CHECK(w.adds == std::vector<std::uint32_t>{6, 5});
  CHECK_FALSE(w.more_available);
  CHECK(w.advance_watermark);
  REQUIRE(w.item_changes.size() == 3);
  CHECK(w.item_changes[0].kind == storage::ItemChange::Kind::kDelete);
  CHECK(w.item_changes[2].kind == storage::ItemChange::Kind::kPut);
  CHECK(w.item_changes[2].item.flags == "\\Seen");
  CHECK(w.item_changes[2].item.server_id == "7:2");

  // A window of 2 takes the deletes only.
  EmailWindow small = planEmailWindow(ch, items, 2);
  CHECK(small.deletes.size() == 2);
  CHECK(small.changes.empty());
  CHECK(small.adds.empty());
  CHECK(small.more_available);
  CHECK_FALSE(small.advance_watermark);
}
