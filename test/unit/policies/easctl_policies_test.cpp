// easctl devices / wipe / policy / abq against a temporary SQLite store
// created with `easctl db upgrade`; easctl::run() in-process.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "policies/easctl/easctl.h"
#include "storage/metadata_store.h"

namespace {

using namespace eas::storage;

struct Run {
  int code = -1;
  std::string out, err;
};

class EasctlStore {
 public:
  EasctlStore() {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("eas-easctl-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(dir_);
    url = "sqlite:" + (dir_ / "meta.db").string();
    REQUIRE(run({"db", "upgrade"}).code == 0);
    auto s = openMetadataStore(url);
    REQUIRE(s.ok());
    store = std::move(s.value());
    addDevice("alice@a.test", "IPH1", "iPhone", "iPhone15,2", "iOS 17.1", "16.1");
    addDevice("alice@a.test", "AND1", "Android", "Pixel 8", "Android 14", "14.1");
    addDevice("bob@b.test", "AND2", "Android", "Galaxy S23", "Android 13", "14.1");
  }
  ~EasctlStore() {
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // easctl <args...> --store URL
  Run run(std::vector<std::string> args, bool with_store = true) {
    if (with_store) {
      args.push_back("--store");
      args.push_back(url);
    }
    std::vector<const char*> argv{"easctl"};
    for (const auto& a : args) argv.push_back(a.c_str());
    std::ostringstream out, err;
    Run r;
    r.code = eas::easctl::run(static_cast<int>(argv.size()), argv.data(), out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  void addDevice(const std::string& user, const std::string& id, const std::string& type,
                 const std::string& model, const std::string& os, const std::string& version) {
    Device d;
    d.ref = {user, id};
    d.device_type = type;
    d.model = model;
    d.os = os;
    d.protocol_version = version;
    REQUIRE(store->putDevice(d).ok());
  }

  Device device(const std::string& user, const std::string& id) {
    auto d = store->findDevice({user, id});
    REQUIRE(d.ok());
    return *d;
  }

  std::string url;
  std::unique_ptr<MetadataStore> store;

 private:
  std::filesystem::path dir_;
};

int lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

}  // namespace

TEST_CASE("easctl devices list with filters, table and json", "[policies][easctl]") {
  EasctlStore e;
  struct Case {
    std::vector<std::string> args;
    int rows;
    const char* must_contain;
  };
  REQUIRE(e.store->setAccessState({"bob@b.test", "AND2"}, AccessState::kBlock, "admin").ok());
  const std::vector<Case> cases = {
      {{}, 3, "IPH1"},
      {{"--domain", "A.TEST"}, 2, "AND1"},
      {{"--user", "bob@b.test"}, 1, "AND2"},
      {{"--type", "android"}, 2, "Galaxy S23"},
      {{"--state", "block"}, 1, "bob@b.test"},
      {{"--state", "quarantine"}, 0, "device_id"},
      {{"--domain", "a.test", "--type", "iPhone"}, 1, "iOS 17.1"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args{"devices", "list"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    Run r = e.run(args);
    INFO(r.out << r.err);
    REQUIRE(r.code == 0);
    CHECK(lines(r.out) == 2 + c.rows);  // header and rule line
    CHECK(r.out.find(c.must_contain) != std::string::npos);
    args.push_back("--json");
    Run j = e.run(args);
    REQUIRE(j.code == 0);
    size_t objects = 0;
    for (size_t p = j.out.find("\"device_id\""); p != std::string::npos;
         p = j.out.find("\"device_id\"", p + 1))
      ++objects;
    CHECK(objects == static_cast<size_t>(c.rows));
  }
}

TEST_CASE("easctl devices show, allow, block, quarantine, delete", "[policies][easctl]") {
  EasctlStore e;
  Run r = e.run({"devices", "show", "--user", "alice@a.test", "--device", "AND1", "--json"});
  REQUIRE(r.code == 0);
  CHECK(r.out.find("\"Pixel 8\"") != std::string::npos);
  const struct {
    const char* cmd;
    AccessState state;
  } cases[] = {{"block", AccessState::kBlock},
               {"quarantine", AccessState::kQuarantine},
               {"allow", AccessState::kAllow}};
  for (const auto& c : cases) {
    INFO(c.cmd);
    REQUIRE(e.run({"devices", c.cmd, "--user", "alice@a.test", "--device", "AND1"}).code == 0);
    const Device d = e.device("alice@a.test", "AND1");
    CHECK(d.access_state == c.state);
    CHECK(d.access_reason == "admin");  // the rules leave an admin's decision alone
  }
  REQUIRE(e.run({"devices", "delete", "--user", "alice@a.test", "--device", "AND1"}).code == 0);
  CHECK(e.store->findDevice({"alice@a.test", "AND1"}).status().isNotFound());
  auto audit = e.store->listAudit({"alice@a.test", "AND1"}, 10);
  REQUIRE(audit.ok());
  CHECK(audit->size() == 4);
  CHECK(audit->front().event == AuditEvent::kDeleted);
  Run missing = e.run({"devices", "block", "--user", "alice@a.test", "--device", "AND1"});
  CHECK(missing.code == 1);
  CHECK(missing.err.find("not_found") != std::string::npos);
}

TEST_CASE("easctl wipe hard, account, cancel", "[policies][easctl]") {
  EasctlStore e;
  REQUIRE(e.run({"wipe", "hard", "--user", "alice@a.test", "--device", "AND1"}).code == 0);
  CHECK(e.device("alice@a.test", "AND1").wipe_state == WipeState::kPendingHard);
  REQUIRE(e.run({"wipe", "cancel", "--user", "alice@a.test", "--device", "AND1"}).code == 0);
  CHECK(e.device("alice@a.test", "AND1").wipe_state == WipeState::kNone);
  CHECK(e.run({"wipe", "cancel", "--user", "alice@a.test", "--device", "AND1"}).code == 1);
  Run acc = e.run({"wipe", "account", "--user", "alice@a.test", "--device", "IPH1"});
  REQUIRE(acc.code == 0);
  CHECK(acc.err.empty());  // 16.1: no warning
  CHECK(e.device("alice@a.test", "IPH1").wipe_state == WipeState::kPendingAccountOnly);
  Run old = e.run({"wipe", "account", "--user", "bob@b.test", "--device", "AND2"});
  CHECK(old.code == 0);
  CHECK(old.err.find("16.1") != std::string::npos);
  // A wipe the device already acknowledged cannot be cancelled.
  REQUIRE(e.store->setWipeState({"bob@b.test", "AND2"}, WipeState::kWiped).ok());
  CHECK(e.run({"wipe", "cancel", "--user", "bob@b.test", "--device", "AND2"}).code == 1);
}

TEST_CASE("easctl policy set, show, inherit at four levels", "[policies][easctl]") {
  EasctlStore e;
  const char* key = "MinDevicePasswordLength";
  REQUIRE(e.run({"policy", "set", "--level", "global", "--key", key, "--value", "4"}).code == 0);
  REQUIRE(e.run({"policy", "set", "--level", "domain", "--subject", "a.test", "--key", key,
                 "--value", "5"})
              .code == 0);
  REQUIRE(e.run({"policy", "set", "--level", "user", "--subject", "alice@a.test", "--key", key,
                 "--value", "6"})
              .code == 0);
  REQUIRE(e.run({"policy", "set", "--level", "device", "--subject", "AND1", "--key", key,
                 "--value", "7"})
              .code == 0);
  auto effective = [&](const std::string& device) {
    Run r = e.run({"policy", "show", "--user", "alice@a.test", "--device", device, "--json"});
    REQUIRE(r.code == 0);
    return r.out;
  };
  CHECK(effective("AND1").find("\"value\": 7, \"from\": \"device\"") != std::string::npos);
  CHECK(effective("IPH1").find("\"value\": 6, \"from\": \"user\"") != std::string::npos);
  Run rows = e.run({"policy", "show", "--level", "domain", "--subject", "a.test"});
  REQUIRE(rows.code == 0);
  CHECK(lines(rows.out) == 3);
  REQUIRE(e.run({"policy", "inherit", "--level", "device", "--subject", "AND1"}).code == 0);
  CHECK(effective("AND1").find("\"value\": 6, \"from\": \"user\"") != std::string::npos);
  REQUIRE(e.run({"policy", "inherit", "--level", "user", "--subject", "alice@a.test", "--key", key})
              .code == 0);
  CHECK(effective("AND1").find("\"value\": 5, \"from\": \"domain\"") != std::string::npos);
}

TEST_CASE("easctl abq add, global, similar, enable, disable, delete", "[policies][easctl]") {
  EasctlStore e;
  REQUIRE(e.run({"abq", "global", "--action", "quarantine"}).code == 0);
  REQUIRE(e.run({"abq", "global", "--action", "block"}).code == 0);  // replaced, not added
  REQUIRE(e.run({"abq", "add", "--kind", "os", "--value", "iOS", "--action", "allow"}).code == 0);
  REQUIRE(e.run({"abq", "similar", "--user", "bob@b.test", "--device", "AND2", "--characteristic",
                 "model", "--action", "quarantine"})
              .code == 0);
  auto rules = e.store->listAbqRules();
  REQUIRE(rules.ok());
  REQUIRE(rules->size() == 3);
  CHECK(rules->at(0).kind == AbqKind::kGlobal);
  CHECK(rules->at(0).action == AccessState::kBlock);
  CHECK(rules->at(2).kind == AbqKind::kModel);
  CHECK(rules->at(2).value == "Galaxy S23");
  const std::string os_id = std::to_string(rules->at(1).id);
  REQUIRE(e.run({"abq", "disable", "--id", os_id}).code == 0);
  CHECK_FALSE(e.store->listAbqRules()->at(1).enabled);
  REQUIRE(e.run({"abq", "enable", "--id", os_id}).code == 0);
  CHECK(e.store->listAbqRules()->at(1).enabled);
  REQUIRE(e.run({"abq", "delete", "--id", os_id}).code == 0);
  CHECK(e.store->listAbqRules()->size() == 2);
  Run list = e.run({"abq", "list"});
  REQUIRE(list.code == 0);
  CHECK(lines(list.out) == 4);
  CHECK(e.run({"abq", "delete", "--id", std::to_string(rules->at(0).id)}).code == 2);  // global
  CHECK(e.run({"abq", "delete", "--id", "999"}).code == 1);
}

TEST_CASE("easctl bad input: clear message, exit 2, nothing done", "[policies][easctl]") {
  EasctlStore e;
  struct Case {
    std::vector<std::string> args;
    const char* message;
  };
  const std::vector<Case> cases = {
      {{"devices", "list", "--state", "frozen"}, "--state must be"},
      {{"devices", "show", "--user", "alice@a.test"}, "--device DEVICEID are required"},
      {{"devices", "block"}, "are required"},
      {{"wipe", "hard", "--device", "AND1"}, "are required"},
      {{"policy", "set", "--level", "planet", "--key", "AllowCamera", "--value", "0"},
       "--level must be"},
      {{"policy", "set", "--level", "domain", "--key", "AllowCamera", "--value", "0"},
       "--subject is required"},
      {{"policy", "set", "--level", "global", "--subject", "x", "--key", "AllowCamera", "--value",
        "0"},
       "not used with --level global"},
      {{"policy", "set", "--level", "global", "--key", "NoSuchPolicy", "--value", "0"},
       "unknown policy --key"},
      {{"policy", "set", "--level", "global", "--key", "AllowCamera"}, "--value is required"},
      {{"policy", "inherit", "--level", "global"}, "nothing to inherit"},
      {{"policy", "show", "--level", "user", "--subject", "a", "--user", "a"}, "either --level"},
      {{"abq", "add", "--kind", "color", "--value", "x", "--action", "allow"}, "--kind must be"},
      {{"abq", "add", "--kind", "global", "--action", "allow"}, "abq global"},
      {{"abq", "add", "--kind", "os", "--value", "x", "--action", "maybe"}, "--action must be"},
      {{"abq", "add", "--kind", "os", "--action", "allow"}, "--value is required"},
      {{"abq", "add", "--kind", "os", "--value", "x", "--action", "allow", "--order", "x1"},
       "--order must be"},
      {{"abq", "enable", "--id", "abc"}, "--id N is required"},
      {{"abq", "similar", "--user", "bob@b.test", "--device", "AND2", "--characteristic", "user",
        "--action", "allow"},
       "--characteristic must be"},
      {{"abq", "global", "--action", "nope"}, "--action must be"},
      {{"abq", "list", "--bogus"}, "unknown option"},
  };
  for (const Case& c : cases) {
    Run r = e.run(c.args);
    INFO(r.err);
    CHECK(r.code == 2);
    CHECK(r.err.find(c.message) != std::string::npos);
  }
  CHECK(e.store->listAbqRules()->empty());
  CHECK(e.store->listPolicies()->empty());
  Run no_store = e.run({"devices", "list"}, /*with_store=*/false);
  CHECK(no_store.code == 2);
  CHECK(no_store.err.find("--store URL is required") != std::string::npos);
  Run missing = e.run({"devices", "list", "--store", "sqlite:/nonexistent-eas/x.db"}, false);
  CHECK(missing.code == 1);
  CHECK(missing.err.find("easctl db upgrade") != std::string::npos);
}

TEST_CASE("easctl abq: new-device settings of a rule and the global ones", "[easctl][abq]") {
  EasctlStore s;
  Run add = s.run({"abq", "add", "--kind", "type", "--value", "Tablet", "--action", "allow",
                   "--settings", "folder_mode=default;policy:MaxProtocolVersion=14.0"});
  REQUIRE(add.code == 0);
  auto rules = s.store->listAbqRules();
  REQUIRE(rules.ok());
  REQUIRE(rules->size() == 1);
  auto text = s.store->getAbqSetting("rule." + std::to_string(rules->front().id) + ".settings");
  REQUIRE(text.ok());
  CHECK(*text == "folder_mode=default;policy:MaxProtocolVersion=14.0");
  CHECK(s.run({"abq", "list"}).out.find("folder_mode=default") != std::string::npos);

  // Bad settings: refused before anything is written.
  Run bad = s.run({"abq", "add", "--kind", "type", "--value", "X", "--action", "allow",
                   "--settings", "nonsense"});
  CHECK(bad.code == 2);
  CHECK(bad.err.find("key=value") != std::string::npos);
  CHECK(s.run({"abq", "add", "--kind", "type", "--value", "X", "--action", "allow", "--settings",
               "policy:NoSuchPolicy=1"})
            .code == 2);
  CHECK(s.store->listAbqRules()->size() == 1);

  REQUIRE(s.run({"abq", "new-device-settings", "--settings", "tasks_mode=events"}).code == 0);
  CHECK(s.store->getAbqSetting("new_device.settings").value() == "tasks_mode=events");
  CHECK(s.run({"abq", "new-device-settings", "--id", "999", "--settings", "a=b"}).code == 1);
  CHECK(s.run({"abq", "new-device-settings", "--id", std::to_string(rules->front().id),
               "--settings", ""})
            .code == 0);
  CHECK(s.store->getAbqSetting("rule." + std::to_string(rules->front().id) + ".settings").value() ==
        "");
}

TEST_CASE("easctl policy: MaxProtocolVersion", "[easctl][policy]") {
  EasctlStore s;
  CHECK(s.run({"policy", "set", "--level", "user", "--subject", "alice@a.test", "--key",
               "MaxProtocolVersion", "--value", "14.0"})
            .code == 0);
  CHECK(s.run({"policy", "set", "--level", "user", "--subject", "alice@a.test", "--key",
               "MaxProtocolVersion", "--value", "13.0"})
            .code == 2);
  // The seed's iOS note: refused for a known iOS device, a note for others.
  Run ios = s.run({"policy", "set", "--level", "device", "--subject", "IPH1", "--key",
                   "MaxProtocolVersion", "--value", "12.1"});
  CHECK(ios.code == 2);
  CHECK(ios.err.find("--level user --subject alice@a.test") != std::string::npos);
  Run dev = s.run({"policy", "set", "--level", "device", "--subject", "AND1", "--key",
                   "MaxProtocolVersion", "--value", "12.1"});
  CHECK(dev.code == 0);
  CHECK(dev.err.find("iOS") != std::string::npos);
  CHECK(s.run({"help"}, false).out.find("set it at user level for iOS") != std::string::npos);
}

TEST_CASE("easctl notices list and send", "[easctl][notices]") {
  EasctlStore s;
  REQUIRE(s.run({"devices", "quarantine", "--user", "alice@a.test", "--device", "AND1"}).code == 0);
  Run list = s.run({"notices", "list", "--json"});
  REQUIRE(list.code == 0);
  CHECK(list.out.find("\"kind\": \"quarantined\"") != std::string::npos);
  CHECK(list.out.find("\"device\": \"AND1\"") != std::string::npos);
  // No SMTP server on port 1: kept for later, exit 1.
  Run send = s.run({"notices", "send", "--smtp-host", "127.0.0.1", "--smtp-port", "1"});
  CHECK(send.code == 1);
  CHECK(send.out.find("0 sent, 0 dropped, 1 kept") != std::string::npos);
  CHECK(s.store->pendingNotices(10)->size() == 1);
  CHECK(s.run({"notices", "send", "--smtp-port", "99999"}).code == 2);
}
