#include "fcgi/http/version_cap.h"

#include <cctype>

namespace eas::http {

std::string optionsDeviceId(std::string_view query) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    const std::string_view param = query.substr(pos, amp - pos);
    pos = amp + 1;
    constexpr std::string_view kName = "DeviceId=";
    if (param.substr(0, kName.size()) != kName) continue;
    const std::string_view id = param.substr(kName.size());
    if (id.empty() || id.size() > 32) return {};
    for (char c : id)
      if (!std::isalnum(static_cast<unsigned char>(c))) return {};
    return std::string(id);
  }
  return {};
}

protocol::ProtocolVersion cappedVersion(protocol::ProtocolVersion server_max,
                                        std::optional<protocol::ProtocolVersion> cap) {
  return cap && *cap < server_max ? *cap : server_max;
}

}  // namespace eas::http
