#include "test/integration/common/request_bodies.h"

#include <cstdlib>

#include "core/wbxml/wbxml.h"

namespace eas::testing {
namespace {

namespace t = eas::wbxml::tags;

template <typename Fn>
std::string build(Fn fn) {
  std::string out;
  eas::wbxml::StringSink sink(&out);
  eas::wbxml::Writer w(sink);
  fn(w);
  return out;
}

}  // namespace

std::string folderSyncBody(const std::string& sync_key) {
  return build([&](eas::wbxml::Writer& w) {
    w.start(t::FolderHierarchy::FolderSync).element(t::FolderHierarchy::SyncKey, sync_key).end();
  });
}

std::string syncBody(const std::string& sync_key, const std::string& collection_id) {
  return build([&](eas::wbxml::Writer& w) {
    w.start(t::AirSync::Sync).start(t::AirSync::Collections).start(t::AirSync::Collection);
    w.element(t::AirSync::SyncKey, sync_key).element(t::AirSync::CollectionId, collection_id);
    w.end().end().end();
  });
}

std::string pingBody(int heartbeat_seconds, const std::string& folder_id,
                     const std::string& folder_class) {
  return build([&](eas::wbxml::Writer& w) {
    w.start(t::Ping::Ping).element(t::Ping::HeartbeatInterval, std::int64_t{heartbeat_seconds});
    w.start(t::Ping::Folders).start(t::Ping::Folder);
    w.element(t::Ping::Id, folder_id).element(t::Ping::Class, folder_class);
    w.end().end().end();
  });
}

std::string provisionBody() {
  return build([&](eas::wbxml::Writer& w) {
    w.start(t::Provision::Provision).start(t::Provision::Policies).start(t::Provision::Policy);
    w.element(t::Provision::PolicyType, "MS-EAS-Provisioning-WBXML");
    w.end().end().end();
  });
}

std::string settingsBody() {
  return build([&](eas::wbxml::Writer& w) {
    w.start(t::Settings::Settings).start(t::Settings::UserInformation).empty(t::Settings::Get);
    w.end().end();
  });
}

std::string findBody() {
  return build([&](eas::wbxml::Writer& w) {
    w.start(t::Find::Find).element(t::Find::SearchId, "1").end();
  });
}

std::string invalidWbxmlBody() { return std::string("\x07\x01\x6a\x00garbage", 11); }

int topLevelStatus(const std::string& wbxml) {
  auto doc = eas::wbxml::decode(wbxml);
  if (!doc.ok()) return -1;
  for (const eas::wbxml::Element& c : doc->root().children()) {
    if (eas::wbxml::tagName(c.tag()) == "Status") return std::atoi(std::string(c.text()).c_str());
  }
  return -1;
}

std::string toXmlForLog(const std::string& wbxml) {
  auto doc = eas::wbxml::decode(wbxml);
  if (!doc.ok()) return "(not WBXML: " + doc.status().toString() + ")";
  return eas::wbxml::toXml(*doc);
}

}  // namespace eas::testing
