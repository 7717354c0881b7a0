// MS-ASHTTP over real HTTP through nginx into eas-fcgi, authenticated against
// the fixture's Dovecot. Reads ${build}/run/eas_stack/env: if the fixture did
// not run, every test fails (EnvFile throws).
#include <catch2/catch.hpp>

#include <string>

#include "core/protocol/query.h"
#include "test/integration/common/env_file.h"
#include "test/integration/common/request_bodies.h"
#include "test/integration/common/test_client.h"

using eas::testing::EasRequest;
using eas::testing::EnvFile;
using eas::testing::HttpReply;
using eas::testing::TestClient;

namespace {

struct Stack {
  EnvFile env = EnvFile::loadFixture("eas_stack");
  TestClient client{env.get("EAS_URL")};
  std::string user = env.testUser(1);
  std::string pass = env.testPassword(1);

  EasRequest request(const std::string& cmd, const std::string& version = "14.1") const {
    EasRequest r;
    r.cmd = cmd;
    r.user = user;
    r.password = pass;
    r.protocol_version = version;
    return r;
  }
};

std::string describe(const HttpReply& r) {
  std::string s = "status " + std::to_string(r.status) + (r.error.empty() ? "" : " (" + r.error + ")");
  for (const auto& [k, v] : r.headers) s += "\n  " + k + ": " + v;
  if (!r.body.empty()) s += "\n  body: " + eas::testing::toXmlForLog(r.body);
  return s;
}

}  // namespace

TEST_CASE("OPTIONS through nginx: versions, commands, Allow, empty body", "[integration][options]") {
  Stack s;
  HttpReply r = s.client.options(s.user, s.pass);
  INFO(describe(r));
  REQUIRE(r.status == 200);
  CHECK(r.body.empty());
  CHECK(r.header("Content-Length") == "0");
  CHECK(r.header("MS-ASProtocolVersions") == "2.5,12.0,12.1,14.0,14.1,16.0,16.1");
  const std::string commands = r.header("MS-ASProtocolCommands");
  for (const char* c : {"Sync", "FolderSync", "Ping", "Provision", "ItemOperations", "Find"})
    CHECK(commands.find(c) != std::string::npos);
  CHECK(r.hasHeader("MS-Server-ActiveSync"));
  CHECK(r.header("Allow") == "OPTIONS,POST");
  CHECK(r.header("Public") == "OPTIONS,POST");
}

TEST_CASE("OPTIONS and a browser GET without credentials: 401 challenge", "[integration][auth]") {
  Stack s;
  HttpReply r = s.client.options("", "");
  INFO(describe(r));
  CHECK(r.status == 401);
  CHECK(r.header("WWW-Authenticate").rfind("Basic realm=", 0) == 0);
  HttpReply get = s.client.request("GET", "/Microsoft-Server-ActiveSync");
  INFO(describe(get));
  CHECK(get.status == 401);
  CHECK(get.header("WWW-Authenticate").rfind("Basic realm=", 0) == 0);
  HttpReply get_auth = s.client.request(
      "GET", "/Microsoft-Server-ActiveSync", {{"Authorization", TestClient::basicAuth(s.user, s.pass)}});
  INFO(describe(get_auth));
  CHECK(get_auth.status == 501);
}

TEST_CASE("bad credentials: 401 with a challenge", "[integration][auth]") {
  Stack s;
  // Own source addresses: these failures must not count against the others.
  s.client.setSourceAddress("127.0.3.41");
  HttpReply wrong = s.client.options(s.user, s.pass + "-wrong");
  INFO(describe(wrong));
  CHECK(wrong.status == 401);
  CHECK(wrong.header("WWW-Authenticate").rfind("Basic realm=", 0) == 0);
  s.client.setSourceAddress("127.0.3.42");
  EasRequest r = s.request("FolderSync");
  r.user = "nobody@example.test";
  r.password = "nothing";
  r.body = eas::testing::folderSyncBody();
  HttpReply unknown = s.client.post(r);
  INFO(describe(unknown));
  CHECK(unknown.status == 401);
}

