// easctl devices ... and easctl wipe ...: the seed's "Device Management" and
// "Local and Remote Device Wipe" for administrators.
#include <ostream>

#include "core/base/clock.h"
#include "core/commands/provision_command.h"
#include "policies/abq.h"
#include "policies/easctl/easctl.h"
#include "policies/easctl/output.h"
#include "policies/easctl/store_option.h"

namespace eas::easctl {
namespace {

using storage::AccessState;
using storage::Device;
using storage::WipeState;

std::string wipeName(WipeState w) {
  switch (w) {
    case WipeState::kNone: return "none";
    case WipeState::kPendingHard: return "pending-hard";
    case WipeState::kPendingAccountOnly: return "pending-account";
    case WipeState::kWiped: return "wiped";
    case WipeState::kAcknowledged: return "acknowledged";
  }
  return "?";
}

std::string provisioningName(storage::ProvisioningStatus p) {
  switch (p) {
    case storage::ProvisioningStatus::kNone: return "none";
    case storage::ProvisioningStatus::kPending: return "pending";
    case storage::ProvisioningStatus::kProvisioned: return "provisioned";
  }
  return "?";
}

std::string domainOf(const std::string& user) {
  const size_t at = user.rfind('@');
  return at == std::string::npos ? std::string() : user.substr(at + 1);
}

bool equalsIgnoreCase(const std::string& a, const std::string& b) {
  return a.size() == b.size() && policies::abqValueMatches(a, b);
}

int output(Io& io, const Args& args, const Table& t) {
  if (args.has("json"))
    printJson(io.out, t);
  else
    printTable(io.out, t);
  return kExitOk;
}

// --user and --device name one device; prints the error when missing.
bool deviceRef(const Args& args, Io& io, storage::DeviceRef* ref, int* code) {
  ref->user = args.get("user");
  ref->device_id = args.get("device");
  if (ref->user.empty() || ref->device_id.empty()) {
    *code = usage(io, "--user USER@DOMAIN and --device DEVICEID are required");
    return false;
  }
  return true;
}

int list(const Args& args, Io& io) {
  const std::string state = args.get("state");
  if (!state.empty() && state != "allow" && state != "block" && state != "quarantine")
    return usage(io, "--state must be allow, block or quarantine, not '" + state + "'");
  int code = kExitFailed;
  auto store = openStoreOption(args, io, &code);
  if (!store) return code;
  auto devices = store->listDevices(args.get("user"));
  if (!devices.ok()) return failed(io, "listing devices", devices.status());
  Table t{{"user", "device_id", "type", "model", "os", "state", "provisioning", "wipe",
           "last_sync"},
          {}};
  for (const Device& d : *devices) {
    if (!args.get("domain").empty() && !equalsIgnoreCase(domainOf(d.ref.user), args.get("domain")))
      continue;
    if (!args.get("type").empty() && !equalsIgnoreCase(d.device_type, args.get("type"))) continue;
    const std::string s(policies::accessStateName(d.access_state));
    if (!state.empty() && s != state) continue;
    t.rows.push_back({d.ref.user, d.ref.device_id, d.device_type, d.model, d.os, s,
                      provisioningName(d.provisioning), wipeName(d.wipe_state),
                      std::to_string(d.last_sync)});
  }
  return output(io, args, t);
}

int show(const Args& args, Io& io) {
  storage::DeviceRef ref;
  int code = kExitFailed;
  if (!deviceRef(args, io, &ref, &code)) return code;
  auto store = openStoreOption(args, io, &code);
  if (!store) return code;
  auto d = store->findDevice(ref);
  if (!d.ok()) return failed(io, "device " + ref.user + " " + ref.device_id, d.status());
  Table t{{"field", "value"}, {}};
  auto row = [&](const char* k, const std::string& v) { t.rows.push_back({k, v}); };
  row("user", d->ref.user);
  row("device_id", d->ref.device_id);
  row("type", d->device_type);
  row("model", d->model);
  row("imei", d->imei);
  row("friendly_name", d->friendly_name);
  row("os", d->os);
  row("os_language", d->os_language);
  row("phone_number", d->phone_number);
  row("mobile_operator", d->mobile_operator);
  row("user_agent", d->user_agent);
  row("protocol_version", d->protocol_version);
  row("first_sync", std::to_string(d->first_sync));
  row("last_sync", std::to_string(d->last_sync));
  row("state", std::string(policies::accessStateName(d->access_state)));
  row("state_reason", d->access_reason);
  row("provisioning", provisioningName(d->provisioning));
  row("policy_key", std::to_string(d->policy_key));
  row("wipe", wipeName(d->wipe_state));
  for (const auto& [k, v] : d->settings) row(("setting:" + k).c_str(), v);
  return output(io, args, t);
}

int audit(storage::MetadataStore& store, const storage::DeviceRef& ref, storage::AuditEvent e,
          const std::string& detail) {
  storage::AuditEntry entry;
  entry.at = Clock::real().unixSeconds();
  entry.ref = ref;
  entry.event = e;
  entry.detail = detail;
  auto r = store.appendAudit(entry);
  return r.ok() ? kExitOk : kExitFailed;
}

// allow / block / quarantine: an administrator's decision ("admin"), which
// the ABQ rules never override afterwards.
int setState(const Args& args, Io& io, AccessState state) {
  storage::DeviceRef ref;
  int code = kExitFailed;
  if (!deviceRef(args, io, &ref, &code)) return code;
  auto store = openStoreOption(args, io, &code);
  if (!store) return code;
  if (Status s = store->setAccessState(ref, state, "admin"); !s.ok())
    return failed(io, "device " + ref.user + " " + ref.device_id, s);
  const storage::AuditEvent e = state == AccessState::kBlock        ? storage::AuditEvent::kBlocked
                                : state == AccessState::kQuarantine ? storage::AuditEvent::kQuarantined
                                                                    : storage::AuditEvent::kAllowed;
  if (audit(*store, ref, e, "admin") != kExitOk) io.err << "easctl: warning: audit entry not written\n";
  if (state == AccessState::kQuarantine) {  // the user's information mail (seed, "Quarantine")
    storage::Notice n;
    n.ref = ref;
    n.kind = commands::kNoticeQuarantined;
    n.payload = commands::noticePayload({{"reason", "admin"}});
    n.created_at = Clock::real().unixSeconds();
    if (!store->queueNotice(n).ok()) io.err << "easctl: warning: quarantine notice not queued\n";
  }
  io.out << ref.user << " " << ref.device_id << ": " << policies::accessStateName(state) << "\n";
  return kExitOk;
}

int remove(const Args& args, Io& io) {
  storage::DeviceRef ref;
  int code = kExitFailed;
  if (!deviceRef(args, io, &ref, &code)) return code;
  auto store = openStoreOption(args, io, &code);
  if (!store) return code;
  if (Status s = store->deleteDevice(ref); !s.ok())
    return failed(io, "device " + ref.user + " " + ref.device_id, s);
  if (audit(*store, ref, storage::AuditEvent::kDeleted, "admin") != kExitOk)
    io.err << "easctl: warning: audit entry not written\n";
  io.out << ref.user << " " << ref.device_id << ": deleted\n";
  return kExitOk;
}

int wipe(const Args& args, Io& io, WipeState to) {
  storage::DeviceRef ref;
  int code = kExitFailed;
  if (!deviceRef(args, io, &ref, &code)) return code;
  auto store = openStoreOption(args, io, &code);
  if (!store) return code;
  auto d = store->findDevice(ref);
  if (!d.ok()) return failed(io, "device " + ref.user + " " + ref.device_id, d.status());
  const bool pending = d->wipe_state == WipeState::kPendingHard ||
                       d->wipe_state == WipeState::kPendingAccountOnly;
  if (to == WipeState::kNone && !pending) {
    io.err << "easctl: no pending wipe to cancel (wipe state " << wipeName(d->wipe_state) << ")\n";
    return kExitFailed;
  }
  if (to == WipeState::kPendingAccountOnly && d->protocol_version != "16.1")
    io.err << "easctl: warning: account-only wipe needs EAS 16.1; this device uses '"
           << d->protocol_version << "' and gets it only once it talks 16.1\n";
  if (Status s = store->setWipeState(ref, to); !s.ok())
    return failed(io, "device " + ref.user + " " + ref.device_id, s);
  if (to != WipeState::kNone &&
      audit(*store, ref, storage::AuditEvent::kWipeRequested,
            to == WipeState::kPendingHard ? "hard" : "account-only") != kExitOk)
    io.err << "easctl: warning: audit entry not written\n";
  io.out << ref.user << " " << ref.device_id << ": wipe " << wipeName(to) << "\n";
  return kExitOk;
}

constexpr const char* kListUsage =
    "--store URL [--domain D] [--user U] [--type T] [--state allow|block|quarantine] [--json]";
constexpr const char* kOneUsage = "--store URL --user USER@DOMAIN --device DEVICEID";

}  // namespace

CommandGroup devicesCommands() {
  return {"devices",
          "devices known to the server and their access state",
          {
              {"list", kListUsage, "devices, filtered", {"store", "domain", "user", "type", "state"},
               {"json"}, list},
              {"show", "--store URL --user USER@DOMAIN --device DEVICEID [--json]",
               "every field of one device", {"store", "user", "device"}, {"json"}, show},
              {"allow", kOneUsage, "grant full access (administrator's decision)",
               {"store", "user", "device"}, {},
               [](const Args& a, Io& io) { return setState(a, io, AccessState::kAllow); }},
              {"block", kOneUsage, "block: every command is refused (403), the device stays listed",
               {"store", "user", "device"}, {},
               [](const Args& a, Io& io) { return setState(a, io, AccessState::kBlock); }},
              {"quarantine", kOneUsage, "quarantine the device", {"store", "user", "device"}, {},
               [](const Args& a, Io& io) { return setState(a, io, AccessState::kQuarantine); }},
              {"delete", kOneUsage, "forget the device (it resyncs from scratch)",
               {"store", "user", "device"}, {}, remove},
          }};
}

CommandGroup wipeCommands() {
  return {"wipe",
          "remote wipe, sent with the device's next request",
          {
              {"hard", kOneUsage, "wipe the whole device", {"store", "user", "device"}, {},
               [](const Args& a, Io& io) { return wipe(a, io, WipeState::kPendingHard); }},
              {"account", kOneUsage, "wipe only this account's data (EAS 16.1)",
               {"store", "user", "device"}, {},
               [](const Args& a, Io& io) { return wipe(a, io, WipeState::kPendingAccountOnly); }},
              {"cancel", kOneUsage, "cancel a wipe the device has not acknowledged yet",
               {"store", "user", "device"}, {},
               [](const Args& a, Io& io) { return wipe(a, io, WipeState::kNone); }},
          }};
}

}  // namespace eas::easctl
