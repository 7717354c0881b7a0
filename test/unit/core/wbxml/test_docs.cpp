#include "test/unit/core/wbxml/test_docs.h"

#include <stdexcept>

#include "core/wbxml/wbxml.h"

namespace eas::wbxml::testing {

std::string hex(const std::string& spec) {
  std::string out;
  int nibble = -1;
  bool quoted = false;
  for (char c : spec) {
    if (c == '"') {
      quoted = !quoted;
      continue;
    }
    if (quoted) {
      out.push_back(c);
      continue;
    }
    if (c == ' ') continue;
    int v;
    if (c >= '0' && c <= '9')
      v = c - '0';
    else if (c >= 'a' && c <= 'f')
      v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      v = c - 'A' + 10;
    else
      throw std::invalid_argument("bad hex");
    if (nibble < 0) {
      nibble = v;
    } else {
      out.push_back(static_cast<char>(nibble * 16 + v));
      nibble = -1;
    }
  }
  if (nibble >= 0) throw std::invalid_argument("odd hex");
  return out;
}

namespace {

std::string syncResponse() {
  using namespace tags;  // NOLINT
  std::string out;
  StringSink sink(&out);
  Writer w(sink);
  w.start(AirSync::Sync).start(AirSync::Collections).start(AirSync::Collection);
  w.element(AirSync::SyncKey, "1234567890").element(AirSync::CollectionId, "5");
  w.element(AirSync::Status, std::int64_t{1});
  w.start(AirSync::Commands);
  for (int i = 0; i < 20; ++i) {
    w.start(AirSync::Add).element(AirSync::ServerId, "5:" + std::to_string(i));
    w.start(AirSync::ApplicationData);
    w.element(Email::To, "\"Zoë\" <zoe@example.com>");
    w.element(Email::Subject, "Grüße — subject " + std::to_string(i));
    w.element(Email::DateReceived, "2026-12-01T06:00:00.000Z");
    w.element(Email::Read, std::int64_t{i % 2});
    w.start(AirSyncBase::Body).element(AirSyncBase::Type, std::int64_t{1});
    w.element(AirSyncBase::EstimatedDataSize, std::int64_t{42});
    w.element(AirSyncBase::Data, "Hello <world> & all\r\nsecond line");
    w.end();
    w.opaqueElement(Email2::ConversationId, std::string("\x00\x01\xfe\xff", 4));
    w.element(AirSyncBase::NativeBodyType, std::int64_t{1});
    w.end().end();
  }
  w.end();
  w.empty(AirSync::MoreAvailable);
  w.end().end().end();
  return out;
}

std::string everyPage() {
  // One element of every known tag under a root, grouped by page.
  std::string out;
  StringSink sink(&out);
  Writer w(sink);
  w.start(tags::AirSync::Sync);
  int i = 0;
  for (const TagInfo& t : allTags()) {
    if (i++ % 2) {
      w.element(t.tag(), std::string(t.name));
    } else {
      w.empty(t.tag());
    }
  }
  w.end();
  return out;
}

std::string deep(int levels) {
  std::string out;
  StringSink sink(&out);
  Writer w(sink);
  for (int i = 0; i < levels; ++i) w.start(tags::AirSync::Collection);
  w.element(tags::AirSync::SyncKey, "deep");
  for (int i = 0; i < levels; ++i) w.end();
  return out;
}

}  // namespace

const std::vector<NamedDoc>& sampleDocs() {
  static const std::vector<NamedDoc> docs = {
      {"foldersync", hex("03 01 6A 00 00 07 56 52 03 30 00 01 01")},
      {"sync_initial", hex("03 01 6A 00 45 5C 4F 4B 03 30 00 01 52 03 35 00 01 01 01 01")},
      {"ping", hex("03 01 6A 00 00 0D 45 48 03 \"480\" 00 01 49 4A 4B 03 \"5\" 00 01 4C 03 "
                   "\"Email\" 00 01 01 01 01")},
      {"empty_root", hex("03 01 6A 00 05")},
      {"sendmail_opaque",
       hex("03 01 6A 00 00 15 45 51 03 \"c1\" 00 01 48 03 \"0\" 00 01 50 C3 05 41 00 42 00 43 "
           "01 01")},
      {"sync_response", syncResponse()},
      {"every_page", everyPage()},
      {"deep_60", deep(60)},
  };
  return docs;
}

}  // namespace eas::wbxml::testing