TEST_CASE("base64 query vectors through nginx", "[integration][base64]") {
  Stack s;
  // The spec's vector: 14.0 Sync, v140Device; empty body; no version header.
  EasRequest r = s.request("");
  r.protocol_version.clear();
  r.raw_query = "jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l";
  HttpReply sync = s.client.post(r);
  INFO(describe(sync));
  CHECK(sync.status == 200);
  // An empty Sync repeats the cached request; this device has none: 13.
  CHECK(eas::testing::topLevelStatus(sync.body) == 13);
  CHECK(sync.header("Content-Type") == "application/vnd.ms-sync.wbxml");

  // 14.1 FolderSync with a binary DeviceId and a PolicyKey; %-encoded as a
  // device would send it.
  r.raw_query = "jQkHBBChssPU5fYHGCk6S1xtfo%2BQBHhWNBIGaVBob25lCBJhbGljZUBleGFtcGxlLnRlc3QHAQM%3D";
  r.body = eas::testing::folderSyncBody();
  HttpReply fs = s.client.post(r);
  INFO(describe(fs));
  CHECK(fs.status == 200);
  CHECK(eas::testing::topLevelStatus(fs.body) == 1);  // FolderSync is implemented: the hierarchy

  // Built with the encoder: 12.1 FolderSync (implemented: HTTP 200, Status 1).
  eas::protocol::EasQuery q;
  q.version = eas::protocol::ProtocolVersion::k121;
  q.command_code = 9;
  q.locale = 0x0409;
  q.device_id = "EASTEST0001";
  q.device_type = "TestDevice";
  r.raw_query = eas::protocol::encodeBase64Query(q);
  HttpReply legacy = s.client.post(r);
  INFO(describe(legacy));
  CHECK(legacy.status == 200);
  CHECK(eas::testing::topLevelStatus(legacy.body) == 1);

  // Malformed blobs.
  r.raw_query = "jAAJBAp2MTQw";  // ends inside the DeviceId
  CHECK(s.client.post(r).status == 400);
  r.raw_query = "!!!!";
  CHECK(s.client.post(r).status == 400);
  q.command_code = 99;
  r.raw_query = eas::protocol::encodeBase64Query(q);
  CHECK(s.client.post(r).status == 501);
}

TEST_CASE("malformed requests get the spec's answer", "[integration][malformed]") {
  Stack s;
  const std::string fs = eas::testing::folderSyncBody();
  struct Row {
    const char* what;
    EasRequest req;
    int http;
    int eas;  // top-level Status, or 0 for none
  };
  auto with = [&](const std::string& cmd, const std::string& version, auto&& edit) {
    EasRequest r = s.request(cmd, version);
    r.body = fs;
    edit(r);
    return r;
  };
  auto same = [](EasRequest&) {};
  const Row rows[] = {
      {"unknown Cmd", with("NotExist", "14.1", same), 501, 0},
      {"no Cmd", with("FolderSync", "14.1", [](EasRequest& r) { r.raw_query = "User=a&DeviceId=A&DeviceType=SP"; }), 400, 0},
      {"no version", with("FolderSync", "", same), 400, 0},
      {"version 191", with("FolderSync", "191", same), 400, 0},
      {"long DeviceId 12.1", with("FolderSync", "12.1", [](EasRequest& r) { r.device_id = std::string(35, 'a'); }), 400, 0},
      {"long DeviceId 14.1", with("FolderSync", "14.1", [](EasRequest& r) { r.device_id = std::string(35, 'a'); }), 200, 108},
      {"bad DeviceType 14.1", with("FolderSync", "14.1", [](EasRequest& r) { r.device_type = std::string(35, 'x'); }), 200, 109},
      {"text/plain 12.1", with("FolderSync", "12.1", [](EasRequest& r) { r.content_type = "text/plain"; }), 400, 0},
      {"text/plain 14.1", with("FolderSync", "14.1", [](EasRequest& r) { r.content_type = "text/plain"; }), 200, 101},
      {"no body 14.1", with("FolderSync", "14.1", [](EasRequest& r) { r.body.clear(); }), 200, 101},
      {"bad WBXML 12.1", with("FolderSync", "12.1", [](EasRequest& r) { r.body = eas::testing::invalidWbxmlBody(); }), 400, 0},
      {"bad WBXML 14.1", with("FolderSync", "14.1", [](EasRequest& r) { r.body = eas::testing::invalidWbxmlBody(); }), 200, 102},
      {"wrong root 14.1", with("FolderSync", "14.1", [](EasRequest& r) { r.body = eas::testing::pingBody(60, "1"); }), 200, 103},
      {"GetAttachment 14.1", with("GetAttachment", "14.1", [](EasRequest& r) { r.body.clear(); }), 501, 0},
      {"Find 14.1", with("Find", "14.1", [](EasRequest& r) { r.body = eas::testing::findBody(); }), 200, 137},
      {"bad policy key 14.1", with("FolderSync", "14.1", [](EasRequest& r) { r.policy_key = "x1"; }), 200, 144},
      {"wrong path", with("FolderSync", "14.1", [](EasRequest& r) { r.path = "/NotSupport/Microsoft-Server-ActiveSync"; }), 404, 0},
  };
  for (const Row& row : rows) {
    HttpReply r = s.client.post(row.req);
    INFO(row.what << ": " << describe(r));
    CHECK(r.status == row.http);
    if (row.eas != 0) {
      CHECK(eas::testing::topLevelStatus(r.body) == row.eas);
    } else if (row.http != 404) {
      CHECK(r.body.empty());
    }
    if (r.status > 0 && row.http != 404) CHECK(r.hasHeader("Content-Length"));
  }
}

