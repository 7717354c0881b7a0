# policies: provisioning gates, ABQ and the easctl admin tool (README.md).
add_library(eas_policies STATIC
  ${CMAKE_CURRENT_LIST_DIR}/abq.cpp
  ${CMAKE_CURRENT_LIST_DIR}/gates.cpp
  ${CMAKE_CURRENT_LIST_DIR}/version_cap.cpp)
target_link_libraries(eas_policies PUBLIC eas_core eas_storage)

# The tool's groups as a library, so unit tests can call easctl::run() in-process.
add_library(easctl_lib STATIC
  ${CMAKE_CURRENT_LIST_DIR}/easctl/easctl.cpp
  ${CMAKE_CURRENT_LIST_DIR}/easctl/db_commands.cpp
  ${CMAKE_CURRENT_LIST_DIR}/easctl/device_commands.cpp
  ${CMAKE_CURRENT_LIST_DIR}/easctl/policy_commands.cpp
  ${CMAKE_CURRENT_LIST_DIR}/easctl/store_option.cpp
  ${CMAKE_CURRENT_LIST_DIR}/easctl/output.cpp)
target_link_libraries(easctl_lib PUBLIC eas_policies eas_storage)
add_executable(easctl ${CMAKE_CURRENT_LIST_DIR}/easctl/main.cpp)
target_link_libraries(easctl PRIVATE easctl_lib)
