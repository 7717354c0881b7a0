// Test fixture of the ItemOperations / GetAttachment / GetItemEstimate unit
// tests: a scripted in-memory mail backend (folders of messages with raw
// bytes, flags, dates and a BODYSTRUCTURE) and a real SQLite store in a
// temporary folder whose folder map is written as FolderSync would.
#pragma once

#include <unistd.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/backends/mail_backend.h"
#include "core/commands/command.h"
#include "storage/metadata_store.h"
#include "storage/store_admin.h"
#include "test/unit/core/testing/unsupported_mail_backend.h"

namespace eas::testing {

struct FakeMessage {
  std::string raw;  // the whole RFC 822 message
  std::uint32_t flags = 0;
  std::int64_t internal_date = 0;
  backend::BodyPart structure;
  std::map<std::string, std::string> parts;  // section -> transfer-encoded bytes
};

struct FakeMail {
  std::map<std::string, std::map<std::uint32_t, FakeMessage>> folders;  // name -> uid -> message
  std::uint32_t uid_validity = 7;
  bool down = false;
  int part_fetches = 0;
};

class FakeBackend final : public eas::testing::UnsupportedMailBackend {
 public:
  explicit FakeBackend(FakeMail& m) : m_(m) {}
  Result<std::vector<backend::FolderInfo>> listFolders() override {
    if (m_.down) return down();
    std::vector<backend::FolderInfo> out;
    for (const auto& [name, msgs] : m_.folders) {
      backend::FolderInfo f;
      f.name = name;
      f.displayName = name;
      f.delimiter = '/';
      out.push_back(f);
    }
    return out;
  }
  Result<backend::FolderState> folderState(const std::string& folder) override {
    if (m_.down) return down();
    auto* box = find(folder);
    if (!box) return noFolder();
    backend::FolderState s;
    s.uidValidity = m_.uid_validity;
    s.uidNext = box->empty() ? 1 : box->rbegin()->first + 1;
    s.messages = static_cast<std::uint32_t>(box->size());
    return s;
  }
  // A full UID + FLAGS comparison (no modseq).
  Result<backend::Changes> changesSince(const std::string& folder, const backend::Watermark& since,
                                        const std::vector<backend::KnownItem>& known) override {
    auto st = folderState(folder);
    if (!st.ok()) return st.status();
    if (since.uidValidity != 0 && since.uidValidity != m_.uid_validity)
      return Status::Conflict("imap.uidvalidity_changed", "fake");
    backend::Changes c;
    c.state = *st;
    auto* box = find(folder);
    std::map<std::uint32_t, std::uint32_t> held;
    for (const backend::KnownItem& k : known) held[k.uid] = k.flags;
    for (const auto& [uid, msg] : *box) {
      auto it = held.find(uid);
      if (it == held.end()) c.added.push_back(uid);
      else if (it->second != msg.flags) c.flagsChanged.push_back({uid, msg.flags});
    }
    for (const auto& [uid, flags] : held)
      if (!box->count(uid)) c.expunged.push_back(uid);
    return c;
  }
  Result<std::vector<backend::MessageData>> fetchMessages(const std::string& folder,
                                                          const std::vector<std::uint32_t>& uids,
                                                          const backend::FetchRequest& what) override {
    if (m_.down) return down();
    auto* box = find(folder);
    if (!box) return noFolder();
    std::vector<backend::MessageData> out;
    for (std::uint32_t uid : uids) {
      auto it = box->find(uid);
      if (it == box->end()) continue;
      backend::MessageData d;
      d.uid = uid;
      d.flags = it->second.flags;
      d.internalDate = it->second.internal_date;
      d.size = static_cast<std::uint32_t>(it->second.raw.size());
      if (what.bodyStructure) d.structure = it->second.structure;
      for (const backend::SectionRequest& s : what.sections) {
        if (!s.section.empty()) return Status::NotSupported("fake.section");
        d.sections.push_back(it->second.raw);
      }
      out.push_back(std::move(d));
    }
    return out;
  }
  Result<std::string> fetchPart(const std::string& folder, std::uint32_t uid,
                                const std::string& section, std::uint32_t offset,
                                std::optional<std::uint32_t> length) override {
    if (m_.down) return down();
    ++m_.part_fetches;
    auto* box = find(folder);
    if (!box) return noFolder();
    auto it = box->find(uid);
    if (it == box->end()) return Status::NotFound("imap.no_such_message", "fake");
    auto p = it->second.parts.find(section);
    if (p == it->second.parts.end()) return std::string();
    std::string bytes = p->second.substr(std::min<std::size_t>(offset, p->second.size()));
    if (length && *length < bytes.size()) bytes.resize(*length);
    return bytes;
  }
  Result<std::string> fetchFullMessage(const std::string& folder, std::uint32_t uid) override {
    auto* box = find(folder);
    if (!box || !box->count(uid)) return Status::NotFound("imap.no_such_message", "fake");
    return box->at(uid).raw;
  }
  // Only `since` is honoured (by exact time; IMAP compares days).
  Result<std::vector<std::uint32_t>> searchMessages(const std::string& folder,
                                                    const backend::SearchCriteria& c) override {
    if (m_.down) return down();
    auto* box = find(folder);
    if (!box) return noFolder();
    std::vector<std::uint32_t> out;
    for (const auto& [uid, msg] : *box)
      if (!c.since || msg.internal_date >= *c.since) out.push_back(uid);
    return out;
  }
  Status deleteMessages(const std::string& folder, const std::vector<std::uint32_t>& uids) override {
    if (m_.down) return down();
    auto* box = find(folder);
    if (!box) return noFolder();
    for (std::uint32_t uid : uids) box->erase(uid);
    return Status();
  }
  Status deleteFolder(const std::string& name) override {
    if (!m_.folders.erase(name)) return noFolder();
    return Status();
  }

