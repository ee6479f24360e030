# Builds and runs the consumer project against bnorm, from scratch, as a CTest entry:
#   cmake -DMODE=package|fetchcontent -DBNORM_SOURCE_DIR=... -DBNORM_BUILD_DIR=... -DWORK_DIR=...
#         [-DCXX_COMPILER=...] [-DCXX_FLAGS=...] [-DBUILD_TYPE=...] -P run_consumer.cmake
# package: installs BNORM_BUILD_DIR into WORK_DIR/prefix, then find_package(bnorm) from there;
#          also checks that a first configure of bnorm exports include directories.
# fetchcontent: the consumer pulls bnorm in with FetchContent from BNORM_SOURCE_DIR (no network).
cmake_minimum_required(VERSION 3.22)

foreach(var MODE BNORM_SOURCE_DIR WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_consumer.cmake: expected -D${var}=..., got none")
  endif()
endforeach()

function(run step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "consumer ${MODE}: ${step} failed (exit ${rc}):\n${out}")
  endif()
  message(STATUS "consumer ${MODE}: ${step} ok")
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(configure_args -S ${CMAKE_CURRENT_LIST_DIR} -B ${WORK_DIR}/build
    -DBNORM_CONSUMER_MODE=${MODE} -DCMAKE_BUILD_TYPE=${BUILD_TYPE})
if(CXX_COMPILER)
  list(APPEND configure_args -DCMAKE_CXX_COMPILER=${CXX_COMPILER})
endif()
# The parent's flags (sanitizers) must reach the consumer, or an instrumented libbnorm.a fails to link.
if(CXX_FLAGS)
  list(APPEND configure_args "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}")
endif()

if(MODE STREQUAL "package")
  if(NOT DEFINED BNORM_BUILD_DIR)
    message(FATAL_ERROR "run_consumer.cmake: package mode expects -DBNORM_BUILD_DIR=..., got none")
  endif()
  # A build tree configured twice hides an install rule that reads a variable before it is set
  # (it is in the cache the second time), so check what a first configure exports too.
  run("fresh configure of bnorm" ${CMAKE_COMMAND} -S ${BNORM_SOURCE_DIR} -B ${WORK_DIR}/fresh
      -DBNORM_BUILD_TESTS=OFF -DBNORM_BUILD_TOOLS=OFF)
  file(GLOB_RECURSE exported ${WORK_DIR}/fresh/CMakeFiles/Export/*/bnormTargets.cmake)
  file(STRINGS "${exported}" include_lines REGEX "INTERFACE_INCLUDE_DIRECTORIES")
  if(NOT include_lines)
    message(FATAL_ERROR "consumer package: expected the exported bnorm::bnorm to carry "
                        "INTERFACE_INCLUDE_DIRECTORIES after a first configure, got none in '${exported}'")
  endif()
  run("cmake --install into ${WORK_DIR}/prefix"
      ${CMAKE_COMMAND} --install ${BNORM_BUILD_DIR} --prefix ${WORK_DIR}/prefix)
  list(APPEND configure_args -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
elseif(MODE STREQUAL "fetchcontent")
  list(APPEND configure_args -DBNORM_SOURCE_DIR=${BNORM_SOURCE_DIR})
else()
  message(FATAL_ERROR "run_consumer.cmake: expected MODE package or fetchcontent, got ${MODE}")
endif()

run("configure" ${CMAKE_COMMAND} ${configure_args})
run("build" ${CMAKE_COMMAND} --build ${WORK_DIR}/build --target consumer -j2)
run("run" ${WORK_DIR}/build/consumer)
message(STATUS "${last_output}")
