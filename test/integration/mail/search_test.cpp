// Search (Mailbox) end to end: device -> nginx -> eas-fcgi -> Dovecot's
// UID SEARCH. Finds by subject and by body, in one folder or all, pages
// with Range, bounds DateReceived, and answers the store statuses.
#include <algorithm>
#include <catch2/catch.hpp>

#include "test/integration/mail/folderops_stack.h"

using folderops_test::FolderEntry;
using folderops_test::Reply;
using folderops_test::Stack;
namespace se = eas::wbxml::tags::Search;
namespace as = eas::wbxml::tags::AirSync;
namespace asb = eas::wbxml::tags::AirSyncBase;
namespace em = eas::wbxml::tags::Email;
using Build = std::function<void(eas::wbxml::Writer&)>;

namespace {

struct Found {
  int http = 0, status = -1, store_status = -1, total = -1;
  std::string range;
  std::vector<std::string> long_ids, collections, subjects, bodies;
};

Found search(Stack& s, const std::string& dev, const Build& query, const Build& options = {},
             const std::string& name = "Mailbox") {
  Reply r = s.post("Search", dev, [&](eas::wbxml::Writer& w) {
    w.start(se::Search).start(se::Store).element(se::Name, name).start(se::Query);
    query(w);
    w.end();
    if (options) {
      w.start(se::Options);
      options(w);
      w.end();
    }
    w.end().end();
  });
  Found f;
  f.http = r.http;
  if (r.http != 200) return f;
  f.status = r.status(se::Status);
  const eas::wbxml::Element* resp = r.root().child(se::Response);
  if (!resp || !resp->child(se::Store)) return f;
  const eas::wbxml::Element& st = *resp->child(se::Store);
  f.store_status = std::atoi(std::string(st.childText(se::Status, "-1")).c_str());
  f.total = std::atoi(std::string(st.childText(se::Total, "-1")).c_str());
  f.range = std::string(st.childText(se::Range));
  for (const eas::wbxml::Element& res : st.children()) {
    if (res.tag() != se::Result || !res.firstChild()) continue;
    f.long_ids.emplace_back(res.childText(se::LongId));
    f.collections.emplace_back(res.childText(as::CollectionId));
    const eas::wbxml::Element* props = res.child(se::Properties);
    REQUIRE(props != nullptr);
    f.subjects.emplace_back(props->childText(em::Subject));
    if (const eas::wbxml::Element* b = props->child(asb::Body)) f.bodies.emplace_back(b->childText(asb::Data));
  }
  return f;
}

Build freeText(const std::string& text, const std::vector<std::string>& collections = {}) {
  return [=](eas::wbxml::Writer& w) {
    w.start(se::And).element(as::Class, "Email");
    for (const std::string& c : collections) w.element(as::CollectionId, c);
    w.element(se::FreeText, text).end();
  };
}

}  // namespace

