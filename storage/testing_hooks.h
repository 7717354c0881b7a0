// Test-only hooks into the store's commit path (crash-safety tests). Never
// set in production; the cost when unset is one relaxed atomic load.
#pragma once

#include <cstddef>

namespace eas::storage::testing {

// Called inside commitSyncState's transaction after the index-th item-map
// write (0-based), e.g. to raise(SIGKILL) half-way through a commit.
using ItemWriteHook = void (*)(size_t index);
void setItemWriteHookForTest(ItemWriteHook hook);
ItemWriteHook itemWriteHook();

}  // namespace eas::storage::testing
