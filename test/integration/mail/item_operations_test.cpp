// ItemOperations and GetAttachment end to end: device -> nginx -> eas-fcgi
// -> Dovecot (fixture eas_stack). Mail is seeded by APPEND over the
// project's IMAP backend; the device learns its folder ids by FolderSync.
// Folder names and DeviceIds carry the pid, so reruns do not collide.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/backends/imap/imap_backend.h"
#include "core/commands/itemops_util.h"
#include "core/protocol/query.h"
#include "core/wbxml/wbxml.h"
#include "test/integration/common/env_file.h"
#include "test/integration/common/request_bodies.h"
#include "test/integration/common/test_client.h"

namespace fh = eas::wbxml::tags::FolderHierarchy;
namespace io = eas::wbxml::tags::ItemOperations;
namespace as = eas::wbxml::tags::AirSync;
namespace asb = eas::wbxml::tags::AirSyncBase;
namespace em = eas::wbxml::tags::Email;
using eas::testing::EasRequest;
using eas::testing::EnvFile;
using eas::testing::HttpReply;
using eas::testing::TestClient;

namespace {

// 3000 bytes covering every byte value, so any transfer-decoding slip shows.
std::string binaryBlob() {
  std::string s;
  for (int i = 0; i < 3000; ++i) s += static_cast<char>((i * 131 + i / 256) & 0xFF);
  return s;
}

std::string messageWith(const std::string& subject, const std::string& blob) {
  std::string b64 = eas::protocol::base64Encode(blob), wrapped;
  for (std::size_t i = 0; i < b64.size(); i += 76) wrapped += b64.substr(i, 76) + "\r\n";
  return "From: Carol <carol@example.test>\r\nTo: alice@example.test\r\nSubject: " + subject +
         "\r\nDate: Tue, 01 Dec 2026 08:00:00 +0000\r\nMessage-ID: <" + subject +
         "@example.test>\r\nMIME-Version: 1.0\r\n"
         "Content-Type: multipart/mixed; boundary=\"=b1\"\r\n\r\n"
         "--=b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe report is attached.\r\n"
         "--=b1\r\nContent-Type: image/png; name=\"chart.png\"\r\n"
         "Content-Disposition: attachment; filename=\"chart.png\"\r\n"
         "Content-Transfer-Encoding: base64\r\n\r\n" +
         wrapped + "--=b1--\r\n";
}

struct Fetched {
  int status = -1;
  std::string content_type, range, total, data, part, subject, body, body_part;
};

struct IoAnswer {
  int http = 0;
  std::string content_type;
  int top = -1;
  std::vector<Fetched> fetches;
  std::vector<std::string> parts;
};

struct User {
  std::string login, password;
};

struct Stack {
  EnvFile env = EnvFile::loadFixture("eas_stack");
  TestClient client{env.get("EAS_URL")};
  User alice{env.testUser(1), env.testPassword(1)};
  User bob{env.testUser(2), env.testPassword(2)};
  eas::backend::imap::ImapSessionPool pool{imapConfig()};
  std::string tag = std::to_string(::getpid());

  Stack() { client.setSourceAddress("127.0.5.3"); }

  eas::backend::imap::ImapConfig imapConfig() const {
    eas::backend::imap::ImapConfig c;
    c.host = env.get("IMAP_HOST");
    c.port = std::atoi(env.get("IMAP_PORT").c_str());
    return c;
  }
  std::unique_ptr<eas::backend::MailBackend> imap(const User& u) {
    return pool.backendFor(u.login, u.password);
  }

  EasRequest request(const User& u, const std::string& cmd, const std::string& device,
                     const std::string& version = "14.1") {
    EasRequest r;
    r.cmd = cmd;
    r.user = u.login;
    r.password = u.password;
    r.device_id = device;
    r.protocol_version = version;
    return r;
  }

  // FolderSync 0; the ServerId of `folder_name` ("" if absent).
  std::string folderId(const User& u, const std::string& device, const std::string& folder_name) {
    EasRequest r = request(u, "FolderSync", device);
    r.body = eas::testing::folderSyncBody("0");
    HttpReply reply = client.post(r);
    REQUIRE(reply.status == 200);
    auto doc = eas::wbxml::decode(reply.body);
    REQUIRE(doc.ok());
    REQUIRE(eas::testing::topLevelStatus(reply.body) == 1);
    const eas::wbxml::Element* changes = doc->root().child(fh::Changes);
    REQUIRE(changes != nullptr);
    for (const eas::wbxml::Element& c : changes->children())
      if (c.tag() == fh::Add && c.childText(fh::DisplayName) == folder_name)
        return std::string(c.childText(fh::ServerId));
    return {};
  }