TEST_CASE("a body above max_body_bytes is 413", "[integration][malformed]") {
  Stack s;
  EasRequest r = s.request("FolderSync");
  r.body = std::string(32u * 1024u * 1024u + 1, '\x03');  // eas-fcgi's default limit + 1
  HttpReply big = s.client.post(r);
  INFO("status " << big.status << " " << big.error);
  CHECK(big.status == 413);
}

TEST_CASE("Autodiscover: success and each error", "[integration][autodiscover]") {
  Stack s;
  const std::string body = TestClient::autodiscoverRequest(s.user);
  HttpReply no_auth = s.client.autodiscover("", "", body);
  INFO(describe(no_auth));
  CHECK(no_auth.status == 401);

  for (const char* path : {"/autodiscover/autodiscover.xml", "/AutoDiscover/AutoDiscover.xml"}) {
    HttpReply ok = s.client.autodiscover(s.user, s.pass, body, path);
    INFO(path << ": " << ok.status << "\n" << ok.body);
    CHECK(ok.status == 200);
    CHECK(ok.body.find("<EMailAddress>" + s.user + "</EMailAddress>") != std::string::npos);
    CHECK(ok.body.find("/Microsoft-Server-ActiveSync</Url>") != std::string::npos);
    CHECK(ok.body.find("MobileSync") != std::string::npos);
  }

  // The Outlook schema: Exchange answers an error for mobilesync servers.
  std::string outlook = body;
  const std::string mobile = "mobilesync/responseschema/2006";
  outlook.replace(outlook.find(mobile), mobile.size(), "outlook/responseschema/2006a");
  HttpReply o = s.client.autodiscover(s.user, s.pass, outlook);
  INFO("outlook: " << o.status << "\n" << o.body);
  CHECK(o.status == 200);  // Autodiscover errors travel in a 200 (MS-OXDSCLI)
  CHECK(o.body.find("<ErrorCode>601</ErrorCode>") != std::string::npos);

  // An address outside the configured domains.
  HttpReply unknown =
      s.client.autodiscover(s.user, s.pass, TestClient::autodiscoverRequest("someone@elsewhere.test"));
  INFO("unknown: " << unknown.status << "\n" << unknown.body);
  CHECK(unknown.status == 200);
  CHECK(unknown.body.find("<Status>2</Status>") != std::string::npos);

  // Malformed XML, and an entity declaration (refused, never expanded).
  HttpReply bad = s.client.autodiscover(s.user, s.pass, "<Autodiscover><Request>");
  INFO("malformed: " << bad.status << "\n" << bad.body);
  CHECK(bad.status == 200);
  CHECK(bad.body.find("<ErrorCode>600</ErrorCode>") != std::string::npos);
  const std::string bomb =
      "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x \"xxxxxxxxxx\">]>"
      "<Autodiscover><Request><EMailAddress>&x;</EMailAddress></Request></Autodiscover>";
  HttpReply entity = s.client.autodiscover(s.user, s.pass, bomb);
  INFO("entity: " << entity.status << "\n" << entity.body);
  CHECK(entity.body.find("<ErrorCode>600</ErrorCode>") != std::string::npos);
  CHECK(entity.body.find("xxxxxxxxxx") == std::string::npos);
}
