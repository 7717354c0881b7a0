#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "core/commands/command_table.h"
#include "core/commands/dispatcher.h"
#include "core/wbxml/wbxml.h"

using eas::commands::BodyForm;
using eas::commands::commandTable;
using eas::commands::findCommand;
using eas::commands::findCommandByCode;
using eas::protocol::capabilitiesFor;
using eas::protocol::ProtocolVersion;

TEST_CASE("command table: codes and names (HTTP §2.2.1.1.1.1.2)", "[commands]") {
  const std::pair<int, const char*> codes[] = {
      {0, "Sync"},           {1, "SendMail"},         {2, "SmartForward"},
      {3, "SmartReply"},     {4, "GetAttachment"},    {9, "FolderSync"},
      {10, "FolderCreate"},  {11, "FolderDelete"},    {12, "FolderUpdate"},
      {13, "MoveItems"},     {14, "GetItemEstimate"}, {15, "MeetingResponse"},
      {16, "Search"},        {17, "Settings"},        {18, "Ping"},
      {19, "ItemOperations"}, {20, "Provision"},      {21, "ResolveRecipients"},
      {22, "ValidateCert"},  {23, "Find"}};
  for (auto [code, name] : codes) {
    INFO(name);
    const auto* by_code = findCommandByCode(static_cast<std::uint8_t>(code));
    REQUIRE(by_code != nullptr);
    CHECK(by_code->name == name);
    CHECK(findCommand(name) == by_code);
  }
  CHECK(findCommand("sync") == findCommand("Sync"));
  CHECK(findCommand("NotExist") == nullptr);
  CHECK(findCommandByCode(24) == nullptr);
  CHECK(findCommandByCode(255) == nullptr);
  std::set<int> seen;
  for (const auto& c : commandTable()) CHECK(seen.insert(c.code).second);
}

TEST_CASE("command table: MS-ASProtocolCommands lists the spec's set in order", "[commands]") {
  CHECK(eas::commands::protocolCommandsHeader(ProtocolVersion::k161) ==
        "Sync,SendMail,SmartForward,SmartReply,GetAttachment,GetHierarchy,CreateCollection,"
        "DeleteCollection,MoveCollection,FolderSync,FolderCreate,FolderDelete,FolderUpdate,"
        "MoveItems,GetItemEstimate,MeetingResponse,Search,Settings,Ping,ItemOperations,"
        "Provision,ResolveRecipients,ValidateCert,Find");
  const std::string h141 = eas::commands::protocolCommandsHeader(ProtocolVersion::k141);
  CHECK(h141.find("Find") == std::string::npos);
  CHECK(h141.find("ValidateCert") != std::string::npos);
}

TEST_CASE("command table agrees with the capabilities struct", "[commands]") {
  for (ProtocolVersion v : eas::protocol::kAllVersions) {
    const auto caps = capabilitiesFor(v);
    INFO(eas::protocol::toString(v));
    CHECK(eas::commands::availableIn(*findCommand("GetAttachment"), caps) == caps.get_attachment);
    CHECK(eas::commands::availableIn(*findCommand("GetHierarchy"), caps) == caps.get_hierarchy);
    CHECK(eas::commands::availableIn(*findCommand("Find"), caps) == caps.find);
    CHECK(eas::commands::availableIn(*findCommand("ItemOperations"), caps) == caps.item_operations);
    CHECK(eas::commands::availableIn(*findCommand("Sync"), caps));
    CHECK(eas::commands::checkAvailable(*findCommand("Find"), caps).ok() == caps.find);
    if (!caps.find)
      CHECK(eas::commands::checkAvailable(*findCommand("Find"), caps).reason() ==
            "http.command_not_supported");
  }
}

