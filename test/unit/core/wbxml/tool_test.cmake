# Runs eas-wbxml: FolderSync bytes -> XML -> bytes must be identical, and a
# truncated document must fail with the decoder's reason token on stderr.
# CMake cannot write raw bytes from hex portably before 3.26; use string(ASCII).
set(bytes "")
foreach(b 3 1 106)
  string(ASCII ${b} c)
  string(APPEND bytes "${c}")
endforeach()
execute_process(COMMAND ${TOOL} encode
  INPUT_FILE ${CMAKE_CURRENT_LIST_DIR}/tool_foldersync.xml
  OUTPUT_FILE ${WORK}/tool_out.wbxml RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "encode failed: ${rc}")
endif()
file(READ ${WORK}/tool_out.wbxml hexout HEX)
if(NOT hexout STREQUAL "03016a00000756520330000101")
  message(FATAL_ERROR "encode gave ${hexout}")
endif()
execute_process(COMMAND ${TOOL} decode INPUT_FILE ${WORK}/tool_out.wbxml
  OUTPUT_FILE ${WORK}/tool_out.xml RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "decode failed: ${rc}")
endif()
file(READ ${WORK}/tool_out.xml xml)
file(READ ${CMAKE_CURRENT_LIST_DIR}/tool_foldersync.xml expected)
if(NOT xml STREQUAL expected)
  message(FATAL_ERROR "decode gave:\n${xml}")
endif()
# Truncated input: the first 3 header bytes.
file(WRITE ${WORK}/tool_bad.wbxml "${bytes}")
execute_process(COMMAND ${TOOL} decode INPUT_FILE ${WORK}/tool_bad.wbxml
  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(rc EQUAL 0 OR NOT err MATCHES "wbxml.truncated: .*byte offset 3")
  message(FATAL_ERROR "bad input: rc=${rc} stderr=${err}")
endif()
