// planHierarchy: types from roles, parents, stable ids, renames, modes.
#include "core/sync/folder_hierarchy.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using eas::backend::FolderInfo;
using eas::backend::FolderRole;
using eas::storage::Folder;
using eas::storage::FolderChange;
using namespace eas::sync;

namespace {

FolderInfo box(const std::string& name, FolderRole role = FolderRole::kNone,
               bool selectable = true) {
  FolderInfo f;
  f.name = name;
  f.delimiter = '/';
  std::size_t pos = name.rfind('/');
  f.displayName = pos == std::string::npos ? name : name.substr(pos + 1);
  f.role = role;
  f.selectable = selectable;
  return f;
}

struct Minter {
  int next = 100;
  std::string operator()() { return std::to_string(next++); }
};

const Folder* byName(const HierarchyPlan& p, const std::string& backend_id) {
  for (const Folder& f : p.folders)
    if (f.backend_id == backend_id) return &f;
  return nullptr;
}

int count(const HierarchyPlan& p, FolderChange::Kind kind) {
  int n = 0;
  for (const auto& c : p.device_changes) n += c.kind == kind;
  return n;
}

std::vector<FolderInfo> corpus() {
  return {box("INBOX", FolderRole::kInbox), box("Drafts", FolderRole::kDrafts),
          box("Sent", FolderRole::kSent),   box("Trash", FolderRole::kTrash),
          box("Junk", FolderRole::kJunk),   box("Work"),
          box("Work/Projects"),             box("Work/Projects/2026")};
}

}  // namespace

TEST_CASE("first hierarchy: types from roles, parents by server id, all adds", "[sync][folders]") {
  Minter m;
  HierarchyPlan p = planHierarchy(corpus(), {}, FolderMode::kAll, std::ref(m));
  REQUIRE(p.folders.size() == 8);
  CHECK(p.new_ids == 8);
  CHECK(count(p, FolderChange::Kind::kAdd) == 8);
  CHECK(byName(p, "INBOX")->type == kTypeInbox);
  CHECK(byName(p, "Drafts")->type == kTypeDrafts);
  CHECK(byName(p, "Sent")->type == kTypeSent);
  CHECK(byName(p, "Trash")->type == kTypeDeleted);
  CHECK(byName(p, "Junk")->type == kTypeUserMail);
  CHECK(byName(p, "INBOX")->parent_id == "0");
  CHECK(byName(p, "Work/Projects")->parent_id == byName(p, "Work")->server_id);
  CHECK(byName(p, "Work/Projects/2026")->parent_id == byName(p, "Work/Projects")->server_id);
  CHECK(byName(p, "Work/Projects/2026")->display_name == "2026");
  // Parents come before their children in both lists.
  std::size_t work = 0, projects = 0;
  for (std::size_t i = 0; i < p.device_changes.size(); ++i) {
    if (p.device_changes[i].folder.backend_id == "Work") work = i;
    if (p.device_changes[i].folder.backend_id == "Work/Projects") projects = i;
  }
  CHECK(work < projects);
}

TEST_CASE("each default type once, Outbox only when such a folder exists", "[sync][folders]") {
  Minter m;
  std::vector<FolderInfo> b = {box("INBOX", FolderRole::kInbox), box("Sent", FolderRole::kSent),
                               box("Sent Messages", FolderRole::kSent)};
  HierarchyPlan p = planHierarchy(b, {}, FolderMode::kAll, std::ref(m));
  CHECK(byName(p, "Sent")->type == kTypeSent);
  CHECK(byName(p, "Sent Messages")->type == kTypeUserMail);
  for (const Folder& f : p.folders) CHECK(f.type != kTypeOutbox);
  b.push_back(box("Outbox"));
  p = planHierarchy(b, {}, FolderMode::kAll, std::ref(m));
  CHECK(byName(p, "Outbox")->type == kTypeOutbox);
}

TEST_CASE("unchanged hierarchy: no change, ids kept", "[sync][folders]") {
  Minter m;
  HierarchyPlan first = planHierarchy(corpus(), {}, FolderMode::kAll, std::ref(m));
  HierarchyPlan again = planHierarchy(corpus(), first.folders, FolderMode::kAll, std::ref(m));
  CHECK(again.changes.empty());
  CHECK(again.new_ids == 0);
  CHECK(again.folders.size() == first.folders.size());
  for (const Folder& f : first.folders) CHECK(byName(again, f.backend_id)->server_id == f.server_id);
}

