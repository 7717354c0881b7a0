// The Sync request parser (core/commands/sync_request): good requests in
// every shape the versions send, a table of broken ones with their reason
// tokens, Wait/HeartbeatInterval limits, and the request cache round trip.
#include "core/commands/sync_request.h"

#include <catch2/catch.hpp>
#include <functional>
#include <string>

#include "core/wbxml/wbxml.h"

namespace as = eas::wbxml::tags::AirSync;
namespace asb = eas::wbxml::tags::AirSyncBase;
namespace em = eas::wbxml::tags::Email;
using eas::commands::CachedCollection;
using eas::commands::parseSyncRequest;
using eas::commands::SyncClientCommand;
using eas::commands::SyncRequest;
using eas::protocol::ProtocolVersion;

namespace {

using Build = std::function<void(eas::wbxml::Writer&)>;

eas::wbxml::Document doc(const Build& body) {
  std::string bytes;
  {
    eas::wbxml::Writer w(&bytes);
    body(w);
    w.flush();
  }
  auto d = eas::wbxml::decode(bytes);
  REQUIRE(d.ok());
  return std::move(*d);
}

// <Sync><Collections><Collection>inner</Collection></Collections></Sync>
Build oneCollection(const Build& inner) {
  return [inner](eas::wbxml::Writer& w) {
    w.start(as::Sync).start(as::Collections).start(as::Collection);
    inner(w);
    w.end().end().end();
  };
}

eas::Result<SyncRequest> parse(const Build& b, ProtocolVersion v = ProtocolVersion::k141) {
  eas::wbxml::Document d = doc(b);
  return parseSyncRequest(&d.root(), v);
}

}  // namespace

TEST_CASE("a full 14.1 collection parses with its options and commands", "[sync][request]") {
  eas::wbxml::Document d = doc(oneCollection([](eas::wbxml::Writer& w) {
    w.element(as::SyncKey, "7").element(as::CollectionId, "5");
    w.element(as::DeletesAsMoves, "0").empty(as::GetChanges).element(as::WindowSize, "50");
    w.start(as::Options).element(as::FilterType, "3").element(as::MIMESupport, "2");
    w.start(asb::BodyPreference).element(asb::Type, "2").element(asb::TruncationSize, "32768");
    w.element(asb::AllOrNone, "1").element(asb::Preview, "100").end();
    w.start(asb::BodyPreference).element(asb::Type, "4").end();
    w.end();
    w.start(as::Commands);
    w.start(as::Change).element(as::ServerId, "5:17").start(as::ApplicationData);
    w.element(em::Read, "1").end().end();
    w.start(as::Delete).element(as::ServerId, "5:18").end();
    w.start(as::Fetch).element(as::ServerId, "5:19").end();
    w.start(as::Add).element(as::ClientId, "c1").start(as::ApplicationData).end().end();
    w.end();
  }));
  auto r = parseSyncRequest(&d.root(), ProtocolVersion::k141);
  REQUIRE(r.ok());
  CHECK_FALSE(r->empty);
  REQUIRE(r->collections.size() == 1);
  const auto& c = r->collections[0];
  CHECK(c.sync_key == "7");
  CHECK(c.collection_id == "5");
  CHECK_FALSE(c.deletes_as_moves);
  CHECK(c.get_changes == true);
  CHECK(c.window_size == 50);
  CHECK(c.has_options);
  CHECK(c.options.filter_type == 3);
  CHECK(c.options.mime_support == 2);
  REQUIRE(c.options.body_preferences.size() == 2);
  CHECK(c.options.body_preferences[0].type == 2);
  CHECK(c.options.body_preferences[0].truncation_size == 32768u);
  CHECK(c.options.body_preferences[0].all_or_none);
  CHECK(c.options.body_preferences[0].preview == 100u);
  CHECK(c.options.body_preferences[1].type == 4);
  CHECK_FALSE(c.options.body_preferences[1].truncation_size);
  REQUIRE(c.commands.size() == 4);
  CHECK(c.commands[0].kind == SyncClientCommand::Kind::kChange);
  CHECK(c.commands[0].server_id == "5:17");
  REQUIRE(c.commands[0].application_data != nullptr);
  CHECK(c.commands[0].application_data->childText(em::Read) == "1");
  CHECK(c.commands[1].kind == SyncClientCommand::Kind::kDelete);
  CHECK(c.commands[2].kind == SyncClientCommand::Kind::kFetch);
  CHECK(c.commands[3].kind == SyncClientCommand::Kind::kAdd);
  CHECK(c.commands[3].client_id == "c1");
}