TEST_CASE("command flags: provisioning, parking, body form", "[commands]") {
  using namespace eas::commands;
  CHECK_FALSE(needsPolicyCheck(*findCommand("Provision")));
  CHECK_FALSE(needsPolicyCheck(*findCommand("Ping")));
  CHECK(needsPolicyCheck(*findCommand("Sync")));
  CHECK(needsPolicyCheck(*findCommand("FolderSync")));
  CHECK(mayPark(*findCommand("Ping")));
  CHECK(mayPark(*findCommand("Sync")));
  CHECK_FALSE(mayPark(*findCommand("FolderSync")));
  const auto c121 = capabilitiesFor(ProtocolVersion::k121);
  const auto c141 = capabilitiesFor(ProtocolVersion::k141);
  CHECK(expectedBody(*findCommand("SendMail"), c121) == BodyForm::kMime);
  CHECK(expectedBody(*findCommand("SendMail"), c141) == BodyForm::kWbxml);
  CHECK(expectedBody(*findCommand("GetAttachment"), c121) == BodyForm::kNone);

  struct Row {
    const char* cmd;
    const eas::protocol::Capabilities* caps;
    const char* content_type;
    std::size_t size;
    const char* reason;  // "" = ok
  };
  const Row rows[] = {
      {"FolderSync", &c141, "application/vnd.ms-sync.wbxml", 10, ""},
      {"FolderSync", &c141, "Application/Vnd.MS-Sync.WBXML; charset=utf-8", 10, ""},
      {"FolderSync", &c141, "application/vnd.ms-sync", 10, ""},
      {"FolderSync", &c141, "text/plain", 10, "http.bad_content_type"},
      {"FolderSync", &c141, "", 10, "http.bad_content_type"},
      {"FolderSync", &c141, "application/vnd.ms-sync.wbxml", 0, "http.missing_body"},
      {"Ping", &c141, "", 0, ""},
      {"Sync", &c121, "", 0, ""},
      {"Ping", &c141, "text/plain", 5, "http.bad_content_type"},
      {"SendMail", &c121, "message/rfc822", 100, ""},
      {"SendMail", &c121, "application/vnd.ms-sync.wbxml", 100, "http.bad_content_type"},
      {"SendMail", &c141, "message/rfc822", 100, "http.bad_content_type"},
      {"GetAttachment", &c121, "", 0, ""},
  };
  for (const Row& r : rows) {
    INFO(r.cmd << " '" << r.content_type << "' " << r.size);
    const eas::Status s = checkBody(*findCommand(r.cmd), *r.caps, r.content_type, r.size);
    CHECK(s.reason() == std::string(r.reason));
  }
}

TEST_CASE("statusReplyBody: <Root><Status>n</Status></Root> per command", "[commands]") {
  for (const auto& c : commandTable()) {
    if (!c.has_root) continue;
    INFO(c.name);
    const std::string body = eas::commands::statusReplyBody(c, 137);
    auto doc = eas::wbxml::decode(body);
    REQUIRE(doc.ok());
    CHECK(doc->root().tag() == c.root);
    const auto* status = doc->root().child(c.status);
    REQUIRE(status != nullptr);
    CHECK(status->text() == "137");
    CHECK(eas::wbxml::tagName(c.status) == "Status");
  }
}

namespace {
class NullContext final : public eas::commands::CommandContext {
 public:
  const eas::commands::CommandRequest& request() const override { return req_; }
  std::unique_ptr<eas::commands::DeferredReply> park() override { return nullptr; }
 private:
  eas::commands::CommandRequest req_;
};
}  // namespace

TEST_CASE("dispatch: a command without a handler answers not implemented", "[commands]") {
  NullContext ctx;
  for (const auto& c : commandTable()) {
    INFO(c.name);
    if (c.factory) continue;  // implemented (Provision, ...)
    auto reply = eas::commands::dispatch(c, ctx);
    REQUIRE(reply.has_value());
    CHECK(reply->status.reason() == "http.command_not_implemented");
    CHECK(reply->status.code() == eas::StatusCode::kNotSupported);
  }
}
