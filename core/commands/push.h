// The parking lot as Ping (and later Sync with Wait) sees it: a parked
// request is a data object -- who waits (login, device), for which backend
// folders, until when, and how to re-check -- driven by events and timers,
// never by a thread of its own. fcgi/runtime/parking_lot implements it for
// a worker process; tests use it directly with short heartbeats.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/commands/command.h"

namespace eas::commands {

// What a parked request waits for.
struct PushWatch {
  std::string login;      // "user@domain", as the change events name the user
  std::string device_id;  // a newer park() of the same (login, device) supersedes this one
  // Backend folders (IMAP mailbox names as IMAP spells them) whose change
  // events wake the request; an event for "" (the account) wakes every
  // watch of the user.
  std::vector<std::string> folders;
  int heartbeat_seconds = 0;  // answered at the latest this long after park()
};

// Why a parked request is asked to answer or re-check.
enum class WakeReason {
  kEvent,       // a change event for one of its folders (may be spurious)
  kHeartbeat,   // its heartbeat ended
  kSuperseded,  // a newer request from the same device arrived
  kShutdown,    // the worker drains
};

// The request's own part: the re-check. Runs on the lot's executor, never
// on its event thread, and never for two reasons at once.
class ParkedRequest {
 public:
  virtual ~ParkedRequest() = default;
  // The reply to send now, or nullopt to keep waiting. nullopt is honoured
  // only for kEvent (a spurious wake); for every other reason an answer is
  // required and nullopt is treated as a server error by the lot.
  virtual std::optional<CommandReply> recheck(WakeReason why) = 0;
};

class PushHub {
 public:
  virtual ~PushHub() = default;
  // Takes the request over: from now on the hub answers `reply` exactly
  // once (through `request`'s recheck), or frees both without sending when
  // the client goes away. A full lot answers at once via
  // recheck(kShutdown). Thread-safe.
  virtual void park(PushWatch watch, std::unique_ptr<DeferredReply> reply,
                    std::unique_ptr<ParkedRequest> request) = 0;
  // A change for `folder` of `login` ("" = the account as a whole).
  // Cheap, never blocks on a re-check; callable from any thread.
  virtual void notify(const std::string& login, const std::string& folder) = 0;
  // Ends the parked request of this device, if any (answered through
  // recheck(kSuperseded)): for a newer Ping or a Sync of the same device.
  virtual void endDevice(const std::string& login, const std::string& device_id) = 0;
  // How many requests are parked now.
  virtual std::size_t parkedCount() const = 0;
};

}  // namespace eas::commands
