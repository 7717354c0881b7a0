#include "fcgi/http/request_path.h"

#include <cctype>

namespace eas::http {
namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

}  // namespace

bool isEasPath(std::string_view path) {
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return equalsIgnoreCase(path, "/Microsoft-Server-ActiveSync");
}

bool isAutodiscoverPath(std::string_view path) {
  return equalsIgnoreCase(path, "/autodiscover/autodiscover.xml");
}

}  // namespace eas::http
