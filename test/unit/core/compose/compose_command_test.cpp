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
#include <mutex>
#include <thread>
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
#include "storage/testing/faulty_metadata_store.h"
#include "test/unit/core/testing/unsupported_mail_backend.h"

namespace cm = eas::wbxml::tags::ComposeMail;
namespace asb = eas::wbxml::tags::AirSyncBase;
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

class FakeBackend final : public eas::testing::UnsupportedMailBackend {
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
  Result<std::string> fetchFullMessage(const std::string& folder, std::uint32_t uid) override {
    if (m_.down) return Status::Unavailable("imap.unavailable", "down");
    auto it = m_.messages.find({folder, uid});
    if (it == m_.messages.end()) return Status::NotFound("imap.no_such_message", "gone");
    return it->second;
  }
  Status setFlags(const std::string& folder, const std::vector<std::uint32_t>& uids,
                  std::uint32_t flags) override {
    for (std::uint32_t u : uids) m_.flags[{folder, u}] |= flags;
    return Status::Ok();
  }
  Result<std::uint32_t> appendMessage(const std::string& folder, std::string_view message,
                                      std::uint32_t flags) override {
    m_.appended.emplace_back(folder, std::string(message));
    m_.append_flags.push_back(flags);
    return static_cast<std::uint32_t>(m_.appended.size());
  }

