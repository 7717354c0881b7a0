// WBXML request bodies for integration tests, written with the eas_wbxml
// Writer (so they are what a device sends, byte for byte).
#pragma once

#include <string>

namespace eas::testing {

// <FolderSync><SyncKey>sync_key</SyncKey></FolderSync>
std::string folderSyncBody(const std::string& sync_key = "0");
// <Sync><Collections><Collection><SyncKey/><CollectionId/></Collection></Collections></Sync>
std::string syncBody(const std::string& sync_key, const std::string& collection_id);
// <Ping><HeartbeatInterval/><Folders><Folder><Id/><Class/></Folder></Folders></Ping>
std::string pingBody(int heartbeat_seconds, const std::string& folder_id,
                     const std::string& folder_class = "Email");
// <Provision><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType>...
std::string provisionBody();
// <Settings><UserInformation><Get/></UserInformation></Settings>
std::string settingsBody();
// <Find>...</Find> (16.1) with an empty query, enough for routing tests.
std::string findBody();

// Bytes that are not WBXML (a wrong version byte, then junk).
std::string invalidWbxmlBody();

// The top-level <Status> of a WBXML reply (first Status child of the root),
// or -1 when the body does not decode or has none.
int topLevelStatus(const std::string& wbxml);
// The reply as XML (for failure messages), or the decode error.
std::string toXmlForLog(const std::string& wbxml);

}  // namespace eas::testing
