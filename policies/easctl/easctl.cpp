#include "policies/easctl/easctl.h"

#include <algorithm>
#include <ostream>

namespace eas::easctl {
namespace {

// Every command group; a new group is one line here and one file.
const std::vector<CommandGroup>& groups() {
  static const std::vector<CommandGroup> kGroups = {dbCommands(), devicesCommands(),
                                                     wipeCommands(), policyCommands(),
                                                     abqCommands(), notifyCommands(),
                                                     noticesCommands()};
  return kGroups;
}

void printUsage(std::ostream& os) {
  os << "usage: easctl <group> <command> [options]\n\n";
  for (const CommandGroup& g : groups()) {
    os << g.name << ": " << g.summary << "\n";
    for (const Command& c : g.commands) {
      os << "  easctl " << g.name << " " << c.name << " " << c.usage << "\n      " << c.summary
         << "\n";
    }
  }
}

bool contains(const std::vector<const char*>& v, const std::string& s) {
  return std::any_of(v.begin(), v.end(), [&](const char* x) { return s == x; });
}

}  // namespace

bool Args::has(const std::string& flag) const {
  return std::find(flags.begin(), flags.end(), flag) != flags.end();
}

std::string Args::get(const std::string& name) const {
  auto it = options.find(name);
  return it == options.end() ? std::string() : it->second;
}

int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  Io io{out, err};
  if (argc < 2 || std::string(argv[1]) == "help" || std::string(argv[1]) == "--help") {
    printUsage(argc < 2 ? err : out);
    return argc < 2 ? kExitUsage : kExitOk;
  }
  const std::string group_name = argv[1];
  auto g = std::find_if(groups().begin(), groups().end(),
                        [&](const CommandGroup& x) { return group_name == x.name; });
  if (g == groups().end()) {
    err << "easctl: unknown command group '" << group_name << "'\n";
    printUsage(err);
    return kExitUsage;
  }
  if (argc < 3) {
    err << "easctl: '" << group_name << "' needs a command\n";
    printUsage(err);
    return kExitUsage;
  }
  const std::string cmd_name = argv[2];
  auto c = std::find_if(g->commands.begin(), g->commands.end(),
                        [&](const Command& x) { return cmd_name == x.name; });
  if (c == g->commands.end()) {
    err << "easctl: unknown command '" << group_name << " " << cmd_name << "'\n";
    printUsage(err);
    return kExitUsage;
  }
  Args args;
  for (int i = 3; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) {
      err << "easctl " << group_name << " " << cmd_name << ": unexpected argument '" << a
          << "'\nusage: easctl " << group_name << " " << cmd_name << " " << c->usage << "\n";
      return kExitUsage;
    }
    std::string name = a.substr(2), value;
    bool inline_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    if (contains(c->options, name)) {
      if (!inline_value) {
        if (i + 1 >= argc) {
          err << "easctl " << group_name << " " << cmd_name << ": --" << name << " needs a value\n";
          return kExitUsage;
        }
        value = argv[++i];
      }
      args.options[name] = value;
    } else if (contains(c->flags, name) && !inline_value) {
      args.flags.push_back(name);
    } else {
      err << "easctl " << group_name << " " << cmd_name << ": unknown option --" << name
          << "\nusage: easctl " << group_name << " " << cmd_name << " " << c->usage << "\n";
      return kExitUsage;
    }
  }
  return c->run(args, io);
}

}  // namespace eas::easctl
