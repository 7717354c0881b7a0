// FolderCreate, FolderUpdate (rename, move), FolderDelete end to end:
// device -> nginx -> eas-fcgi -> Dovecot. Each change must be visible over
// IMAP, carry the new FolderSync key, and not come back (echo) in the next
// FolderSync; a reset (key 0) lists the folders with the ServerIds the
// commands used. Default folders are refused; folder_mode=default refuses
// creates.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "storage/metadata_store.h"
#include "test/integration/mail/folderops_stack.h"

using folderops_test::FolderEntry;
using folderops_test::Reply;
using folderops_test::Stack;
namespace fh = eas::wbxml::tags::FolderHierarchy;

namespace {

// The entries of a FolderSync that are this test's own folders: their names
// end with its tag, or they carry one of its ServerIds (a Delete has no name). Other tests run
// beside it on the same IMAP user and create folders of their own, which a
// FolderSync rightly reports; only an echo of ours is a failure.
std::vector<FolderEntry> ours(const std::vector<FolderEntry>& entries, const std::string& tag,
                              const std::vector<std::string>& ids = {}) {
  std::vector<FolderEntry> out;
  for (const FolderEntry& e : entries)
    if ((e.display_name.size() >= tag.size() &&
         e.display_name.compare(e.display_name.size() - tag.size(), tag.size(), tag) == 0) ||
        std::find(ids.begin(), ids.end(), e.server_id) != ids.end())
      out.push_back(e);
  return out;
}

}  // namespace

TEST_CASE("create, rename, move, delete: visible over IMAP, no echo", "[integration][folderops]") {
  for (const char* version : {"14.1", "12.1"}) {
    Stack s("127.0.5.11");
    s.version = version;
    INFO(version);
    const std::string dev = std::string("FOPS") + (version[1] == '4' ? "A" : "B") + s.tag;
    const char d = s.delimiter();
    std::string key = "0";
    auto all = s.folderSync(key, dev);
    REQUIRE(key == "1");

    const std::string top = "FoTop" + s.tag, child = "FoChild" + s.tag, other = "FoOther" + s.tag;
    Reply c1 = s.folderCreate(dev, key, "0", top);
    REQUIRE(c1.status(fh::Status) == 1);
    CHECK(c1.root().childText(fh::SyncKey) == "2");
    const std::string top_id(c1.root().childText(fh::ServerId));
    REQUIRE_FALSE(top_id.empty());
    CHECK(s.imapHas(top));
    key = "2";
    Reply c2 = s.folderCreate(dev, key, top_id, child);
    REQUIRE(c2.status(fh::Status) == 1);
    const std::string child_id(c2.root().childText(fh::ServerId));
    key = std::string(c2.root().childText(fh::SyncKey));
    CHECK(key == "3");
    CHECK(s.imapHas(top + d + child));
    Reply c3 = s.folderCreate(dev, key, "0", other);
    REQUIRE(c3.status(fh::Status) == 1);
    const std::string other_id(c3.root().childText(fh::ServerId));
    key = std::string(c3.root().childText(fh::SyncKey));

    // No echo: the device's own creates are not reported again.
    std::string k = key;
    CHECK(ours(s.folderSync(k, dev), s.tag, {top_id, child_id, other_id}).empty());
    key = k;

    // Rename the parent: the child follows on the server.
    const std::string renamed = "FoRenamed" + s.tag;
    Reply u1 = s.folderUpdate(dev, key, top_id, "0", renamed);
    REQUIRE(u1.status(fh::Status) == 1);
    key = std::string(u1.root().childText(fh::SyncKey));
    CHECK(s.imapHas(renamed));
    CHECK(s.imapHas(renamed + d + child));
    CHECK_FALSE(s.imapHas(top));
    k = key;
    CHECK(ours(s.folderSync(k, dev), s.tag, {top_id, child_id, other_id}).empty());
    key = k;

    // Move the child under the other folder.
    Reply u2 = s.folderUpdate(dev, key, child_id, other_id, child);
    REQUIRE(u2.status(fh::Status) == 1);
    key = std::string(u2.root().childText(fh::SyncKey));
    CHECK(s.imapHas(other + d + child));
    CHECK_FALSE(s.imapHas(renamed + d + child));
    k = key;
    CHECK(ours(s.folderSync(k, dev), s.tag, {top_id, child_id, other_id}).empty());
    key = k;

    // A reset lists everything with the ids the commands gave.
    std::string zero = "0";
    auto reset = s.folderSync(zero, dev);
    REQUIRE(Stack::named(reset, renamed) != nullptr);
    CHECK(Stack::named(reset, renamed)->server_id == top_id);
    REQUIRE(Stack::named(reset, child) != nullptr);
    CHECK(Stack::named(reset, child)->server_id == child_id);
    CHECK(Stack::named(reset, child)->parent_id == other_id);
    CHECK(Stack::named(reset, child)->type == 12);
    key = zero;

    // Delete the other folder with its child, then the renamed one.
    Reply del = s.folderDelete(dev, key, other_id);
    REQUIRE(del.status(fh::Status) == 1);
    key = std::string(del.root().childText(fh::SyncKey));
    CHECK_FALSE(s.imapHas(other));
    CHECK_FALSE(s.imapHas(other + d + child));
    k = key;
    CHECK(ours(s.folderSync(k, dev), s.tag, {top_id, child_id, other_id}).empty());
    key = k;
    Reply del2 = s.folderDelete(dev, key, top_id);
    REQUIRE(del2.status(fh::Status) == 1);
    key = std::string(del2.root().childText(fh::SyncKey));
    CHECK_FALSE(s.imapHas(renamed));
    zero = "0";
    auto after = s.folderSync(zero, dev);
    CHECK(Stack::named(after, renamed) == nullptr);
    CHECK(Stack::named(after, child) == nullptr);
  }
}

