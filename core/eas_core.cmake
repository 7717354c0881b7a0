# eas_core: the protocol layer above the codec: query parsing, capabilities,
# the failure -> status map, the command table and the commands.
# Sources are listed explicitly (style item 14).
add_library(eas_core STATIC
  ${CMAKE_CURRENT_LIST_DIR}/protocol/protocol_version.cpp
  ${CMAKE_CURRENT_LIST_DIR}/protocol/capabilities.cpp
  ${CMAKE_CURRENT_LIST_DIR}/protocol/query.cpp
  ${CMAKE_CURRENT_LIST_DIR}/status_map.cpp
  ${CMAKE_CURRENT_LIST_DIR}/commands/command_table.cpp
  ${CMAKE_CURRENT_LIST_DIR}/commands/dispatcher.cpp
  ${CMAKE_CURRENT_LIST_DIR}/commands/gates.cpp
  ${CMAKE_CURRENT_LIST_DIR}/commands/provision_command.cpp
  ${CMAKE_CURRENT_LIST_DIR}/commands/folder_sync_command.cpp
  ${CMAKE_CURRENT_LIST_DIR}/commands/compose_command.cpp
  ${CMAKE_CURRENT_LIST_DIR}/commands/send_mail_command.cpp
  ${CMAKE_CURRENT_LIST_DIR}/commands/smart_reply_command.cpp
  ${CMAKE_CURRENT_LIST_DIR}/commands/smart_forward_command.cpp
  ${CMAKE_CURRENT_LIST_DIR}/commands/email_collection.cpp
  ${CMAKE_CURRENT_LIST_DIR}/commands/itemops_util.cpp
  ${CMAKE_CURRENT_LIST_DIR}/commands/itemops_access.cpp
  ${CMAKE_CURRENT_LIST_DIR}/commands/item_operations_command.cpp
  ${CMAKE_CURRENT_LIST_DIR}/commands/get_attachment_command.cpp
  ${CMAKE_CURRENT_LIST_DIR}/commands/get_item_estimate_command.cpp
  ${CMAKE_CURRENT_LIST_DIR}/commands/ping_request.cpp
  ${CMAKE_CURRENT_LIST_DIR}/commands/ping_command.cpp
  ${CMAKE_CURRENT_LIST_DIR}/commands/sync_request.cpp
  ${CMAKE_CURRENT_LIST_DIR}/commands/sync_device_changes.cpp
  ${CMAKE_CURRENT_LIST_DIR}/commands/sync_drafts.cpp
  ${CMAKE_CURRENT_LIST_DIR}/commands/sync_command.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sync/folder_hierarchy.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sync/email_window.cpp
  ${CMAKE_CURRENT_LIST_DIR}/commands/folder_ops_common.cpp
  ${CMAKE_CURRENT_LIST_DIR}/commands/folder_create_command.cpp
  ${CMAKE_CURRENT_LIST_DIR}/commands/folder_delete_command.cpp
  ${CMAKE_CURRENT_LIST_DIR}/commands/folder_update_command.cpp
  ${CMAKE_CURRENT_LIST_DIR}/commands/move_items_command.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sync/folder_ops.cpp
  ${CMAKE_CURRENT_LIST_DIR}/commands/search_command.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sync/search_results.cpp
)
# The codec is required by the dispatcher (status replies) and the commands.
target_link_libraries(eas_core PUBLIC eas_base eas_backends)
# The Email item model (GMime) for Sync, ItemOperations and Search.
if(TARGET eas_items)
  target_link_libraries(eas_core PUBLIC eas_items)
endif()
if(TARGET eas_wbxml)
  target_link_libraries(eas_core PUBLIC eas_wbxml)
endif()