  std::vector<std::string> folderIds(const User& u, const std::string& device) {
    EasRequest r = request(u, "FolderSync", device);
    r.body = eas::testing::folderSyncBody("0");
    HttpReply reply = client.post(r);
    REQUIRE(reply.status == 200);
    auto doc = eas::wbxml::decode(reply.body);
    REQUIRE(doc.ok());
    std::vector<std::string> ids;
    if (const eas::wbxml::Element* changes = doc->root().child(fh::Changes))
      for (const eas::wbxml::Element& c : changes->children())
        if (c.tag() == fh::Add) ids.emplace_back(c.childText(fh::ServerId));
    return ids;
  }

  IoAnswer itemOperations(const User& u, const std::string& device, const std::string& body,
                          bool multipart_header = false, const std::string& version = "14.1") {
    EasRequest r = request(u, "ItemOperations", device, version);
    r.body = body;
    if (multipart_header) r.extra_headers.emplace_back("MS-ASAcceptMultiPart", "T");
    return decodeIo(client.post(r));
  }

  static IoAnswer decodeIo(const HttpReply& reply) {
    INFO(reply.error);
    IoAnswer a;
    a.http = reply.status;
    a.content_type = reply.header("Content-Type");
    if (reply.status != 200) return a;
    std::string wbxml_part = reply.body;
    if (a.content_type == "application/vnd.ms-sync.multipart") {
      auto parts = eas::commands::parseMultipart(reply.body);
      REQUIRE(parts.ok());
      REQUIRE_FALSE(parts->empty());
      for (std::string_view p : *parts) a.parts.emplace_back(p);
      wbxml_part = a.parts[0];
    }
    auto doc = eas::wbxml::decode(wbxml_part);
    REQUIRE(doc.ok());
    REQUIRE(doc->root().tag() == io::ItemOperations);
    a.top = std::atoi(std::string(doc->root().childText(io::Status, "-1")).c_str());
    if (const eas::wbxml::Element* resp = doc->root().child(io::Response)) {
      for (const eas::wbxml::Element& f : resp->children()) {
        Fetched x;
        x.status = std::atoi(std::string(f.childText(io::Status, "-1")).c_str());
        if (const eas::wbxml::Element* p = f.child(io::Properties)) {
          x.content_type = std::string(p->childText(asb::ContentType));
          x.range = std::string(p->childText(io::Range));
          x.total = std::string(p->childText(io::Total));
          x.part = std::string(p->childText(io::Part));
          x.subject = std::string(p->childText(em::Subject));
          if (const eas::wbxml::Element* d = p->child(io::Data)) {
            auto bytes = eas::protocol::base64Decode(d->text());
            REQUIRE(bytes.has_value());
            x.data = *bytes;
          }
          if (const eas::wbxml::Element* b = p->child(asb::Body)) {
            x.body = std::string(b->childText(asb::Data));
            x.body_part = std::string(b->childText(io::Part));
          }
        }
        a.fetches.push_back(x);
      }
    }
    return a;
  }
};

struct Op {
  std::string store = "Mailbox";
  std::string file_reference, collection, server_id, range;
};

Op attachment(std::string ref, std::string range = {}) {
  Op o;
  o.file_reference = std::move(ref);
  o.range = std::move(range);
  return o;
}
Op item(std::string collection, std::string server_id) {
  Op o;
  o.collection = std::move(collection);
  o.server_id = std::move(server_id);
  return o;
}

std::string ioBody(const std::vector<Op>& ops) {
  std::string wb;
  eas::wbxml::Writer w(&wb);
  w.start(io::ItemOperations);
  for (const Op& o : ops) {
    w.start(io::Fetch).element(io::Store, o.store);
    if (!o.file_reference.empty()) w.element(asb::FileReference, o.file_reference);
    if (!o.collection.empty()) w.element(as::CollectionId, o.collection);
    if (!o.server_id.empty()) w.element(as::ServerId, o.server_id);
    if (!o.range.empty()) w.start(io::Options).element(io::Range, o.range).end();
    if (!o.server_id.empty())
      w.start(io::Options).start(asb::BodyPreference).element(asb::Type, 1).end().end();
    w.end();
  }
  w.end();
  w.flush();
  return wb;
}

// Alice's folder with one message carrying the blob; its ids as the device sees them.
struct Seeded {
  std::string folder, collection, server_id, file_reference;
  std::uint32_t uid = 0;
};

Seeded seed(Stack& s, const std::string& device, const std::string& blob) {
  Seeded d;
  d.folder = "IoAtt" + device;  // one folder per test case
  auto mail = s.imap(s.alice);
  (void)mail->deleteFolder(d.folder);  // a leftover of an aborted run
  REQUIRE(mail->createFolder(d.folder).ok());
  auto uid = mail->appendMessage(d.folder, messageWith("Report" + s.tag, blob), 0);
  REQUIRE(uid.ok());
  REQUIRE(*uid != 0);
  d.uid = *uid;
  d.collection = s.folderId(s.alice, device, d.folder);
  REQUIRE_FALSE(d.collection.empty());
  d.server_id = d.collection + ":" + std::to_string(d.uid);
  d.file_reference = d.server_id + ":2";
  return d;
}

// Best effort: Dovecot may refuse to DELETE a mailbox another session
// (the worker's pooled one) still has selected; the next run's seed()
// removes leftovers.
void cleanup(Stack& s, const Seeded& d) { (void)s.imap(s.alice)->deleteFolder(d.folder); }

}  // namespace

