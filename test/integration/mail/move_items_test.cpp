// MoveItems end to end: device -> nginx -> eas-fcgi -> Dovecot. A move
// made by the device is visible over IMAP, under the DstMsgId it was told;
// every per-item status the server can produce is exercised.
#include <catch2/catch.hpp>

#include "test/integration/mail/folderops_stack.h"

using folderops_test::FolderEntry;
using folderops_test::Reply;
using folderops_test::Stack;
namespace fh = eas::wbxml::tags::FolderHierarchy;
namespace mv = eas::wbxml::tags::Move;

namespace {

struct Moved {
  std::string src, dst;
  int status = -1;
};

struct Move {
  std::string msg, src, dst;
  int dst_count = 1;
};

std::vector<Moved> moveItems(Stack& s, const std::string& dev, const std::vector<Move>& moves,
                             int* http = nullptr) {
  Reply r = s.post("MoveItems", dev, [&](eas::wbxml::Writer& w) {
    w.start(mv::MoveItems);
    for (const Move& m : moves) {
      w.start(mv::Move).element(mv::SrcMsgId, m.msg).element(mv::SrcFldId, m.src);
      for (int i = 0; i < m.dst_count; ++i) w.element(mv::DstFldId, m.dst);
      w.end();
    }
    w.end();
  });
  if (http) *http = r.http;
  std::vector<Moved> out;
  if (r.http != 200) return out;
  for (const eas::wbxml::Element& e : r.root().children()) {
    if (e.tag() != mv::Response) continue;
    Moved m;
    m.src = std::string(e.childText(mv::SrcMsgId));
    m.dst = std::string(e.childText(mv::DstMsgId));
    m.status = std::atoi(std::string(e.childText(mv::Status, "-1")).c_str());
    out.push_back(m);
  }
  return out;
}

// The UIDs in an IMAP folder with this subject.
std::vector<std::uint32_t> uidsWithSubject(Stack& s, const std::string& folder,
                                           const std::string& subject) {
  eas::backend::SearchCriteria c;
  c.subject = subject;
  auto r = s.imap()->searchMessages(folder, c);
  REQUIRE(r.ok());
  return *r;
}

}  // namespace

TEST_CASE("a move made by the device is visible over IMAP", "[integration][moveitems]") {
  Stack s("127.0.5.21");
  const std::string dev = "MOVA" + s.tag;
  const std::string dst_name = "MvDest" + s.tag;
  REQUIRE(s.imap()->createFolder(dst_name).ok());
  const std::string subject = "moveme" + s.tag;
  const std::uint32_t uid = s.append("INBOX", subject, "to be moved");
  const std::uint32_t stay = s.append("INBOX", "stay" + s.tag, "stays");

  std::string key = "0";
  auto all = s.folderSync(key, dev);
  const FolderEntry* inbox = Stack::ofType(all, 2);
  const FolderEntry* dst = Stack::named(all, dst_name);
  REQUIRE(inbox != nullptr);
  REQUIRE(dst != nullptr);
  const std::string src_msg = inbox->server_id + ":" + std::to_string(uid);

  auto res = moveItems(s, dev, {{src_msg, inbox->server_id, dst->server_id}});
  REQUIRE(res.size() == 1);
  CHECK(res[0].status == 3);
  CHECK(res[0].src == src_msg);
  const std::string prefix = dst->server_id + ":";
  REQUIRE(res[0].dst.rfind(prefix, 0) == 0);
  const std::uint32_t new_uid =
      static_cast<std::uint32_t>(std::stoul(res[0].dst.substr(prefix.size())));

  // Over IMAP: gone from INBOX, in the destination under the UID we were told.
  CHECK(uidsWithSubject(s, "INBOX", subject).empty());
  CHECK(uidsWithSubject(s, dst_name, subject) == std::vector<std::uint32_t>{new_uid});
  CHECK(uidsWithSubject(s, "INBOX", "stay" + s.tag) == std::vector<std::uint32_t>{stay});

  // Moving it again from the old place: it is not there any more.
  auto again = moveItems(s, dev, {{src_msg, inbox->server_id, dst->server_id}});
  REQUIRE(again.size() == 1);
  CHECK(again[0].status == 1);
  CHECK(again[0].dst.empty());

  // And back, by its new id.
  auto back = moveItems(s, dev, {{res[0].dst, dst->server_id, inbox->server_id}});
  REQUIRE(back.size() == 1);
  CHECK(back[0].status == 3);
  CHECK(uidsWithSubject(s, dst_name, subject).empty());
  CHECK(uidsWithSubject(s, "INBOX", subject).size() == 1);
  CHECK(s.imap()->deleteFolder(dst_name).ok());
}

