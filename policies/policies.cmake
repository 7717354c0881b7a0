# policies: for now only the easctl admin tool (the policies library comes later).
add_executable(easctl
  ${CMAKE_CURRENT_LIST_DIR}/easctl/main.cpp
  ${CMAKE_CURRENT_LIST_DIR}/easctl/easctl.cpp
  ${CMAKE_CURRENT_LIST_DIR}/easctl/db_commands.cpp
  ${CMAKE_CURRENT_LIST_DIR}/easctl/output.cpp)
target_link_libraries(easctl PRIVATE eas_storage)
