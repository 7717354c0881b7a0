// The pure parts of FolderCreate/Delete/Update, MoveItems' neighbours and
// Search: core/sync/folder_ops and core/sync/search_results, and the Search
// request parser (parseMailboxSearch).
#include "core/sync/folder_ops.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "core/commands/search_command.h"
#include "core/sync/search_results.h"
#include "core/wbxml/wbxml.h"

using eas::backend::FolderInfo;
using eas::backend::FolderRole;
using eas::storage::Folder;
using eas::storage::FolderChange;
using namespace eas::sync;

namespace {

FolderInfo box(const std::string& name, FolderRole role = FolderRole::kNone) {
  FolderInfo f;
  f.name = name;
  f.delimiter = '.';
  std::size_t pos = name.rfind('.');
  f.displayName = pos == std::string::npos ? name : name.substr(pos + 1);
  f.role = role;
  return f;
}

Folder stored(const std::string& id, const std::string& name, const std::string& parent, int type,
              const std::string& display) {
  return Folder{id, name, parent, type, display};
}

struct Tree {
  std::vector<FolderInfo> backend = {box("INBOX", FolderRole::kInbox),
                                     box("Drafts", FolderRole::kDrafts),
                                     box("Sent", FolderRole::kSent),
                                     box("Trash", FolderRole::kTrash),
                                     box("Junk", FolderRole::kJunk),
                                     box("Work"),
                                     box("Work.Projects"),
                                     box("Work.Projects.Deep"),
                                     box("Home")};
  std::vector<Folder> folders = {stored("1", "INBOX", "0", 2, "INBOX"),
                                 stored("2", "Drafts", "0", 3, "Drafts"),
                                 stored("3", "Sent", "0", 5, "Sent"),
                                 stored("4", "Trash", "0", 4, "Trash"),
                                 stored("5", "Junk", "0", 12, "Junk"),
                                 stored("6", "Work", "0", 12, "Work"),
                                 stored("7", "Work.Projects", "6", 12, "Projects"),
                                 stored("8", "Work.Projects.Deep", "7", 12, "Deep"),
                                 stored("9", "Home", "0", 12, "Home")};
};

}  // namespace

