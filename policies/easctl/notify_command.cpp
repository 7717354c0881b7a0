// easctl notify send: one signed change event to eas-notifyd (datagram format
// in fcgi/notify/README.md), for sources without a driver of their own: the
// Radicale hook (deploy/radicale/), cron jobs, other servers' hooks.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ostream>

#include "core/base/clock.h"
#include "fcgi/notify/notify_datagram.h"
#include "policies/easctl/easctl.h"

namespace eas::easctl {
namespace {

constexpr const char* kSendUsage =
    "--user USER@DOMAIN --secret-file FILE [--folder NAME] [--kind KIND] [--source SOURCE] "
    "[--udp 127.0.0.1:4610]";

int send(const Args& args, Io& io) {
  notify::ChangeEvent e;
  e.user = args.get("user");
  e.folder = args.get("folder");
  e.kind = args.get("kind").empty() ? "change" : args.get("kind");
  e.source = args.get("source").empty() ? "easctl" : args.get("source");
  if (e.user.empty() || args.get("secret-file").empty()) {
    io.err << "easctl: notify send needs --user and --secret-file\n";
    return kExitUsage;
  }
  std::string target = args.get("udp").empty() ? "127.0.0.1:4610" : args.get("udp");
  const auto colon = target.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  const std::string host = colon == std::string::npos ? "" : target.substr(0, colon);
  const std::string port = colon == std::string::npos ? "" : target.substr(colon + 1);
  char* end = nullptr;
  const long p = std::strtol(port.c_str(), &end, 10);
  if (host.empty() || port.empty() || *end != '\0' || p < 1 || p > 65535 ||
      inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    io.err << "easctl: --udp wants IPv4:PORT, got '" << target << "'\n";
    return kExitUsage;
  }
  addr.sin_port = htons(static_cast<std::uint16_t>(p));
  auto secret = notify::readSecretFile(args.get("secret-file"));
  if (!secret.ok()) {
    io.err << "easctl: " << secret.status().toString() << "\n";
    return kExitFailed;
  }
  auto bytes = notify::encodeDatagram(e, Clock::real().unixSeconds(), notify::randomNonce(),
                                      *secret);
  if (!bytes.ok()) {
    // Bad input: notifyd would drop it, so nothing is sent.
    io.err << "easctl: " << bytes.status().toString() << "\n";
    return kExitUsage;
  }
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const ssize_t n = fd < 0 ? -1
                           : sendto(fd, bytes->data(), bytes->size(), 0,
                                    reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  if (fd >= 0) close(fd);
  if (n != static_cast<ssize_t>(bytes->size())) {
    io.err << "easctl: sending to " << target << " failed\n";
    return kExitFailed;
  }
  io.out << "sent " << e.kind << " for " << e.user << (e.folder.empty() ? "" : " in ")
         << e.folder << " to " << target << "\n";
  return kExitOk;
}

}  // namespace

CommandGroup notifyCommands() {
  return {"notify",
          "change events for eas-notifyd (wakes the user's parked Pings)",
          {
              {"send", kSendUsage,
               "send one signed event (kind: new, flags, expunge, append, folder_create, "
               "folder_delete, folder_rename, change; default change)",
               {"user", "secret-file", "folder", "kind", "source", "udp"}, {}, send},
          }};
}

}  // namespace eas::easctl