TEST_CASE("defaults: DeletesAsMoves true, GetChanges absent, no Options", "[sync][request]") {
  auto r = parse(oneCollection([](eas::wbxml::Writer& w) {
    w.element(as::SyncKey, "0").element(as::CollectionId, "5");
  }));
  REQUIRE(r.ok());
  const auto& c = r->collections[0];
  CHECK(c.deletes_as_moves);
  CHECK_FALSE(c.get_changes.has_value());
  CHECK_FALSE(c.has_options);
  CHECK_FALSE(c.window_size.has_value());
}

TEST_CASE("2.5: Class first, Truncation and MIMETruncation codes", "[sync][request]") {
  auto r = parse(oneCollection([](eas::wbxml::Writer& w) {
    w.element(as::Class, "Email").element(as::SyncKey, "1").element(as::CollectionId, "5");
    w.start(as::Options).element(as::FilterType, "0").element(as::Truncation, "1");
    w.element(as::MIMESupport, "0").element(as::MIMETruncation, "8").end();
  }), ProtocolVersion::k25);
  REQUIRE(r.ok());
  const auto& c = r->collections[0];
  CHECK(c.class_name == "Email");
  CHECK(c.options.truncation_code == 1);
  CHECK(c.options.mime_truncation_code == 8);
  eas::items::BodyRequest br = c.options.bodyRequest();
  CHECK(br.truncation_bytes == eas::items::truncationBytesForCode(1));
  CHECK(br.preferences.empty());
}

TEST_CASE("the empty request, Partial, Wait and HeartbeatInterval", "[sync][request]") {
  auto none = parseSyncRequest(nullptr, ProtocolVersion::k141);
  REQUIRE(none.ok());
  CHECK(none->empty);
  CHECK_FALSE(parseSyncRequest(nullptr, ProtocolVersion::k120).ok());

  auto bare = parse([](eas::wbxml::Writer& w) { w.empty(as::Sync); });
  REQUIRE(bare.ok());
  CHECK(bare->empty);
  // Before 12.1 there is no empty request: Collections are required.
  CHECK_FALSE(parse([](eas::wbxml::Writer& w) { w.empty(as::Sync); }, ProtocolVersion::k120).ok());

  auto partial = parse([](eas::wbxml::Writer& w) {
    w.start(as::Sync).element(as::Wait, "5").empty(as::Partial).end();
  }, ProtocolVersion::k121);
  REQUIRE(partial.ok());
  CHECK(partial->partial);
  CHECK_FALSE(partial->empty);
  CHECK(partial->wait_minutes == 5);
  CHECK_FALSE(eas::commands::waitLimitViolation(*partial));

  struct Case {
    eas::wbxml::Tag tag;
    const char* value;
    std::optional<int> limit;
  };
  for (const Case& k : {Case{as::Wait, "0", 1}, Case{as::Wait, "60", 59}, Case{as::Wait, "59", {}},
                        Case{as::HeartbeatInterval, "59", 60},
                        Case{as::HeartbeatInterval, "3541", 3540},
                        Case{as::HeartbeatInterval, "60", {}}}) {
    INFO(eas::wbxml::qualifiedName(k.tag) << "=" << k.value);
    auto r = parse([&](eas::wbxml::Writer& w) { w.start(as::Sync).element(k.tag, k.value).end(); });
    REQUIRE(r.ok());
    CHECK(eas::commands::waitLimitViolation(*r) == k.limit);
  }
}