TEST_CASE("MoveItems per-item statuses", "[integration][moveitems]") {
  Stack s("127.0.5.22");
  const std::string dev = "MOVS" + s.tag;
  const std::string dst_name = "MvErr" + s.tag;
  REQUIRE(s.imap()->createFolder(dst_name).ok());
  const std::uint32_t uid = s.append("INBOX", "status" + s.tag, "x");
  std::string key = "0";
  auto all = s.folderSync(key, dev);
  const FolderEntry* inbox = Stack::ofType(all, 2);
  const FolderEntry* dst = Stack::named(all, dst_name);
  REQUIRE(inbox != nullptr);
  REQUIRE(dst != nullptr);
  const std::string in = inbox->server_id, out = dst->server_id;
  const std::string msg = in + ":" + std::to_string(uid);

  auto res = moveItems(s, dev,
                       {
                           {in + ":4000000000", in, out},  // 1: no such message
                           {msg, "98765", out},            // 1: unknown source folder
                           {msg, in, "98765"},             // 2: unknown destination
                           {msg, in, in},                  // 4: same folder
                           {msg, in, out, 2},              // 5: two destinations
                           {"junk", in, out},              // 1: not an id of that folder
                       });
  REQUIRE(res.size() == 6);
  const int expected[] = {1, 1, 2, 4, 5, 1};
  for (std::size_t i = 0; i < res.size(); ++i) {
    INFO(i);
    CHECK(res[i].status == expected[i]);
  }
  // Nothing moved.
  CHECK(uidsWithSubject(s, "INBOX", "status" + s.tag) == std::vector<std::uint32_t>{uid});

  // Another user's device: the same ids name nothing of theirs here.
  Stack other("127.0.5.23");
  other.user = other.env.testUser(2);
  other.pass = other.env.testPassword(2);
  auto foreign = moveItems(other, dev, {{msg, in, out}});
  REQUIRE(foreign.size() == 1);
  CHECK(foreign[0].status == 1);
  CHECK(uidsWithSubject(s, "INBOX", "status" + s.tag) == std::vector<std::uint32_t>{uid});

  // A folder deleted on the server since the FolderSync: invalid destination.
  REQUIRE(s.imap()->deleteFolder(dst_name).ok());
  auto gone = moveItems(s, dev, {{msg, in, out}});
  REQUIRE(gone.size() == 1);
  CHECK(gone[0].status == 2);

  // No Move at all: a protocol error (common Status 103 on 14.1, 400 on 12.1).
  int http = 0;
  Reply empty = s.post("MoveItems", dev, [](eas::wbxml::Writer& w) { w.start(mv::MoveItems).end(); });
  REQUIRE(empty.http == 200);
  CHECK(empty.status(mv::Status) == 103);
  s.version = "12.1";
  moveItems(s, dev, {}, &http);
  CHECK(http == 400);
}

