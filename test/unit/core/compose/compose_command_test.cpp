// SendMail / SmartReply / SmartForward through the command, with a fake
// submitter, a fake mail backend and a real SQLite store: every status of
// the failure table (compose_command.h), both request forms, the ClientId
// memory, flags and the Sent copy.
#include "core/commands/compose_command.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <functional>
#include <optional>
#include <tuple>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/backends/mail_backend.h"
#include "core/backends/mail_submitter.h"
#include "core/commands/send_mail_command.h"
#include "core/commands/smart_forward_command.h"
#include "core/commands/smart_reply_command.h"
#include "core/protocol/capabilities.h"
#include "core/status_map.h"
#include "storage/metadata_store.h"
#include "storage/store_admin.h"

namespace cm = eas::wbxml::tags::ComposeMail;
using namespace eas;

namespace {

struct Mailbox {
  std::map<std::pair<std::string, std::uint32_t>, std::string> messages;
  std::map<std::pair<std::string, std::uint32_t>, std::uint32_t> flags;
  std::vector<std::pair<std::string, std::string>> appended;  // folder, bytes
  std::vector<std::uint32_t> append_flags;
  bool down = false;
  bool sent_folder = true;
};

class FakeBackend final : public backend::MailBackend {
 public:
  explicit FakeBackend(Mailbox& m) : m_(m) {}
  Result<std::vector<backend::FolderInfo>> listFolders() override {
    if (m_.down) return Status::Unavailable("imap.unavailable", "down");
    std::vector<backend::FolderInfo> out;
    backend::FolderInfo inbox;
    inbox.name = "INBOX";
    inbox.role = backend::FolderRole::kInbox;
    out.push_back(inbox);
    if (m_.sent_folder) {
      backend::FolderInfo sent;
      sent.name = "Sent";
      sent.role = backend::FolderRole::kSent;
      out.push_back(sent);
    }
    return out;
  }
  Result<backend::FolderState> folderState(const std::string&) override { return no(); }
  Result<backend::Changes> changesSince(const std::string&, const backend::Watermark&,
                                        const std::vector<backend::KnownItem>&) override {
    return no();
  }
  Result<std::vector<backend::MessageData>> fetchMessages(const std::string&,
                                                          const std::vector<std::uint32_t>&,
                                                          const backend::FetchRequest&) override {
    return no();
  }
  Result<std::string> fetchPart(const std::string&, std::uint32_t, const std::string&, std::uint32_t,
                                std::optional<std::uint32_t>) override {
    return no();
  }
  Result<std::string> fetchFullMessage(const std::string& folder, std::uint32_t uid) override {
    if (m_.down) return Status::Unavailable("imap.unavailable", "down");
    auto it = m_.messages.find({folder, uid});
    if (it == m_.messages.end()) return Status::NotFound("imap.no_such_message", "gone");
    return it->second;
  }
  Result<std::vector<std::uint32_t>> searchMessages(const std::string&,
                                                    const backend::SearchCriteria&) override {
    return no();
  }
  Status setFlags(const std::string& folder, const std::vector<std::uint32_t>& uids,
                  std::uint32_t flags) override {
    for (std::uint32_t u : uids) m_.flags[{folder, u}] |= flags;
    return Status::Ok();
  }
  Status clearFlags(const std::string&, const std::vector<std::uint32_t>&, std::uint32_t) override {
    return no();
  }
  Status setKeywords(const std::string&, const std::vector<std::uint32_t>&,
                     const std::vector<std::string>&, const std::vector<std::string>&) override {
    return no();
  }
  Result<std::vector<std::uint32_t>> moveMessages(const std::string&, const std::vector<std::uint32_t>&,
                                                  const std::string&) override {
    return no();
  }
  Status deleteMessages(const std::string&, const std::vector<std::uint32_t>&) override { return no(); }
  Result<std::uint32_t> appendMessage(const std::string& folder, std::string_view message,
                                      std::uint32_t flags) override {
    m_.appended.emplace_back(folder, std::string(message));
    m_.append_flags.push_back(flags);
    return static_cast<std::uint32_t>(m_.appended.size());
  }
  Status createFolder(const std::string&) override { return no(); }
  Status renameFolder(const std::string&, const std::string&) override { return no(); }
  Status deleteFolder(const std::string&) override { return no(); }