TEST_CASE("broken requests are refused with a reason (Status 4)", "[sync][request]") {
  struct Case {
    const char* name;
    Build build;
    const char* reason;
    ProtocolVersion version = ProtocolVersion::k141;
  };
  auto key = [](eas::wbxml::Writer& w) { w.element(as::SyncKey, "1").element(as::CollectionId, "5"); };
  const Case cases[] = {
      {"wrong root", [](eas::wbxml::Writer& w) { w.empty(as::Collections); }, "sync.bad_root"},
      {"no SyncKey", oneCollection([](eas::wbxml::Writer& w) { w.element(as::CollectionId, "5"); }),
       "sync.missing"},
      {"no CollectionId", oneCollection([](eas::wbxml::Writer& w) { w.element(as::SyncKey, "1"); }),
       "sync.missing"},
      {"empty SyncKey",
       oneCollection([](eas::wbxml::Writer& w) { w.empty(as::SyncKey).element(as::CollectionId, "5"); }),
       "sync.missing"},
      {"CollectionId before SyncKey",
       oneCollection([](eas::wbxml::Writer& w) { w.element(as::CollectionId, "5").element(as::SyncKey, "1"); }),
       "sync.bad_order"},
      {"WindowSize before GetChanges",
       oneCollection([&](eas::wbxml::Writer& w) {
         key(w);
         w.element(as::WindowSize, "5").element(as::GetChanges, "1");
       }),
       "sync.bad_order"},
      {"Commands before Options",
       oneCollection([&](eas::wbxml::Writer& w) {
         key(w);
         w.start(as::Commands).start(as::Delete).element(as::ServerId, "5:1").end().end();
         w.start(as::Options).element(as::FilterType, "1").end();
       }),
       "sync.bad_order"},
      {"GetChanges with key 0",
       oneCollection([](eas::wbxml::Writer& w) {
         w.element(as::SyncKey, "0").element(as::CollectionId, "5").element(as::GetChanges, "1");
       }),
       "sync.getchanges_with_key0"},
      {"empty GetChanges with key 0",
       oneCollection([](eas::wbxml::Writer& w) {
         w.element(as::SyncKey, "0").element(as::CollectionId, "5").empty(as::GetChanges);
       }),
       "sync.getchanges_with_key0"},
      {"GetChanges 2", oneCollection([&](eas::wbxml::Writer& w) { key(w); w.element(as::GetChanges, "2"); }),
       "sync.bad_value"},
      {"WindowSize text", oneCollection([&](eas::wbxml::Writer& w) { key(w); w.element(as::WindowSize, "ten"); }),
       "sync.bad_value"},
      {"FilterType 8",
       oneCollection([&](eas::wbxml::Writer& w) { key(w); w.start(as::Options).element(as::FilterType, "8").end(); }),
       "sync.bad_filter"},
      {"FilterType 9",
       oneCollection([&](eas::wbxml::Writer& w) { key(w); w.start(as::Options).element(as::FilterType, "9").end(); }),
       "sync.bad_value"},
      {"BodyPreference without Type",
       oneCollection([&](eas::wbxml::Writer& w) {
         key(w);
         w.start(as::Options).start(asb::BodyPreference).element(asb::TruncationSize, "10").end().end();
       }),
       "sync.missing"},
      {"BodyPreference out of order",
       oneCollection([&](eas::wbxml::Writer& w) {
         key(w);
         w.start(as::Options).start(asb::BodyPreference).element(asb::TruncationSize, "10");
         w.element(asb::Type, "1").end().end();
       }),
       "sync.bad_order"},
      {"two BodyPreference of one Type",
       oneCollection([&](eas::wbxml::Writer& w) {
         key(w);
         w.start(as::Options);
         w.start(asb::BodyPreference).element(asb::Type, "1").end();
         w.start(asb::BodyPreference).element(asb::Type, "1").end();
         w.end();
       }),
       "sync.duplicate"},
      {"BodyPreference Type 5",
       oneCollection([&](eas::wbxml::Writer& w) {
         key(w);
         w.start(as::Options).start(asb::BodyPreference).element(asb::Type, "5").end().end();
       }),
       "sync.bad_value"},
      {"Preview 256",
       oneCollection([&](eas::wbxml::Writer& w) {
         key(w);
         w.start(as::Options).start(asb::BodyPreference).element(asb::Type, "1");
         w.element(asb::Preview, "256").end().end();
       }),
       "sync.bad_value"},
      {"TruncationSize above 2^32-1",
       oneCollection([&](eas::wbxml::Writer& w) {
         key(w);
         w.start(as::Options).start(asb::BodyPreference).element(asb::Type, "1");
         w.element(asb::TruncationSize, "4294967296").end().end();
       }),
       "sync.bad_value"},
      {"two Email Options",
       oneCollection([&](eas::wbxml::Writer& w) {
         key(w);
         w.start(as::Options).element(as::FilterType, "1").end();
         w.start(as::Options).element(as::FilterType, "2").end();
       }),
       "sync.duplicate"},
      {"Change without ServerId",
       oneCollection([&](eas::wbxml::Writer& w) {
         key(w);
         w.start(as::Commands).start(as::Change).start(as::ApplicationData).end().end().end();
       }),
       "sync.missing"},
      {"Change without ApplicationData",
       oneCollection([&](eas::wbxml::Writer& w) {
         key(w);
         w.start(as::Commands).start(as::Change).element(as::ServerId, "5:1").end().end();
       }),
       "sync.missing"},
      {"Add without ClientId",
       oneCollection([&](eas::wbxml::Writer& w) {
         key(w);
         w.start(as::Commands).start(as::Add).start(as::ApplicationData).end().end().end();
       }),
       "sync.missing"},
      {"201 commands",
       oneCollection([&](eas::wbxml::Writer& w) {
         key(w);
         w.start(as::Commands);
         for (int i = 1; i <= 201; ++i)
           w.start(as::Delete).element(as::ServerId, "5:" + std::to_string(i)).end();
         w.end();
       }),
       "sync.too_many_commands"},
      {"the same collection twice",
       [&](eas::wbxml::Writer& w) {
         w.start(as::Sync).start(as::Collections);
         w.start(as::Collection);
         key(w);
         w.end().start(as::Collection);
         key(w);
         w.end().end().end();
       },
       "sync.duplicate"},
      {"Wait and HeartbeatInterval",
       [](eas::wbxml::Writer& w) {
         w.start(as::Sync).element(as::Wait, "5").element(as::HeartbeatInterval, "300").end();
       },
       "sync.wait_and_heartbeat"},
      {"Wait not a number", [](eas::wbxml::Writer& w) { w.start(as::Sync).element(as::Wait, "x").end(); },
       "sync.bad_value", ProtocolVersion::k121},
      {"unknown child of Sync", [](eas::wbxml::Writer& w) { w.start(as::Sync).element(as::Status, "1").end(); },
       "sync.bad_value"},
      {"CollectionId of 65 characters",
       oneCollection([](eas::wbxml::Writer& w) {
         w.element(as::SyncKey, "1").element(as::CollectionId, std::string(65, '7'));
       }),
       "sync.missing"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    auto r = parse(c.build, c.version);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().reason() == c.reason);
    CHECK(eas::commands::syncStatusFor(r.status()) == 4);
  }
}