TEST_CASE("ItemOperations: attachment bytes, Range, item fetch, statuses", "[integration][itemops]") {
  Stack s;
  const std::string dev = "IOA" + s.tag;
  const std::string blob = binaryBlob();
  Seeded d = seed(s, dev, blob);

  IoAnswer a = s.itemOperations(
      s.alice, dev,
      ioBody({attachment(d.file_reference), attachment(d.file_reference, "1000-1999"),
              attachment(d.file_reference, "2990-9999"), item(d.collection, d.server_id)}));
  REQUIRE(a.http == 200);
  CHECK(a.content_type == "application/vnd.ms-sync.wbxml");
  CHECK(a.top == 1);
  REQUIRE(a.fetches.size() == 4);
  CHECK(a.fetches[0].status == 1);
  CHECK(a.fetches[0].content_type == "image/png");
  CHECK(a.fetches[0].data.size() == blob.size());
  CHECK(a.fetches[0].data == blob);
  CHECK(a.fetches[1].status == 1);
  CHECK(a.fetches[1].data == blob.substr(1000, 1000));
  CHECK(a.fetches[1].range == "1000-1999");
  CHECK(a.fetches[1].total == "3000");
  CHECK(a.fetches[2].status == 1);
  CHECK(a.fetches[2].data == blob.substr(2990));
  CHECK(a.fetches[2].range == "2990-2999");
  CHECK(a.fetches[3].status == 1);
  CHECK(a.fetches[3].subject == "Report" + s.tag);
  CHECK(a.fetches[3].body.find("The report is attached.") != std::string::npos);

  // 12.0 and 12.1 devices get the same answers (ItemOperations is 12.0+).
  for (const char* version : {"12.0", "12.1"}) {
    INFO(version);
    IoAnswer v = s.itemOperations(s.alice, dev,
                                  ioBody({attachment(d.file_reference, "10-19"),
                                          item(d.collection, d.server_id)}),
                                  false, version);
    REQUIRE(v.http == 200);
    REQUIRE(v.fetches.size() == 2);
    CHECK(v.fetches[0].data == blob.substr(10, 10));
    CHECK(v.fetches[1].subject == "Report" + s.tag);
  }

  // Every per-operation status the command gives, through the real path.
  Op no_store = attachment(d.file_reference);
  no_store.store = "DocumentLibrary";
  IoAnswer bad = s.itemOperations(
      s.alice, dev,
      ioBody({attachment(d.file_reference, "3000-3001"), attachment(d.file_reference, "9-1"),
              attachment(d.server_id + ":9"), attachment("no-such-reference"),
              item(d.collection, d.collection + ":999999"), item("999999", "999999:1"), no_store}));
  REQUIRE(bad.http == 200);
  CHECK(bad.top == 1);
  const std::vector<int> expected = {8, 8, 15, 15, 6, 6, 9};
  REQUIRE(bad.fetches.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("fetch " << i);
    CHECK(bad.fetches[i].status == expected[i]);
    CHECK(bad.fetches[i].data.empty());
  }

  // A request with no operation at all: top-level Status 2.
  std::string empty;
  {
    eas::wbxml::Writer w(&empty);
    w.start(io::ItemOperations).end();
    w.flush();
  }
  IoAnswer e = s.itemOperations(s.alice, dev, empty);
  REQUIRE(e.http == 200);
  CHECK(e.top == 2);
  // More than 100 operations (CMD §3.1.5.10): top-level Status 11.
  IoAnswer many = s.itemOperations(s.alice, dev, ioBody(std::vector<Op>(101, attachment(d.file_reference))));
  REQUIRE(many.http == 200);
  CHECK(many.top == 11);
  CHECK(many.fetches.empty());
  // With a FileReference, Range is the only option: per-fetch Status 2.
  std::string bad_option;
  {
    eas::wbxml::Writer w(&bad_option);
    w.start(io::ItemOperations).start(io::Fetch).element(io::Store, "Mailbox");
    w.element(asb::FileReference, d.file_reference);
    w.start(io::Options).start(asb::BodyPreference).element(asb::Type, 1).end().end();
    w.end().end();
    w.flush();
  }
  IoAnswer opt = s.itemOperations(s.alice, dev, bad_option);
  REQUIRE(opt.fetches.size() == 1);
  CHECK(opt.fetches[0].status == 2);
  cleanup(s, d);
}