TEST_CASE("a lost FolderCreate reply: the old key's FolderSync carries the folder",
          "[integration][folderops]") {
  Stack s("127.0.5.12");
  const std::string dev = "FOPL" + s.tag;
  std::string key = "0";
  s.folderSync(key, dev);
  const std::string name = "FoLost" + s.tag;
  Reply c = s.folderCreate(dev, key, "0", name);
  REQUIRE(c.status(fh::Status) == 1);
  const std::string id(c.root().childText(fh::ServerId));
  std::string old = key;  // the device never saw the reply
  auto changes = s.folderSync(old, dev);
  CHECK(old == std::string(c.root().childText(fh::SyncKey)));
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].kind == "Add");
  CHECK(changes[0].server_id == id);
  CHECK(changes[0].display_name == name);
  CHECK(s.folderDelete(dev, old, id).status(fh::Status) == 1);
}

TEST_CASE("default folders are refused; error statuses", "[integration][folderops]") {
  Stack s("127.0.5.13");
  const std::string dev = "FOPE" + s.tag;
  std::string key = "0";
  auto all = s.folderSync(key, dev);
  const FolderEntry* inbox = Stack::ofType(all, 2);
  REQUIRE(inbox != nullptr);
  const std::string name = "FoErr" + s.tag;
  Reply c = s.folderCreate(dev, key, "0", name);
  REQUIRE(c.status(fh::Status) == 1);
  const std::string id(c.root().childText(fh::ServerId));
  key = std::string(c.root().childText(fh::SyncKey));

  struct Row {
    const char* what;
    std::function<Reply()> send;
    int status;
  };
  const std::vector<Row> rows = {
      {"delete Inbox", [&] { return s.folderDelete(dev, key, inbox->server_id); }, 3},
      {"rename Inbox", [&] { return s.folderUpdate(dev, key, inbox->server_id, "0", "Post"); }, 2},
      {"create an existing name", [&] { return s.folderCreate(dev, key, "0", name); }, 2},
      {"create under an unknown parent", [&] { return s.folderCreate(dev, key, "98765", "X"); }, 5},
      {"create a default type", [&] { return s.folderCreate(dev, key, "0", "X" + s.tag, 2); }, 10},
      {"create with a stale key", [&] { return s.folderCreate(dev, "1", "0", "X" + s.tag); }, 9},
      {"create with an unknown key", [&] { return s.folderCreate(dev, "777", "0", "X" + s.tag); }, 9},
      {"delete an unknown folder", [&] { return s.folderDelete(dev, key, "98765"); }, 4},
      {"update an unknown folder", [&] { return s.folderUpdate(dev, key, "98765", "0", "X"); }, 4},
      {"update under an unknown parent", [&] { return s.folderUpdate(dev, key, id, "98765", "X"); }, 5},
      {"update onto an existing name",
       [&] { return s.folderUpdate(dev, key, id, "0", inbox->display_name); }, 2},
      {"no SyncKey",
       [&] {
         return s.post("FolderDelete", dev, [&](eas::wbxml::Writer& w) {
           w.start(fh::FolderDelete).element(fh::ServerId, id).end();
         });
       },
       10},
  };
  for (const Row& r : rows) {
    INFO(r.what);
    Reply rep = r.send();
    REQUIRE(rep.http == 200);
    CHECK(rep.status(fh::Status) == r.status);
    CHECK_FALSE(rep.root().hasChild(fh::SyncKey));
  }
  CHECK(s.imapHas("INBOX"));
  CHECK(s.imapHas(name));
  // The refusals moved nothing: the key still works.
  CHECK(s.folderDelete(dev, key, id).status(fh::Status) == 1);
  CHECK_FALSE(s.imapHas(name));
}

