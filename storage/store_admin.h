// Administrative operations on a store (easctl db ...): schema upgrade,
// reset, row counts and copying between stores. Not for workers: the worker
// entry point is openMetadataStore() in metadata_store.h.
// Thread-safety: like MetadataStore, any thread; each call is one unit.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/base/status.h"

namespace eas::storage {

struct TableCount {
  std::string table;
  int64_t rows = 0;
};

class StoreAdmin {
 public:
  virtual ~StoreAdmin() = default;
  // Engine and location without the password, for messages.
  virtual std::string description() const = 0;
  // The recorded schema version; 0 when the store has no schema.
  virtual Result<int> schemaVersion() = 0;
  // Applies every pending migration (idempotent). store.schema_unknown when
  // the store is newer than this program.
  virtual Status upgrade() = 0;
  // Deletes every row of every table (devices, sync state, policies, ABQ
  // rules...), keeping the schema. Every device then syncs from scratch.
  virtual Status reset() = 0;
  // Rows per data table, in a fixed table order.
  virtual Result<std::vector<TableCount>> rowCounts() = 0;
  // Copies every row of every table into `destination`, which must be at the
  // same schema version and empty (store.not_empty otherwise), then checks the
  // row counts match (store.count_mismatch).
  virtual Status copyInto(StoreAdmin& destination) = 0;
  virtual Status setSchemaVersionForTest(int version) = 0;
};

// Opens a store for administration; does not check the schema version.
Result<std::unique_ptr<StoreAdmin>> openStoreAdmin(const std::string& url);

// The schema version this program reads and writes.
int knownSchemaVersion();

}  // namespace eas::storage
