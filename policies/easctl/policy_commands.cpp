// easctl policy ... (security policies at four levels, "Policies
// Inheritance") and easctl abq ... (device access rules, "ABQ Management").
#include <charconv>
#include <ostream>
#include <set>

#include "core/commands/provision_command.h"
#include "policies/abq.h"
#include "policies/easctl/easctl.h"
#include "policies/easctl/output.h"
#include "policies/easctl/store_option.h"

namespace eas::easctl {
namespace {

using storage::AbqKind;
using storage::AbqRule;
using storage::AccessState;
using storage::PolicyLevel;

int output(Io& io, const Args& args, const Table& t) {
  if (args.has("json"))
    printJson(io.out, t);
  else
    printTable(io.out, t);
  return kExitOk;
}

std::string levelName(PolicyLevel l) {
  switch (l) {
    case PolicyLevel::kGlobal: return "global";
    case PolicyLevel::kDomain: return "domain";
    case PolicyLevel::kUser: return "user";
    case PolicyLevel::kDevice: return "device";
  }
  return "?";
}

bool parseLevel(const std::string& s, PolicyLevel* out) {
  for (PolicyLevel l :
       {PolicyLevel::kGlobal, PolicyLevel::kDomain, PolicyLevel::kUser, PolicyLevel::kDevice})
    if (s == levelName(l)) {
      *out = l;
      return true;
    }
  return false;
}

bool knownPolicyKey(const std::string& key) {
  for (const auto& d : commands::policyDocSettings())
    if (d.key == key) return true;
  return key == commands::kPolicyEnforce || key == commands::kPolicyAllowNonProvisionable ||
         key == commands::kPolicyMaxDevices || key == commands::kPolicyMaxProtocolVersion;
}

// --level and --subject (subject forbidden for global, required otherwise).
bool levelAndSubject(const Args& args, Io& io, PolicyLevel* level, std::string* subject,
                     int* code) {
  if (!parseLevel(args.get("level"), level)) {
    *code = usage(io, "--level must be global, domain, user or device, not '" + args.get("level") +
                          "'");
    return false;
  }
  *subject = args.get("subject");
  if (*level == PolicyLevel::kGlobal && !subject->empty()) {
    *code = usage(io, "--subject is not used with --level global");
    return false;
  }
  if (*level != PolicyLevel::kGlobal && subject->empty()) {
    *code = usage(io, "--subject is required with --level " + levelName(*level) +
                          " (a domain, user@domain or device id)");
    return false;
  }
  return true;
}

int policyShow(const Args& args, Io& io) {
  int code = kExitFailed;
  PolicyLevel level = PolicyLevel::kGlobal;
  std::string subject;
  const bool effective = !args.get("user").empty();
  if (effective && !args.get("level").empty())
    return usage(io, "use either --level (stored rows) or --user [--device] (effective policy)");
  if (!effective && !args.get("level").empty() &&
      !levelAndSubject(args, io, &level, &subject, &code))
    return code;
  auto store = openStoreOption(args, io, &code);
  if (!store) return code;
  if (effective) {
    const std::string user = args.get("user");
    auto eff = store->effectivePolicies(commands::domainOf(user), user, args.get("device"));
    if (!eff.ok()) return failed(io, "effective policy", eff.status());
    Table t{{"key", "value", "from"}, {}};
    for (const auto& [k, v] : *eff) t.rows.push_back({k, v.value, levelName(v.from)});
    return output(io, args, t);
  }
  auto rows = store->listPolicies();
  if (!rows.ok()) return failed(io, "listing policies", rows.status());
  Table t{{"level", "subject", "key", "value"}, {}};
  for (const auto& r : *rows) {
    if (!args.get("level").empty() && (r.level != level || r.subject != subject)) continue;
    t.rows.push_back({levelName(r.level), r.subject, r.key, r.value});
  }
  return output(io, args, t);
}

int policySet(const Args& args, Io& io) {
  int code = kExitFailed;
  PolicyLevel level = PolicyLevel::kGlobal;
  std::string subject;
  if (!levelAndSubject(args, io, &level, &subject, &code)) return code;
  const std::string key = args.get("key");
  if (!knownPolicyKey(key)) return usage(io, "unknown policy --key '" + key + "'");
  if (args.options.count("value") == 0) return usage(io, "--value is required");
  if (key == commands::kPolicyMaxProtocolVersion &&
      !protocol::parseProtocolVersion(args.get("value")))
    return usage(io, "MaxProtocolVersion must be one of 2.5, 12.0, 12.1, 14.0, 14.1, 16.0, 16.1");
  auto store = openStoreOption(args, io, &code);
  if (!store) return code;
  // The seed greys this out for iOS devices: they send OPTIONS without their
  // DeviceId, so only a user-level (or higher) cap reaches them.
  if (key == commands::kPolicyMaxProtocolVersion && level == PolicyLevel::kDevice) {
    auto devices = store->listDevices("");
    if (!devices.ok()) return failed(io, "listing devices", devices.status());
    for (const storage::Device& d : *devices) {
      if (d.ref.device_id != subject) continue;
      const bool ios = d.device_type.rfind("iP", 0) == 0 || d.os.rfind("iOS", 0) == 0;
      if (ios)
        return usage(io, "device " + subject + " is an iOS device (" + d.device_type +
                             "): iOS does not identify itself in OPTIONS, set MaxProtocolVersion "
                             "at user level (--level user --subject " + d.ref.user + ")");
    }
  }
  if (Status s = store->setPolicy({level, subject, key, args.get("value")}); !s.ok())
    return failed(io, "setting " + key, s);
  if (key == commands::kPolicyMaxProtocolVersion && level == PolicyLevel::kDevice)
    io.err << "easctl: note: iOS devices send OPTIONS without their DeviceId, so a device-level "
              "MaxProtocolVersion reaches them only as a 400 refusal; set it at user level "
              "for iOS\n";
  io.out << levelName(level) << (subject.empty() ? "" : " " + subject) << ": " << key << " = "
         << args.get("value") << "\n";
  return kExitOk;
}

// Drops this level's customization (one key, or all of them): the values of
// the level above apply again.
int policyInherit(const Args& args, Io& io) {
  int code = kExitFailed;
  PolicyLevel level = PolicyLevel::kGlobal;
  std::string subject;
  if (!levelAndSubject(args, io, &level, &subject, &code)) return code;
  if (level == PolicyLevel::kGlobal) return usage(io, "the global level has nothing to inherit from");
  const std::string key = args.get("key");
  if (!key.empty() && !knownPolicyKey(key)) return usage(io, "unknown policy --key '" + key + "'");
  auto store = openStoreOption(args, io, &code);
  if (!store) return code;
  std::vector<std::string> keys;
  if (!key.empty()) {
    keys.push_back(key);
  } else {
    auto rows = store->listPolicies();
    if (!rows.ok()) return failed(io, "listing policies", rows.status());
    for (const auto& r : *rows)
      if (r.level == level && r.subject == subject) keys.push_back(r.key);
  }
  for (const std::string& k : keys)
    if (Status s = store->deletePolicy(level, subject, k); !s.ok())
      return failed(io, "inheriting " + k, s);
  io.out << levelName(level) << " " << subject << ": " << keys.size()
         << " setting(s) now inherited\n";
  return kExitOk;
}

std::string kindName(AbqKind k) {
  switch (k) {
    case AbqKind::kGlobal: return "global";
    case AbqKind::kDomain: return "domain";
    case AbqKind::kUser: return "user";
    case AbqKind::kOs: return "os";
    case AbqKind::kModel: return "model";
    case AbqKind::kType: return "type";
  }
  return "?";
}

bool parseKind(const std::string& s, AbqKind* out) {
  for (AbqKind k : {AbqKind::kGlobal, AbqKind::kDomain, AbqKind::kUser, AbqKind::kOs,
                    AbqKind::kModel, AbqKind::kType})
    if (s == kindName(k)) {
      *out = k;
      return true;
    }
  return false;
}

bool parseAction(const std::string& s, AccessState* out) {
  for (AccessState a : {AccessState::kAllow, AccessState::kBlock, AccessState::kQuarantine})
    if (s == policies::accessStateName(a)) {
      *out = a;
      return true;
    }
  return false;
}

bool parseInt64(const std::string& s, int64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

int abqList(const Args& args, Io& io) {
  int code = kExitFailed;
  auto store = openStoreOption(args, io, &code);
  if (!store) return code;
  auto rules = store->listAbqRules();
  if (!rules.ok()) return failed(io, "listing ABQ rules", rules.status());
  Table t{{"id", "kind", "value", "action", "enabled", "order", "new_device_settings"}, {}};
  auto settingsOf = [&](const std::string& key) {
    auto v = store->getAbqSetting(key);
    return v.ok() ? *v : std::string();
  };
  for (const AbqRule& r : *rules)
    t.rows.push_back({std::to_string(r.id), kindName(r.kind), r.value,
                      std::string(policies::accessStateName(r.action)), r.enabled ? "yes" : "no",
                      std::to_string(r.order),
                      settingsOf(r.kind == AbqKind::kGlobal ? policies::kAbqNewDeviceSettingsKey
                                                            : policies::abqRuleSettingsKey(r.id))});
  return output(io, args, t);
}

int addRule(storage::MetadataStore& store, const AbqRule& rule, Io& io,
            const std::string& settings = {}) {
  auto id = store.addAbqRule(rule);
  if (!id.ok()) return failed(io, "adding the rule", id.status());
  if (!settings.empty()) {
    if (Status s = store.setAbqSetting(policies::abqRuleSettingsKey(*id), settings); !s.ok())
      return failed(io, "the rule's new-device settings", s);
  }
  io.out << "rule " << *id << ": " << kindName(rule.kind) << (rule.value.empty() ? "" : " ")
         << rule.value << " -> " << policies::accessStateName(rule.action)
         << (settings.empty() ? "" : " (new-device settings: " + settings + ")") << "\n";
  return kExitOk;
}

// --settings, checked before anything is written.
bool settingsOption(const Args& args, Io& io, int* code) {
  const std::string text = args.get("settings");
  if (text.empty()) return true;
  auto parsed = policies::parseNewDeviceSettings(text);
  if (!parsed.ok()) {
    *code = usage(io, "--settings: " + parsed.status().message() +
                          " (items key=value separated by ';', policy:<Key>=V for a policy)");
    return false;
  }
  for (const auto& [k, v] : parsed->policies)
    if (!knownPolicyKey(k)) {
      *code = usage(io, "--settings: unknown policy key '" + k + "'");
      return false;
    }
  return true;
}

// New-device settings of one rule (--id) or the global ones; an empty
// --settings "" removes them.
int abqNewDeviceSettings(const Args& args, Io& io) {
  int code = kExitFailed;
  if (args.options.count("settings") == 0) return usage(io, "--settings is required");
  if (!settingsOption(args, io, &code)) return code;
  int64_t id = 0;
  if (!args.get("id").empty() && !parseInt64(args.get("id"), &id))
    return usage(io, "--id must be a rule id (see `abq list`)");
  auto store = openStoreOption(args, io, &code);
  if (!store) return code;
  if (id != 0) {
    auto rules = store->listAbqRules();
    if (!rules.ok()) return failed(io, "listing ABQ rules", rules.status());
    bool found = false;
    for (const AbqRule& r : *rules) found = found || r.id == id;
    if (!found) {
      io.err << "easctl: no ABQ rule with id " << id << "\n";
      return kExitFailed;
    }
  }
  const std::string key =
      id != 0 ? policies::abqRuleSettingsKey(id) : std::string(policies::kAbqNewDeviceSettingsKey);
  if (Status s = store->setAbqSetting(key, args.get("settings")); !s.ok())
    return failed(io, "setting " + key, s);
  io.out << (id != 0 ? "rule " + std::to_string(id) : std::string("global"))
         << " new-device settings: " << (args.get("settings").empty() ? "(none)" : args.get("settings"))
         << "\n";
  return kExitOk;
}

int abqAdd(const Args& args, Io& io) {
  AbqRule rule;
  if (!parseKind(args.get("kind"), &rule.kind))
    return usage(io, "--kind must be user, domain, os, model or type, not '" + args.get("kind") +
                         "'");
  if (rule.kind == AbqKind::kGlobal)
    return usage(io, "there is one global rule: set it with `easctl abq global --action ...`");
  if (!parseAction(args.get("action"), &rule.action))
    return usage(io, "--action must be allow, block or quarantine, not '" + args.get("action") +
                         "'");
  rule.value = args.get("value");
  if (rule.value.empty()) return usage(io, "--value is required");
  if (!args.get("order").empty() && !parseInt64(args.get("order"), &rule.order))
    return usage(io, "--order must be an integer");
  int code = kExitFailed;
  if (!settingsOption(args, io, &code)) return code;
  auto store = openStoreOption(args, io, &code);
  if (!store) return code;
  return addRule(*store, rule, io, args.get("settings"));
}

// The one global rule: replaced in place, created when absent.
int abqGlobal(const Args& args, Io& io) {
  AccessState action;
  if (!parseAction(args.get("action"), &action))
    return usage(io, "--action must be allow, block or quarantine, not '" + args.get("action") +
                         "'");
  int code = kExitFailed;
  auto store = openStoreOption(args, io, &code);
  if (!store) return code;
  auto rules = store->listAbqRules();
  if (!rules.ok()) return failed(io, "listing ABQ rules", rules.status());
  for (AbqRule r : *rules) {
    if (r.kind != AbqKind::kGlobal) continue;
    r.action = action;
    r.enabled = true;
    if (Status s = store->updateAbqRule(r); !s.ok()) return failed(io, "updating the rule", s);
    io.out << "global rule -> " << policies::accessStateName(action) << "\n";
    return kExitOk;
  }
  AbqRule rule;
  rule.kind = AbqKind::kGlobal;
  rule.action = action;
  return addRule(*store, rule, io);
}

// "Rule for similar devices": a server rule from one device's characteristic.
int abqSimilar(const Args& args, Io& io) {
  AbqRule rule;
  const std::string ch = args.get("characteristic");
  if (!parseKind(ch, &rule.kind) ||
      (rule.kind != AbqKind::kOs && rule.kind != AbqKind::kModel && rule.kind != AbqKind::kType))
    return usage(io, "--characteristic must be os, model or type, not '" + ch + "'");
  if (!parseAction(args.get("action"), &rule.action))
    return usage(io, "--action must be allow, block or quarantine, not '" + args.get("action") +
                         "'");
  if (args.get("user").empty() || args.get("device").empty())
    return usage(io, "--user USER@DOMAIN and --device DEVICEID are required");
  int code = kExitFailed;
  auto store = openStoreOption(args, io, &code);
  if (!store) return code;
  auto d = store->findDevice({args.get("user"), args.get("device")});
  if (!d.ok()) return failed(io, "device", d.status());
  rule.value = rule.kind == AbqKind::kOs ? d->os : rule.kind == AbqKind::kModel ? d->model
                                                                                : d->device_type;
  if (rule.value.empty()) {
    io.err << "easctl: the device has not reported its " << ch << " yet\n";
    return kExitFailed;
  }
  return addRule(*store, rule, io);
}

int abqChange(const Args& args, Io& io, int what) {  // 0 enable, 1 disable, 2 delete
  int64_t id = 0;
  if (!parseInt64(args.get("id"), &id)) return usage(io, "--id N is required (see `abq list`)");
  int code = kExitFailed;
  auto store = openStoreOption(args, io, &code);
  if (!store) return code;
  auto rules = store->listAbqRules();
  if (!rules.ok()) return failed(io, "listing ABQ rules", rules.status());
  for (AbqRule r : *rules) {
    if (r.id != id) continue;
    if (r.kind == AbqKind::kGlobal && what != 0)
      return usage(io, "the global rule is mandatory: change its action with `abq global`");
    Status s = what == 2 ? store->deleteAbqRule(id)
                         : (r.enabled = what == 0, store->updateAbqRule(r));
    if (!s.ok()) return failed(io, "rule " + std::to_string(id), s);
    io.out << "rule " << id << ": " << (what == 0 ? "enabled" : what == 1 ? "disabled" : "deleted")
           << "\n";
    return kExitOk;
  }
  io.err << "easctl: no ABQ rule with id " << id << "\n";
  return kExitFailed;
}

}  // namespace

CommandGroup policyCommands() {
  return {"policy",
          "security policies at global, domain, user and device level",
          {
              {"show",
               "--store URL [--level L [--subject S] | --user USER@DOMAIN [--device ID]] [--json]",
               "stored settings, or the effective policy of a user/device with where each comes from",
               {"store", "level", "subject", "user", "device"}, {"json"}, policyShow},
              {"set", "--store URL --level L [--subject S] --key KEY --value V",
               "customize one setting at a level. KEY: an EASProvisionDoc element name, Enforce, "
               "AllowNonProvisionableDevices, MaxDevicesPerUser or MaxProtocolVersion (the "
               "highest version OPTIONS offers and requests may use; iOS does not identify "
               "itself in OPTIONS, so set it at user level for iOS devices)",
               {"store", "level", "subject", "key", "value"}, {}, policySet},
              {"inherit", "--store URL --level L --subject S [--key KEY]",
               "drop a level's customization (one key or all): the level above applies",
               {"store", "level", "subject", "key"}, {}, policyInherit},
          }};
}

CommandGroup abqCommands() {
  return {"abq",
          "device access rules (allow, block, quarantine)",
          {
              {"list", "--store URL [--json]", "every rule in evaluation order", {"store"},
               {"json"}, abqList},
              {"add",
               "--store URL --kind user|domain|os|model|type --value V --action A [--order N] "
               "[--settings 'K=V;policy:KEY=V']",
               "add a rule, optionally with new-device settings for the devices it admits",
               {"store", "kind", "value", "action", "order", "settings"}, {}, abqAdd},
              {"new-device-settings", "--store URL [--id N] --settings 'K=V;policy:KEY=V'",
               "settings given to devices first admitted by rule N (without --id: by no rule, or by "
               "a rule without settings); e.g. folder_mode=default;policy:MaxProtocolVersion=14.0",
               {"store", "id", "settings"}, {}, abqNewDeviceSettings},
              {"global", "--store URL --action allow|block|quarantine",
               "set the global rule (applies when no other rule matches)", {"store", "action"}, {},
               abqGlobal},
              {"similar",
               "--store URL --user USER@DOMAIN --device ID --characteristic os|model|type --action A",
               "rule for similar devices: a server rule from one device's characteristic",
               {"store", "user", "device", "characteristic", "action"}, {}, abqSimilar},
              {"enable", "--store URL --id N", "enable a rule", {"store", "id"}, {},
               [](const Args& a, Io& io) { return abqChange(a, io, 0); }},
              {"disable", "--store URL --id N", "disable a rule", {"store", "id"}, {},
               [](const Args& a, Io& io) { return abqChange(a, io, 1); }},
              {"delete", "--store URL --id N", "delete a rule", {"store", "id"}, {},
               [](const Args& a, Io& io) { return abqChange(a, io, 2); }},
          }};
}

}  // namespace eas::easctl