TEST_CASE("Search finds by subject and by body", "[integration][search]") {
  Stack s("127.0.5.31");
  const std::string dev = "SRCH" + s.tag;
  const std::string word = "zebra" + s.tag, folder = "SrFolder" + s.tag;
  REQUIRE(s.imap()->createFolder(folder).ok());
  s.append("INBOX", "About " + word, "nothing special", "Mon, 30 Nov 2026 10:00:00 +0000");
  s.append("INBOX", "Unrelated", "the word " + word + " is in the body",
           "Tue, 1 Dec 2026 09:00:00 +0000");
  s.append(folder, "Filed " + word, "filed away", "Tue, 1 Dec 2026 10:00:00 +0000");
  s.append("INBOX", "Other", "no match here", "Tue, 1 Dec 2026 11:00:00 +0000");
  std::string key = "0";
  auto all = s.folderSync(key, dev);
  const FolderEntry* inbox = Stack::ofType(all, 2);
  const FolderEntry* filed = Stack::named(all, folder);
  REQUIRE(inbox != nullptr);
  REQUIRE(filed != nullptr);

  for (const char* version : {"14.1", "12.1"}) {
    INFO(version);
    s.version = version;
    Found everywhere = search(s, dev, freeText(word), [](eas::wbxml::Writer& w) {
      w.element(se::Range, "0-9");
      w.start(asb::BodyPreference).element(asb::Type, 1).element(asb::TruncationSize, 1000).end();
    });
    REQUIRE(everywhere.http == 200);
    CHECK(everywhere.status == 1);
    CHECK(everywhere.store_status == 1);
    CHECK(everywhere.total == 3);
    CHECK(everywhere.range == "0-2");
    // APPEND gives INTERNALDATE "now": the order among equal seconds is by
    // UID, so check membership, not positions.
    REQUIRE(everywhere.subjects.size() == 3);
    auto has = [](const std::vector<std::string>& v, const std::string& x) {
      return std::find(v.begin(), v.end(), x) != v.end();
    };
    CHECK(has(everywhere.subjects, "About " + word));  // found by subject
    CHECK(has(everywhere.subjects, "Unrelated"));      // found by body only
    CHECK(has(everywhere.subjects, "Filed " + word));  // in another folder
    CHECK(has(everywhere.collections, filed->server_id));
    for (std::size_t i = 0; i < everywhere.long_ids.size(); ++i)
      CHECK(everywhere.long_ids[i].rfind(everywhere.collections[i] + ":", 0) == 0);
    REQUIRE(everywhere.bodies.size() == 3);
    bool body_found = false;
    for (const std::string& b : everywhere.bodies) body_found |= b.find("the word " + word) != std::string::npos;
    CHECK(body_found);

    Found in_inbox = search(s, dev, freeText(word, {inbox->server_id}));
    CHECK(in_inbox.total == 2);
    for (const std::string& c : in_inbox.collections) CHECK(c == inbox->server_id);

    Found paged = search(s, dev, freeText(word), [](eas::wbxml::Writer& w) { w.element(se::Range, "1-1"); });
    CHECK(paged.total == 3);
    CHECK(paged.range == "1-1");
    REQUIRE(paged.subjects.size() == 1);
    CHECK(paged.subjects[0] == everywhere.subjects[1]);
  }
  s.version = "14.1";
  CHECK(s.imap()->deleteFolder(folder).ok());
}

TEST_CASE("Search by DateReceived", "[integration][search]") {
  Stack s("127.0.5.32");
  const std::string dev = "SRCD" + s.tag;
  const std::string word = "dated" + s.tag;
  // APPEND sets INTERNALDATE to now; bound around the real clock.
  s.append("INBOX", word, "x");
  std::string key = "0";
  s.folderSync(key, dev);
  auto bounded = [&](const char* gt, const char* lt) {
    return search(s, dev, [=](eas::wbxml::Writer& w) {
      w.start(se::And).element(as::Class, "Email").element(se::FreeText, word);
      w.start(se::GreaterThan).empty(em::DateReceived).element(se::Value, gt).end();
      w.start(se::LessThan).empty(em::DateReceived).element(se::Value, lt).end();
      w.end();
    });
  };
  CHECK(bounded("2000-01-01T00:00:00.000Z", "2100-01-01T00:00:00.000Z").total == 1);
  CHECK(bounded("2099-01-01T00:00:00.000Z", "2100-01-01T00:00:00.000Z").total == 0);
  CHECK(bounded("2000-01-01T00:00:00.000Z", "2000-01-02T00:00:00.000Z").total == 0);
}

TEST_CASE("Search statuses", "[integration][search]") {
  Stack s("127.0.5.33");
  const std::string dev = "SRCE" + s.tag;
  // Before any FolderSync: FolderSync required.
  CHECK(search(s, dev, freeText("x")).store_status == 11);
  std::string key = "0";
  s.folderSync(key, dev);
  CHECK(search(s, dev, freeText("x", {"98765"})).store_status == 11);
  CHECK(search(s, dev, [](eas::wbxml::Writer& w) { w.element(se::FreeText, "x"); }).store_status == 8);
  CHECK(search(s, dev, [](eas::wbxml::Writer& w) {
          w.start(se::Or).element(se::FreeText, "x").end();
        }).store_status == 8);
  CHECK(search(s, dev, freeText("x"), [](eas::wbxml::Writer& w) { w.element(se::Range, "9-1"); })
            .store_status == 2);
  CHECK(search(s, dev, [](eas::wbxml::Writer& w) {
          w.start(se::And).start(se::GreaterThan).empty(em::DateReceived).element(se::Value, "soon").end().end();
        }).store_status == 2);
  CHECK(search(s, dev, freeText("x"), {}, "DocumentLibrary").store_status == 2);
  Found gal = search(s, dev, [](eas::wbxml::Writer& w) { w.text("smi"); }, {}, "GAL");
  CHECK(gal.status == 1);
  CHECK(gal.store_status == 1);
  CHECK(gal.total == 0);
  Found none = search(s, dev, freeText("nothing-matches-" + s.tag));
  CHECK(none.store_status == 1);
  CHECK(none.total == 0);
}