 private:
  static Status no() { return Status::NotSupported("fake.unsupported"); }
  Mailbox& m_;
};

class FakeProvider final : public commands::MailBackendProvider {
 public:
  explicit FakeProvider(Mailbox& m) : m_(m) {}
  std::unique_ptr<backend::MailBackend> open(const std::string&, const std::string&) override {
    return std::make_unique<FakeBackend>(m_);
  }

 private:
  Mailbox& m_;
};

class FakeSubmitter final : public backend::MailSubmitter {
 public:
  Status submit(const backend::Submission& s) override {
    if (!next_failure.ok()) return next_failure;
    sent.push_back(s);
    return Status::Ok();
  }
  std::vector<backend::Submission> sent;
  Status next_failure;
};

class Ctx final : public commands::CommandContext {
 public:
  explicit Ctx(const commands::CommandRequest& r) : r_(r) {}
  const commands::CommandRequest& request() const override { return r_; }
  std::unique_ptr<commands::DeferredReply> park() override { return nullptr; }

 private:
  const commands::CommandRequest& r_;
};

const char* kOriginal =
    "From: Bob <bob@example.test>\r\nTo: alice@example.test\r\nSubject: Lunch\r\n"
    "Message-ID: <lunch-1@example.test>\r\nDate: Mon, 30 Nov 2026 10:00:00 +0000\r\n"
    "Content-Type: text/plain\r\n\r\nNoon?\r\n";

std::string mime(const std::string& to = "bob@example.test", const std::string& extra = {}) {
  return "From: alice@example.test\r\nTo: " + to + "\r\n" + extra +
         "Subject: Test\r\nContent-Type: text/plain\r\n\r\nBody\r\n";
}

struct Outcome {
  int http = 200;     // what status_map makes of a failure (12.x), or 200
  int status = 0;     // the WBXML Status (14.x), 0 when the body is empty
  std::string body;
};

struct Env {
  std::string dir;
  std::unique_ptr<storage::MetadataStore> store;
  Mailbox mailbox;
  FakeProvider provider{mailbox};
  FakeSubmitter smtp;
  commands::Services services;
  storage::DeviceRef ref{"alice@example.test", "DEV1"};

  Env() {
    char tmpl[] = "/tmp/compose_test_XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    const std::string url = "sqlite:" + dir + "/eas.db";
    auto admin = storage::openStoreAdmin(url);
    REQUIRE(admin.ok());
    REQUIRE((*admin)->upgrade().ok());
    auto s = storage::openMetadataStore(url);
    REQUIRE(s.ok());
    store = std::move(*s);
    services.store = store.get();
    services.mail = &provider;
    services.smtp = &smtp;
    // The device's folder map: 5 = INBOX, 7 = Sent.
    std::vector<storage::FolderChange> ch;
    for (auto [id, name, type] : {std::tuple{"5", "INBOX", 2}, std::tuple{"7", "Sent", 5}}) {
      storage::FolderChange c;
      c.folder.server_id = id;
      c.folder.backend_id = name;
      c.folder.parent_id = "0";
      c.folder.type = type;
      c.folder.display_name = name;
      ch.push_back(c);
    }
    REQUIRE(store->commitFolderSync(ref, 0, 1, ch, "x").ok());
    mailbox.messages[{"INBOX", 17}] = kOriginal;
  }
  ~Env() {
    store.reset();
    (void)std::system(("rm -rf '" + dir + "'").c_str());
  }

