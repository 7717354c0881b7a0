// The IMAP backend against the real Dovecot of the `dovecot` fixture. Every
// test works in folders of its own (eas-test-<pid>-...) and deletes them.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <thread>

#include "core/backends/imap/imap_util.h"
#include "test/unit/core/backends/imap_test_env.h"

using namespace eas;
using namespace eas::backend;
using namespace eas::backend::imap;
using namespace eas::backend::imap::testenv;

namespace {

struct Fixture {
  Fixture() : env(loadEnv("dovecot")), alice(account(env, 1)), config(configFor(env)) {
    std::signal(SIGPIPE, SIG_IGN);
  }
  std::map<std::string, std::string> env;
  Account alice;
  ImapConfig config;
};

Watermark watermarkOf(const FolderState& s) { return {s.uidValidity, s.uidNext, s.highestModseq}; }

void kick(const Fixture& f, const std::string& user) {
  const std::string cmd = "doveadm -c '" + f.env.at("DOVECOT_CONF") + "' kick '" + user + "' >/dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  ::usleep(200 * 1000);  // let the server close the connections
}

}  // namespace

TEST_CASE("unreachable server gives imap.unavailable", "[imap]") {
  std::signal(SIGPIPE, SIG_IGN);
  // A port that was just free: bind, read it, close.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  ImapConfig c;
  c.port = ntohs(addr.sin_port);
  c.timeoutSeconds = 2;
  ImapSessionPool pool(c);
  auto b = pool.backendFor("alice@example.test", "x");
  auto r = b->listFolders();
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().reason() == "imap.unavailable");
  CHECK(r.status().code() == StatusCode::kUnavailable);
  CHECK(pool.stats().logins == 0);
}

TEST_CASE_METHOD(Fixture, "wrong password gives imap.auth_failed", "[imap]") {
  ImapSessionPool pool(config);
  auto r = pool.backendFor(alice.login, alice.password + "x")->folderState("INBOX");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().reason() == "imap.auth_failed");
  // The right password afterwards works and is not served the refused session.
  CHECK(pool.backendFor(alice.login, alice.password)->folderState("INBOX").ok());
  CHECK(pool.stats().idle == 1);
  // A pooled session is never handed to a request with another password.
  auto wrong = pool.backendFor(alice.login, "not-" + alice.password)->folderState("INBOX");
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.status().reason() == "imap.auth_failed");
  CHECK(pool.stats().reuses == 0);
}

TEST_CASE_METHOD(Fixture, "listFolders finds roles by name and the hierarchy delimiter", "[imap]") {
  // carol's account: the role names must be top-level; only folders this
  // test created are deleted again.
  const Account carol = account(env, 3);
  ImapSessionPool pool(config);
  FolderCleanup cleanup(pool, carol);
  auto b = pool.backendFor(carol.login, carol.password);
  auto before = b->listFolders();
  REQUIRE(before.ok());
  auto exists = [&](const std::string& n) {
    return std::any_of(before->begin(), before->end(), [&](const FolderInfo& f) { return f.name == n; });
  };
  for (const char* n : {"Sent Items", "Drafts", "Deleted Items", "Junk"}) {
    if (!exists(n)) {
      REQUIRE(b->createFolder(n).ok());
      cleanup.add(n);
    }
  }
  const std::string parent = cleanup.add(uniqueName("parent"));
  REQUIRE(b->createFolder(parent).ok());
  const std::string child = parent + ".Sent";  // a nested "Sent" is no role
  REQUIRE(b->createFolder(child).ok());
  cleanup.add(child);
  const std::string utf = cleanup.add(uniqueName(encodeMailboxName("Bücher ✓")));
  REQUIRE(b->createFolder(utf).ok());

  auto list = b->listFolders();
  REQUIRE(list.ok());
  std::map<std::string, FolderInfo> byName;
  for (const auto& f : *list) byName[f.name] = f;
  CHECK(byName.at("INBOX").role == FolderRole::kInbox);
  CHECK(byName.at("Sent Items").role == FolderRole::kSent);
  CHECK(byName.at("Drafts").role == FolderRole::kDrafts);
  CHECK(byName.at("Deleted Items").role == FolderRole::kTrash);
  CHECK(byName.at("Junk").role == FolderRole::kJunk);
  CHECK(byName.at(parent).role == FolderRole::kNone);
  REQUIRE(byName.count(child) == 1);
  CHECK(byName.at(child).role == FolderRole::kNone);
  CHECK(byName.at(child).delimiter == '.');
  CHECK(byName.at(child).displayName == "Sent");
  CHECK(byName.at(utf).displayName.find("Bücher ✓") != std::string::npos);
}