 private:
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
  // 16.x: airsyncbase:Body {Type, Data}, airsyncbase:Attachments, Forwardees.
  std::optional<std::pair<std::string, std::string>> body;
  bool attachments = false;
  bool forwardees_el = false;
  std::vector<std::pair<std::string, std::string>> forwardees;  // name, email ("" = absent)
  bool template_id = false;

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
    if (template_id) w.element(wbxml::tags::RightsManagement::TemplateID, "t-1");
    if (body) {
      w.start(asb::Body);
      if (!body->first.empty()) w.element(asb::Type, body->first);
      w.element(asb::Data, body->second);
      w.end();
    }
    if (attachments) {
      w.start(asb::Attachments).start(asb::Add);
      w.element(asb::ClientId, "a1").element(asb::DisplayName, "x.bin");
      w.element(asb::Method, std::int64_t{1}).opaqueElement(asb::Content, "xyz");
      w.end().end();
    }
    if (forwardees_el) {
      w.start(cm::Forwardees);
      for (const auto& [name, email] : forwardees) {
        w.start(cm::Forwardee);
        if (!name.empty()) w.element(cm::ForwardeeName, name);
        if (email != "\x01") w.element(cm::ForwardeeEmail, email);
        w.end();
      }
      w.end();
    }
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


namespace {

// A 16.1 SmartForward in the Body form: no Mime, a note, Forwardees.
Compose bodyForward() {
  Compose c;
  c.root = cm::SmartForward;
  c.source = true;
  c.mime_body.reset();
  c.body = {{"1", "Forwarding this"}};
  c.forwardees_el = true;
  c.forwardees = {{"Carol", "carol@example.test"}, {"", "dave@example.test"}};
  return c;
}

}  // namespace

TEST_CASE("16.1 SmartForward with Body and Forwardees goes to the forwardees", "[compose]") {
  Env env;
  Outcome o = env.run(K::kSmartForward, "16.1", bodyForward().encode(), {});
  CHECK(o.http == 200);
  CHECK(o.body.empty());
  REQUIRE(env.smtp.sent.size() == 1);
  const backend::Submission& sub = env.smtp.sent[0];
  CHECK(sub.envelope_from == "alice@example.test");
  CHECK(sub.recipients == std::vector<std::string>{"carol@example.test", "dave@example.test"});
  CHECK(sub.message.find("Carol <carol@example.test>") != std::string::npos);
  CHECK(sub.message.find("Subject: Fw: Lunch") != std::string::npos);
  CHECK(sub.message.find("Forwarding this") != std::string::npos);
  CHECK(sub.message.find("Noon?") != std::string::npos);  // the original comes along
  CHECK(env.mailbox.flags[{"INBOX", 17}] == backend::kFlagForwarded);
  CHECK(env.mailbox.appended.empty());  // SaveInSentItems is not allowed in this form

  // The Forwardees alone (no Body) are enough; the same ClientId is 118.
  Compose bare = bodyForward();
  bare.client_id = "c2";
  bare.body.reset();
  CHECK(env.run(K::kSmartForward, "16.1", bare.encode(), {}).body.empty());
  CHECK(env.smtp.sent.size() == 2);
  CHECK(env.run(K::kSmartForward, "16.1", bare.encode(), {}).status == 118);
  CHECK(env.smtp.sent.size() == 2);

  // The Mime form still works on 16.1, and with an HTML Body type too.
  Compose m;
  m.client_id = "c3";
  CHECK(env.run(K::kSendMail, "16.1", m.encode(), {}).body.empty());
  Compose html = bodyForward();
  html.client_id = "c4";
  html.body = {{"2", "<b>see</b>"}};
  CHECK(env.run(K::kSmartForward, "16.0", html.encode(), {}).body.empty());
  REQUIRE(env.smtp.sent.size() == 4);
  CHECK(env.smtp.sent[3].message.find("text/html") != std::string::npos);
}

TEST_CASE("16.x bad inputs: 178 and 179 with their reason tokens, nothing sent", "[compose]") {
  struct Row {
    const char* what;
    K kind;
    std::string version;
    Compose c;
    int status;
    const char* reason;
  };
  auto with = [](Compose c, auto f) {
    f(c);
    return c;
  };
  const Compose fwd = bodyForward();
  Compose send_body;
  send_body.body = {{"1", "x"}};
  Compose reply_fwd = with(fwd, [](Compose& c) {
    c.root = cm::SmartReply;
    c.mime_body = mime();
  });
  std::vector<Row> rows = {
      {"SendMail with Mime and Body", K::kSendMail, "16.1", send_body, 178, "compose.body_not_allowed"},
      {"SendMail with Body, no Mime", K::kSendMail, "16.1",
       with(send_body, [](Compose& c) { c.mime_body.reset(); }), 178, "compose.body_not_allowed"},
      {"SendMail with Attachments", K::kSendMail, "16.1",
       with(Compose{}, [](Compose& c) { c.attachments = true; }), 178, "compose.body_not_allowed"},
      {"SmartReply with Forwardees", K::kSmartReply, "16.1", reply_fwd, 178, "compose.body_not_allowed"},
      {"Mime and Forwardees", K::kSmartForward, "16.1",
       with(fwd, [](Compose& c) { c.body.reset(); c.mime_body = mime(); }), 178, "compose.mime_and_body"},
      {"Mime and Body", K::kSmartForward, "16.0",
       with(fwd, [](Compose& c) { c.forwardees_el = false; c.mime_body = mime(); }), 178,
       "compose.mime_and_body"},
      {"neither Mime nor Body", K::kSmartForward, "16.1",
       with(fwd, [](Compose& c) { c.body.reset(); c.forwardees_el = false; }), 178,
       "compose.no_mime_or_body"},
      {"Body form with SaveInSentItems", K::kSmartForward, "16.1",
       with(fwd, [](Compose& c) { c.save = true; }), 178, "compose.body_form_options"},
      {"Body form with ReplaceMime", K::kSmartForward, "16.1",
       with(fwd, [](Compose& c) { c.replace = true; }), 178, "compose.body_form_options"},
      {"Body form with TemplateID", K::kSmartForward, "16.1",
       with(fwd, [](Compose& c) { c.template_id = true; }), 178, "compose.body_form_options"},
      {"Body without Forwardees", K::kSmartForward, "16.1",
       with(fwd, [](Compose& c) { c.forwardees_el = false; }), 179, "compose.bad_forwardees"},
      {"empty Forwardees", K::kSmartForward, "16.1",
       with(fwd, [](Compose& c) { c.forwardees.clear(); }), 179, "compose.bad_forwardees"},
      {"Forwardee without Email", K::kSmartForward, "16.1",
       with(fwd, [](Compose& c) { c.forwardees = {{"Carol", "\x01"}}; }), 179, "compose.bad_forwardees"},
      {"Forwardee Email no address", K::kSmartForward, "16.1",
       with(fwd, [](Compose& c) { c.forwardees = {{"", "carol"}}; }), 179, "compose.bad_forwardees"},
      {"Forwardee Email two @", K::kSmartForward, "16.1",
       with(fwd, [](Compose& c) { c.forwardees = {{"", "a@b@example.test"}}; }), 179,
       "compose.bad_forwardees"},
      {"Forwardee Email with a space", K::kSmartForward, "16.1",
       with(fwd, [](Compose& c) { c.forwardees = {{"", "carol @example.test"}}; }), 179,
       "compose.bad_forwardees"},
      {"one good, one empty Email", K::kSmartForward, "16.1",
       with(fwd, [](Compose& c) { c.forwardees.push_back({"", ""}); }), 179, "compose.bad_forwardees"},
      {"Forwardee Name with CRLF", K::kSmartForward, "16.1",
       with(fwd, [](Compose& c) { c.forwardees = {{"x\r\nBcc: e@x.test", "carol@example.test"}}; }), 179,
       "compose.bad_forwardees"},
      {"Body Type 3 (RTF)", K::kSmartForward, "16.1",
       with(fwd, [](Compose& c) { c.body = {{"3", "x"}}; }), 179, "compose.bad_forward_body"},
      {"Body Type 4 (MIME)", K::kSmartForward, "16.1",
       with(fwd, [](Compose& c) { c.body = {{"4", "x"}}; }), 179, "compose.bad_forward_body"},
      {"Body without Type", K::kSmartForward, "16.1",
       with(fwd, [](Compose& c) { c.body = {{"", "x"}}; }), 179, "compose.bad_forward_body"},
      {"Body form with Attachments", K::kSmartForward, "16.1",
       with(fwd, [](Compose& c) { c.attachments = true; }), 179, "compose.unexpected_element"},
      // The version gate: before 16.0 the Body form does not exist, Mime is required.
      {"14.1 Forwardees without Mime", K::kSmartForward, "14.1", fwd, 103, "compose.bad_request"},
  };
  for (const Row& r : rows) {
    INFO(r.what);
    Env env;
    // The parser's verdict and token...
    {
      protocol::EasQuery query;
      commands::CommandRequest req;
      req.capabilities = protocol::capabilitiesFor(*protocol::parseProtocolVersion(r.version));
      req.query = &query;
      const std::string bytes = r.c.encode();
      auto doc = wbxml::decode(bytes);
      REQUIRE(doc.ok());
      req.document = &*doc;
      commands::ComposeRequest parsed;
      auto f = commands::parseComposeRequest(req, r.kind, &parsed);
      REQUIRE(f.has_value());
      CHECK(f->eas_status == r.status);
      CHECK(f->status.reason() == r.reason);
    }
    // ...and through the command: the status, nothing sent, no flag, and
    // the ClientId not used up (a good request with it goes).
    Outcome o = env.run(r.kind, r.version, r.c.encode(), {});
    CHECK(o.http == 200);
    CHECK(o.status == r.status);
    CHECK(env.smtp.sent.empty());
    CHECK(env.mailbox.flags.empty());
    CHECK(env.run(K::kSendMail, "16.1", Compose{}.encode(), {}).body.empty());
    CHECK(env.smtp.sent.size() == 1);
  }
}

TEST_CASE("a failure after the claim releases the ClientId; a store error is 110", "[compose]") {
  Env env;
  Compose c;
  c.root = cm::SmartReply;
  c.source = true;
  c.item = "5:99";  // unknown: 150
  CHECK(env.run(K::kSmartReply, "14.1", c.encode(), {}).status == 150);
  c.item = "5:17";
  CHECK(env.run(K::kSmartReply, "14.1", c.encode(), {}).body.empty());
  CHECK(env.smtp.sent.size() == 1);
  CHECK(env.run(K::kSmartReply, "14.1", c.encode(), {}).status == 118);
  // Bad MIME (107) after the claim: released too.
  Compose bad;
  bad.client_id = "c9";
  bad.mime_body = "";
  CHECK(env.run(K::kSendMail, "14.1", bad.encode(), {}).status == 107);
  Compose good;
  good.client_id = "c9";
  CHECK(env.run(K::kSendMail, "14.1", good.encode(), {}).body.empty());
  CHECK(env.smtp.sent.size() == 2);

  // The store cannot claim: 110, nothing sent; once it can, the same ClientId goes.
  auto inner = storage::openMetadataStore("sqlite:" + env.dir + "/eas.db");
  REQUIRE(inner.ok());
  storage::testing::FaultyMetadataStore faulty(std::move(*inner));
  faulty.failClientIdClaims(true);
  env.services.store = &faulty;
  good.client_id = "c10";
  CHECK(env.run(K::kSendMail, "14.1", good.encode(), {}).status == 110);
  CHECK(env.smtp.sent.size() == 2);
  faulty.failClientIdClaims(false);
  CHECK(env.run(K::kSendMail, "14.1", good.encode(), {}).body.empty());
  CHECK(env.smtp.sent.size() == 3);
}

namespace {

// Submits slowly, so a second request arrives while the first is sending.
class SlowSubmitter final : public backend::MailSubmitter {
 public:
  Status submit(const backend::Submission& s) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    std::lock_guard<std::mutex> lock(mu_);
    sent_.push_back(s.message);
    return Status::Ok();
  }
  std::size_t count() {
    std::lock_guard<std::mutex> lock(mu_);
    return sent_.size();
  }