TEST_CASE("a device syncing default folders only cannot create mail folders",
          "[integration][folderops]") {
  Stack s("127.0.5.14");
  const std::string dev = "FOPD" + s.tag;
  std::string key = "0";
  s.folderSync(key, dev);  // the device record exists from here
  {
    auto store = eas::storage::openMetadataStore(std::string("sqlite:") + EAS_BINARY_DIR +
                                                 "/run/eas_stack/eas-fcgi/eas.db");
    REQUIRE(store.ok());
    REQUIRE((*store)->setDeviceSetting({s.user, dev}, "folder_mode", "default").ok());
  }
  std::string zero = "0";
  auto defaults = s.folderSync(zero, dev);
  for (const FolderEntry& e : defaults) CHECK(e.type != 12);
  const std::string name = "FoDefault" + s.tag;
  Reply c = s.folderCreate(dev, zero, "0", name);
  CHECK(c.status(fh::Status) == 3);
  CHECK_FALSE(s.imapHas(name));
}

TEST_CASE("a non-ASCII folder name: modified UTF-7 on the server, no echo",
          "[integration][folderops]") {
  Stack s("127.0.5.15");
  const std::string dev = "FOPU" + s.tag;
  std::string key = "0";
  s.folderSync(key, dev);
  const std::string name = "Entw\xC3\xBCrfe & \xE6\x97\xA5\xE6\x9C\xAC" + s.tag;
  Reply c = s.folderCreate(dev, key, "0", name);
  REQUIRE(c.status(fh::Status) == 1);
  const std::string id(c.root().childText(fh::ServerId));
  key = std::string(c.root().childText(fh::SyncKey));
  CHECK(s.imapHas("Entw&APw-rfe &- &ZeVnLA-" + s.tag));
  std::string k = key;
  CHECK(ours(s.folderSync(k, dev), s.tag, {id}).empty());
  key = k;
  std::string zero = "0";
  auto all = s.folderSync(zero, dev);
  REQUIRE(Stack::named(all, name) != nullptr);
  CHECK(Stack::named(all, name)->server_id == id);
  CHECK(s.folderDelete(dev, zero, id).status(fh::Status) == 1);
  CHECK_FALSE(s.imapHas("Entw&APw-rfe &- &ZeVnLA-" + s.tag));
}