  Outcome run(commands::ComposeKind kind, const std::string& version, const std::string& wbxml_body,
              const std::string& raw_body, const protocol::EasQuery& q_in = {}) {
    protocol::EasQuery query = q_in;
    query.device_id = ref.device_id;
    query.device_type = "iPhone";
    auto v = protocol::parseProtocolVersion(version);
    REQUIRE(v.has_value());
    commands::CommandRequest req;
    req.capabilities = protocol::capabilitiesFor(*v);
    req.query = &query;
    req.login = ref.user;
    req.password = "secret";
    req.services = &services;
    Result<wbxml::Document> doc = Status::InvalidArgument("none");
    if (!wbxml_body.empty()) {
      doc = wbxml::decode(wbxml_body);
      REQUIRE(doc.ok());
      req.document = &*doc;
    }
    req.body = raw_body;
    Ctx ctx(req);
    auto cmd = kind == commands::ComposeKind::kSendMail     ? commands::makeSendMailCommand()
               : kind == commands::ComposeKind::kSmartReply ? commands::makeSmartReplyCommand()
                                                            : commands::makeSmartForwardCommand();
    auto reply = cmd->handle(ctx);
    REQUIRE(reply.has_value());
    Outcome o;
    o.body = reply->body;
    if (!reply->status.ok()) {
      o.http = answerFor(reply->status, req.capabilities.wbxml_common_status).http_status;
      CHECK(reply->body.empty());
      return o;
    }
    if (!reply->body.empty()) {
      auto out = wbxml::decode(reply->body);
      REQUIRE(out.ok());
      o.status = std::atoi(std::string(out->root().childText(cm::Status)).c_str());
      CHECK(o.status == reply->eas_status);
    }
    return o;
  }
};

struct Compose {
  wbxml::Tag root = cm::SendMail;
  std::string client_id = "c1";
  bool client_id_el = true;
  bool save = false, replace = false;
  std::string folder = "5", item = "5:17", long_id, instance, account;
  bool source = false;
  std::optional<std::string> mime_body = mime();

  std::string encode() const {
    std::string out;
    wbxml::Writer w(&out);
    w.start(root);
    if (client_id_el) w.element(cm::ClientId, client_id);
    if (!account.empty()) w.element(cm::AccountId, account);
    if (source) {
      w.start(cm::Source);
      if (!folder.empty()) w.element(cm::FolderId, folder);
      if (!item.empty()) w.element(cm::ItemId, item);
      if (!long_id.empty()) w.element(cm::LongId, long_id);
      if (!instance.empty()) w.element(cm::InstanceId, instance);
      w.end();
    }
    if (save) w.empty(cm::SaveInSentItems);
    if (replace) w.empty(cm::ReplaceMime);
    if (mime_body) w.opaqueElement(cm::Mime, *mime_body);
    w.end();
    w.flush();
    return out;
  }
};

using K = commands::ComposeKind;

}  // namespace

TEST_CASE("14.1 SendMail submits, answers an empty 200, remembers the ClientId", "[compose]") {
  Env env;
  Compose c;
  c.save = true;
  Outcome o = env.run(K::kSendMail, "14.1", c.encode(), {});
  CHECK(o.http == 200);
  CHECK(o.body.empty());
  REQUIRE(env.smtp.sent.size() == 1);
  CHECK(env.smtp.sent[0].envelope_from == "alice@example.test");
  CHECK(env.smtp.sent[0].recipients == std::vector<std::string>{"bob@example.test"});
  CHECK(env.smtp.sent[0].login == "alice@example.test");
  REQUIRE(env.mailbox.appended.size() == 1);
  CHECK(env.mailbox.appended[0].first == "Sent");
  CHECK(env.mailbox.append_flags[0] == backend::kFlagSeen);

  // The same ClientId again: 118, nothing sent.
  Outcome again = env.run(K::kSendMail, "14.1", c.encode(), {});
  CHECK(again.status == 118);
  CHECK(env.smtp.sent.size() == 1);
  // Another ClientId goes.
  c.client_id = "c2";
  c.save = false;
  CHECK(env.run(K::kSendMail, "14.1", c.encode(), {}).body.empty());
  CHECK(env.smtp.sent.size() == 2);
  CHECK(env.mailbox.appended.size() == 1);  // no SaveInSentItems this time
}

TEST_CASE("a failed submission is not remembered: the retry goes", "[compose]") {
  Env env;
  Compose c;
  env.smtp.next_failure = Status::Unavailable("smtp.unavailable", "down");
  CHECK(env.run(K::kSendMail, "14.1", c.encode(), {}).status == 120);
  env.smtp.next_failure = Status::Ok();
  CHECK(env.run(K::kSendMail, "14.1", c.encode(), {}).body.empty());
  CHECK(env.smtp.sent.size() == 1);
}

TEST_CASE("12.1 SendMail takes the MIME body and SaveInSent from the query", "[compose]") {
  Env env;
  protocol::EasQuery q;
  q.save_in_sent = true;
  Outcome o = env.run(K::kSendMail, "12.1", {}, mime(), q);
  CHECK(o.http == 200);
  CHECK(o.body.empty());
  CHECK(env.smtp.sent.size() == 1);
  CHECK(env.mailbox.appended.size() == 1);
  // 2.5 the same, without SaveInSent.
  Outcome o25 = env.run(K::kSendMail, "2.5", {}, mime());
  CHECK(o25.http == 200);
  CHECK(env.smtp.sent.size() == 2);
  CHECK(env.mailbox.appended.size() == 1);
}

