// easctl: the admin tool. One table of command groups ("db", later "device",
// "policy", "abq"...), each a table of subcommands. main.cpp only calls run().
#pragma once

#include <functional>
#include <iosfwd>
#include <map>
#include <string>
#include <vector>

namespace eas::easctl {

// Exit codes: 0 done, 1 the operation failed, 2 bad usage (nothing done).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

// Parsed "--name value" options and "--flag" switches after the subcommand.
struct Args {
  std::map<std::string, std::string> options;
  std::vector<std::string> flags;
  bool has(const std::string& flag) const;
  // The option's value, or "" when absent.
  std::string get(const std::string& name) const;
};

struct Io {
  std::ostream& out;
  std::ostream& err;
};

struct Command {
  const char* name;
  const char* usage;                 // "--store URL [--json]"
  const char* summary;               // one line
  std::vector<const char*> options;  // options taking a value
  std::vector<const char*> flags;    // switches
  std::function<int(const Args&, Io&)> run;
};

struct CommandGroup {
  const char* name;
  const char* summary;
  std::vector<Command> commands;
};

// Group tables, one function per group (db_commands.cpp, ...).
CommandGroup dbCommands();
CommandGroup devicesCommands();  // device_commands.cpp
CommandGroup wipeCommands();     // device_commands.cpp
CommandGroup policyCommands();   // policy_commands.cpp
CommandGroup abqCommands();      // policy_commands.cpp
CommandGroup notifyCommands();   // notify_command.cpp (built from fcgi/fcgi.cmake)
CommandGroup noticesCommands();  // notice_commands.cpp

// Entry point: easctl <group> <command> [options].
int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace eas::easctl
