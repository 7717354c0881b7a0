// easctl db ...: the metadata store's schema, migration between engines and
// reset (the seed's "Resetting the ActiveSync Database").
#include <sys/stat.h>

#include <ostream>

#include "policies/easctl/easctl.h"
#include "policies/easctl/output.h"
#include "storage/store_admin.h"
#include "storage/store_url.h"

namespace eas::easctl {
namespace {

constexpr const char* kResetWarning =
    "WARNING: This will make all devices perform a full synchronization and will lead to a loss "
    "of your ABQ rules configuration.\n"
    "Every device, its sync state, the security policies, the ABQ rules, pending notices and the\n"
    "audit log are deleted. Full synchronization deletes everything synchronized to each device "
    "and\n"
    "downloads it again: undesired data transfers, battery drain, and devices may hang while\n"
    "processing thousands of items.\n";

constexpr const char* kConfirmFlag = "yes-i-understand";

int fail(Io& io, const std::string& what, const Status& s) {
  io.err << "easctl: " << what << ": " << s.toString() << "\n";
  return kExitFailed;
}

enum class Create { kYes, kNo };

// Opens the store named by option `name`; on error prints and returns null.
// Create::kNo refuses a SQLite file that does not exist (a mistyped path must
// not produce an empty store that then "resets" or reports zero rows).
std::unique_ptr<storage::StoreAdmin> openNamed(const Args& args, const char* name, Io& io,
                                               int* exit_code, Create create = Create::kNo) {
  const std::string url = args.get(name);
  if (url.empty()) {
    io.err << "easctl: --" << name
           << " URL is required (sqlite:/path/file.db or "
              "mysql://user:pass@host[:port]/db)\n";
    *exit_code = kExitUsage;
    return nullptr;
  }
  auto parsed = storage::parseStoreUrl(url);
  if (parsed.ok() && parsed->kind == storage::StoreUrl::Kind::kSqlite && create == Create::kNo) {
    struct stat st;
    if (stat(parsed->sqlite_path.c_str(), &st) != 0) {
      io.err << "easctl: --" << name << ": no SQLite store at " << parsed->sqlite_path
             << " (create one with `easctl db upgrade --store URL`)\n";
      *exit_code = kExitFailed;
      return nullptr;
    }
  }
  auto admin = storage::openStoreAdmin(url);
  if (!admin.ok()) {
    *exit_code = admin.status().reason() == "store.bad_url" ? kExitUsage : kExitFailed;
    io.err << "easctl: cannot open --" << name << ": " << admin.status().toString() << "\n";
    return nullptr;
  }
  return std::move(admin).value();
}

int upgrade(const Args& args, Io& io) {
  int code = kExitFailed;
  auto admin = openNamed(args, "store", io, &code, Create::kYes);
  if (!admin) return code;
  auto before = admin->schemaVersion();
  if (!before.ok()) return fail(io, "reading the schema version", before.status());
  if (Status s = admin->upgrade(); !s.ok())
    return fail(io, "upgrade of " + admin->description(), s);
  io.out << admin->description() << ": schema version " << *before << " -> "
         << storage::knownSchemaVersion()
         << (*before == storage::knownSchemaVersion() ? " (up to date)" : "") << "\n";
  return kExitOk;
}

Table countsTable(const std::vector<storage::TableCount>& counts) {
  Table t{{"table", "rows"}, {}};
  for (const auto& c : counts) t.rows.push_back({c.table, std::to_string(c.rows)});
  return t;
}

int status(const Args& args, Io& io) {
  int code = kExitFailed;
  auto admin = openNamed(args, "store", io, &code);
  if (!admin) return code;
  auto v = admin->schemaVersion();
  if (!v.ok()) return fail(io, "reading the schema version", v.status());
  if (*v != storage::knownSchemaVersion()) {
    io.err << "easctl: " << admin->description() << " has schema version " << *v
           << ", this easctl knows " << storage::knownSchemaVersion()
           << " (run `easctl db upgrade --store URL`)\n";
    return kExitFailed;
  }
  auto counts = admin->rowCounts();
  if (!counts.ok()) return fail(io, "counting rows", counts.status());
  Table t = countsTable(*counts);
  if (args.has("json")) {
    printJson(io.out, t);
  } else {
    io.out << admin->description() << ": schema version " << *v << "\n";
    printTable(io.out, t);
  }
  return kExitOk;
}

int migrate(const Args& args, Io& io) {
  for (const char* name : {"from", "to"}) {
    if (args.get(name).empty()) {
      io.err << "easctl: --" << name << " URL is required\n";
      return kExitUsage;
    }
  }
  if (args.get("from") == args.get("to")) {
    io.err << "easctl: --from and --to are the same store\n";
    return kExitUsage;
  }
  int code = kExitFailed;
  auto from = openNamed(args, "from", io, &code);
  if (!from) return code;
  auto to = openNamed(args, "to", io, &code, Create::kYes);
  if (!to) return code;
  if (from->description() == to->description()) {
    io.err << "easctl: --from and --to are the same store\n";
    return kExitUsage;
  }
  if (Status s = to->upgrade(); !s.ok()) return fail(io, "preparing " + to->description(), s);
  if (Status s = from->copyInto(*to); !s.ok()) {
    return fail(io, "migrating " + from->description() + " to " + to->description(), s);
  }
  auto src = from->rowCounts();
  auto dst = to->rowCounts();
  if (!src.ok()) return fail(io, "counting source rows", src.status());
  if (!dst.ok()) return fail(io, "counting destination rows", dst.status());
  Table t{{"table", "source", "destination"}, {}};
  for (size_t i = 0; i < src->size() && i < dst->size(); ++i) {
    t.rows.push_back(
        {(*src)[i].table, std::to_string((*src)[i].rows), std::to_string((*dst)[i].rows)});
  }
  if (args.has("json")) {
    printJson(io.out, t);
  } else {
    io.out << "migrated " << from->description() << " -> " << to->description()
           << " (row counts verified)\n";
    printTable(io.out, t);
  }
  return kExitOk;
}

int reset(const Args& args, Io& io) {
  io.err << kResetWarning;
  if (!args.has(kConfirmFlag)) {
    io.err << "easctl: nothing done; to reset, run again with --" << kConfirmFlag << "\n";
    return kExitUsage;
  }
  int code = kExitFailed;
  auto admin = openNamed(args, "store", io, &code);
  if (!admin) return code;
  auto counts = admin->rowCounts();
  if (!counts.ok()) return fail(io, "counting rows", counts.status());
  if (Status s = admin->reset(); !s.ok()) return fail(io, "reset of " + admin->description(), s);
  int64_t total = 0;
  for (const auto& c : *counts) total += c.rows;
  io.out << admin->description() << ": reset, " << total << " rows deleted\n";
  return kExitOk;
}

}  // namespace

CommandGroup dbCommands() {
  return {"db",
          "the metadata store (schema, migration, reset)",
          {
              {"upgrade",
               "--store URL",
               "create the schema or apply pending migrations (run before workers start)",
               {"store"},
               {},
               upgrade},
              {"status",
               "--store URL [--json]",
               "schema version and rows per table",
               {"store"},
               {"json"},
               status},
              {"migrate",
               "--from URL --to URL [--json]",
               "copy every row to an empty store (e.g. sqlite -> mysql), verifying row counts",
               {"from", "to"},
               {"json"},
               migrate},
              {"reset",
               "--store URL --yes-i-understand",
               "delete all devices, sync state, policies and ABQ rules (devices resync fully)",
               {"store"},
               {kConfirmFlag},
               reset},
          }};
}

}  // namespace eas::easctl