TEST_CASE("SmartReply quotes, flags \\Answered; SmartForward flags $Forwarded", "[compose]") {
  Env env;
  Compose c;
  c.root = cm::SmartReply;
  c.source = true;
  CHECK(env.run(K::kSmartReply, "14.1", c.encode(), {}).body.empty());
  REQUIRE(env.smtp.sent.size() == 1);
  CHECK(env.smtp.sent[0].message.find("> Noon?") != std::string::npos);
  CHECK(env.mailbox.flags[{"INBOX", 17}] == backend::kFlagAnswered);

  c.root = cm::SmartForward;
  c.client_id = "c2";
  c.folder.clear();  // ItemId alone names the collection
  CHECK(env.run(K::kSmartForward, "14.1", c.encode(), {}).body.empty());
  REQUIRE(env.smtp.sent.size() == 2);
  CHECK(env.smtp.sent[1].message.find("Noon?") != std::string::npos);
  CHECK(env.mailbox.flags[{"INBOX", 17}] == (backend::kFlagAnswered | backend::kFlagForwarded));

  // ReplaceMime: the device's MIME alone.
  c.client_id = "c3";
  c.replace = true;
  CHECK(env.run(K::kSmartForward, "14.1", c.encode(), {}).body.empty());
  REQUIRE(env.smtp.sent.size() == 3);
  CHECK(env.smtp.sent[2].message.find("Noon?") == std::string::npos);

  // LongId (Search) works as a ServerId.
  c.client_id = "c4";
  c.replace = false;
  c.item.clear();
  c.long_id = "5:17";
  CHECK(env.run(K::kSmartForward, "14.1", c.encode(), {}).body.empty());
  CHECK(env.smtp.sent.size() == 4);
}

TEST_CASE("12.1 SmartReply with ItemId and CollectionId in the query", "[compose]") {
  Env env;
  protocol::EasQuery q;
  q.item_id = "5:17";
  q.collection_id = "5";
  q.save_in_sent = true;
  Outcome o = env.run(K::kSmartReply, "12.1", {}, mime(), q);
  CHECK(o.http == 200);
  REQUIRE(env.smtp.sent.size() == 1);
  CHECK(env.smtp.sent[0].message.find("> Noon?") != std::string::npos);
  CHECK(env.mailbox.flags[{"INBOX", 17}] == backend::kFlagAnswered);
  CHECK(env.mailbox.appended.size() == 1);
  q.item_id = "5:99";
  CHECK(env.run(K::kSmartReply, "12.1", {}, mime(), q).http == 400);
  q.item_id.clear();
  CHECK(env.run(K::kSmartReply, "12.1", {}, mime(), q).http == 400);
}

