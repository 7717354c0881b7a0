// The two endpoints, matched as nginx's `location ~*` does: any case.
#pragma once

#include <string_view>

namespace eas::http {

// "/Microsoft-Server-ActiveSync" (any case, one trailing '/' allowed).
bool isEasPath(std::string_view path);
// "/autodiscover/autodiscover.xml" (any case).
bool isAutodiscoverPath(std::string_view path);

}  // namespace eas::http
