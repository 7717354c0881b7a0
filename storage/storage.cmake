# eas_storage: the metadata store (interface, SQL core, SQLite and MySQL engines).
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
find_library(MYSQLCPPCONN_LIBRARY NAMES mysqlcppconn REQUIRED)
find_path(MYSQLCPPCONN_INCLUDE_DIR mysql_connection.h REQUIRED)

add_library(eas_storage STATIC
  ${CMAKE_CURRENT_LIST_DIR}/open_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/policy_resolution.cpp
  ${CMAKE_CURRENT_LIST_DIR}/store_url.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sql/schema.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sql/sql_connection.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sql/sql_store.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sqlite/sqlite_connection.cpp
  ${CMAKE_CURRENT_LIST_DIR}/mysql/mysql_connection.cpp)
target_include_directories(eas_storage SYSTEM PRIVATE ${MYSQLCPPCONN_INCLUDE_DIR})
target_link_libraries(eas_storage PUBLIC eas_base PRIVATE PkgConfig::SQLITE3 ${MYSQLCPPCONN_LIBRARY})
