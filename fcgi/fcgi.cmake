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
  ${CMAKE_CURRENT_LIST_DIR}/runtime/parking_lot.cpp
  ${CMAKE_CURRENT_LIST_DIR}/runtime/worker_process.cpp
  ${CMAKE_CURRENT_LIST_DIR}/runtime/master_process.cpp)
target_include_directories(eas_fcgi PUBLIC ${FCGI_INCLUDE_DIR})
target_link_libraries(eas_fcgi PUBLIC eas_base ${FCGI_LIBRARY} Threads::Threads)
# The parking lot's link to eas-notifyd (NotifyClient).
target_link_libraries(eas_fcgi PUBLIC eas_notify)

# The HTTP layer, the authenticator and Autodiscover, plus what the
# commands' Services are built from: the metadata store and the IMAP backend.
target_link_libraries(eas_fcgi PUBLIC eas_fcgi_http eas_fcgi_auth eas_fcgi_autodiscover
                      eas_storage eas_backend_imap eas_core eas_policies)
# SendMail / SmartReply / SmartForward submit over SMTP ([smtp]).
target_link_libraries(eas_fcgi PUBLIC eas_backend_smtp)
# The workers' notice mailer (policies/notices).
target_link_libraries(eas_fcgi PUBLIC eas_policies_notices)

add_executable(eas-fcgi ${CMAKE_CURRENT_LIST_DIR}/main.cpp)
target_link_libraries(eas-fcgi PRIVATE eas_fcgi)
# deploy/local/eas-fcgi.sh runs `easctl db upgrade` (build/policies/easctl)
# before it starts eas-fcgi; build it along.
if(TARGET easctl)
  add_dependencies(eas-fcgi easctl)
endif()

# eas-notifyd, the notification sidecar, and the worker side of its relay
# (NotifyClient): library eas_notify (datagram codec, relay protocol, client,
# daemon loop) and the eas-notifyd executable. See fcgi/notify/README.md.
find_package(OpenSSL REQUIRED)
add_library(eas_notify STATIC
  ${CMAKE_CURRENT_LIST_DIR}/notify/notify_datagram.cpp
  ${CMAKE_CURRENT_LIST_DIR}/notify/notify_relay.cpp
  ${CMAKE_CURRENT_LIST_DIR}/notify/notify_client.cpp
  ${CMAKE_CURRENT_LIST_DIR}/notify/notifyd.cpp)
# eas_backend_imap: encodeMailboxName (Dovecot reports UTF-8 folder names).
target_link_libraries(eas_notify PUBLIC eas_base PRIVATE eas_backend_imap OpenSSL::Crypto
                      Threads::Threads)
add_executable(eas-notifyd ${CMAKE_CURRENT_LIST_DIR}/notify/notifyd_main.cpp)
target_link_libraries(eas-notifyd PRIVATE eas_notify)
# `easctl notify send` (policies/easctl/notify_command.cpp) encodes datagrams
# with eas_notify; attached here because eas_notify is defined after policies/.
target_sources(easctl_lib PRIVATE ${PROJECT_SOURCE_DIR}/policies/easctl/notify_command.cpp)
target_link_libraries(easctl_lib PUBLIC eas_notify)
