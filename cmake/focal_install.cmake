# Install rules and the CMake package: find_package(focal) gives focal::kernels (and focal::cuda
# when built with CUDA). Included from the top-level CMakeLists when FOCAL_INSTALL is on.
include(CMakePackageConfigHelpers)

set(FOCAL_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/focal CACHE STRING
    "Where focalConfig.cmake is installed (relative to the prefix)")
mark_as_advanced(FOCAL_INSTALL_CMAKEDIR)

set(focal_install_targets focal_kernels)
if(TARGET focal_cuda)
  list(APPEND focal_install_targets focal_cuda)
endif()
install(TARGETS ${focal_install_targets} EXPORT focalTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT focal_development
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT focal_runtime
          NAMELINK_COMPONENT focal_development
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT focal_runtime)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/kernels/include/focal
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT focal_development
  FILES_MATCHING PATTERN "*.hpp")
install(EXPORT focalTargets NAMESPACE focal:: DESTINATION ${FOCAL_INSTALL_CMAKEDIR}
  COMPONENT focal_development)

# What focalConfig.cmake must find again: a static library's private dependencies are link-only
# parts of its interface; a shared one carries them itself.
get_target_property(focal_kernels_type focal_kernels TYPE)
set(FOCAL_STATIC_LIBRARY OFF)
if(focal_kernels_type STREQUAL "STATIC_LIBRARY")
  set(FOCAL_STATIC_LIBRARY ON)
endif()
set(FOCAL_BUILT_OPENMP OFF)
if(FOCAL_OPENMP AND FOCAL_SIMD)
  set(FOCAL_BUILT_OPENMP ON)
endif()
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/focalConfig.cmake.in
  ${PROJECT_BINARY_DIR}/focalConfig.cmake INSTALL_DESTINATION ${FOCAL_INSTALL_CMAKEDIR})
# 0.x: a minor version may change the API, so only the same major.minor is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/focalConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/focalConfig.cmake ${PROJECT_BINARY_DIR}/focalConfigVersion.cmake
  DESTINATION ${FOCAL_INSTALL_CMAKEDIR} COMPONENT focal_development)
