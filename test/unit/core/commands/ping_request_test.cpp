// Ping's pure parts: request parsing (table of bad inputs), the parameter
// cache text, limits, the three-times rule for unknown folders, the reply.
#include "core/commands/ping_request.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace eas;
using namespace eas::commands::ping;
namespace tp = eas::wbxml::tags::Ping;

namespace {

struct F {
  const char* id;     // nullptr: no Id element
  const char* klass;  // nullptr: no Class element
};

std::string pingDoc(const char* heartbeat, const std::vector<F>* folders, bool empty_folders = false) {
  std::string out;
  wbxml::Writer w(&out);
  w.start(tp::Ping);
  if (heartbeat) w.element(tp::HeartbeatInterval, std::string_view(heartbeat));
  if (folders || empty_folders) {
    w.start(tp::Folders);
    if (folders)
      for (const F& f : *folders) {
        w.start(tp::Folder);
        if (f.id) w.element(tp::Id, std::string_view(f.id));
        if (f.klass) w.element(tp::Class, std::string_view(f.klass));
        w.end();
      }
    w.end();
  }
  w.end();
  w.flush();
  return out;
}

Result<Params> parseBytes(const std::string& bytes, protocol::ProtocolVersion v = protocol::ProtocolVersion::k141) {
  auto doc = wbxml::decode(bytes);
  REQUIRE(doc.ok());
  return parseRequest(&*doc, protocol::capabilitiesFor(v));
}

}  // namespace

TEST_CASE("ping request: the spec's example and partial requests", "[ping]") {
  std::vector<F> two{{"5", "Email"}, {"8", "Calendar"}};
  auto p = parseBytes(pingDoc("480", &two));
  REQUIRE(p.ok());
  CHECK(p->heartbeat_seconds == 480);
  REQUIRE(p->folders);
  CHECK(*p->folders == std::vector<FolderRef>{{"5", "Email"}, {"8", "Calendar"}});

  auto only_hb = parseBytes(pingDoc("60", nullptr));
  REQUIRE(only_hb.ok());
  CHECK(only_hb->heartbeat_seconds == 60);
  CHECK_FALSE(only_hb->folders);

  auto only_folders = parseBytes(pingDoc(nullptr, &two));
  REQUIRE(only_folders.ok());
  CHECK_FALSE(only_folders->heartbeat_seconds);

  // No body at all: nothing given, all from the cache.
  auto none = parseRequest(nullptr, protocol::capabilitiesFor(protocol::ProtocolVersion::k25));
  REQUIRE(none.ok());
  CHECK(*none == Params{});

  // The protocol.md worked example bytes decode to the same request.
  const std::string example = std::string("\x03\x01\x6A\x00\x00\x0D\x45\x48\x03", 9) + "480" +
                              std::string("\x00\x01\x49\x4A\x4B\x03", 6) + "5" +
                              std::string("\x00\x01\x4C\x03", 4) + "Email" +
                              std::string("\x00\x01\x01\x01\x01", 5);
  auto ex = parseBytes(example);
  REQUIRE(ex.ok());
  CHECK(ex->heartbeat_seconds == 480);
  CHECK(*ex->folders == std::vector<FolderRef>{{"5", "Email"}});
}

TEST_CASE("ping request: malformed requests are syntax errors with a reason", "[ping]") {
  std::vector<F> dup{{"5", "Email"}, {"5", "Email"}};
  std::vector<F> no_id{{nullptr, "Email"}};
  std::vector<F> no_class{{"5", nullptr}};
  std::vector<F> bad_class{{"5", "Mail"}};
  std::vector<F> notes{{"5", "Notes"}};
  std::vector<F> ok{{"5", "Email"}};
  struct Row {
    std::string bytes;
    const char* reason;
    protocol::ProtocolVersion version = protocol::ProtocolVersion::k141;
  };
  const Row rows[] = {
      {pingDoc(nullptr, nullptr), "ping.empty"},
      {pingDoc("abc", &ok), "ping.bad_heartbeat"},
      {pingDoc("-5", &ok), "ping.bad_heartbeat"},
      {pingDoc("", &ok), "ping.bad_heartbeat"},
      {pingDoc("99999999999", &ok), "ping.bad_heartbeat"},
      {pingDoc("480", nullptr, /*empty_folders=*/true), "ping.no_folders"},
      {pingDoc("480", &dup), "ping.duplicate_folder"},
      {pingDoc("480", &no_id), "ping.bad_folder"},
      {pingDoc("480", &no_class), "ping.bad_folder"},
      {pingDoc("480", &bad_class), "ping.bad_class"},
      {pingDoc("480", &notes, false), "ping.bad_class", protocol::ProtocolVersion::k121},
  };
  for (const Row& row : rows) {
    INFO(row.reason);
    auto p = parseBytes(row.bytes, row.version);
    REQUIRE_FALSE(p.ok());
    CHECK(p.status().reason() == row.reason);
  }
  // Notes is fine from 14.0 on.
  CHECK(parseBytes(pingDoc("480", &notes), protocol::ProtocolVersion::k140).ok());
  // A root other than Ping.
  std::string other;
  {
    wbxml::Writer w(&other);
    w.start(eas::wbxml::tags::FolderHierarchy::FolderSync).end();
    w.flush();
  }
  CHECK(parseBytes(other).status().reason() == "ping.wrong_root");
}

