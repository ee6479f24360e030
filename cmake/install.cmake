# Installs bnorm as a CMake package: find_package(bnorm) gives the target bnorm::bnorm.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# INCLUDES DESTINATION gives the exported bnorm::bnorm its include path. It is set here, where
# GNUInstallDirs is loaded, not in src/: there CMAKE_INSTALL_INCLUDEDIR is still empty on a first
# configure, which exported a target without include directories.
# bnorm_dist (SyncBatchNorm, communicators) and, where MPI was found, bnorm_mpi come along:
# their headers are in include/bnorm, so their libraries must be too.
set(bnorm_installed_libraries bnorm bnorm_dist)
if(TARGET bnorm_mpi)
  list(APPEND bnorm_installed_libraries bnorm_mpi)
  set(BNORM_PACKAGE_HAS_MPI ON)
endif()
install(TARGETS ${bnorm_installed_libraries} EXPORT bnormTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/bnorm DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT bnormTargets NAMESPACE bnorm:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/bnorm)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/bnormConfig.cmake.in
  ${PROJECT_BINARY_DIR}/bnormConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/bnorm)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/bnormConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/bnormConfig.cmake ${PROJECT_BINARY_DIR}/bnormConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/bnorm)

# The command line and the PyTorch worker of `bnorm bench`, which the program finds at
# ../share/bnorm relative to itself (bench/harness/torch_worker_path.hpp). Their own component,
# so `cmake --install <build> --component bnorm_cli` installs just the program.
if(TARGET bnorm_cli)
  install(TARGETS bnorm_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT bnorm_cli)
  install(PROGRAMS ${PROJECT_SOURCE_DIR}/bench/torch/torch_worker.py
          DESTINATION ${CMAKE_INSTALL_DATADIR}/bnorm COMPONENT bnorm_cli)
endif()