TEST_CASE("SMS Options are ignored, Email Options kept", "[sync][request]") {
  auto r = parse(oneCollection([](eas::wbxml::Writer& w) {
    w.element(as::SyncKey, "1").element(as::CollectionId, "5");
    w.start(as::Options).element(as::Class, "SMS").element(as::FilterType, "1").end();
    w.start(as::Options).element(as::FilterType, "4").end();
  }));
  REQUIRE(r.ok());
  CHECK(r->collections[0].options.filter_type == 4);
}

TEST_CASE("the request cache round-trips collection parameters", "[sync][request]") {
  CachedCollection a;
  a.params.collection_id = "5";
  a.params.window_size = 25;
  a.params.deletes_as_moves = false;
  a.params.get_changes = true;
  a.params.has_options = true;
  a.params.options.filter_type = 3;
  a.params.options.mime_support = 1;
  a.params.options.mime_truncation_code = 4;
  eas::items::BodyPreference p;
  p.type = 2;
  p.truncation_size = 4000000000u;
  p.all_or_none = true;
  p.preview = 200;
  a.params.options.body_preferences = {p, eas::items::BodyPreference{}};
  CachedCollection b;
  b.params.collection_id = "12";
  b.params.class_name = "Email";
  b.in_last = false;
  CachedCollection bad;
  bad.params.collection_id = "x\ty";  // never cached

  const std::string text = eas::commands::encodeSyncCache({a, b, bad});
  auto back = eas::commands::decodeSyncCache(text);
  REQUIRE(back.size() == 2);
  CHECK(back[0].params.collection_id == "5");
  CHECK(back[0].in_last);
  CHECK(back[0].params.window_size == 25);
  CHECK_FALSE(back[0].params.deletes_as_moves);
  CHECK(back[0].params.get_changes == true);
  CHECK(back[0].params.has_options);
  CHECK(back[0].params.options == a.params.options);
  CHECK(back[1].params.collection_id == "12");
  CHECK(back[1].params.class_name == "Email");
  CHECK_FALSE(back[1].in_last);
  CHECK_FALSE(back[1].params.has_options);
  CHECK(eas::commands::encodeSyncCache(back) == text);

  // Garbage lines are dropped, good ones kept.
  auto mixed = eas::commands::decodeSyncCache("junk\n" + text + "1\t2\n");
  CHECK(mixed.size() == 2);
  CHECK(eas::commands::decodeSyncCache("").empty());
}