TEST_CASE_METHOD(Fixture, "folderState with and without CONDSTORE", "[imap]") {
  ImapSessionPool pool(config);
  FolderCleanup cleanup(pool, alice);
  auto b = pool.backendFor(alice.login, alice.password);
  const std::string f = cleanup.add(uniqueName("state"));
  REQUIRE(b->createFolder(f).ok());
  for (int i = 0; i < 3; ++i) REQUIRE(b->appendMessage(f, textMessage("s" + std::to_string(i), "x\r\n"), 0).ok());
  auto s = b->folderState(f);
  REQUIRE(s.ok());
  CHECK(s->messages == 3);
  CHECK(s->uidNext == 4);
  CHECK(s->uidValidity != 0);
  REQUIRE(s->highestModseq.has_value());  // ENABLE CONDSTORE/QRESYNC made Dovecot keep modseqs

  ImapConfig plain = config;
  plain.useCondstore = false;
  ImapSessionPool plainPool(plain);
  auto p = plainPool.backendFor(alice.login, alice.password)->folderState(f);
  REQUIRE(p.ok());
  CHECK_FALSE(p->highestModseq.has_value());
  CHECK(p->uidValidity == s->uidValidity);
  CHECK(p->messages == 3);

  auto missing = b->folderState(uniqueName("missing"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().reason() == "imap.no_such_folder");
}

TEST_CASE_METHOD(Fixture, "changesSince sees new mail, flags, expunges and moves made by another client",
                 "[imap]") {
  // QRESYNC (expunges as VANISHED), CONDSTORE only (expunges by UID SEARCH),
  // neither (UID + FLAGS comparison).
  const int mode = GENERATE(0, 1, 2);
  const bool condstore = mode != 2;
  INFO("mode " << mode);
  ImapConfig c = config;
  c.useCondstore = condstore;
  c.useQresync = mode == 0;
  ImapSessionPool pool(c);
  ImapSessionPool otherPool(config);  // "another client": its own connections
  FolderCleanup cleanup(otherPool, alice);
  auto other = otherPool.backendFor(alice.login, alice.password);
  const std::string f = cleanup.add(uniqueName("changes"));
  const std::string dest = cleanup.add(uniqueName("dest"));
  REQUIRE(other->createFolder(f).ok());
  REQUIRE(other->createFolder(dest).ok());
  for (int i = 1; i <= 4; ++i) REQUIRE(other->appendMessage(f, textMessage("c" + std::to_string(i), "b\r\n"), 0).ok());

  auto b = makeImapBackend(pool, alice.login, alice.password);
  // Initial: everything is new.
  auto st = b->folderState(f);
  REQUIRE(st.ok());
  auto first = b->changesSince(f, Watermark{st->uidValidity, 0, std::nullopt}, {});
  REQUIRE(first.ok());
  CHECK(first->added == std::vector<std::uint32_t>{1, 2, 3, 4});
  CHECK(first->flagsChanged.empty());
  CHECK(first->expunged.empty());
  std::vector<KnownItem> known{{1, 0}, {2, 0}, {3, 0}, {4, 0}};
  Watermark wm = watermarkOf(first->state);
  CHECK(wm.modseq.has_value() == condstore);

  // Nothing changed: with a modseq that is one STATUS and nothing else.
  const auto before = b->commandCount();
  auto none = b->changesSince(f, wm, known);
  REQUIRE(none.ok());
  CHECK(none->added.empty());
  CHECK(none->flagsChanged.empty());
  CHECK(none->expunged.empty());
  CHECK(none->byModseq == condstore);
  // NOOP (the folder is selected in this session) + STATUS, nothing else.
  if (condstore) CHECK(b->commandCount() - before <= 2);

  // Another client: new mail, \Seen on 2, \Flagged+$Forwarded on 3, delete 1, move 4.
  auto added = other->appendMessage(f, textMessage("c5", "b\r\n"), 0);
  REQUIRE(added.ok());
  CHECK(*added == 5);
  REQUIRE(other->setFlags(f, {2}, kFlagSeen).ok());
  REQUIRE(other->setFlags(f, {3}, kFlagFlagged | kFlagForwarded).ok());
  REQUIRE(other->deleteMessages(f, {1}).ok());
  auto moved = other->moveMessages(f, {4}, dest);
  REQUIRE(moved.ok());
  REQUIRE(moved->size() == 1);
  CHECK((*moved)[0] == 1);  // the first message in dest

  auto ch = b->changesSince(f, wm, known);
  REQUIRE(ch.ok());
  CHECK(ch->byModseq == condstore);
  CHECK(ch->added == std::vector<std::uint32_t>{5});
  REQUIRE(ch->flagsChanged.size() == 2);
  CHECK(ch->flagsChanged[0].uid == 2);
  CHECK(ch->flagsChanged[0].flags == kFlagSeen);
  CHECK(ch->flagsChanged[1].uid == 3);
  CHECK(ch->flagsChanged[1].flags == (kFlagFlagged | kFlagForwarded));
  CHECK(ch->expunged == std::vector<std::uint32_t>{1, 4});
  CHECK(ch->state.messages == 3);

  // The move's other half: an add in the destination.
  auto ds = b->folderState(dest);
  REQUIRE(ds.ok());
  auto inDest = b->changesSince(dest, Watermark{}, {});  // initial: uidValidity 0
  REQUIRE(inDest.ok());
  CHECK(inDest->added == std::vector<std::uint32_t>{1});
  CHECK(inDest->state.uidValidity == ds->uidValidity);

  // Clearing a flag is seen too, and a repeated call from the new watermark is empty.
  std::vector<KnownItem> known2{{2, kFlagSeen}, {3, kFlagFlagged | kFlagForwarded}, {5, 0}};
  Watermark wm2 = watermarkOf(ch->state);
  REQUIRE(other->clearFlags(f, {2}, kFlagSeen).ok());
  auto ch2 = b->changesSince(f, wm2, known2);
  REQUIRE(ch2.ok());
  REQUIRE(ch2->flagsChanged.size() == 1);
  CHECK(ch2->flagsChanged[0].uid == 2);
  CHECK(ch2->flagsChanged[0].flags == 0);
  CHECK(ch2->added.empty());
  CHECK(ch2->expunged.empty());
}

TEST_CASE_METHOD(Fixture, "a recreated folder reports imap.uidvalidity_changed", "[imap]") {
  ImapSessionPool pool(config);
  FolderCleanup cleanup(pool, alice);
  auto b = pool.backendFor(alice.login, alice.password);
  const std::string f = cleanup.add(uniqueName("uidvalidity"));
  REQUIRE(b->createFolder(f).ok());
  REQUIRE(b->appendMessage(f, textMessage("u1", "x\r\n"), 0).ok());
  auto s = b->folderState(f);
  REQUIRE(s.ok());
  REQUIRE(b->fetchMessages(f, {1}, FetchRequest{}).ok());  // leaves it selected
  REQUIRE(b->deleteFolder(f).ok());
  ::usleep(1100 * 1000);  // Dovecot derives UIDVALIDITY from the clock
  REQUIRE(b->createFolder(f).ok());
  REQUIRE(b->appendMessage(f, textMessage("u2", "x\r\n"), 0).ok());
  auto ch = b->changesSince(f, watermarkOf(*s), {{1, 0}});
  REQUIRE_FALSE(ch.ok());
  CHECK(ch.status().reason() == "imap.uidvalidity_changed");
}

TEST_CASE_METHOD(Fixture, "fetchMessages: a window of 100 in one UID FETCH, partial bodies", "[imap]") {
  ImapSessionPool pool(config);
  FolderCleanup cleanup(pool, alice);
  auto b = makeImapBackend(pool, alice.login, alice.password);
  const std::string f = cleanup.add(uniqueName("window"));
  REQUIRE(b->createFolder(f).ok());
  std::vector<std::uint32_t> uids;
  for (int i = 1; i <= 105; ++i) {
    std::string body;
    for (int k = 0; k < 20; ++k) body += "line " + std::to_string(k) + " of message " + std::to_string(i) + "\r\n";
    auto uid = b->appendMessage(f, textMessage("Message " + std::to_string(i), body), i % 2 ? std::uint32_t{kFlagSeen} : 0u);
    REQUIRE(uid.ok());
    if (i <= 100) uids.push_back(*uid);
  }
  REQUIRE(b->folderState(f).ok());
  FetchRequest what;
  what.headers = true;
  what.sections = {{"1", 0, 64}, {"", 0, 32}, {"TEXT", 7, 10}};
  const auto commands = b->commandCount();
  const auto fetches = b->fetchCount();
  auto r = b->fetchMessages(f, uids, what);
  REQUIRE(r.ok());
  CHECK(b->fetchCount() - fetches == 1);
  CHECK(b->commandCount() - commands <= 2);  // SELECT + one UID FETCH
  REQUIRE(r->size() == 100);
  for (std::size_t i = 0; i < r->size(); ++i) {
    const MessageData& m = (*r)[i];
    const std::string n = std::to_string(i + 1);
    CHECK(m.uid == uids[i]);
    CHECK(m.flags == ((i + 1) % 2 ? kFlagSeen : 0u));
    CHECK(m.size > 500);
    CHECK(m.internalDate > 1'700'000'000);
    REQUIRE(m.envelope.has_value());
    CHECK(m.envelope->subject == "Message " + n);
    REQUIRE(m.envelope->from.size() == 1);
    CHECK(m.envelope->from[0].toString() == "\"Alice Example\" <alice@example.test>");
    CHECK(m.envelope->to.size() == 2);
    CHECK(m.envelope->messageId == "<Message " + n + "@example.test>");
    REQUIRE(m.structure.has_value());
    CHECK(m.structure->type == "text");
    CHECK(m.structure->subtype == "plain");
    CHECK(m.structure->section == "1");
    CHECK(m.structure->param("charset") == "utf-8");
    CHECK(m.headers.find("Subject: Message " + n + "\r\n") != std::string::npos);
    REQUIRE(m.sections.size() == 3);
    std::string body;
    for (int k = 0; k < 20; ++k) body += "line " + std::to_string(k) + " of message " + n + "\r\n";
    CHECK(m.sections[0] == body.substr(0, 64));
    CHECK(m.sections[1] == std::string("From: Alice Example <alice@example.test>\r\n").substr(0, 32));
    CHECK(m.sections[2] == ("line 0 of message " + n).substr(7, 10));
  }
  // A UID that does not exist is simply absent.
  auto gone = b->fetchMessages(f, {uids[0], 9999}, FetchRequest{});
  REQUIRE(gone.ok());
  REQUIRE(gone->size() == 1);
  CHECK(gone->front().uid == uids[0]);
  auto bad = b->fetchMessages(f, {1}, FetchRequest{true, true, false, {{"1.X", 0, {}}}});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().reason() == "imap.bad_section");
}

TEST_CASE_METHOD(Fixture, "searchMessages by date, subject, body and text, with UTF-8", "[imap]") {
  ImapSessionPool pool(config);
  FolderCleanup cleanup(pool, alice);
  auto b = makeImapBackend(pool, alice.login, alice.password);
  const std::string f = cleanup.add(uniqueName("search"));
  REQUIRE(b->createFolder(f).ok());
  auto u1 = b->appendMessage(f, textMessage("Quarterly report", "numbers inside\r\n"), 0);
  auto u2 = b->appendMessage(f, textMessage("Lunch", "the report is late\r\n"), 0);
  auto u3 = b->appendMessage(f, textMessage("=?UTF-8?B?R3LDvMOfZQ==?=", "nothing here\r\n"), kFlagDeleted);
  REQUIRE((u1.ok() && u2.ok() && u3.ok()));
  const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  using U = std::vector<std::uint32_t>;
  auto all = b->searchMessages(f, SearchCriteria{});
  REQUIRE(all.ok());
  CHECK(*all == U{*u1, *u2, *u3});
  SearchCriteria since;
  since.since = now - 86400;
  CHECK(*b->searchMessages(f, since) == U{*u1, *u2, *u3});
  since.since = now + 2 * 86400;
  CHECK(b->searchMessages(f, since)->empty());
  SearchCriteria before;
  before.before = now - 2 * 86400;
  CHECK(b->searchMessages(f, before)->empty());
  SearchCriteria subject;
  subject.subject = "report";
  CHECK(*b->searchMessages(f, subject) == U{*u1});
  SearchCriteria body;
  body.body = "report";
  CHECK(*b->searchMessages(f, body) == U{*u2});
  SearchCriteria text;
  text.text = "report";
  CHECK(*b->searchMessages(f, text) == U{*u1, *u2});
  text.undeleted_only = true;
  CHECK(*b->searchMessages(f, text) == U{*u1, *u2});
  SearchCriteria utf8;
  utf8.subject = "Gr\xc3\xbc\xc3\x9f";
  CHECK(*b->searchMessages(f, utf8) == U{*u3});
  utf8.undeleted_only = true;
  CHECK(b->searchMessages(f, utf8)->empty());
  auto missing = b->searchMessages(uniqueName("nope"), SearchCriteria{});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().reason() == "imap.no_such_folder");
}