TEST_CASE("ItemOperations: multipart by header and by the base64 query flag",
          "[integration][itemops]") {
  Stack s;
  const std::string dev = "IOM" + s.tag;
  const std::string blob = binaryBlob();
  Seeded d = seed(s, dev, blob);
  const std::string body = ioBody({attachment(d.file_reference),
                                   attachment(d.file_reference, "100-299"),
                                   item(d.collection, d.server_id)});

  IoAnswer h = s.itemOperations(s.alice, dev, body, /*multipart_header=*/true);
  REQUIRE(h.http == 200);
  CHECK(h.content_type == "application/vnd.ms-sync.multipart");
  CHECK(h.top == 1);
  REQUIRE(h.fetches.size() == 3);
  REQUIRE(h.parts.size() == 4);
  CHECK(h.fetches[0].part == "1");
  CHECK(h.fetches[0].data.empty());
  CHECK(h.parts[1] == blob);
  CHECK(h.fetches[1].part == "2");
  CHECK(h.parts[2] == blob.substr(100, 200));
  // The item's body travels as part 3; the rest of it stays in the WBXML.
  CHECK(h.fetches[2].status == 1);
  CHECK(h.fetches[2].subject == "Report" + s.tag);
  CHECK(h.fetches[2].body.empty());
  CHECK(h.fetches[2].body_part == "3");
  CHECK(h.parts[3].find("The report is attached.") != std::string::npos);

  // The same request in the base64 query form with Options 0x02.
  eas::protocol::EasQuery q;
  q.form = eas::protocol::EasQuery::Form::kBase64;
  q.version = eas::protocol::ProtocolVersion::k141;
  q.command_code = 19;  // ItemOperations
  q.device_id = dev;
  q.device_type = "TestDevice";
  q.accept_multipart = true;
  EasRequest r = s.request(s.alice, "ItemOperations", dev, "");
  r.raw_query = eas::protocol::encodeBase64Query(q);
  r.body = body;
  IoAnswer b = Stack::decodeIo(s.client.post(r));
  REQUIRE(b.http == 200);
  CHECK(b.content_type == "application/vnd.ms-sync.multipart");
  REQUIRE(b.parts.size() == 4);
  CHECK(b.parts[1] == blob);
  CHECK(b.parts[2] == blob.substr(100, 200));
  cleanup(s, d);
}

TEST_CASE("ItemOperations and GetAttachment refuse another user's ids",
          "[integration][itemops]") {
  Stack s;
  const std::string dev_a = "IOR" + s.tag, dev_b = "IORB" + s.tag;
  const std::string blob = binaryBlob();
  Seeded d = seed(s, dev_a, blob);
  std::vector<std::string> bob_ids = s.folderIds(s.bob, dev_b);
  const bool bob_has_id =
      std::find(bob_ids.begin(), bob_ids.end(), d.collection) != bob_ids.end();

  IoAnswer a = s.itemOperations(
      s.bob, dev_b, ioBody({attachment(d.file_reference), item(d.collection, d.server_id)}));
  REQUIRE(a.http == 200);
  REQUIRE(a.fetches.size() == 2);
  // Never Alice's bytes or message, whatever Bob's own ids are.
  CHECK(a.fetches[0].data != blob);
  CHECK(a.fetches[1].subject != "Report" + s.tag);
  if (!bob_has_id) {
    CHECK(a.fetches[0].status == 15);
    CHECK(a.fetches[1].status == 6);
  }
  // Alice's second device never ran FolderSync: it has no folder map yet.
  IoAnswer fresh = s.itemOperations(s.alice, "IORC" + s.tag, ioBody({attachment(d.file_reference)}));
  REQUIRE(fresh.fetches.size() == 1);
  CHECK(fresh.fetches[0].status == 15);

  // GetAttachment (12.1) for Bob: 500, not the bytes.
  EasRequest g = s.request(s.bob, "GetAttachment", dev_b, "12.1");
  g.content_type.clear();
  g.extra_query = "AttachmentName=" + TestClient::percentEncode(d.file_reference);
  HttpReply gb = s.client.post(g);
  CHECK(gb.body != blob);
  if (!bob_has_id) CHECK(gb.status == 500);
  cleanup(s, d);
}

