#include <catch2/catch.hpp>
#include <string>

#include "core/wbxml/wbxml.h"
#include "test/unit/core/wbxml/test_docs.h"

using namespace eas::wbxml;  // NOLINT
using eas::wbxml::testing::hex;
using eas::wbxml::testing::sampleDocs;

namespace {
struct CountingSink : Sink {
  std::string data;
  int writes = 0;
  void write(const char* d, std::size_t n) override {
    data.append(d, n);
    ++writes;
  }
};
}  // namespace

TEST_CASE("Writer produces the worked examples of protocol.md 2.2 byte for byte",
          "[wbxml][writer]") {
  using namespace tags;  // NOLINT
  std::string out;
  {
    StringSink sink(&out);
    Writer w(sink);
    w.start(FolderHierarchy::FolderSync).element(FolderHierarchy::SyncKey, "0").end();
  }
  CHECK(out == hex("03 01 6A 00 00 07 56 52 03 30 00 01 01"));

  out.clear();
  {
    StringSink sink(&out);
    Writer w(sink);
    w.start(AirSync::Sync).start(AirSync::Collections).start(AirSync::Collection);
    w.element(AirSync::SyncKey, std::int64_t{0}).element(AirSync::CollectionId, "5");
    w.end().end().end();
  }
  CHECK(out == hex("03 01 6A 00 45 5C 4F 4B 03 30 00 01 52 03 35 00 01 01 01 01"));

  out.clear();
  {
    StringSink sink(&out);
    Writer w(sink);
    w.start(Ping::Ping).element(Ping::HeartbeatInterval, std::int64_t{480});
    w.start(Ping::Folders).start(Ping::Folder);
    w.element(Ping::Id, "5").element(Ping::Class, "Email");
    w.end().end().end();
    CHECK(w.depth() == 0);
    CHECK(w.bytesWritten() == out.size());
  }
  CHECK(out == sampleDocs()[2].bytes);
}

TEST_CASE("every token of every code page round-trips", "[wbxml][writer]") {
  for (const TagInfo& t : allTags()) {
    INFO(qualifiedName(t.tag()));
    // As root with text, as root empty, and as a child of AirSync:Sync.
    for (int form = 0; form < 3; ++form) {
      std::string out;
      {
        StringSink sink(&out);
        Writer w(sink);
        if (form == 2) w.start(tags::AirSync::Sync);
        if (form == 1) {
          w.empty(t.tag());
        } else {
          w.element(t.tag(), std::string(t.name));
        }
        if (form == 2) w.end();
      }
      auto doc = decode(out);
      REQUIRE(doc.ok());
      const Element* e = form == 2 ? doc->root().firstChild() : &doc->root();
      REQUIRE(e != nullptr);
      CHECK(e->tag() == t.tag());
      CHECK(tagName(e->tag()) == t.name);
      CHECK(e->text() == (form == 1 ? std::string() : std::string(t.name)));
      CHECK(e->hasContent() == (form != 1));
      CHECK(encode(*doc) == out);
      // SWITCH_PAGE only when the page is not 0 (and after the header).
      const bool switches = out.size() > 5 && out[4] == '\0';
      CHECK(switches == (form == 2 ? false : t.page != 0));
      if (form == 2 && t.page != 0) CHECK(out.substr(5, 2) == std::string{'\0', char(t.page)});
    }
  }
}

TEST_CASE("SWITCH_PAGE only when the page changes", "[wbxml][writer]") {
  using namespace tags;  // NOLINT
  std::string out;
  {
    StringSink sink(&out);
    Writer w(sink);
    w.start(AirSync::Sync);
    w.element(Email::Subject, "a").element(Email::To, "b");  // one switch to 2
    w.element(AirSync::Status, "1");                         // back to 0
    w.element(AirSync::SyncKey, "1");                        // no switch
    w.empty(Email::Read);                                    // switch to 2
    w.end();                                                 // END: no switch
  }
  CHECK(out == hex("03 01 6A 00 45 00 02 54 03 \"a\" 00 01 56 03 \"b\" 00 01 00 00 4E 03 \"1\" "
                   "00 01 4B 03 \"1\" 00 01 00 02 15 01"));
}

TEST_CASE("Writer edge cases", "[wbxml][writer]") {
  using namespace tags;  // NOLINT
  std::string out;
  {
    StringSink sink(&out);
    Writer w(sink);
    w.start(AirSync::Sync);
    w.start(AirSync::SyncKey).text("").end();  // empty text -> empty element
    w.element(AirSync::WindowSize, std::int64_t{-42});
    w.element(AirSync::Limit, std::int64_t{9223372036854775807});
    w.element(AirSync::ServerId, std::string("a\0b", 3));  // NUL -> OPAQUE
    w.start(AirSync::Status).text("1").text("2").end();    // two strings
    w.end();
  }
  CHECK(out == hex("03 01 6A 00 45 0B 55 03 \"-42\" 00 01 65 03 \"9223372036854775807\" 00 01 "
                   "4D C3 03 61 00 62 01 4E 03 \"1\" 00 03 \"2\" 00 01 01"));
  auto doc = decode(out);
  REQUIRE(doc.ok());
  CHECK(doc->root().childText(AirSync::ServerId) == std::string("a\0b", 3));
  CHECK(doc->root().childText(AirSync::Status) == "12");
}

TEST_CASE("Writer buffers small writes and flushes when the root closes", "[wbxml][writer]") {
  using namespace tags;  // NOLINT
  CountingSink sink;
  Writer w(sink);
  w.start(AirSync::Sync).start(AirSync::Commands);
  for (int i = 0; i < 1000; ++i) {
    w.start(AirSync::Add).element(AirSync::ServerId, std::to_string(i)).end();
  }
  const std::string big(100000, 'm');
  w.opaqueElement(ComposeMail::Mime, big);
  w.end();
  CHECK(sink.data.size() < w.bytesWritten());  // still buffered
  w.end();
  CHECK(sink.data.size() == w.bytesWritten());  // root closed: all out
  CHECK(sink.writes < 20);
  auto doc = decode(sink.data);
  REQUIRE(doc.ok());
  const Element* cmds = doc->root().child(AirSync::Commands);
  REQUIRE(cmds);
  CHECK(cmds->childCount() == 1001);
  CHECK(cmds->child(ComposeMail::Mime)->text() == big);
}

TEST_CASE("Writer output equals encode(decode(x))", "[wbxml][writer]") {
  for (const auto& d : sampleDocs()) {
    INFO(d.name);
    auto doc = decode(d.bytes);
    REQUIRE(doc.ok());
    CHECK(encode(*doc) == d.bytes);
    CountingSink sink;
    {
      Writer w(sink);
      encodeTo(*doc, w);
    }
    CHECK(sink.data == d.bytes);
  }
}

TEST_CASE("Writer into a std::string equals Writer into a Sink", "[wbxml][writer]") {
  using namespace tags;  // NOLINT
  auto build = [](Writer& w) {
    w.start(AirSync::Sync).start(AirSync::Commands);
    for (int i = 0; i < 3000; ++i) w.element(AirSync::ServerId, "id-" + std::to_string(i));
    w.opaqueElement(ComposeMail::Mime, std::string(50000, 'q'));
    w.end().end();
  };
  std::string direct;
  {
    Writer w(&direct);
    build(w);
    CHECK(w.bytesWritten() == direct.size());
  }
  CountingSink sink;
  {
    Writer w(sink);
    build(w);
  }
  CHECK(direct == sink.data);
  CHECK(decode(direct).ok());
}