TEST_CASE_METHOD(Fixture, "multipart structure, fetchPart byte-exact, fetchFullMessage", "[imap]") {
  ImapSessionPool pool(config);
  FolderCleanup cleanup(pool, alice);
  auto b = pool.backendFor(alice.login, alice.password);
  const std::string f = cleanup.add(uniqueName("parts"));
  REQUIRE(b->createFolder(f).ok());
  std::string attachment;  // base64 lines as they are stored
  for (int i = 0; i < 40; ++i) attachment += "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2" + std::to_string(i % 10) + "\r\n";
  const std::string msg =
      "From: a@example.test\r\nTo: b@example.test\r\nSubject: parts\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"XYZ\"\r\n\r\n"
      "--XYZ\r\nContent-Type: multipart/alternative; boundary=\"ALT\"\r\n\r\n"
      "--ALT\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nplain text\r\n"
      "--ALT\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>html</p>\r\n--ALT--\r\n"
      "--XYZ\r\nContent-Type: application/octet-stream; name=\"data.bin\"\r\n"
      "Content-Disposition: attachment; filename=\"data.bin\"\r\nContent-Transfer-Encoding: base64\r\n"
      "Content-ID: <att1@example.test>\r\n\r\n" +
      attachment + "--XYZ--\r\n";
  auto uid = b->appendMessage(f, msg, kFlagSeen | kFlagAnswered);
  REQUIRE(uid.ok());

  auto r = b->fetchMessages(f, {*uid}, FetchRequest{});
  REQUIRE(r.ok());
  REQUIRE(r->size() == 1);
  CHECK(r->front().flags == (kFlagSeen | kFlagAnswered));
  const BodyPart& root = *r->front().structure;
  CHECK(root.type == "multipart");
  CHECK(root.subtype == "mixed");
  REQUIRE(root.children.size() == 2);
  const BodyPart& alt = root.children[0];
  CHECK(alt.subtype == "alternative");
  CHECK(alt.section == "1");
  REQUIRE(alt.children.size() == 2);
  CHECK(alt.children[0].section == "1.1");
  CHECK(alt.children[0].param("charset") == "iso-8859-1");
  CHECK(alt.children[1].section == "1.2");
  CHECK(alt.children[1].subtype == "html");
  const BodyPart& att = root.children[1];
  CHECK(att.section == "2");
  CHECK(att.type == "application");
  CHECK(att.encoding == "base64");
  CHECK(att.disposition == "attachment");
  CHECK(att.dispositionParam("filename") == "data.bin");
  CHECK(att.id == "<att1@example.test>");
  // The CRLF before the boundary belongs to the boundary (RFC 2046).
  attachment.resize(attachment.size() - 2);
  CHECK(att.size == attachment.size());

  auto whole = b->fetchPart(f, *uid, "2", 0, std::nullopt);
  REQUIRE(whole.ok());
  CHECK(*whole == attachment);
  for (auto [off, len] : {std::pair<std::uint32_t, std::uint32_t>{0, 1}, {10, 50}, {66, 67},
                          {static_cast<std::uint32_t>(attachment.size()) - 5, 100}}) {
    auto piece = b->fetchPart(f, *uid, "2", off, len);
    REQUIRE(piece.ok());
    CHECK(*piece == attachment.substr(off, len));
  }
  auto html = b->fetchPart(f, *uid, "1.2", 0, std::nullopt);
  REQUIRE(html.ok());
  CHECK(*html == "<p>html</p>");
  auto mime = b->fetchPart(f, *uid, "2.MIME", 0, std::nullopt);
  REQUIRE(mime.ok());
  CHECK(mime->find("filename=\"data.bin\"") != std::string::npos);
  auto full = b->fetchFullMessage(f, *uid);
  REQUIRE(full.ok());
  CHECK(*full == msg);
  auto missing = b->fetchPart(f, *uid + 1, "2", 0, std::nullopt);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().reason() == "imap.no_such_message");
  auto noFolder = b->fetchFullMessage(uniqueName("nope"), 1);
  REQUIRE_FALSE(noFolder.ok());
  CHECK(noFolder.status().reason() == "imap.no_such_folder");
}