TEST_CASE("GetAttachment (12.1): raw bytes with the part's type; unknown is 500",
          "[integration][itemops]") {
  Stack s;
  const std::string dev = "IOG" + s.tag;
  const std::string blob = binaryBlob();
  Seeded d = seed(s, dev, blob);
  auto get = [&](const std::string& name, const std::string& version) {
    EasRequest g = s.request(s.alice, "GetAttachment", dev, version);
    g.content_type.clear();
    g.extra_query = "AttachmentName=" + TestClient::percentEncode(name);
    return s.client.post(g);
  };
  HttpReply ok = get(d.file_reference, "12.1");
  REQUIRE(ok.status == 200);
  CHECK(ok.header("Content-Type") == "image/png");
  CHECK(ok.header("Content-Length") == std::to_string(blob.size()));
  CHECK(ok.body == blob);
  CHECK(get(d.file_reference, "2.5").body == blob);

  CHECK(get(d.server_id + ":7", "12.1").status == 500);
  CHECK(get("nonsense", "12.1").status == 500);
  // Not a 14.0+ command (protocol.md §3.0): 501 / Status 137 from the dispatcher.
  HttpReply v14 = get(d.file_reference, "14.1");
  CHECK(v14.body != blob);
  CHECK((v14.status == 501 || eas::testing::topLevelStatus(v14.body) == 137));
  cleanup(s, d);
}

TEST_CASE("ItemOperations EmptyFolderContents empties the device's folder over IMAP",
          "[integration][itemops]") {
  Stack s;
  const std::string dev = "IOE" + s.tag;
  Seeded d = seed(s, dev, "tiny");
  auto mail = s.imap(s.alice);
  REQUIRE(mail->appendMessage(d.folder, messageWith("Second" + s.tag, "x"), 0).ok());
  std::string body;
  {
    eas::wbxml::Writer w(&body);
    w.start(io::ItemOperations);
    w.start(io::EmptyFolderContents).element(as::CollectionId, d.collection).end();
    w.start(io::EmptyFolderContents).element(as::CollectionId, "999999").end();
    w.end();
    w.flush();
  }
  IoAnswer a = s.itemOperations(s.alice, dev, body);
  REQUIRE(a.http == 200);
  CHECK(a.top == 1);
  REQUIRE(a.fetches.size() == 2);
  CHECK(a.fetches[0].status == 1);
  CHECK(a.fetches[1].status == 6);
  auto left = mail->searchMessages(d.folder, eas::backend::SearchCriteria{});
  REQUIRE(left.ok());
  CHECK(left->empty());
  // Bob's device cannot empty Alice's folder: the id is not in his map (or
  // names his own folder), and Alice's mail is untouched either way.
  REQUIRE(mail->appendMessage(d.folder, messageWith("Third" + s.tag, "y"), 0).ok());
  const std::vector<std::string> bob_ids = s.folderIds(s.bob, "IOEB" + s.tag);
  if (std::find(bob_ids.begin(), bob_ids.end(), d.collection) != bob_ids.end()) {
    cleanup(s, d);  // the id names one of Bob's own folders: not emptied in a test
    return;
  }
  std::string bob_body;
  {
    eas::wbxml::Writer w(&bob_body);
    w.start(io::ItemOperations).start(io::EmptyFolderContents).element(as::CollectionId, d.collection);
    w.end().end();
    w.flush();
  }
  IoAnswer b = s.itemOperations(s.bob, "IOEB" + s.tag, bob_body);
  REQUIRE(b.fetches.size() == 1);
  CHECK(b.fetches[0].status == 6);
  auto still = mail->searchMessages(d.folder, eas::backend::SearchCriteria{});
  REQUIRE(still.ok());
  CHECK(still->size() == 1);
  cleanup(s, d);
}