TEST_CASE("a created folder is an Add, a deleted one a Delete", "[sync][folders]") {
  Minter m;
  HierarchyPlan first = planHierarchy(corpus(), {}, FolderMode::kAll, std::ref(m));
  auto b = corpus();
  b.push_back(box("Work/New"));
  b.erase(b.begin() + 4);  // Junk
  HierarchyPlan p = planHierarchy(b, first.folders, FolderMode::kAll, std::ref(m));
  REQUIRE(p.device_changes.size() == 2);
  CHECK(p.device_changes[0].kind == FolderChange::Kind::kAdd);
  CHECK(p.device_changes[0].folder.backend_id == "Work/New");
  CHECK(p.device_changes[0].folder.parent_id == byName(first, "Work")->server_id);
  CHECK(p.device_changes[1].kind == FolderChange::Kind::kDelete);
  CHECK(p.device_changes[1].folder.server_id == byName(first, "Junk")->server_id);
}

TEST_CASE("a renamed folder keeps its id (Update), children follow silently", "[sync][folders]") {
  Minter m;
  HierarchyPlan first = planHierarchy(corpus(), {}, FolderMode::kAll, std::ref(m));
  std::vector<FolderInfo> b = {box("INBOX", FolderRole::kInbox), box("Drafts", FolderRole::kDrafts),
                               box("Sent", FolderRole::kSent),   box("Trash", FolderRole::kTrash),
                               box("Junk", FolderRole::kJunk),   box("Job"),
                               box("Job/Projects"),              box("Job/Projects/2026")};
  HierarchyPlan p = planHierarchy(b, first.folders, FolderMode::kAll, std::ref(m));
  CHECK(p.new_ids == 0);
  REQUIRE(p.device_changes.size() == 1);
  CHECK(p.device_changes[0].kind == FolderChange::Kind::kUpdate);
  CHECK(p.device_changes[0].folder.server_id == byName(first, "Work")->server_id);
  CHECK(p.device_changes[0].folder.display_name == "Job");
  CHECK(p.changes.size() == 3);  // the children's IMAP names are updated in the store
  CHECK(byName(p, "Job/Projects/2026")->server_id == byName(first, "Work/Projects/2026")->server_id);
}

TEST_CASE("a folder moved to another parent keeps its id", "[sync][folders]") {
  Minter m;
  HierarchyPlan first = planHierarchy(corpus(), {}, FolderMode::kAll, std::ref(m));
  auto b = corpus();
  b[7] = box("Work/2026");  // Work/Projects/2026 -> Work/2026
  HierarchyPlan p = planHierarchy(b, first.folders, FolderMode::kAll, std::ref(m));
  REQUIRE(p.device_changes.size() == 1);
  CHECK(p.device_changes[0].kind == FolderChange::Kind::kUpdate);
  CHECK(p.device_changes[0].folder.server_id == byName(first, "Work/Projects/2026")->server_id);
  CHECK(p.device_changes[0].folder.parent_id == byName(first, "Work")->server_id);
}

TEST_CASE("a \\Noselect parent is skipped, its child hangs from the top", "[sync][folders]") {
  Minter m;
  std::vector<FolderInfo> b = {box("INBOX", FolderRole::kInbox), box("Lists", FolderRole::kNone, false),
                               box("Lists/dev")};
  HierarchyPlan p = planHierarchy(b, {}, FolderMode::kAll, std::ref(m));
  CHECK(byName(p, "Lists") == nullptr);
  REQUIRE(byName(p, "Lists/dev") != nullptr);
  CHECK(byName(p, "Lists/dev")->parent_id == "0");
}

TEST_CASE("default folders only: types 2..6 at the top, user folders deleted", "[sync][folders]") {
  Minter m;
  HierarchyPlan all = planHierarchy(corpus(), {}, FolderMode::kAll, std::ref(m));
  HierarchyPlan def = planHierarchy(corpus(), all.folders, FolderMode::kDefaultOnly, std::ref(m));
  CHECK(def.folders.size() == 4);
  for (const Folder& f : def.folders) {
    CHECK(f.type >= 2);
    CHECK(f.type <= 6);
    CHECK(f.parent_id == "0");
  }
  CHECK(count(def, FolderChange::Kind::kDelete) == 4);
  CHECK(folderModeFrom("default") == FolderMode::kDefaultOnly);
  CHECK(folderModeFrom("all") == FolderMode::kAll);
  CHECK(folderModeFrom("") == FolderMode::kAll);
}
