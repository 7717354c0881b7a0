// eas-notifyd: the notification sidecar (see README.md in this folder).
#include <iostream>
#include <string>
#include <vector>

#include "fcgi/notify/notifyd.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h") {
      std::cout << eas::notify::notifydUsage();
      return 0;
    }
  }
  auto options = eas::notify::parseNotifydArgs(args);
  if (!options.ok()) {
    std::cerr << "eas-notifyd: " << options.status().message() << "\n"
              << eas::notify::notifydUsage();
    return 2;
  }
  return eas::notify::runNotifyd(*options);
}
