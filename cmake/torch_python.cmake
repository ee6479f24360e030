# Picks the Python interpreter the build runs for PyTorch work (the golden-file scripts, the bench's
# PyTorch worker): the first python3 that can import torch, looking on PATH and then in /usr/bin.
# On Debian, PATH may start with an interpreter (pyenv, a virtualenv) without torch while Debian's
# python3-torch lives under /usr/bin/python3. -DPython3_EXECUTABLE=... overrides the search.
# Sets BNORM_PYTHON_HAS_TORCH; without torch the golden tests skip visibly.
if(NOT Python3_EXECUTABLE)
  set(bnorm_python_candidates)
  string(REPLACE ":" ";" bnorm_path_dirs "$ENV{PATH}")
  foreach(dir IN LISTS bnorm_path_dirs ITEMS /usr/bin /usr/local/bin)
    if(dir AND EXISTS "${dir}/python3")
      list(APPEND bnorm_python_candidates "${dir}/python3")
    endif()
  endforeach()
  list(REMOVE_DUPLICATES bnorm_python_candidates)
  foreach(candidate IN LISTS bnorm_python_candidates)
    execute_process(COMMAND "${candidate}" -c "import torch"
                    RESULT_VARIABLE bnorm_import_rc OUTPUT_QUIET ERROR_QUIET)
    if(bnorm_import_rc EQUAL 0)
      set(Python3_EXECUTABLE "${candidate}" CACHE FILEPATH
          "Python interpreter for PyTorch golden files and the bench's PyTorch worker")
      break()
    endif()
  endforeach()
endif()
find_package(Python3 COMPONENTS Interpreter)

set(BNORM_PYTHON_HAS_TORCH FALSE)
if(Python3_Interpreter_FOUND)
  execute_process(COMMAND "${Python3_EXECUTABLE}" -c "import torch"
                  RESULT_VARIABLE bnorm_import_rc OUTPUT_QUIET ERROR_QUIET)
  if(bnorm_import_rc EQUAL 0)
    set(BNORM_PYTHON_HAS_TORCH TRUE)
  endif()
endif()
if(BNORM_PYTHON_HAS_TORCH)
  message(STATUS "bnorm: PyTorch from ${Python3_EXECUTABLE}")
else()
  message(STATUS "bnorm: no Python that imports torch (Python3_EXECUTABLE: "
                 "'${Python3_EXECUTABLE}'); the PyTorch golden tests will be skipped")
endif()