TEST_CASE("modified UTF-7 folder names", "[folderops]") {
  struct Row {
    const char* utf8;
    const char* imap;
  };
  const Row rows[] = {
      {"Work", "Work"},
      {"A&B", "A&-B"},
      {"Entw\xC3\xBCrfe", "Entw&APw-rfe"},                       // RFC 3501 style example
      {"\xE5\x8F\xB0\xE5\x8C\x97", "&U,BTFw-"},                  // RFC 3501 §5.1.3
      {"~peter/mail/\xE5\x8F\xB0\xE5\x8C\x97/\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E",
       "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},                       // RFC 3501 §5.1.3
      {"\xF0\x9F\x98\x80", "&2D3eAA-"},                          // U+1F600, a surrogate pair
  };
  for (const Row& r : rows) {
    INFO(r.utf8);
    auto e = encodeMailboxName(r.utf8);
    REQUIRE(e.has_value());
    CHECK(*e == r.imap);
  }
  for (const char* bad : {"\xC3", "\xC0\xAF", "\xED\xA0\x80", "a\xFF", "\xF4\x90\x80\x80"}) {
    INFO(bad);
    CHECK_FALSE(encodeMailboxName(bad).has_value());
  }
  CHECK_FALSE(encodeMailboxName(std::string("a\0b", 3)).has_value());
}

TEST_CASE("FolderCreate plans", "[folderops]") {
  Tree t;
  SECTION("top level and below a user folder") {
    FolderOpPlan p = planFolderCreate(t.folders, t.backend, FolderMode::kAll, "0", "New", 12, "42");
    REQUIRE(p.status == 1);
    CHECK(p.imap_create == "New");
    REQUIRE(p.changes.size() == 1);
    CHECK(p.changes[0].kind == FolderChange::Kind::kAdd);
    CHECK(p.changes[0].folder == stored("42", "New", "0", 12, "New"));
    REQUIRE(p.device_changes.size() == 1);
    CHECK(p.device_changes[0].folder == p.changes[0].folder);
    FolderOpPlan q = planFolderCreate(t.folders, t.backend, FolderMode::kAll, "7", "Sub", 12, "43");
    REQUIRE(q.status == 1);
    CHECK(q.imap_create == "Work.Projects.Sub");
    CHECK(q.changes[0].folder.parent_id == "7");
    // Below a default folder is allowed (only the folder itself is special).
    CHECK(planFolderCreate(t.folders, t.backend, FolderMode::kAll, "1", "Sub", 12, "44").imap_create ==
          "INBOX.Sub");
    // Type 1 (generic) is an IMAP folder too.
    CHECK(planFolderCreate(t.folders, t.backend, FolderMode::kAll, "0", "G", 1, "45").status == 1);
  }
  SECTION("refusals") {
    struct Row {
      const char* parent;
      std::string name;
      int type;
      FolderMode mode;
      int status;
      const char* reason;
    };
    const Row rows[] = {
        {"0", "Work", 12, FolderMode::kAll, 2, "folderops.name_exists"},
        {"6", "Projects", 12, FolderMode::kAll, 2, "folderops.name_exists"},
        {"99", "X", 12, FolderMode::kAll, 5, "folderops.parent_not_found"},
        {"0", "X", 12, FolderMode::kDefaultOnly, 3, "folderops.default_folders_only"},
        {"0", "X", 2, FolderMode::kAll, 10, "folderops.default_type"},
        {"0", "X", 19, FolderMode::kAll, 10, "folderops.default_type"},
        {"0", "X", 13, FolderMode::kAll, 10, "folderops.type_unsupported"},
        {"0", "", 12, FolderMode::kAll, 10, "folderops.bad_name"},
        {"0", "a.b", 12, FolderMode::kAll, 10, "folderops.bad_name"},
        {"0", "a*", 12, FolderMode::kAll, 10, "folderops.bad_name"},
        {"0", "\xC3", 12, FolderMode::kAll, 10, "folderops.bad_name"},
        {"0", std::string(256, 'x'), 12, FolderMode::kAll, 10, "folderops.bad_name"},
    };
    for (const Row& r : rows) {
      INFO(r.parent << " " << r.name << " " << r.type);
      FolderOpPlan p = planFolderCreate(t.folders, t.backend, r.mode, r.parent, r.name, r.type, "50");
      CHECK(p.status == r.status);
      CHECK(p.reason == r.reason);
      CHECK(p.changes.empty());
      CHECK(p.imap_create.empty());
    }
  }
  SECTION("a name the server has but the device was not told about yet") {
    t.backend.push_back(box("Fresh"));
    CHECK(planFolderCreate(t.folders, t.backend, FolderMode::kAll, "0", "Fresh", 12, "51").status == 2);
  }
}

TEST_CASE("FolderDelete plans", "[folderops]") {
  Tree t;
  FolderOpPlan p = planFolderDelete(t.folders, t.backend, "6");
  REQUIRE(p.status == 1);
  CHECK(p.imap_deletes ==
        std::vector<std::string>{"Work.Projects.Deep", "Work.Projects", "Work"});
  REQUIRE(p.device_changes.size() == 1);
  CHECK(p.device_changes[0].kind == FolderChange::Kind::kDelete);
  CHECK(p.device_changes[0].folder.server_id == "6");
  CHECK(p.changes.size() == 3);
  CHECK(p.reset_collections == std::vector<std::string>{"6", "7", "8"});
  for (const char* id : {"1", "2", "3", "4", "5"}) {
    INFO(id);
    FolderOpPlan s = planFolderDelete(t.folders, t.backend, id);
    CHECK(s.status == 3);
    CHECK(s.reason == "folderops.special_folder");
    CHECK(s.imap_deletes.empty());
  }
  CHECK(planFolderDelete(t.folders, t.backend, "77").status == 4);
  // A folder already gone from the server: only the store changes.
  t.backend.pop_back();  // Home
  FolderOpPlan gone = planFolderDelete(t.folders, t.backend, "9");
  CHECK(gone.status == 1);
  CHECK(gone.imap_deletes.empty());
  CHECK(gone.changes.size() == 1);
}

TEST_CASE("FolderUpdate plans: rename, move, refusals", "[folderops]") {
  Tree t;
  SECTION("rename in place: the children follow quietly") {
    FolderOpPlan p = planFolderUpdate(t.folders, t.backend, "6", "0", "Job");
    REQUIRE(p.status == 1);
    CHECK(p.imap_rename_from == "Work");
    CHECK(p.imap_rename_to == "Job");
    REQUIRE(p.device_changes.size() == 1);
    CHECK(p.device_changes[0].folder == stored("6", "Job", "0", 12, "Job"));
    REQUIRE(p.changes.size() == 3);
    CHECK(p.changes[1].folder == stored("7", "Job.Projects", "6", 12, "Projects"));
    CHECK(p.changes[2].folder == stored("8", "Job.Projects.Deep", "7", 12, "Deep"));
  }
  SECTION("move under another parent") {
    FolderOpPlan p = planFolderUpdate(t.folders, t.backend, "7", "9", "Projects");
    REQUIRE(p.status == 1);
    CHECK(p.imap_rename_to == "Home.Projects");
    CHECK(p.device_changes[0].folder.parent_id == "9");
    CHECK(p.changes.back().folder.backend_id == "Home.Projects.Deep");
    // To the top.
    CHECK(planFolderUpdate(t.folders, t.backend, "8", "0", "Deep").imap_rename_to == "Deep");
  }
  SECTION("nothing changes: no IMAP call, the same record") {
    FolderOpPlan p = planFolderUpdate(t.folders, t.backend, "9", "0", "Home");
    REQUIRE(p.status == 1);
    CHECK(p.imap_rename_from.empty());
  }
  SECTION("refusals") {
    struct Row {
      const char* id;
      const char* parent;
      const char* name;
      int status;
      const char* reason;
    };
    const Row rows[] = {
        {"1", "0", "Mail", 2, "folderops.special_folder"},
        {"5", "0", "Spam2", 2, "folderops.special_folder"},  // Junk has a role
        {"9", "0", "Work", 2, "folderops.name_exists"},
        {"99", "0", "X", 4, "folderops.not_found"},
        {"9", "99", "X", 5, "folderops.parent_not_found"},
        {"6", "8", "X", 10, "folderops.move_into_itself"},
        {"6", "6", "X", 10, "folderops.move_into_itself"},
        {"9", "0", "", 10, "folderops.bad_name"},
        {"9", "0", "a.b", 10, "folderops.bad_name"},
    };
    for (const Row& r : rows) {
      INFO(r.id << " " << r.parent << " " << r.name);
      FolderOpPlan p = planFolderUpdate(t.folders, t.backend, r.id, r.parent, r.name);
      CHECK(p.status == r.status);
      CHECK(p.reason == r.reason);
      CHECK(p.changes.empty());
      CHECK(p.imap_rename_from.empty());
    }
  }
}

TEST_CASE("Search: Range, dateTime, refinement, paging", "[search]") {
  CHECK(parseSearchRange("0-9") == std::make_pair(0u, 9u));
  CHECK(parseSearchRange("5-5") == std::make_pair(5u, 5u));
  for (const char* bad : {"", "9-0", "a-b", "1", "-1", "1-", "0-9x", "1--2"}) {
    INFO(bad);
    CHECK_FALSE(parseSearchRange(bad).has_value());
  }
  CHECK(clampSearchRange({0, 999}) == std::make_pair(0u, 99u));
  CHECK(clampSearchRange({10, 20}) == std::make_pair(10u, 20u));

  CHECK(parseEasDateTime("1970-01-01T00:00:00.000Z") == 0);
  CHECK(parseEasDateTime("2026-12-01T06:01:20.000Z") == 1796104880);
  CHECK(parseEasDateTime("2024-02-29T12:00:00Z") == 1709208000);
  for (const char* bad : {"2026-12-01", "2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z",
                          "2026-12-01T24:00:00Z", "2026-12-01T06:01:20.000", "x026-12-01T06:01:20Z",
                          "2026-12-01T06:01:20.Z"}) {
    INFO(bad);
    CHECK_FALSE(parseEasDateTime(bad).has_value());
  }
  CHECK(imapSinceFor(1796104880) == 1796083200);        // that day 00:00
  CHECK(imapBeforeFor(1796104880) == 1796083200 + 86400);
  CHECK_FALSE(imapSinceFor(std::nullopt).has_value());

  std::vector<SearchHit> hits = {{"5", "INBOX", 1, 100}, {"5", "INBOX", 2, 300},
                                 {"6", "Work", 1, 200}, {"6", "Work", 9, 300},
                                 {"6", "Work", 3, 50}};
  refineHits(hits, 60, 350);
  REQUIRE(hits.size() == 4);
  CHECK(hits[0].uid == 9);  // same date: higher UID first
  CHECK(hits[1].uid == 2);
  CHECK(hits[2].date == 200);
  CHECK(hits[3].date == 100);
  refineHits(hits, 100, 300);  // exclusive on both ends
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].date == 200);

  CHECK(pageOf(42, {0, 9}) == std::make_pair<std::size_t, std::size_t>(0, 10));
  CHECK(pageOf(42, {40, 49}) == std::make_pair<std::size_t, std::size_t>(40, 42));
  CHECK(pageOf(42, {50, 59}) == std::make_pair<std::size_t, std::size_t>(42, 42));
  CHECK(pageOf(0, {0, 9}) == std::make_pair<std::size_t, std::size_t>(0, 0));
}

