// SendMail, SmartReply and SmartForward end to end: device -> nginx ->
// eas-fcgi -> Postfix (the postfix fixture, [smtp] of the eas_stack) ->
// LMTP -> Dovecot, read back over IMAP with the project's IMAP backend.
// Subjects carry the pid and a counter, so reruns against the same fixture
// do not see each other's mail.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <atomic>
#include <chrono>
#include <functional>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/backends/imap/imap_backend.h"
#include "core/items/email_item.h"
#include "core/protocol/query.h"
#include "core/wbxml/wbxml.h"
#include "test/integration/common/env_file.h"
#include "test/integration/common/request_bodies.h"
#include "test/integration/common/test_client.h"

namespace cm = eas::wbxml::tags::ComposeMail;
namespace asb = eas::wbxml::tags::AirSyncBase;
namespace fh = eas::wbxml::tags::FolderHierarchy;
using eas::testing::EasRequest;
using eas::testing::EnvFile;
using eas::testing::HttpReply;
using eas::testing::TestClient;

namespace {

int counter = 0;

std::string randomBytes(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(gen() & 0xFF);
  return out;
}

std::string wrap76(const std::string& b64) {
  std::string out;
  for (std::size_t i = 0; i < b64.size(); i += 76) out += b64.substr(i, 76) + "\r\n";
  return out;
}

std::string stripSpace(const std::string& s) {
  std::string out;
  for (char c : s)
    if (c != '\r' && c != '\n' && c != ' ' && c != '\t') out += c;
  return out;
}

// A message from alice with an optional attachment.
std::string message(const std::string& from, const std::string& to, const std::string& subject,
                    const std::string& text, const std::string& attachment = {},
                    const std::string& bcc = {}) {
  std::string m = "From: " + from + "\r\nTo: " + to + "\r\n";
  if (!bcc.empty()) m += "Bcc: " + bcc + "\r\n";
  m += "Subject: " + subject + "\r\nMIME-Version: 1.0\r\n";
  if (attachment.empty()) return m + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text + "\r\n";
  m += "Content-Type: multipart/mixed; boundary=\"xyz\"\r\n\r\n--xyz\r\n"
       "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text + "\r\n--xyz\r\n"
       "Content-Type: application/octet-stream; name=\"blob.bin\"\r\n"
       "Content-Disposition: attachment; filename=\"blob.bin\"\r\n"
       "Content-Transfer-Encoding: base64\r\n\r\n" +
       wrap76(eas::protocol::base64Encode(attachment)) + "--xyz--\r\n";
  return m;
}

struct ComposeBody {
  eas::wbxml::Tag root = cm::SendMail;
  std::string client_id;
  bool save = false, replace = false;
  std::string folder, item;
  std::optional<std::string> mime = std::string();
  // 16.x SmartForward without Mime: airsyncbase:Body {Type, Data} and Forwardees.
  std::optional<std::pair<int, std::string>> body;
  std::vector<std::pair<std::string, std::string>> forwardees;  // name, email
  std::string encode() const {
    std::string out;
    eas::wbxml::Writer w(&out);
    w.start(root).element(cm::ClientId, client_id);
    if (!item.empty()) w.start(cm::Source).element(cm::FolderId, folder).element(cm::ItemId, item).end();
    if (save) w.empty(cm::SaveInSentItems);
    if (replace) w.empty(cm::ReplaceMime);
    if (mime) w.opaqueElement(cm::Mime, *mime);
    if (body) {
      w.start(asb::Body).element(asb::Type, std::int64_t{body->first});
      w.element(asb::Data, body->second).end();
    }
    if (!forwardees.empty()) {
      w.start(cm::Forwardees);
      for (const auto& [name, email] : forwardees) {
        w.start(cm::Forwardee);
        if (!name.empty()) w.element(cm::ForwardeeName, name);
        w.element(cm::ForwardeeEmail, email).end();
      }
      w.end();
    }
    w.end();
    w.flush();
    return out;
  }
};

struct Stack {
  EnvFile env = EnvFile::loadFixture("eas_stack");
  TestClient client{env.get("EAS_URL")};
  std::string alice = env.testUser(1), alice_pass = env.testPassword(1);
  std::string bob = env.testUser(2), bob_pass = env.testPassword(2);
  std::string carol = env.testUser(3), carol_pass = env.testPassword(3);
  eas::backend::imap::ImapSessionPool pool{imapConfig()};
  std::string tag = std::to_string(::getpid());

