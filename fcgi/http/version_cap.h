// The per-policy version cap (the "Maximum allowed protocol version" policy,
// four levels): the highest EAS version one user, or one of the user's
// devices, may use. OPTIONS lists versions up to it in MS-ASProtocolVersions;
// a POST above it is refused like an unsupported version (400). The
// implementation over the metadata store is policies/version_cap.h.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/protocol/protocol_version.h"

namespace eas::http {

// Thread-safe: called from every request thread.
class VersionCap {
 public:
  virtual ~VersionCap() = default;
  // nullopt: no cap (the server's maximum applies). `device_id` is empty
  // when the request does not name a device (iOS's OPTIONS).
  virtual std::optional<protocol::ProtocolVersion> maxVersionFor(const std::string& login,
                                                                  const std::string& device_id) = 0;
};

}  // namespace eas::http

namespace eas::http {

// The DeviceId of an OPTIONS query ("User=..&DeviceId=..&DeviceType=..",
// which OPTIONS carries only from some clients), or "" when there is none or
// it does not look like a DeviceId (HTTP §2.2.1.1.1.2.3: 1-32 letters/digits).
std::string optionsDeviceId(std::string_view query);

// The lower of the server's maximum and the cap (none: the server's).
protocol::ProtocolVersion cappedVersion(protocol::ProtocolVersion server_max,
                                        std::optional<protocol::ProtocolVersion> cap);

}  // namespace eas::http
