// What the FolderCreate/Delete/Update, MoveItems and Search stack tests
// share: the eas_stack fixture, one EAS POST helper per command, and the
// project's IMAP backend logged in as the test user to look behind the
// server's back. Names carry the pid so reruns against one fixture do not
// meet each other's folders or devices.
#pragma once

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/backends/imap/imap_backend.h"
#include "core/wbxml/wbxml.h"
#include "test/integration/common/env_file.h"
#include "test/integration/common/request_bodies.h"
#include "test/integration/common/test_client.h"

namespace folderops_test {

namespace fh = eas::wbxml::tags::FolderHierarchy;

struct FolderEntry {
  std::string kind;  // Add | Update | Delete
  std::string server_id, parent_id, display_name;
  int type = 0;
};

struct Reply {
  int http = 0;
  std::string body;
  std::optional<eas::wbxml::Document> doc;
  const eas::wbxml::Element& root() const { return doc->root(); }
  int status(eas::wbxml::Tag t) const {
    return std::atoi(std::string(root().childText(t, "-1")).c_str());
  }
};

struct Stack {
  eas::testing::EnvFile env = eas::testing::EnvFile::loadFixture("eas_stack");
  eas::testing::TestClient client{env.get("EAS_URL")};
  std::string user = env.testUser(1);
  std::string pass = env.testPassword(1);
  eas::backend::imap::ImapSessionPool pool{imapConfig()};
  std::string tag = std::to_string(::getpid());
  std::string version = "14.1";

  explicit Stack(const char* source_address) { client.setSourceAddress(source_address); }

  eas::backend::imap::ImapConfig imapConfig() const {
    eas::backend::imap::ImapConfig c;
    c.host = env.get("IMAP_HOST");
    c.port = std::atoi(env.get("IMAP_PORT").c_str());
    return c;
  }
  std::unique_ptr<eas::backend::MailBackend> imap() { return pool.backendFor(user, pass); }

  // Whether the server has a folder of that (IMAP) name.
  bool imapHas(const std::string& name) {
    auto folders = imap()->listFolders();
    REQUIRE(folders.ok());
    for (const auto& f : *folders)
      if (f.name == name) return true;
    return false;
  }
  char delimiter() {
    auto folders = imap()->listFolders();
    REQUIRE(folders.ok());
    for (const auto& f : *folders)
      if (f.delimiter != 0) return f.delimiter;
    return '/';
  }

  Reply post(const std::string& cmd, const std::string& device,
             const std::function<void(eas::wbxml::Writer&)>& body) {
    eas::testing::EasRequest r;
    r.cmd = cmd;
    r.user = user;
    r.password = pass;
    r.device_id = device;
    r.protocol_version = version;
    {
      eas::wbxml::Writer w(&r.body);
      body(w);
      w.flush();
    }
    eas::testing::HttpReply http = client.post(r);
    INFO(cmd << " " << http.error << " " << eas::testing::toXmlForLog(http.body));
    Reply out;
    out.http = http.status;
    out.body = http.body;
    if (http.status == 200 && !http.body.empty()) {
      auto doc = eas::wbxml::decode(http.body);
      REQUIRE(doc.ok());
      out.doc = std::move(*doc);
    }
    return out;
  }

  // FolderSync; REQUIREs Status 1. `key` is updated to the answer's key.
  std::vector<FolderEntry> folderSync(std::string& key, const std::string& device) {
    Reply r = post("FolderSync", device, [&](eas::wbxml::Writer& w) {
      w.start(fh::FolderSync).element(fh::SyncKey, key).end();
    });
    REQUIRE(r.http == 200);
    REQUIRE(r.status(fh::Status) == 1);
    key = std::string(r.root().childText(fh::SyncKey));
    std::vector<FolderEntry> out;
    if (const eas::wbxml::Element* ch = r.root().child(fh::Changes)) {
      for (const eas::wbxml::Element& c : ch->children()) {
        FolderEntry e;
        if (c.tag() == fh::Add) e.kind = "Add";
        else if (c.tag() == fh::Update) e.kind = "Update";
        else if (c.tag() == fh::Delete) e.kind = "Delete";
        else continue;
        e.server_id = std::string(c.childText(fh::ServerId));
        e.parent_id = std::string(c.childText(fh::ParentId));
        e.display_name = std::string(c.childText(fh::DisplayName));
        e.type = std::atoi(std::string(c.childText(fh::Type, "0")).c_str());
        out.push_back(e);
      }
    }
    return out;
  }

  static const FolderEntry* named(const std::vector<FolderEntry>& v, const std::string& name) {
    for (const auto& e : v)
      if (e.display_name == name) return &e;
    return nullptr;
  }
  static const FolderEntry* ofType(const std::vector<FolderEntry>& v, int type) {
    for (const auto& e : v)
      if (e.type == type) return &e;
    return nullptr;
  }

  Reply folderCreate(const std::string& device, const std::string& key, const std::string& parent,
                     const std::string& name, int type = 12) {
    return post("FolderCreate", device, [&](eas::wbxml::Writer& w) {
      w.start(fh::FolderCreate).element(fh::SyncKey, key).element(fh::ParentId, parent);
      w.element(fh::DisplayName, name).element(fh::Type, type).end();
    });
  }
  Reply folderDelete(const std::string& device, const std::string& key, const std::string& id) {
    return post("FolderDelete", device, [&](eas::wbxml::Writer& w) {
      w.start(fh::FolderDelete).element(fh::SyncKey, key).element(fh::ServerId, id).end();
    });
  }
  Reply folderUpdate(const std::string& device, const std::string& key, const std::string& id,
                     const std::string& parent, const std::string& name) {
    return post("FolderUpdate", device, [&](eas::wbxml::Writer& w) {
      w.start(fh::FolderUpdate).element(fh::SyncKey, key).element(fh::ServerId, id);
      w.element(fh::ParentId, parent).element(fh::DisplayName, name).end();
    });
  }

  // A small text message appended over IMAP; returns its UID.
  std::uint32_t append(const std::string& folder, const std::string& subject,
                       const std::string& body, const std::string& date = "Tue, 1 Dec 2026 08:00:00 +0000") {
    const std::string msg = "From: Bob <bob@example.test>\r\nTo: " + user + "\r\nSubject: " + subject +
                            "\r\nDate: " + date + "\r\nMessage-ID: <" + subject + "." + tag +
                            "@example.test>\r\nMIME-Version: 1.0\r\n"
                            "Content-Type: text/plain; charset=utf-8\r\n\r\n" +
                            body + "\r\n";
    auto uid = imap()->appendMessage(folder, msg, 0);
    REQUIRE(uid.ok());
    REQUIRE(*uid != 0);
    return *uid;
  }
};

}  // namespace folderops_test