  Stack() { client.setSourceAddress("127.0.7.1"); }

  eas::backend::imap::ImapConfig imapConfig() const {
    eas::backend::imap::ImapConfig c;
    c.host = env.get("IMAP_HOST");
    c.port = std::atoi(env.get("IMAP_PORT").c_str());
    return c;
  }
  std::unique_ptr<eas::backend::MailBackend> imap(const std::string& user, const std::string& pass) {
    return pool.backendFor(user, pass);
  }
  std::string subject(const std::string& what) {
    return what + " " + tag + "-" + std::to_string(++counter);
  }

  HttpReply post(const std::string& cmd, const std::string& version, const std::string& body,
                 const std::string& content_type, const std::string& device,
                 const std::string& extra_query = {}) {
    EasRequest r;
    r.cmd = cmd;
    r.user = alice;
    r.password = alice_pass;
    r.device_id = device;
    r.protocol_version = version;
    r.content_type = content_type;
    r.body = body;
    r.extra_query = extra_query;
    HttpReply reply = client.post(r);
    INFO(cmd << " " << reply.status << " " << reply.error << " "
              << eas::testing::toXmlForLog(reply.body));
    return reply;
  }
  HttpReply compose(const ComposeBody& b, const std::string& device, const std::string& version = "14.1") {
    const char* cmd = b.root == cm::SendMail ? "SendMail" : b.root == cm::SmartReply ? "SmartReply" : "SmartForward";
    return post(cmd, version, b.encode(), "application/vnd.ms-sync.wbxml", device);
  }

  // FolderSync (key 0) for `device`; the ServerId of the folder named `name`.
  std::string folderId(const std::string& device, const std::string& name) {
    HttpReply r = post("FolderSync", "14.1", eas::testing::folderSyncBody("0"),
                       "application/vnd.ms-sync.wbxml", device);
    REQUIRE(r.status == 200);
    auto doc = eas::wbxml::decode(r.body);
    REQUIRE(doc.ok());
    const eas::wbxml::Element* changes = doc->root().child(fh::Changes);
    REQUIRE(changes != nullptr);
    for (const eas::wbxml::Element& c : changes->children())
      if (c.tag() == fh::Add && c.childText(fh::DisplayName) == name) return std::string(c.childText(fh::ServerId));
    FAIL("no folder " << name);
    return {};
  }

