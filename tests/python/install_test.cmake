# Installs the build into PREFIX with cmake --install, then imports bnorm and bnorm.torch from
# PREFIX/PACKAGE_DIR (and checks that it is that copy, not the build tree's, that was imported).
file(REMOVE_RECURSE ${PREFIX})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX}
  RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install ${BUILD_DIR} --prefix ${PREFIX} failed: ${rc}")
endif()
set(ENV{PYTHONPATH} ${PREFIX}/${PACKAGE_DIR})
execute_process(COMMAND ${PYTHON} -c
  "import bnorm, bnorm.torch, numpy as np, sys; assert bnorm.__file__.startswith(sys.argv[1]), bnorm.__file__; y, m, s = bnorm.forward_train(np.arange(6.0).reshape(3, 2)); print('installed bnorm ok', bnorm.__file__)"
  ${PREFIX}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "importing the installed bnorm failed: ${rc}")
endif()
