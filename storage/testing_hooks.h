// Test-only hooks into the store's commit path (crash-safety tests). Never
// set in production; the cost when unset is one relaxed atomic load.
#pragma once

#include <cstddef>

namespace eas::storage::testing {

// Called inside commitSyncState's transaction after each item-map write
// statement (writes are batched) with the 0-based index of the last item
// written so far, e.g. to raise(SIGKILL) half-way through a commit.
using ItemWriteHook = void (*)(size_t index);
void setItemWriteHookForTest(ItemWriteHook hook);
ItemWriteHook itemWriteHook();

}  // namespace eas::storage::testing