  // UIDs in `folder` of `user` whose subject contains `subject`, waiting up
  // to `seconds` for at least `want` of them.
  std::vector<std::uint32_t> waitFor(const std::string& user, const std::string& pass,
                                     const std::string& folder, const std::string& subject,
                                     std::size_t want = 1, int seconds = 20) {
    eas::backend::SearchCriteria q;
    q.subject = subject;
    std::vector<std::uint32_t> uids;
    for (int i = 0; i < seconds * 10; ++i) {
      auto found = imap(user, pass)->searchMessages(folder, q);
      if (found.ok()) uids = *found;
      if (uids.size() >= want) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return uids;
  }
  std::string fullMessage(const std::string& user, const std::string& pass, const std::string& folder,
                          std::uint32_t uid) {
    auto m = imap(user, pass)->fetchFullMessage(folder, uid);
    REQUIRE(m.ok());
    return *m;
  }
  std::uint32_t flagsOf(const std::string& folder, std::uint32_t uid) {
    eas::backend::FetchRequest what;
    what.envelope = false;
    what.bodyStructure = false;
    auto m = imap(alice, alice_pass)->fetchMessages(folder, {uid}, what);
    REQUIRE(m.ok());
    REQUIRE(m->size() == 1);
    return (*m)[0].flags;
  }
  // An original in alice's INBOX, put there over IMAP; its UID.
  std::uint32_t original(const std::string& subject, const std::string& text,
                         const std::string& attachment = {}, const std::string& raw = {}) {
    std::string m = raw.empty() ? message(bob, alice, subject, text, attachment) : raw;
    m = "Message-ID: <" + subject.substr(subject.rfind(' ') + 1) + "@example.test>\r\n" + m;
    auto uid = imap(alice, alice_pass)->appendMessage("INBOX", m, 0);
    REQUIRE(uid.ok());
    REQUIRE(*uid != 0);
    return *uid;
  }
  std::string sentFolder() {
    auto box = imap(alice, alice_pass);
    (void)box->createFolder("Sent");  // the fixture Dovecot has none by default
    auto folders = box->listFolders();
    REQUIRE(folders.ok());
    for (const auto& f : *folders)
      if (f.role == eas::backend::FolderRole::kSent) return f.name;
    FAIL("no Sent folder");
    return {};
  }
};

// The attachment named `name` of `raw`, decoded.
std::string attachmentBytes(const std::string& raw, const std::string& name) {
  // The part's base64 follows its headers up to the next boundary.
  std::size_t at = raw.find("filename=\"" + name + "\"");
  REQUIRE(at != std::string::npos);
  std::size_t start = raw.find("\r\n\r\n", at);
  REQUIRE(start != std::string::npos);
  start += 4;
  std::size_t end = raw.find("\r\n--", start);
  REQUIRE(end != std::string::npos);
  auto bytes = eas::protocol::base64Decode(stripSpace(raw.substr(start, end - start)));
  REQUIRE(bytes.has_value());
  return *bytes;
}

}  // namespace

TEST_CASE("14.1 SendMail: delivered to To and Bcc, attachment byte-identical, copy in Sent",
          "[integration][sendmail]") {
  Stack s;
  const std::string sent = s.sentFolder();
  const std::string subj = s.subject("Attachment");
  const std::string blob = randomBytes(60000, 7);
  ComposeBody b;
  b.client_id = "sm" + s.tag;
  b.save = true;
  b.mime = message("Alice <" + s.alice + ">", "Bob <" + s.bob + ">", subj, "See the file.", blob, s.carol);
  HttpReply r = s.compose(b, "SEND1" + s.tag);
  REQUIRE(r.status == 200);
  CHECK(r.body.empty());

  auto at_bob = s.waitFor(s.bob, s.bob_pass, "INBOX", subj);
  REQUIRE(at_bob.size() == 1);
  const std::string got = s.fullMessage(s.bob, s.bob_pass, "INBOX", at_bob[0]);
  CHECK(attachmentBytes(got, "blob.bin") == blob);
  CHECK(got.find(s.carol) == std::string::npos);  // no Bcc header travels
  CHECK(got.find("From: Alice <" + s.alice + ">") != std::string::npos);
  auto parsed = eas::items::parseEmail(got, {});
  REQUIRE(parsed.ok());
  CHECK(parsed->plain_body.find("See the file.") != std::string::npos);

  auto at_carol = s.waitFor(s.carol, s.carol_pass, "INBOX", subj);
  CHECK(at_carol.size() == 1);

  auto in_sent = s.waitFor(s.alice, s.alice_pass, sent, subj, 1, 5);
  REQUIRE(in_sent.size() == 1);
  CHECK((s.flagsOf(sent, in_sent[0]) & eas::backend::kFlagSeen) != 0);
  const std::string copy = s.fullMessage(s.alice, s.alice_pass, sent, in_sent[0]);
  CHECK(copy.find(s.carol) != std::string::npos);  // the Sent copy keeps the Bcc
  CHECK(attachmentBytes(copy, "blob.bin") == blob);
}

TEST_CASE("a resent ClientId is sent once and answered 118", "[integration][sendmail]") {
  Stack s;
  const std::string subj = s.subject("Once");
  ComposeBody b;
  b.client_id = "dup" + s.tag;
  b.mime = message(s.alice, s.bob, subj, "only once");
  const std::string device = "SEND2" + s.tag;
  REQUIRE(s.compose(b, device).status == 200);
  HttpReply again = s.compose(b, device);
  REQUIRE(again.status == 200);
  CHECK(eas::testing::topLevelStatus(again.body) == 118);
  REQUIRE(s.waitFor(s.bob, s.bob_pass, "INBOX", subj).size() == 1);
  std::this_thread::sleep_for(std::chrono::seconds(2));  // a second copy would be here by now
  CHECK(s.waitFor(s.bob, s.bob_pass, "INBOX", subj, 2, 1).size() == 1);
}

TEST_CASE("12.1 and 2.5 SendMail: message/rfc822 body, SaveInSent in the query",
          "[integration][sendmail]") {
  Stack s;
  const std::string sent = s.sentFolder();
  for (const char* version : {"12.1", "2.5"}) {
    INFO(version);
    const std::string subj = s.subject(std::string("Plain ") + version);
    HttpReply r = s.post("SendMail", version, message(s.alice, s.bob, subj, "from an old device"),
                         "message/rfc822", "SEND3" + s.tag, "SaveInSent=T");
    REQUIRE(r.status == 200);
    CHECK(r.body.empty());
    CHECK(s.waitFor(s.bob, s.bob_pass, "INBOX", subj).size() == 1);
    CHECK(s.waitFor(s.alice, s.alice_pass, sent, subj, 1, 5).size() == 1);
  }
}

TEST_CASE("SmartReply quotes the original and sets \\Answered", "[integration][sendmail]") {
  Stack s;
  const std::string device = "SEND4" + s.tag;
  const std::string inbox = s.folderId(device, "INBOX");
  const std::string osubj = s.subject("Question");
  const std::uint32_t uid = s.original(osubj, "Are you coming on Friday?");
  CHECK((s.flagsOf("INBOX", uid) & eas::backend::kFlagAnswered) == 0);

  const std::string subj = "Re: " + osubj;
  ComposeBody b;
  b.root = cm::SmartReply;
  b.client_id = "re" + s.tag;
  b.folder = inbox;
  b.item = inbox + ":" + std::to_string(uid);
  b.mime = message(s.alice, s.bob, subj, "Yes, I am.");
  HttpReply r = s.compose(b, device);
  REQUIRE(r.status == 200);
  CHECK(r.body.empty());
  CHECK((s.flagsOf("INBOX", uid) & eas::backend::kFlagAnswered) != 0);
  auto got = s.waitFor(s.bob, s.bob_pass, "INBOX", subj);
  REQUIRE(got.size() == 1);
  auto parsed = eas::items::parseEmail(s.fullMessage(s.bob, s.bob_pass, "INBOX", got[0]), {});
  REQUIRE(parsed.ok());
  CHECK(parsed->plain_body.find("Yes, I am.") == 0);
  CHECK(parsed->plain_body.find("> Are you coming on Friday?") != std::string::npos);
  CHECK_FALSE(parsed->references.empty());

  // An unknown item: 150, nothing sent.
  b.client_id = "re2" + s.tag;
  b.item = inbox + ":999999";
  HttpReply bad = s.compose(b, device);
  REQUIRE(bad.status == 200);
  CHECK(eas::testing::topLevelStatus(bad.body) == 150);
  // 12.1 with ItemId/CollectionId in the query.
  const std::string subj12 = "Re12: " + osubj;
  HttpReply r12 = s.post("SmartReply", "12.1", message(s.alice, s.bob, subj12, "Old device."),
                         "message/rfc822", device,
                         "ItemId=" + TestClient::percentEncode(inbox + ":" + std::to_string(uid)) +
                             "&CollectionId=" + TestClient::percentEncode(inbox));
  REQUIRE(r12.status == 200);
  auto got12 = s.waitFor(s.bob, s.bob_pass, "INBOX", subj12);
  REQUIRE(got12.size() == 1);
  CHECK(s.fullMessage(s.bob, s.bob_pass, "INBOX", got12[0]).find("> Are you coming") != std::string::npos);
  HttpReply bad12 = s.post("SmartReply", "12.1", message(s.alice, s.bob, subj12, "x"), "message/rfc822",
                           device, "ItemId=" + TestClient::percentEncode(inbox + ":999999") +
                                       "&CollectionId=" + TestClient::percentEncode(inbox));
  CHECK(bad12.status == 400);
}

TEST_CASE("SmartForward carries the original and its attachment, sets $Forwarded",
          "[integration][sendmail]") {
  Stack s;
  const std::string device = "SEND5" + s.tag;
  const std::string inbox = s.folderId(device, "INBOX");
  const std::string osubj = s.subject("Report");
  const std::string blob = randomBytes(20000, 11);
  const std::uint32_t uid = s.original(osubj, "The quarterly numbers.", blob);

  const std::string subj = "Fw: " + osubj;
  ComposeBody b;
  b.root = cm::SmartForward;
  b.client_id = "fw" + s.tag;
  b.folder = inbox;
  b.item = inbox + ":" + std::to_string(uid);
  b.mime = message(s.alice, s.carol, subj, "FYI");
  REQUIRE(s.compose(b, device).status == 200);
  CHECK((s.flagsOf("INBOX", uid) & eas::backend::kFlagForwarded) != 0);
  auto got = s.waitFor(s.carol, s.carol_pass, "INBOX", subj);
  REQUIRE(got.size() == 1);
  const std::string raw = s.fullMessage(s.carol, s.carol_pass, "INBOX", got[0]);
  CHECK(attachmentBytes(raw, "blob.bin") == blob);
  auto parsed = eas::items::parseEmail(raw, {});
  REQUIRE(parsed.ok());
  CHECK(parsed->plain_body.find("FYI") == 0);
  CHECK(parsed->plain_body.find("The quarterly numbers.") != std::string::npos);

  // ReplaceMime: the device's message alone.
  const std::string subj2 = "Fw2: " + osubj;
  b.client_id = "fw2" + s.tag;
  b.replace = true;
  b.mime = message(s.alice, s.carol, subj2, "Mine only");
  REQUIRE(s.compose(b, device).status == 200);
  auto got2 = s.waitFor(s.carol, s.carol_pass, "INBOX", subj2);
  REQUIRE(got2.size() == 1);
  const std::string raw2 = s.fullMessage(s.carol, s.carol_pass, "INBOX", got2[0]);
  CHECK(raw2.find("quarterly") == std::string::npos);
  CHECK(raw2.find("blob.bin") == std::string::npos);
}

TEST_CASE("failures over the stack: 107, 119, 122 from Postfix's size limit", "[integration][sendmail]") {
  Stack s;
  const std::string device = "SEND6" + s.tag;
  ComposeBody b;
  b.client_id = "bad1" + s.tag;
  b.mime = "";
  HttpReply r = s.compose(b, device);
  REQUIRE(r.status == 200);
  CHECK(eas::testing::topLevelStatus(r.body) == 107);

  b.client_id = "bad2" + s.tag;
  b.mime = "Subject: nobody\r\n\r\nto nobody\r\n";
  r = s.compose(b, device);
  CHECK(eas::testing::topLevelStatus(r.body) == 119);
  CHECK(s.post("SendMail", "12.1", *b.mime, "message/rfc822", device).status == 400);

  // Larger than the fixture Postfix's message_size_limit (but under nginx's
  // 1 MB body limit): 552 from Postfix, AttachmentIsTooLarge.
  const std::size_t limit = std::stoul(s.env.get("SMTP_MESSAGE_SIZE_LIMIT"));
  const std::string subj = s.subject("Huge");
  b.client_id = "big" + s.tag;
  b.mime = message(s.alice, s.bob, subj, "big", randomBytes(limit * 3 / 4 + 10000, 3));
  REQUIRE(b.mime->size() > limit);
  r = s.compose(b, device);
  REQUIRE(r.status == 200);
  CHECK(eas::testing::topLevelStatus(r.body) == 122);
  // The same ClientId may be retried after a failure (it was not sent).
  b.mime = message(s.alice, s.bob, subj, "small now");
  r = s.compose(b, device);
  CHECK(r.status == 200);
  CHECK(r.body.empty());
  CHECK(s.waitFor(s.bob, s.bob_pass, "INBOX", subj).size() == 1);
}

TEST_CASE("16.1 SendMail: attachment byte-identical in bob's INBOX; a Body instead is 178",
          "[integration][sendmail]") {
  Stack s;
  const std::string subj = s.subject("Sixteen");
  const std::string blob = randomBytes(40000, 16);
  ComposeBody b;
  b.client_id = "s16" + s.tag;
  b.mime = message(s.alice, "Bob <" + s.bob + ">", subj, "Version 16.1.", blob);
  const std::string device = "SEND7" + s.tag;
  HttpReply r = s.compose(b, device, "16.1");
  REQUIRE(r.status == 200);
  CHECK(r.body.empty());
  auto at_bob = s.waitFor(s.bob, s.bob_pass, "INBOX", subj);
  REQUIRE(at_bob.size() == 1);
  const std::string got = s.fullMessage(s.bob, s.bob_pass, "INBOX", at_bob[0]);
  CHECK(attachmentBytes(got, "blob.bin") == blob);
  CHECK(got.find("From: " + s.alice) != std::string::npos);

  // The spec gives SendMail no airsyncbase:Body (CMD 6.36, AIRS 2.2.2.9):
  // with or without Mime it is InvalidMimeBodyCombination, nothing sent.
  const std::string subj2 = s.subject("BodyOnly");
  ComposeBody with_body;
  with_body.client_id = "s16b" + s.tag;
  with_body.mime = message(s.alice, s.bob, subj2, "x");
  with_body.body = {{1, "text"}};
  HttpReply bad = s.compose(with_body, device, "16.1");
  REQUIRE(bad.status == 200);
  CHECK(eas::testing::topLevelStatus(bad.body) == 178);
  with_body.mime.reset();
  bad = s.compose(with_body, device, "16.1");
  CHECK(eas::testing::topLevelStatus(bad.body) == 178);
  CHECK(s.waitFor(s.bob, s.bob_pass, "INBOX", subj2, 1, 2).empty());
}

TEST_CASE("16.1 SmartForward with Body and Forwardees reaches them with the original",
          "[integration][sendmail]") {
  Stack s;
  const std::string device = "SEND8" + s.tag;
  const std::string inbox = s.folderId(device, "INBOX");
  const std::string osubj = s.subject("Meeting");
  const std::string blob = randomBytes(15000, 21);
  // A meeting request from bob (the spec's case for this form), with an agenda file.
  const std::string invite =
      "From: " + s.bob + "\r\nTo: " + s.alice + "\r\nSubject: " + osubj +
      "\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"m1\"\r\n\r\n"
      "--m1\r\nContent-Type: multipart/alternative; boundary=\"a1\"\r\n\r\n"
      "--a1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlanning, room 4.\r\n"
      "--a1\r\nContent-Type: text/calendar; charset=utf-8; method=REQUEST\r\n\r\n"
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:meet-" +
      s.tag + "\r\nDTSTART:20261210T100000Z\r\nDTEND:20261210T110000Z\r\nSUMMARY:" + osubj +
      "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n--a1--\r\n"
      "--m1\r\nContent-Type: application/octet-stream; name=\"blob.bin\"\r\n"
      "Content-Disposition: attachment; filename=\"blob.bin\"\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n" +
      wrap76(eas::protocol::base64Encode(blob)) + "--m1--\r\n";
  const std::uint32_t uid = s.original(osubj, {}, {}, invite);

  ComposeBody b;
  b.root = cm::SmartForward;
  b.client_id = "f16" + s.tag;
  b.folder = inbox;
  b.item = inbox + ":" + std::to_string(uid);
  b.mime.reset();
  b.body = {{1, "Carol, please join."}};
  b.forwardees = {{"Carol", s.carol}};
  HttpReply r = s.compose(b, device, "16.1");
  REQUIRE(r.status == 200);
  CHECK(r.body.empty());
  CHECK((s.flagsOf("INBOX", uid) & eas::backend::kFlagForwarded) != 0);
  auto got = s.waitFor(s.carol, s.carol_pass, "INBOX", osubj);
  REQUIRE(got.size() == 1);
  const std::string raw = s.fullMessage(s.carol, s.carol_pass, "INBOX", got[0]);
  CHECK(attachmentBytes(raw, "blob.bin") == blob);
  CHECK(raw.find("METHOD:REQUEST") != std::string::npos);
  CHECK(raw.find("UID:meet-" + s.tag) != std::string::npos);
  auto parsed = eas::items::parseEmail(raw, {});
  REQUIRE(parsed.ok());
  CHECK(parsed->subject == "Fw: " + osubj);
  CHECK(parsed->from == s.alice);
  CHECK(parsed->to.find(s.carol) != std::string::npos);
  CHECK(parsed->plain_body.find("Carol, please join.") == 0);
  CHECK(parsed->plain_body.find("Planning, room 4.") != std::string::npos);
  // Not sent to anybody else (bob, the organiser, is not a forwardee).
  CHECK(s.waitFor(s.bob, s.bob_pass, "INBOX", "Fw: " + osubj, 1, 2).empty());

  // A Forwardee without a usable address: 179, nothing sent.
  ComposeBody bad = b;
  bad.client_id = "f16b" + s.tag;
  bad.forwardees = {{"Nobody", "nobody"}};
  HttpReply r179 = s.compose(bad, device, "16.1");
  REQUIRE(r179.status == 200);
  CHECK(eas::testing::topLevelStatus(r179.body) == 179);
  // Mime and Forwardees together: 178.
  bad.client_id = "f16c" + s.tag;
  bad.forwardees = {{"Carol", s.carol}};
  bad.mime = message(s.alice, s.carol, "x", "x");
  CHECK(eas::testing::topLevelStatus(s.compose(bad, device, "16.1").body) == 178);
  CHECK(s.waitFor(s.carol, s.carol_pass, "INBOX", osubj, 2, 2).size() == 1);
}

TEST_CASE("two identical ClientId sends at once deliver one message; the other is 118",
          "[integration][sendmail]") {
  Stack s;
  const std::string device = "SEND9" + s.tag;
  for (int round = 0; round < 3; ++round) {
    INFO("round " << round);
    const std::string subj = s.subject("Race");
    ComposeBody b;
    b.client_id = "race" + std::to_string(round) + "-" + s.tag;
    b.mime = message(s.alice, s.bob, subj, "sent once, however often it is asked");
    EasRequest req;
    req.cmd = "SendMail";
    req.user = s.alice;
    req.password = s.alice_pass;
    req.device_id = device;
    req.protocol_version = "16.1";
    req.content_type = "application/vnd.ms-sync.wbxml";
    req.body = b.encode();
    // Two connections of their own, started together (no Catch2 inside the threads).
    TestClient c1{s.env.get("EAS_URL")}, c2{s.env.get("EAS_URL")};
    c1.setSourceAddress("127.0.7.1");
    c2.setSourceAddress("127.0.7.1");
    HttpReply r1, r2;
    std::atomic<int> ready{0};
    auto go = [&](TestClient& c, HttpReply& out) {
      ++ready;
      while (ready.load() < 2) std::this_thread::yield();
      out = c.post(req);
    };
    std::thread t1(go, std::ref(c1), std::ref(r1));
    std::thread t2(go, std::ref(c2), std::ref(r2));
    t1.join();
    t2.join();
    REQUIRE(r1.status == 200);
    REQUIRE(r2.status == 200);
    // One empty success, one <SendMail><Status>118</Status></SendMail>.
    CHECK(r1.body.empty() != r2.body.empty());
    const std::string& answered = r1.body.empty() ? r2.body : r1.body;
    CHECK(eas::testing::topLevelStatus(answered) == 118);
    REQUIRE(s.waitFor(s.bob, s.bob_pass, "INBOX", subj).size() == 1);
    std::this_thread::sleep_for(std::chrono::seconds(2));  // a second copy would be here by now
    CHECK(s.waitFor(s.bob, s.bob_pass, "INBOX", subj, 2, 1).size() == 1);
  }
}
