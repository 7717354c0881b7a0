# The process runtime: library eas_fcgi (config, FastCGI request/responder,
# worker pool, master) and the eas-fcgi executable. Included from
# fcgi/CMakeLists.txt after fcgi/auth, fcgi/autodiscover and fcgi/http.
find_path(FCGI_INCLUDE_DIR fcgiapp.h REQUIRED)
find_library(FCGI_LIBRARY fcgi REQUIRED)

add_library(eas_fcgi STATIC
  ${CMAKE_CURRENT_LIST_DIR}/runtime/ini.cpp
  ${CMAKE_CURRENT_LIST_DIR}/runtime/config.cpp
  ${CMAKE_CURRENT_LIST_DIR}/runtime/fcgi_request.cpp
  ${CMAKE_CURRENT_LIST_DIR}/runtime/fcgi_server.cpp
  ${CMAKE_CURRENT_LIST_DIR}/runtime/listen_socket.cpp
  ${CMAKE_CURRENT_LIST_DIR}/runtime/log_setup.cpp
  ${CMAKE_CURRENT_LIST_DIR}/runtime/request_pipeline.cpp
  ${CMAKE_CURRENT_LIST_DIR}/runtime/worker_process.cpp
  ${CMAKE_CURRENT_LIST_DIR}/runtime/master_process.cpp)
target_include_directories(eas_fcgi PUBLIC ${FCGI_INCLUDE_DIR})
target_link_libraries(eas_fcgi PUBLIC eas_base ${FCGI_LIBRARY} Threads::Threads)

# The HTTP layer and the authenticator are built by their own folders; until
# both exist the runtime serves a 503 placeholder so it can be built alone.
if(TARGET eas_fcgi_http AND TARGET eas_fcgi_auth)
  target_link_libraries(eas_fcgi PUBLIC eas_fcgi_http eas_fcgi_auth)
  if(TARGET eas_fcgi_autodiscover)
    target_link_libraries(eas_fcgi PUBLIC eas_fcgi_autodiscover)
  endif()
  target_compile_definitions(eas_fcgi PRIVATE EAS_FCGI_HAVE_HTTP_LAYER=1)
  set(EAS_FCGI_HAVE_HTTP_LAYER ON CACHE INTERNAL "eas-fcgi is linked with the HTTP layer")
else()
  target_compile_definitions(eas_fcgi PRIVATE EAS_FCGI_HAVE_HTTP_LAYER=0)
  set(EAS_FCGI_HAVE_HTTP_LAYER OFF CACHE INTERNAL "eas-fcgi is linked with the HTTP layer")
  message(STATUS "eas-fcgi: fcgi/http or fcgi/auth not built yet; requests get 503")
endif()

add_executable(eas-fcgi ${CMAKE_CURRENT_LIST_DIR}/main.cpp)
target_link_libraries(eas-fcgi PRIVATE eas_fcgi)