namespace {

namespace se = eas::wbxml::tags::Search;
namespace as = eas::wbxml::tags::AirSync;
namespace asb = eas::wbxml::tags::AirSyncBase;
namespace em = eas::wbxml::tags::Email;

// Builds <Search><Store><Name>Mailbox</Name>{query}{options}</Store></Search>
// and parses its Store.
eas::commands::SearchParse parse(const std::function<void(eas::wbxml::Writer&)>& query,
                                 const std::function<void(eas::wbxml::Writer&)>& options = {}) {
  std::string wb;
  {
    eas::wbxml::Writer w(&wb);
    w.start(se::Search).start(se::Store).element(se::Name, "Mailbox");
    w.start(se::Query);
    query(w);
    w.end();
    if (options) {
      w.start(se::Options);
      options(w);
      w.end();
    }
    w.end().end();
    w.flush();
  }
  auto doc = eas::wbxml::decode(wb);
  REQUIRE(doc.ok());
  return eas::commands::parseMailboxSearch(*doc->root().child(se::Store));
}

}  // namespace

TEST_CASE("Search request parsing", "[search]") {
  using W = eas::wbxml::Writer;
  auto good = parse(
      [](W& w) {
        w.start(se::And).element(as::Class, "Email").element(as::CollectionId, "5");
        w.element(as::CollectionId, "6").element(se::FreeText, "invoice");
        w.start(se::GreaterThan).empty(em::DateReceived).element(se::Value, "2026-01-01T00:00:00.000Z").end();
        w.start(se::LessThan).empty(em::DateReceived).element(se::Value, "2026-02-01T00:00:00.000Z").end();
        w.end();
      },
      [](W& w) {
        w.element(se::Range, "10-19").empty(se::DeepTraversal).empty(se::RebuildResults);
        w.start(asb::BodyPreference).element(asb::Type, 2).element(asb::TruncationSize, 512).end();
        w.element(as::MIMESupport, 1);
      });
  REQUIRE(good.store_status == 1);
  CHECK(good.search.collection_ids == std::vector<std::string>{"5", "6"});
  CHECK(good.search.free_text == "invoice");
  CHECK(good.search.greater_than == parseEasDateTime("2026-01-01T00:00:00.000Z"));
  CHECK(good.search.less_than == parseEasDateTime("2026-02-01T00:00:00.000Z"));
  CHECK(good.search.range == std::make_pair(10u, 19u));
  CHECK(good.search.deep_traversal);
  CHECK(good.search.rebuild_results);
  REQUIRE(good.search.body.preferences.size() == 1);
  CHECK(good.search.body.preferences[0].type == 2);
  CHECK(good.search.body.preferences[0].truncation_size == 512u);
  CHECK(good.search.body.mime_support == 1);

  auto defaults = parse([](W& w) { w.start(se::And).element(se::FreeText, "x").end(); });
  REQUIRE(defaults.store_status == 1);
  CHECK(defaults.search.range == std::make_pair(0u, 99u));
  CHECK_FALSE(defaults.search.deep_traversal);
  CHECK(defaults.search.collection_ids.empty());

  struct Row {
    const char* what;
    std::function<void(W&)> query;
    std::function<void(W&)> options;
    int status;
  };
  auto andWith = [](std::function<void(W&)> inner) {
    return [inner](W& w) {
      w.start(se::And);
      inner(w);
      w.end();
    };
  };
  const std::vector<Row> rows = {
      {"FreeText outside And", [](W& w) { w.element(se::FreeText, "x"); }, {}, 8},
      {"Class outside And", [](W& w) { w.element(as::Class, "Email"); }, {}, 8},
      {"CollectionId outside And", [](W& w) { w.element(as::CollectionId, "5"); }, {}, 8},
      {"Or", [](W& w) { w.start(se::Or).element(se::FreeText, "x").end(); }, {}, 8},
      {"two And", [](W& w) { w.start(se::And).end().start(se::And).end(); }, {}, 8},
      {"nested And", andWith([](W& w) { w.start(se::And).end(); }), {}, 8},
      {"EqualTo", andWith([](W& w) { w.start(se::EqualTo).end(); }), {}, 8},
      {"two FreeText", andWith([](W& w) { w.element(se::FreeText, "a").element(se::FreeText, "b"); }),
       {}, 8},
      {"comparison on another property",
       andWith([](W& w) {
         w.start(se::GreaterThan).empty(em::Subject).element(se::Value, "2026-01-01T00:00:00Z").end();
       }),
       {}, 8},
      {"bad dateTime",
       andWith([](W& w) {
         w.start(se::GreaterThan).empty(em::DateReceived).element(se::Value, "yesterday").end();
       }),
       {}, 2},
      {"comparison without Value",
       andWith([](W& w) { w.start(se::LessThan).empty(em::DateReceived).end(); }), {}, 2},
      {"empty Query", [](W&) {}, {}, 2},
      {"bad Range", andWith([](W&) {}), [](W& w) { w.element(se::Range, "9-0"); }, 2},
      {"BodyPreference without Type", andWith([](W&) {}),
       [](W& w) { w.start(asb::BodyPreference).element(asb::TruncationSize, 5).end(); }, 2},
      {"BodyPreference out of order", andWith([](W&) {}),
       [](W& w) {
         w.start(asb::BodyPreference).element(asb::TruncationSize, 5).element(asb::Type, 1).end();
       },
       2},
      {"two BodyPreference of one Type", andWith([](W&) {}),
       [](W& w) {
         w.start(asb::BodyPreference).element(asb::Type, 1).end();
         w.start(asb::BodyPreference).element(asb::Type, 1).end();
       },
       2},
      {"MIMESupport 3", andWith([](W&) {}), [](W& w) { w.element(as::MIMESupport, 3); }, 2},
  };
  for (const Row& r : rows) {
    INFO(r.what);
    CHECK(parse(r.query, r.options).store_status == r.status);
  }
}
