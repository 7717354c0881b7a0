// --store URL for the groups that work on the metadata store's rows.
#pragma once

#include <memory>

#include "policies/easctl/easctl.h"
#include "storage/metadata_store.h"

namespace eas::easctl {

// Opens --store; refuses a SQLite file that does not exist (create it with
// `easctl db upgrade`). On error prints why, sets *exit_code, returns null.
std::unique_ptr<storage::MetadataStore> openStoreOption(const Args& args, Io& io, int* exit_code);

// Prints "easctl: <what>: <status>" and returns kExitFailed.
int failed(Io& io, const std::string& what, const Status& s);
// Prints "easctl: <message>" and returns kExitUsage.
int usage(Io& io, const std::string& message);

}  // namespace eas::easctl
