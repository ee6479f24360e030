# Golden files from PyTorch for a test executable: a script in scripts/ writes them into the build
# tree at build time when the Python found by cmake/torch_python.cmake imports torch; the test
# reads them from the folder compiled in as DEFINE and skips visibly when they are missing.
#
#   bnorm_golden_test(TARGET t SCRIPT scripts/make_x.py OUT_DIR dir DEFINE BNORM_X_DIR)
#
# Registers t's test cases with CTest under the label "golden".
function(bnorm_golden_test)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "TARGET;SCRIPT;OUT_DIR;DEFINE" "")
  target_compile_definitions(${arg_TARGET} PRIVATE ${arg_DEFINE}="${arg_OUT_DIR}")
  if(BNORM_PYTHON_HAS_TORCH)
    set(script ${PROJECT_SOURCE_DIR}/${arg_SCRIPT})
    add_custom_command(
      OUTPUT ${arg_OUT_DIR}/cases.txt
      COMMAND ${Python3_EXECUTABLE} ${script} ${arg_OUT_DIR}
      DEPENDS ${script} ${PROJECT_SOURCE_DIR}/scripts/golden_format.py
      COMMENT "Writing PyTorch golden files into ${arg_OUT_DIR}"
      VERBATIM)
    add_custom_target(${arg_TARGET}_data ALL DEPENDS ${arg_OUT_DIR}/cases.txt)
    add_dependencies(${arg_TARGET} ${arg_TARGET}_data)
  else()
    message(STATUS "bnorm: ${arg_TARGET} will skip its golden cases (no Python with torch)")
  endif()
  # NO_PRETTY_VALUES: names come from the case names, not a dump of the parameter struct.
  gtest_discover_tests(${arg_TARGET} NO_PRETTY_VALUES PROPERTIES LABELS golden)
endfunction()
