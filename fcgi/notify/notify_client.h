// A worker's link to eas-notifyd (the seam between the parking lot and the
// sidecar). The client connects to the sidecar's relay socket, tells it
// which users this worker has parked Pings for, and calls the handler for
// every change event relayed for them. It runs its own thread, reconnects
// with back-off, and re-registers every watched user after the sidecar
// restarts; while disconnected it simply delivers nothing (parked Pings
// still re-check the backend at their heartbeat). Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>

namespace eas::notify {

// One change, as the sources (Dovecot's Lua script, the Radicale hook,
// `easctl notify`) report it. The wire format is in fcgi/notify/README.md.
struct ChangeEvent {
  std::string user;    // the account, "user@domain" as it logs in
  std::string source;  // "imap", "dav", "easctl"
  std::string folder;  // backend folder: IMAP mailbox name (UTF-7 as IMAP spells it) or DAV
                       // collection path; "" = the account as a whole (hierarchy)
  std::string kind;    // "new", "flags", "expunge", "append", "folder_create",
                       // "folder_delete", "folder_rename", "change"
};

class NotifyClient {
 public:
  using EventHandler = std::function<void(const ChangeEvent&)>;
  virtual ~NotifyClient() = default;
  // Counted: every watchUser needs one unwatchUser.
  virtual void watchUser(const std::string& user) = 0;
  virtual void unwatchUser(const std::string& user) = 0;
  virtual bool connected() const = 0;
};

// Starts the client thread; `on_event` is called from it (keep it short:
// hand the work on). Never null.
std::unique_ptr<NotifyClient> startNotifyClient(std::string socket_path,
                                                NotifyClient::EventHandler on_event);

}  // namespace eas::notify