TEST_CASE_METHOD(Fixture, "folder create, rename, delete", "[imap]") {
  ImapSessionPool pool(config);
  FolderCleanup cleanup(pool, alice);
  auto b = pool.backendFor(alice.login, alice.password);
  const std::string a = cleanup.add(uniqueName("a"));
  const std::string renamed = cleanup.add(uniqueName("renamed"));
  REQUIRE(b->createFolder(a).ok());
  auto again = b->createFolder(a);
  REQUIRE_FALSE(again.ok());
  CHECK(again.reason() == "imap.already_exists");
  REQUIRE(b->appendMessage(a, textMessage("r1", "x\r\n"), 0).ok());
  const auto before = b->folderState(a);
  REQUIRE(b->renameFolder(a, renamed).ok());
  auto after = b->folderState(renamed);
  REQUIRE(after.ok());
  CHECK(after->messages == 1);
  CHECK(b->folderState(a).status().reason() == "imap.no_such_folder");
  REQUIRE(b->deleteFolder(renamed).ok());
  CHECK(b->deleteFolder(renamed).reason() == "imap.no_such_folder");
}

// CI saw this: a device's Drafts Add was the first command of its request,
// on a pooled session Dovecot had dropped a second earlier (not idle long
// enough to be probed), and the APPEND failed with 16.
TEST_CASE_METHOD(Fixture, "a request whose first command is a write survives a just-dropped pooled session",
                 "[imap]") {
  ImapSessionPool pool(config);
  FolderCleanup cleanup(pool, alice);
  const std::string f = cleanup.add(uniqueName("kickw"));
  { REQUIRE(pool.backendFor(alice.login, alice.password)->createFolder(f).ok()); }
  REQUIRE(pool.stats().idle == 1);
  kick(*this, alice.login);
  {
    auto w = pool.backendFor(alice.login, alice.password)->appendMessage(f, textMessage("w", "x\r\n"), 0);
    REQUIRE(w.ok());
  }
  CHECK(pool.stats().logins == 2);
  auto s = pool.backendFor(alice.login, alice.password)->folderState(f);
  REQUIRE(s.ok());
  CHECK(s->messages == 1);  // stored once, not zero or twice
}

