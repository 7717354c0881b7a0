#include "policies/easctl/store_option.h"

#include <sys/stat.h>

#include <ostream>

#include "storage/store_url.h"

namespace eas::easctl {

std::unique_ptr<storage::MetadataStore> openStoreOption(const Args& args, Io& io, int* exit_code) {
  const std::string url = args.get("store");
  if (url.empty()) {
    *exit_code = usage(io, "--store URL is required (sqlite:/path/file.db or mysql://...)");
    return nullptr;
  }
  auto parsed = storage::parseStoreUrl(url);
  if (!parsed.ok()) {
    *exit_code = usage(io, "--store: " + parsed.status().toString());
    return nullptr;
  }
  if (parsed->kind == storage::StoreUrl::Kind::kSqlite) {
    struct stat st;
    if (stat(parsed->sqlite_path.c_str(), &st) != 0) {
      io.err << "easctl: --store: no SQLite store at " << parsed->sqlite_path
             << " (create one with `easctl db upgrade --store URL`)\n";
      *exit_code = kExitFailed;
      return nullptr;
    }
  }
  auto store = storage::openMetadataStore(url);
  if (!store.ok()) {
    *exit_code = failed(io, "cannot open --store", store.status());
    return nullptr;
  }
  return std::move(store).value();
}

int failed(Io& io, const std::string& what, const Status& s) {
  io.err << "easctl: " << what << ": " << s.toString() << "\n";
  return kExitFailed;
}

int usage(Io& io, const std::string& message) {
  io.err << "easctl: " << message << "\n";
  return kExitUsage;
}

}  // namespace eas::easctl