 private:
  std::map<std::uint32_t, FakeMessage>* find(const std::string& folder) {
    auto it = m_.folders.find(folder);
    return it == m_.folders.end() ? nullptr : &it->second;
  }
  static Status down() { return Status::Unavailable("imap.unavailable", "fake server down"); }
  static Status noFolder() { return Status::NotFound("imap.no_such_folder", "fake"); }
  FakeMail& m_;
};

// One FakeMail per login: alice and bob never share a mailbox.
class FakeProvider final : public commands::MailBackendProvider {
 public:
  std::map<std::string, FakeMail> mailboxes;
  std::unique_ptr<backend::MailBackend> open(const std::string& login, const std::string&) override {
    return std::make_unique<FakeBackend>(mailboxes[login]);
  }
};

class FakeCtx final : public commands::CommandContext {
 public:
  explicit FakeCtx(const commands::CommandRequest& r) : r_(r) {}
  const commands::CommandRequest& request() const override { return r_; }
  std::unique_ptr<commands::DeferredReply> park() override { return nullptr; }

 private:
  const commands::CommandRequest& r_;
};

struct ItemOpsEnv {
  std::string dir;
  std::unique_ptr<storage::MetadataStore> store;
  FakeProvider provider;
  ManualClock clock{1'800'000'000};
  commands::Services services;

  ItemOpsEnv() {
    char tmpl[] = "/tmp/itemops_test_XXXXXX";
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
    services.clock = &clock;
  }
  ~ItemOpsEnv() {
    store.reset();
    const std::string cmd = "rm -rf '" + dir + "'";
    (void)std::system(cmd.c_str());
  }
  // The device's folder map, as FolderSync commits it: server id -> IMAP name.
  void mapFolders(const storage::DeviceRef& ref,
                  const std::vector<std::pair<std::string, std::string>>& folders) {
    std::vector<storage::FolderChange> changes;
    for (const auto& [id, name] : folders) {
      storage::FolderChange c;
      c.kind = storage::FolderChange::Kind::kAdd;
      c.folder.server_id = id;
      c.folder.backend_id = name;
      c.folder.parent_id = "0";
      c.folder.type = name == "INBOX" ? 2 : 12;
      c.folder.display_name = name;
      changes.push_back(c);
    }
    REQUIRE(store->commitFolderSync(ref, 0, 1, changes, "x").ok());
  }
};

// A multipart/mixed message: text/plain part 1, base64 attachment part 2.
inline FakeMessage messageWithAttachment(const std::string& subject, const std::string& attachment,
                                         std::int64_t date) {
  static const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string b64;
  for (std::size_t i = 0; i < attachment.size(); i += 3) {
    std::uint32_t v = static_cast<unsigned char>(attachment[i]) << 16;
    if (i + 1 < attachment.size()) v |= static_cast<unsigned char>(attachment[i + 1]) << 8;
    if (i + 2 < attachment.size()) v |= static_cast<unsigned char>(attachment[i + 2]);
    b64 += kB64[(v >> 18) & 63];
    b64 += kB64[(v >> 12) & 63];
    b64 += i + 1 < attachment.size() ? kB64[(v >> 6) & 63] : '=';
    b64 += i + 2 < attachment.size() ? kB64[v & 63] : '=';
    if ((i / 3 + 1) % 19 == 0) b64 += "\r\n";
  }
  FakeMessage m;
  m.internal_date = date;
  m.raw = "From: Carol <carol@example.test>\r\nTo: alice@example.test\r\nSubject: " + subject +
          "\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
          "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello body\r\n"
          "--b1\r\nContent-Type: application/octet-stream; name=\"blob.bin\"\r\n"
          "Content-Disposition: attachment; filename=\"blob.bin\"\r\n"
          "Content-Transfer-Encoding: base64\r\n\r\n" +
          b64 + "\r\n--b1--\r\n";
  m.structure.type = "multipart";
  m.structure.subtype = "mixed";
  backend::BodyPart text;
  text.section = "1";
  text.type = "text";
  text.subtype = "plain";
  text.encoding = "7bit";
  backend::BodyPart att;
  att.section = "2";
  att.type = "application";
  att.subtype = "octet-stream";
  att.encoding = "base64";
  att.disposition = "attachment";
  m.structure.children = {text, att};
  m.parts["1"] = "Hello body\r\n";
  m.parts["2"] = b64 + "\r\n";
  return m;
}

}  // namespace eas::testing