TEST_CASE_METHOD(Fixture, "the pool reuses a logged-in session and recovers from a kicked connection",
                 "[imap]") {
  ImapSessionPool pool(config);
  { REQUIRE(pool.backendFor(alice.login, alice.password)->folderState("INBOX").ok()); }
  { REQUIRE(pool.backendFor(alice.login, alice.password)->listFolders().ok()); }
  CHECK(pool.stats().logins == 1);
  CHECK(pool.stats().reuses == 1);
  CHECK(pool.stats().idle == 1);

  // The server drops every connection of alice: the next read is retried
  // once on a new session, invisibly to the caller.
  kick(*this, alice.login);
  {
    auto b = pool.backendFor(alice.login, alice.password);
    auto s = b->folderState("INBOX");
    REQUIRE(s.ok());
  }
  CHECK(pool.stats().logins == 2);
  CHECK(pool.stats().discarded >= 1);

  // While a request holds its session: a read recovers, a write that cannot
  // be safely repeated reports imap.unavailable (and the next request works).
  FolderCleanup cleanup(pool, alice);
  const std::string f = cleanup.add(uniqueName("kick"));
  {
    auto b = pool.backendFor(alice.login, alice.password);
    REQUIRE(b->createFolder(f).ok());
    kick(*this, alice.login);
    CHECK(b->folderState(f).ok());
    kick(*this, alice.login);
    auto w = b->appendMessage(f, textMessage("k", "x\r\n"), 0);
    REQUIRE_FALSE(w.ok());
    CHECK(w.status().reason() == "imap.unavailable");
  }
  auto s = pool.backendFor(alice.login, alice.password)->folderState(f);
  REQUIRE(s.ok());
  CHECK(s->messages == 0);
}