 private:
  std::mutex mu_;
  std::vector<std::string> sent_;
};

}  // namespace

TEST_CASE("two identical sends at once: one goes, the other answers 118", "[compose]") {
  Env env;
  SlowSubmitter slow;
  env.services.smtp = &slow;
  // Two stores on the same file, as two worker processes would have.
  auto second = storage::openMetadataStore("sqlite:" + env.dir + "/eas.db");
  REQUIRE(second.ok());
  commands::Services other = env.services;
  other.store = second->get();
  const std::string bytes = Compose{}.encode();
  auto doc1 = wbxml::decode(bytes);
  auto doc2 = wbxml::decode(bytes);
  REQUIRE(doc1.ok());
  REQUIRE(doc2.ok());
  protocol::EasQuery query;
  query.device_id = env.ref.device_id;
  auto request = [&](const wbxml::Document* doc, const commands::Services* sv) {
    commands::CommandRequest req;
    req.capabilities = protocol::capabilitiesFor(protocol::ProtocolVersion::k161);
    req.query = &query;
    req.login = env.ref.user;
    req.password = "secret";
    req.services = sv;
    req.document = doc;
    return req;
  };
  const commands::CommandRequest r1 = request(&*doc1, &env.services);
  const commands::CommandRequest r2 = request(&*doc2, &other);
  std::optional<commands::CommandReply> a, b;
  std::thread t1([&] {
    Ctx ctx(r1);
    a = commands::makeSendMailCommand()->handle(ctx);
  });
  std::thread t2([&] {
    Ctx ctx(r2);
    b = commands::makeSendMailCommand()->handle(ctx);
  });
  t1.join();
  t2.join();
  REQUIRE(a.has_value());
  REQUIRE(b.has_value());
  CHECK(slow.count() == 1);
  const int statuses = (a->body.empty() ? 0 : a->eas_status) + (b->body.empty() ? 0 : b->eas_status);
  CHECK(statuses == 118);  // exactly one empty success and one 118
  CHECK(a->body.empty() != b->body.empty());
}