TEST_CASE("every failure status on 14.1, and its HTTP code on 12.1", "[compose]") {
  struct Row {
    const char* what;
    K kind;
    Compose c;
    std::function<void(Env&)> setup;
    int status;
    int http;  // on 12.1 for the same failure; 0: no 12.x form
  };
  auto reply = [] {
    Compose c;
    c.root = cm::SmartReply;
    c.source = true;
    return c;
  };
  auto with = [](Compose c, auto f) {
    f(c);
    return c;
  };
  std::vector<Row> rows = {
      {"no ClientId", K::kSendMail, with(Compose{}, [](Compose& c) { c.client_id_el = false; }), {}, 103, 0},
      {"ClientId > 40", K::kSendMail, with(Compose{}, [](Compose& c) { c.client_id = std::string(41, 'x'); }), {}, 103, 0},
      {"no Mime", K::kSendMail, with(Compose{}, [](Compose& c) { c.mime_body.reset(); }), {}, 103, 0},
      {"no Source", K::kSmartReply, with(reply(), [](Compose& c) { c.source = false; }), {}, 103, 0},
      {"bad InstanceId", K::kSmartReply, with(reply(), [](Compose& c) { c.instance = "tomorrow"; }), {}, 104, 0},
      {"empty MIME", K::kSendMail, with(Compose{}, [](Compose& c) { c.mime_body = ""; }), {}, 107, 400},
      {"no headers", K::kSendMail, with(Compose{}, [](Compose& c) { c.mime_body = "\r\n\r\nbody"; }), {}, 107, 400},
      {"no recipient", K::kSendMail, with(Compose{}, [](Compose& c) { c.mime_body = "Subject: x\r\n\r\nb"; }), {}, 119, 400},
      {"not configured", K::kSendMail, Compose{}, [](Env& e) { e.services.smtp = nullptr; }, 110, 500},
      {"SMTP down", K::kSendMail, Compose{}, [](Env& e) { e.smtp.next_failure = Status::Unavailable("smtp.unavailable", "x"); }, 120, 503},
      {"SMTP 4xx", K::kSendMail, Compose{}, [](Env& e) { e.smtp.next_failure = Status::Unavailable("smtp.temporary", "x"); }, 120, 503},
      {"SMTP 5xx", K::kSendMail, Compose{}, [](Env& e) { e.smtp.next_failure = Status::Internal("smtp.rejected", "x"); }, 120, 500},
      {"SMTP auth", K::kSendMail, Compose{}, [](Env& e) { e.smtp.next_failure = Status::PermissionDenied("smtp.auth_failed", "x"); }, 120, 403},
      {"SMTP 552", K::kSendMail, Compose{}, [](Env& e) { e.smtp.next_failure = Status::LimitExceeded("smtp.too_large", "x"); }, 122, 400},
      {"SMTP garbage", K::kSendMail, Compose{}, [](Env& e) { e.smtp.next_failure = Status::Internal("smtp.protocol", "x"); }, 110, 500},
      {"unknown item", K::kSmartReply, with(reply(), [](Compose& c) { c.item = "5:99"; }), {}, 150, 400},
      {"unknown folder", K::kSmartReply, with(reply(), [](Compose& c) { c.folder = "42"; c.item = "42:17"; }), {}, 150, 400},
      {"junk ItemId", K::kSmartForward, with(reply(), [](Compose& c) { c.root = cm::SmartForward; c.folder.clear(); c.item = "junk"; }), {}, 150, 400},
      {"IMAP down", K::kSmartReply, reply(), [](Env& e) { e.mailbox.down = true; }, 110, 503},
      {"other AccountId", K::kSendMail, with(Compose{}, [](Compose& c) { c.account = "bob@example.test"; }), {}, 166, 0},
  };
  for (const Row& r : rows) {
    INFO(r.what);
    {
      Env env;
      if (r.setup) r.setup(env);
      Outcome o = env.run(r.kind, "14.1", r.c.encode(), {});
      CHECK(o.http == 200);
      CHECK(o.status == r.status);
      CHECK(env.smtp.sent.empty());
      CHECK(env.mailbox.flags.empty());
    }
    if (r.http == 0) continue;
    Env env;
    if (r.setup) r.setup(env);
    protocol::EasQuery q;
    q.item_id = r.c.item;
    q.collection_id = r.c.folder;
    Outcome o = env.run(r.kind, "12.1", {}, r.c.mime_body.value_or(""), q);
    CHECK(o.http == r.http);
    CHECK(env.smtp.sent.empty());
  }
}

TEST_CASE("sent, but no Sent folder or a failed flag: still success", "[compose]") {
  Env env;
  env.mailbox.sent_folder = false;
  REQUIRE(env.store->commitFolderSync(env.ref, 1, 2, {[] {
    storage::FolderChange c;
    c.kind = storage::FolderChange::Kind::kDelete;
    c.folder.server_id = "7";
    return c;
  }()}, "y").ok());
  Compose c;
  c.save = true;
  CHECK(env.run(K::kSendMail, "14.1", c.encode(), {}).body.empty());
  CHECK(env.smtp.sent.size() == 1);
  CHECK(env.mailbox.appended.empty());
}

TEST_CASE("ClientId memory keeps the newest ids", "[compose]") {
  std::string stored;
  for (int i = 0; i < 100; ++i) stored = commands::rememberClientId(stored, "id" + std::to_string(i));
  CHECK(commands::clientIdSeen(stored, "id99"));
  CHECK(commands::clientIdSeen(stored, "id36"));
  CHECK_FALSE(commands::clientIdSeen(stored, "id35"));
  CHECK_FALSE(commands::clientIdSeen(stored, "id9"));
  CHECK_FALSE(commands::clientIdSeen("", "x"));
}