TEST_CASE_METHOD(Fixture, "the pool is thread-safe and keeps to its per-user maximum", "[imap]") {
  ImapConfig c = config;
  c.maxSessionsPerUser = 2;
  ImapSessionPool pool(c);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        auto b = pool.backendFor(alice.login, alice.password);
        if (!b->folderState("INBOX").ok() || !b->listFolders().ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  CHECK(pool.stats().logins <= 2);
  CHECK(pool.stats().logins + pool.stats().reuses == 40);
}

TEST_CASE_METHOD(Fixture, "idle sessions are probed, then closed after the idle timeout", "[imap]") {
  ManualClock clock;
  ImapConfig c = config;
  c.probeAfterIdleMs = 30'000;
  c.idleTimeoutMs = 300'000;
  ImapSessionPool pool(c, clock);
  { REQUIRE(pool.backendFor(alice.login, alice.password)->folderState("INBOX").ok()); }
  clock.advanceMs(60'000);  // past the probe age: NOOP, then reused
  {
    auto b = makeImapBackend(pool, alice.login, alice.password);
    REQUIRE(b->folderState("INBOX").ok());
    // STATUS of the first request, then NOOP (the probe) + STATUS.
    CHECK(b->commandCount() == 3);
  }
  CHECK(pool.stats().logins == 1);
  CHECK(pool.stats().reuses == 1);
  clock.advanceMs(300'000);  // past the idle timeout: closed, a new login
  pool.closeIdle();
  CHECK(pool.stats().idle == 0);
  { REQUIRE(pool.backendFor(alice.login, alice.password)->folderState("INBOX").ok()); }
  CHECK(pool.stats().logins == 2);
}

TEST_CASE_METHOD(Fixture, "a user at the session maximum waits, then gets imap.unavailable", "[imap]") {
  ImapConfig c = config;
  c.maxSessionsPerUser = 1;
  c.acquireWaitMs = 200;
  ImapSessionPool pool(c);
  auto holder = pool.backendFor(alice.login, alice.password);
  REQUIRE(holder->folderState("INBOX").ok());  // holds the only session
  auto r = pool.backendFor(alice.login, alice.password)->folderState("INBOX");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().reason() == "imap.unavailable");
  // Another user is not affected, and the slot comes back with the holder.
  const Account bob = account(env, 2);
  CHECK(pool.backendFor(bob.login, bob.password)->folderState("INBOX").ok());
  holder.reset();
  CHECK(pool.backendFor(alice.login, alice.password)->folderState("INBOX").ok());
  CHECK(pool.stats().logins == 2);
}

TEST_CASE_METHOD(Fixture, "setKeywords adds and removes keywords, seen by another client", "[imap]") {
  ImapSessionPool pool(config);
  ImapSessionPool otherPool(config);
  FolderCleanup cleanup(otherPool, alice);
  auto other = otherPool.backendFor(alice.login, alice.password);
  const std::string f = cleanup.add(uniqueName("keywords"));
  REQUIRE(other->createFolder(f).ok());
  REQUIRE(other->appendMessage(f, textMessage("k1", "b\r\n"), 0).ok());
  REQUIRE(other->appendMessage(f, textMessage("k2", "b\r\n"), 0).ok());
  auto b = pool.backendFor(alice.login, alice.password);
  FetchRequest what;
  what.envelope = false;
  what.bodyStructure = false;
  auto keywordsOf = [&](std::uint32_t uid) {
    auto got = other->fetchMessages(f, {uid}, what);
    REQUIRE(got.ok());
    REQUIRE(got->size() == 1);
    std::vector<std::string> k = got->front().keywords;
    std::sort(k.begin(), k.end());
    return k;
  };
  REQUIRE(b->setKeywords(f, {1}, {"Work", "Red&20Category", "$Forwarded"}, {}).ok());
  CHECK(keywordsOf(1) == std::vector<std::string>{"Red&20Category", "Work"});  // $Forwarded is a flag bit
  CHECK(keywordsOf(2).empty());
  REQUIRE(b->setKeywords(f, {1, 2}, {"Home"}, {"Work", "Home"}).ok());  // in both: added
  CHECK(keywordsOf(1) == std::vector<std::string>{"Home", "Red&20Category"});
  CHECK(keywordsOf(2) == std::vector<std::string>{"Home"});
  // Not an atom: refused before anything is sent.
  auto bad = b->setKeywords(f, {1}, {"two words"}, {});
  CHECK(bad.reason() == "imap.refused");
  CHECK(b->setKeywords(f, {1}, {}, {}).ok());
  CHECK(b->setKeywords(uniqueName("missing"), {1}, {"X"}, {}).reason() == "imap.no_such_folder");
}