namespace {

namespace as = eas::wbxml::tags::AirSync;

struct SyncAnswer {
  int status = -1;
  std::string key;
  std::vector<std::string> adds, deletes, changes;
};

SyncAnswer sync(Stack& s, const std::string& dev, const std::string& key, const std::string& id) {
  Reply r = s.post("Sync", dev, [&](eas::wbxml::Writer& w) {
    w.start(as::Sync).start(as::Collections).start(as::Collection);
    w.element(as::SyncKey, key).element(as::CollectionId, id);
    w.end().end().end();
  });
  REQUIRE(r.http == 200);
  SyncAnswer a;
  if (!r.doc) {  // an empty 200: nothing changed, the key stays
    a.status = 1;
    a.key = key;
    return a;
  }
  const eas::wbxml::Element* cols = r.root().child(as::Collections);
  REQUIRE(cols != nullptr);
  const eas::wbxml::Element* c = cols->child(as::Collection);
  REQUIRE(c != nullptr);
  a.status = std::atoi(std::string(c->childText(as::Status, "-1")).c_str());
  a.key = std::string(c->childText(as::SyncKey));
  if (const eas::wbxml::Element* cmds = c->child(as::Commands)) {
    for (const eas::wbxml::Element& e : cmds->children()) {
      std::string sid(e.childText(as::ServerId));
      if (e.tag() == as::Add) a.adds.push_back(sid);
      else if (e.tag() == as::Delete || e.tag() == as::SoftDelete) a.deletes.push_back(sid);
      else if (e.tag() == as::Change) a.changes.push_back(sid);
    }
  }
  return a;
}

}  // namespace

TEST_CASE("a moved item is not sent back as a duplicate by Sync", "[integration][moveitems]") {
  Stack s("127.0.5.24");
  const std::string dev = "MOVY" + s.tag;
  const std::string src_name = "MvSyncSrc" + s.tag, dst_name = "MvSyncDst" + s.tag;
  REQUIRE(s.imap()->createFolder(src_name).ok());
  REQUIRE(s.imap()->createFolder(dst_name).ok());
  const std::uint32_t uid = s.append(src_name, "synced" + s.tag, "moved after a Sync");
  std::string key = "0";
  auto all = s.folderSync(key, dev);
  const FolderEntry* src = Stack::named(all, src_name);
  const FolderEntry* dst = Stack::named(all, dst_name);
  REQUIRE(src != nullptr);
  REQUIRE(dst != nullptr);
  const std::string src_msg = src->server_id + ":" + std::to_string(uid);

  // The device holds the message in the source; the destination is empty.
  SyncAnswer s0 = sync(s, dev, "0", src->server_id);
  REQUIRE(s0.status == 1);
  SyncAnswer s1 = sync(s, dev, s0.key, src->server_id);
  REQUIRE(s1.status == 1);
  CHECK(s1.adds == std::vector<std::string>{src_msg});
  SyncAnswer d0 = sync(s, dev, "0", dst->server_id);
  REQUIRE(d0.status == 1);
  SyncAnswer d1 = sync(s, dev, d0.key, dst->server_id);
  REQUIRE(d1.status == 1);
  CHECK(d1.adds.empty());

  auto moved = moveItems(s, dev, {{src_msg, src->server_id, dst->server_id}});
  REQUIRE(moved.size() == 1);
  REQUIRE(moved[0].status == 3);

  // Source: at most a Delete of the id the device already dropped, never an Add.
  SyncAnswer s2 = sync(s, dev, s1.key, src->server_id);
  CHECK(s2.status == 1);
  CHECK(s2.adds.empty());
  for (const std::string& d : s2.deletes) CHECK(d == src_msg);
  // Destination: the message once, under the DstMsgId MoveItems returned.
  SyncAnswer d2 = sync(s, dev, d1.key, dst->server_id);
  CHECK(d2.status == 1);
  CHECK(d2.adds == std::vector<std::string>{moved[0].dst});
  SyncAnswer d3 = sync(s, dev, d2.key, dst->server_id);
  CHECK(d3.adds.empty());
  CHECK(s.imap()->deleteFolder(src_name).ok());
  CHECK(s.imap()->deleteFolder(dst_name).ok());
}
