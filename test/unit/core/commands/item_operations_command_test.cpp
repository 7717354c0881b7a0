// ItemOperations and GetAttachment through the commands, with the scripted
// mail backend and a real SQLite store (itemops_fake.h): Fetch of an item,
// of an attachment with and without Range, multipart, every per-operation
// status, another user's ids refused, GetAttachment's bytes and refusals.
#include "core/commands/item_operations_command.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "core/commands/get_attachment_command.h"
#include "core/commands/itemops_util.h"
#include "core/protocol/query.h"
#include "core/status_map.h"
#include "test/unit/core/commands/itemops_fake.h"

using namespace eas;
using eas::testing::ItemOpsEnv;

namespace {

namespace io = wbxml::tags::ItemOperations;
namespace as = wbxml::tags::AirSync;
namespace asb = wbxml::tags::AirSyncBase;
namespace em = wbxml::tags::Email;

const storage::DeviceRef kAlice{"alice@example.test", "ALICEDEV"};
const storage::DeviceRef kBob{"bob@example.test", "BOBDEV"};

std::string binaryAttachment() {
  std::string s;
  for (int i = 0; i < 1000; ++i) s += static_cast<char>((i * 37 + 11) & 0xFF);
  return s;
}

struct FetchSpec {
  std::string store = "Mailbox";
  std::string collection, server_id, file_reference, range;
  bool body_pref_html = false;
  bool extra_option = false;  // a BodyPreference next to a FileReference
};

FetchSpec att(std::string file_reference, std::string range = {}) {
  FetchSpec f;
  f.file_reference = std::move(file_reference);
  f.range = std::move(range);
  return f;
}
FetchSpec item(std::string collection, std::string server_id) {
  FetchSpec f;
  f.collection = std::move(collection);
  f.server_id = std::move(server_id);
  return f;
}
FetchSpec with(FetchSpec f, void (*change)(FetchSpec&)) {
  change(f);
  return f;
}

std::string itemOperationsBody(const std::vector<FetchSpec>& fetches) {
  std::string wb;
  wbxml::Writer w(&wb);
  w.start(io::ItemOperations);
  for (const FetchSpec& f : fetches) {
    w.start(io::Fetch);
    if (!f.store.empty()) w.element(io::Store, f.store);
    if (!f.file_reference.empty()) w.element(asb::FileReference, f.file_reference);
    if (!f.collection.empty()) w.element(as::CollectionId, f.collection);
    if (!f.server_id.empty()) w.element(as::ServerId, f.server_id);
    if (!f.range.empty() || f.body_pref_html || f.extra_option) {
      w.start(io::Options);
      if (!f.range.empty()) w.element(io::Range, f.range);
      if (f.body_pref_html || f.extra_option)
        w.start(asb::BodyPreference).element(asb::Type, 2).end();
      w.end();
    }
    w.end();
  }
  w.end();
  w.flush();
  return wb;
}

struct FetchResult {
  int status = -1;
  std::string file_reference, server_id, content_type, range, total, data, part, subject;
  std::string body_data, body_part;
  int body_type = 0;
};

struct Reply {
  commands::CommandReply raw;
  int top = -1;
  std::vector<FetchResult> fetches;
  std::vector<std::string_view> parts;  // multipart parts (0 = WBXML)
};

Reply run(ItemOpsEnv& env, const storage::DeviceRef& ref, const std::string& body,
          bool multipart = false) {
  auto doc = wbxml::decode(body);
  REQUIRE(doc.ok());
  protocol::EasQuery query;
  query.device_id = ref.device_id;
  query.device_type = "iPhone";
  commands::CommandRequest req;
  req.capabilities = protocol::capabilitiesFor(protocol::ProtocolVersion::k141);
  req.query = &query;
  req.login = ref.user;
  req.services = &env.services;
  req.document = &*doc;
  req.accept_multipart = multipart;
  testing::FakeCtx ctx(req);
  auto reply = commands::makeItemOperationsCommand()->handle(ctx);
  REQUIRE(reply.has_value());
  Reply r;
  r.raw = std::move(*reply);
  REQUIRE(r.raw.status.ok());
  std::string_view wb = r.raw.body;
  if (multipart) {
    CHECK(r.raw.content_type == "application/vnd.ms-sync.multipart");
    auto parts = commands::parseMultipart(r.raw.body);
    REQUIRE(parts.ok());
    REQUIRE_FALSE(parts->empty());
    r.parts = *parts;
    wb = r.parts[0];
  } else {
    CHECK(r.raw.content_type == "application/vnd.ms-sync.wbxml");
  }
  auto out = wbxml::decode(wb);
  REQUIRE(out.ok());
  REQUIRE(out->root().tag() == io::ItemOperations);
  r.top = std::atoi(std::string(out->root().childText(io::Status, "-1")).c_str());
  if (const wbxml::Element* resp = out->root().child(io::Response)) {
    for (const wbxml::Element& f : resp->children()) {
      FetchResult fr;
      fr.status = std::atoi(std::string(f.childText(io::Status, "-1")).c_str());
      fr.file_reference = std::string(f.childText(asb::FileReference));
      fr.server_id = std::string(f.childText(as::ServerId));
      if (const wbxml::Element* p = f.child(io::Properties)) {
        fr.content_type = std::string(p->childText(asb::ContentType));
        fr.range = std::string(p->childText(io::Range));
        fr.total = std::string(p->childText(io::Total));
        fr.part = std::string(p->childText(io::Part));
        fr.subject = std::string(p->childText(em::Subject));
        if (const wbxml::Element* d = p->child(io::Data)) {
          auto bytes = protocol::base64Decode(d->text());
          REQUIRE(bytes.has_value());
          fr.data = *bytes;
        }
        if (const wbxml::Element* b = p->child(asb::Body)) {
          fr.body_type = std::atoi(std::string(b->childText(asb::Type, "0")).c_str());
          fr.body_data = std::string(b->childText(asb::Data));
          fr.body_part = std::string(b->childText(io::Part));
        }
      }
      r.fetches.push_back(fr);
    }
  }
  return r;
}

// Alice: INBOX (collection 5) with UID 17 carrying the binary attachment,
// "Work" (collection 6) with UID 3. Bob: his own INBOX as collection 5
// (ids are per device) with UID 17, and no collection 6.
struct World {
  ItemOpsEnv env;
  std::string attachment = binaryAttachment();
  World() {
    auto& alice = env.provider.mailboxes[kAlice.user];
    alice.folders["INBOX"][17] = testing::messageWithAttachment("Quarterly", attachment, 1'799'990'000);
    alice.folders["Work"][3] = testing::messageWithAttachment("Work item", "work bytes", 1'799'990'000);
    auto& bob = env.provider.mailboxes[kBob.user];
    bob.folders["INBOX"][17] = testing::messageWithAttachment("Bob's", "bob's own bytes", 1'799'990'000);
    env.mapFolders(kAlice, {{"5", "INBOX"}, {"6", "Work"}});
    env.mapFolders(kBob, {{"5", "INBOX"}});
  }
};

}  // namespace

TEST_CASE("ItemOperations: attachment bytes come back byte-identical", "[itemops]") {
  World w;
  Reply r = run(w.env, kAlice, itemOperationsBody({att("5:17:2")}));
  CHECK(r.top == 1);
  REQUIRE(r.fetches.size() == 1);
  CHECK(r.fetches[0].status == 1);
  CHECK(r.fetches[0].file_reference == "5:17:2");
  CHECK(r.fetches[0].content_type == "application/octet-stream");
  CHECK(r.fetches[0].data == w.attachment);
  CHECK(r.fetches[0].range.empty());
}

TEST_CASE("ItemOperations: Range in the middle, at the end, outside", "[itemops]") {
  World w;
  Reply r = run(w.env, kAlice,
                itemOperationsBody({att("5:17:2", "100-199"),
                                    att("5:17:2", "990-5000"),
                                    att("5:17:2", "1000-1001"),
                                    att("5:17:2", "20-10"),
                                    att("5:17:2", "abc")}));
  CHECK(r.top == 1);
  REQUIRE(r.fetches.size() == 5);
  CHECK(r.fetches[0].status == 1);
  CHECK(r.fetches[0].data == w.attachment.substr(100, 100));
  CHECK(r.fetches[0].range == "100-199");
  CHECK(r.fetches[0].total == "1000");
  CHECK(r.fetches[1].status == 1);
  CHECK(r.fetches[1].data == w.attachment.substr(990));
  CHECK(r.fetches[1].range == "990-999");  // the range actually sent
  CHECK(r.fetches[1].total == "1000");
  for (int i : {2, 3, 4}) {
    INFO(i);
    CHECK(r.fetches[i].status == 8);
    CHECK(r.fetches[i].data.empty());
  }
}

TEST_CASE("ItemOperations: multipart puts the bytes in parts", "[itemops]") {
  World w;
  Reply r = run(w.env, kAlice,
                itemOperationsBody({att("5:17:2"),
                                    att("5:17:2", "500-599"),
                                    att("5:99:2")}),
                /*multipart=*/true);
  CHECK(r.top == 1);
  REQUIRE(r.fetches.size() == 3);
  REQUIRE(r.parts.size() == 3);  // WBXML + two attachments; the failed fetch adds none
  CHECK(r.fetches[0].status == 1);
  CHECK(r.fetches[0].data.empty());  // no inline Data
  CHECK(r.fetches[0].part == "1");
  CHECK(r.parts[1] == w.attachment);
  CHECK(r.fetches[1].part == "2");
  CHECK(r.parts[2] == w.attachment.substr(500, 100));
  CHECK(r.fetches[2].status == 15);
  CHECK(r.fetches[2].part.empty());
}

TEST_CASE("ItemOperations: multipart moves an item's body into a part", "[itemops]") {
  World w;
  Reply r = run(w.env, kAlice,
                itemOperationsBody({att("5:17:2"), item("5", "5:17")}), /*multipart=*/true);
  REQUIRE(r.fetches.size() == 2);
  REQUIRE(r.parts.size() == 3);
  CHECK(r.parts[1] == w.attachment);
  CHECK(r.fetches[1].status == 1);
  CHECK(r.fetches[1].subject == "Quarterly");  // the rest of the item stays inline
  CHECK(r.fetches[1].body_type == 1);
  CHECK(r.fetches[1].body_data.empty());
  CHECK(r.fetches[1].body_part == "2");
  CHECK(std::string(r.parts[2]).find("Hello body") != std::string::npos);
}

TEST_CASE("ItemOperations: Fetch of a whole item with a body preference", "[itemops]") {
  World w;
  Reply r = run(w.env, kAlice,
                itemOperationsBody({item("5", "5:17"),
                                    with(item("5", "5:17"), [](FetchSpec& f) { f.body_pref_html = true; })}));
  CHECK(r.top == 1);
  REQUIRE(r.fetches.size() == 2);
  CHECK(r.fetches[0].status == 1);
  CHECK(r.fetches[0].server_id == "5:17");
  CHECK(r.fetches[0].subject == "Quarterly");
  CHECK(r.fetches[0].body_type == 1);
  CHECK(r.fetches[0].body_data.find("Hello body") != std::string::npos);
  CHECK(r.fetches[1].status == 1);
  CHECK(r.fetches[1].body_type == 2);
}

TEST_CASE("ItemOperations: per-operation statuses", "[itemops]") {
  World w;
  Reply r = run(w.env, kAlice,
                itemOperationsBody({
                    item("5", "5:99"),              // no such UID
                    item("42", "42:17"),            // no such collection
                    item("5", "6:3"),               // ServerId of another folder
                    item("5", "garbage"),           //
                    att("5:17:7"),                          // no such part
                    att("nonsense"),                        //
                    att("~0123456789abcdef:2"),             // hashed form
                    att("42:17:2"),                         // unknown collection
                    with(att("5:17:2"), [](FetchSpec& f) { f.store = "DocumentLibrary"; }),
                    with(att("5:17:2"), [](FetchSpec& f) { f.store.clear(); }),             // no Store
                    with(att("5:17:2"), [](FetchSpec& f) { f.extra_option = true; }),    // only Range allowed
                    with(item("5", "5:17"), [](FetchSpec& f) { f.range = "0-9"; }),  // Range on an item
                    item("5", ""),                                   // no ServerId
                    {},                                                    // nothing named
                }));
  CHECK(r.top == 1);
  const std::vector<int> expected = {6, 6, 6, 6, 15, 15, 15, 15, 9, 2, 2, 2, 2, 2};
  REQUIRE(r.fetches.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("fetch " << i);
    CHECK(r.fetches[i].status == expected[i]);
    CHECK(r.fetches[i].data.empty());
    CHECK(r.fetches[i].subject.empty());
  }
}

TEST_CASE("ItemOperations: another user's ids reach only their own mailbox", "[itemops]") {
  World w;
  // Bob has no collection 6: Alice's "6:3" and "6:3:2" are not found for him.
  Reply r = run(w.env, kBob,
                itemOperationsBody({item("6", "6:3"),
                                    att("6:3:2"),
                                    att("5:17:2")}));
  REQUIRE(r.fetches.size() == 3);
  CHECK(r.fetches[0].status == 6);
  CHECK(r.fetches[1].status == 15);
  // "5:17:2" names Bob's own collection 5: he gets his bytes, never Alice's.
  CHECK(r.fetches[2].status == 1);
  CHECK(r.fetches[2].data == "bob's own bytes");
  CHECK(r.fetches[2].data != w.attachment);
  // A device of Alice's that never ran FolderSync has no folder map at all.
  Reply other = run(w.env, {kAlice.user, "ALICEDEV2"}, itemOperationsBody({att("5:17:2")}));
  REQUIRE(other.fetches.size() == 1);
  CHECK(other.fetches[0].status == 15);
}

TEST_CASE("ItemOperations: IMAP down is Status 3 per operation", "[itemops]") {
  World w;
  w.env.provider.mailboxes[kAlice.user].down = true;
  Reply r = run(w.env, kAlice,
                itemOperationsBody({att("5:17:2"), item("5", "5:17")}));
  CHECK(r.top == 1);
  REQUIRE(r.fetches.size() == 2);
  CHECK(r.fetches[0].status == 3);
  CHECK(r.fetches[1].status == 3);
}

TEST_CASE("ItemOperations: malformed requests get top-level Status 2, too many 11", "[itemops]") {
  World w;
  auto top = [&](const std::string& body) { return run(w.env, kAlice, body).top; };
  std::string empty_root;
  {
    wbxml::Writer wr(&empty_root);
    wr.start(io::ItemOperations).end();
    wr.flush();
  }
  CHECK(top(empty_root) == 2);
  std::string foreign;
  {
    wbxml::Writer wr(&foreign);
    wr.start(io::ItemOperations).start(io::Fetch).element(io::Store, "Mailbox").end();
    wr.element(io::Range, "0-1").end();
    wr.flush();
  }
  CHECK(top(foreign) == 2);
  std::vector<FetchSpec> many(101, att("5:17:2"));
  CHECK(top(itemOperationsBody(many)) == 11);
}

TEST_CASE("ItemOperations: EmptyFolderContents empties only the device's folder", "[itemops]") {
  World w;
  auto& alice = w.env.provider.mailboxes[kAlice.user];
  alice.folders["Work/Sub"][1] = testing::messageWithAttachment("sub", "x", 0);
  std::string body;
  {
    wbxml::Writer wr(&body);
    wr.start(io::ItemOperations);
    wr.start(io::EmptyFolderContents).element(as::CollectionId, "6").start(io::Options)
        .empty(io::DeleteSubFolders).end().end();
    wr.start(io::EmptyFolderContents).element(as::CollectionId, "42").end();
    wr.end();
    wr.flush();
  }
  auto doc = wbxml::decode(body);
  REQUIRE(doc.ok());
  Reply r = run(w.env, kAlice, body);
  CHECK(r.top == 1);
  REQUIRE(r.fetches.size() == 2);
  CHECK(r.fetches[0].status == 1);
  CHECK(r.fetches[1].status == 6);
  CHECK(alice.folders["Work"].empty());
  CHECK(alice.folders.count("Work/Sub") == 0);
  CHECK(alice.folders["INBOX"].size() == 1);
  CHECK(w.env.provider.mailboxes[kBob.user].folders["INBOX"].size() == 1);
}

// ---- GetAttachment ---------------------------------------------------------------

namespace {

commands::CommandReply getAttachment(ItemOpsEnv& env, const storage::DeviceRef& ref,
                                     const std::string& name) {
  protocol::EasQuery query;
  query.device_id = ref.device_id;
  query.device_type = "iPhone";
  query.attachment_name = name;
  commands::CommandRequest req;
  req.capabilities = protocol::capabilitiesFor(protocol::ProtocolVersion::k121);
  req.query = &query;
  req.login = ref.user;
  req.services = &env.services;
  testing::FakeCtx ctx(req);
  auto reply = commands::makeGetAttachmentCommand()->handle(ctx);
  REQUIRE(reply.has_value());
  return std::move(*reply);
}

}  // namespace

TEST_CASE("GetAttachment: raw bytes with the part's type", "[itemops]") {
  World w;
  commands::CommandReply r = getAttachment(w.env, kAlice, "5:17:2");
  REQUIRE(r.status.ok());
  CHECK(r.content_type == "application/octet-stream");
  CHECK(r.body == w.attachment);
}

TEST_CASE("GetAttachment: unknown or foreign is HTTP 500, no name 400, IMAP down 503",
          "[itemops]") {
  World w;
  struct Row {
    storage::DeviceRef ref;
    const char* name;
    const char* reason;
    int http;
  };
  const Row rows[] = {
      {kAlice, "5:99:2", "attachment.not_found", 500},
      {kAlice, "5:17:9", "attachment.not_found", 500},
      {kAlice, "junk", "attachment.not_found", 500},
      {kBob, "6:3:2", "attachment.not_found", 500},
      {kAlice, "", "getattachment.missing_name", 400},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    commands::CommandReply r = getAttachment(w.env, row.ref, row.name);
    REQUIRE_FALSE(r.status.ok());
    CHECK(r.status.reason() == row.reason);
    CHECK(answerFor(r.status, /*wbxml_common_status=*/false).http_status == row.http);
    CHECK(r.body.empty());
  }
  w.env.provider.mailboxes[kAlice.user].down = true;
  commands::CommandReply down = getAttachment(w.env, kAlice, "5:17:2");
  REQUIRE_FALSE(down.status.ok());
  CHECK(answerFor(down.status, false).http_status == 503);
}