TEST_CASE("ping parameters: cache text round-trips, merge prefers the request", "[ping]") {
  Params p;
  p.heartbeat_seconds = 900;
  p.folders = std::vector<FolderRef>{{"5", "Email"}, {"12", "Contacts"}};
  CHECK(decodeParams(encodeParams(p)) == p);
  CHECK(decodeParams("") == Params{});
  CHECK(decodeParams("garbage line\n") == Params{});
  CHECK(decodeParams("hb x\n") == Params{});

  Params only_hb;
  only_hb.heartbeat_seconds = 60;
  Params m = merge(only_hb, p);
  CHECK(m.heartbeat_seconds == 60);
  CHECK(m.folders == p.folders);
  CHECK(merge(Params{}, Params{}) == Params{});
}

TEST_CASE("ping limits: 5 with the bound crossed, 6 with MaxFolders", "[ping]") {
  CHECK_FALSE(checkLimits(60, 1, 60, 1800, 300));
  CHECK_FALSE(checkLimits(1800, 300, 60, 1800, 300));
  auto low = checkLimits(59, 1, 60, 1800, 300);
  REQUIRE(low);
  CHECK(low->status == kBadHeartbeat);
  CHECK(low->limit == 60);
  auto high = checkLimits(3540, 1, 60, 1800, 300);
  REQUIRE(high);
  CHECK(high->limit == 1800);
  auto many = checkLimits(600, 301, 60, 1800, 300);
  REQUIRE(many);
  CHECK(many->status == kTooManyFolders);
  CHECK(many->limit == 300);
}

TEST_CASE("unknown folders: Status 7 three times, then left out with one notice", "[ping]") {
  UnknownCounts counts;
  for (int round = 1; round <= kMaxFolderSyncRequests; ++round) {
    UnknownDecision d = decideUnknown(counts, {"5"}, {"99"});
    CHECK(d.folder_sync_required);
    CHECK(d.left_out.empty());
    CHECK(d.changed);
    CHECK(d.counts.at("99") == round);
    counts = d.counts;
  }
  UnknownDecision fourth = decideUnknown(counts, {"5"}, {"99"});
  CHECK_FALSE(fourth.folder_sync_required);
  CHECK(fourth.left_out == std::vector<std::string>{"99"});
  CHECK(fourth.notify == std::vector<std::string>{"99"});
  counts = fourth.counts;
  UnknownDecision fifth = decideUnknown(counts, {"5"}, {"99"});
  CHECK_FALSE(fifth.folder_sync_required);
  CHECK(fifth.left_out == std::vector<std::string>{"99"});
  CHECK(fifth.notify.empty());
  CHECK_FALSE(fifth.changed);
  // A new unknown id makes the Ping a 7 again; the left-out one stays counted.
  UnknownDecision another = decideUnknown(counts, {}, {"99", "100"});
  CHECK(another.folder_sync_required);
  CHECK(another.counts.at("100") == 1);
  CHECK(another.counts.at("99") == kMaxFolderSyncRequests + 1);
  // The id became known (the device synced its hierarchy): forgotten.
  UnknownDecision known = decideUnknown(counts, {"99"}, {});
  CHECK(known.changed);
  CHECK(known.counts.empty());
  CHECK(decodeUnknown(encodeUnknown(another.counts)) == another.counts);
  CHECK(decodeUnknown("x y z\n").empty());
}

TEST_CASE("ping reply: Status 2 lists folders, 5 and 6 carry their limit", "[ping]") {
  Reply r;
  r.status = kChanges;
  r.changed_folders = {"5", "7"};
  auto doc = wbxml::decode(encodeReply(r));
  REQUIRE(doc.ok());
  CHECK(doc->root().tag() == tp::Ping);
  CHECK(doc->root().childText(tp::Status) == "2");
  const wbxml::Element* folders = doc->root().child(tp::Folders);
  REQUIRE(folders);
  std::vector<std::string> ids;
  for (const wbxml::Element& f : folders->children()) ids.emplace_back(f.text());
  CHECK(ids == std::vector<std::string>{"5", "7"});

  Reply hb;
  hb.status = kBadHeartbeat;
  hb.heartbeat_seconds = 60;
  auto d5 = wbxml::decode(encodeReply(hb));
  REQUIRE(d5.ok());
  CHECK(d5->root().childText(tp::HeartbeatInterval) == "60");
  CHECK_FALSE(d5->root().hasChild(tp::Folders));

  Reply mf;
  mf.status = kTooManyFolders;
  mf.max_folders = 300;
  auto d6 = wbxml::decode(encodeReply(mf));
  REQUIRE(d6.ok());
  CHECK(d6->root().childText(tp::MaxFolders) == "300");
}
