// The store-backed version cap behind fcgi/http/version_cap.h: the
// effective MaxProtocolVersion policy of the user (and device, when named).
#pragma once

#include <memory>

#include "fcgi/http/version_cap.h"
#include "storage/metadata_store.h"

namespace eas::policies {

// REQUIRES: `store` outlives the cap. A store failure or an unparsable value
// means "no cap" (logged): the cap must not take the server down.
std::unique_ptr<http::VersionCap> makeStoreVersionCap(storage::MetadataStore& store);

}  // namespace eas::policies
