// A 14.1 device provisions over HTTP through nginx into eas-fcgi, whose
// workers run the store-backed gates of policies/. The policy is enforced for
// this test's device only (device level), so the other tests sharing the
// eas_stack fixture are not affected.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "core/wbxml/wbxml.h"
#include "storage/metadata_store.h"
#include "test/integration/common/env_file.h"
#include "test/integration/common/request_bodies.h"
#include "test/integration/common/test_client.h"

namespace {

namespace p = eas::wbxml::tags::Provision;
namespace s = eas::wbxml::tags::Settings;
using eas::testing::EasRequest;
using eas::testing::HttpReply;

constexpr char kDevice[] = "POLSTACK0001";

std::string phase1() {
  std::string out;
  eas::wbxml::Writer w(&out);
  w.start(p::Provision).start(s::DeviceInformation).start(s::Set);
  w.element(s::Model, "StackPhone 1").element(s::OS, "StackOS 2").end().end();
  w.start(p::Policies).start(p::Policy).element(p::PolicyType, "MS-EAS-Provisioning-WBXML");
  w.end().end().end();
  return out;
}

std::string ack(const std::string& key) {
  std::string out;
  eas::wbxml::Writer w(&out);
  w.start(p::Provision).start(p::Policies).start(p::Policy);
  w.element(p::PolicyType, "MS-EAS-Provisioning-WBXML").element(p::PolicyKey, key);
  w.element(p::Status, 1).end().end().end();
  return out;
}

// Policies/Policy/<tag> of a Provision reply.
std::string policyField(const std::string& body, eas::wbxml::Tag tag) {
  auto doc = eas::wbxml::decode(body);
  REQUIRE(doc.ok());
  const auto* pols = doc->root().child(p::Policies);
  REQUIRE(pols != nullptr);
  const auto* pol = pols->child(p::Policy);
  REQUIRE(pol != nullptr);
  return std::string(pol->childText(tag));
}

}  // namespace

TEST_CASE("14.1 device provisions over HTTP (142, two phases, then accepted)",
          "[integration][policies]") {
  const auto env = eas::testing::EnvFile::loadFixture("eas_stack");
  const auto run_dir = std::filesystem::path(env.path()).parent_path();
  auto store = eas::storage::openMetadataStore("sqlite:" + (run_dir / "eas-fcgi" / "eas.db").string());
  REQUIRE(store.ok());
  using eas::storage::PolicyLevel;
  REQUIRE((*store)->setPolicy({PolicyLevel::kDevice, kDevice, "Enforce", "1"}).ok());
  REQUIRE((*store)->setPolicy({PolicyLevel::kDevice, kDevice, "MinDevicePasswordLength", "9"}).ok());

  eas::testing::TestClient client(env.get("EAS_URL"));
  EasRequest r;
  r.user = env.testUser(1);
  r.password = env.testPassword(1);
  r.device_id = kDevice;
  r.device_type = "StackPhone";
  r.cmd = "FolderSync";
  r.body = eas::testing::folderSyncBody();
  HttpReply before = client.post(r);
  REQUIRE(before.status == 200);
  CHECK(eas::testing::topLevelStatus(before.body) == 142);

  r.cmd = "Provision";
  r.body = phase1();
  HttpReply one = client.post(r);
  REQUIRE(one.status == 200);
  CHECK(eas::testing::topLevelStatus(one.body) == 1);
  const std::string temp = policyField(one.body, p::PolicyKey);
  REQUIRE_FALSE(temp.empty());
  {
    auto doc = eas::wbxml::decode(one.body);
    REQUIRE(doc.ok());
    const auto* data = doc->root().child(p::Policies)->child(p::Policy)->child(p::Data);
    REQUIRE(data != nullptr);
    const auto* prov = data->child(p::EASProvisionDoc);
    REQUIRE(prov != nullptr);
    CHECK(prov->childText(p::MinDevicePasswordLength) == "9");
    CHECK(prov->childText(p::DevicePasswordEnabled) == "0");  // not set: neutral value
  }

  r.body = ack(temp);
  r.policy_key = temp;
  HttpReply two = client.post(r);
  REQUIRE(two.status == 200);
  const std::string final_key = policyField(two.body, p::PolicyKey);
  REQUIRE_FALSE(final_key.empty());
  CHECK(final_key != temp);

  r.cmd = "FolderSync";
  r.body = eas::testing::folderSyncBody();
  r.policy_key = final_key;
  HttpReply after = client.post(r);
  REQUIRE(after.status == 200);
  const int st = eas::testing::topLevelStatus(after.body);
  CHECK((st < 140 || st > 144));  // past the policy stage (FolderSync's own answer)

  // What the workers stored.
  auto devices = (*store)->listDevices("");
  REQUIRE(devices.ok());
  bool found = false;
  for (const auto& d : *devices) {
    if (d.ref.device_id != kDevice) continue;
    found = true;
    CHECK(d.model == "StackPhone 1");
    CHECK(d.os == "StackOS 2");
    CHECK(std::to_string(d.policy_key) == final_key);
    CHECK(d.provisioning == eas::storage::ProvisioningStatus::kProvisioned);
    CHECK((*store)->deleteDevice(d.ref).ok());
  }
  CHECK(found);
  CHECK((*store)->deletePolicy(PolicyLevel::kDevice, kDevice, "Enforce").ok());
  CHECK((*store)->deletePolicy(PolicyLevel::kDevice, kDevice, "MinDevicePasswordLength").ok());
}
