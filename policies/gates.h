// The store-backed device gate (ABQ, first-seen record, device limit, wiped
// devices) and policy key gate (provisioning, policy refresh, remote wipe)
// behind the seams of core/commands/gates.h. The process runtime builds them
// once per worker with makeGates() and hands them to the HTTP layer.
#pragma once

#include <memory>

#include "core/base/clock.h"
#include "core/commands/gates.h"
#include "fcgi/http/version_cap.h"
#include "storage/metadata_store.h"

namespace eas::policies {

struct Gates {
  std::unique_ptr<commands::DeviceGate> device_gate;
  std::unique_ptr<commands::PolicyKeyGate> policy_key_gate;
  std::unique_ptr<http::VersionCap> version_cap;  // MaxProtocolVersion (version_cap.h)
};

// REQUIRES: `store` and `clock` outlive the gates. Both gates are thread-safe
// (they keep no state; the store is).
Gates makeGates(storage::MetadataStore& store, Clock& clock = Clock::real());

}  // namespace eas::policies
