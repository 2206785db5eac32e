# CTest: the examples/ consumer, built two ways (included from the top-level CMakeLists):
#   example_find_package:     cmake --install of this build into a staged prefix inside the build
#                             folder, then find_package(focal) from it;
#   example_add_subdirectory: this source tree added to the consumer as a SHARED library (SIMD
#                             and OpenMP off to keep it quick), checking that only the public
#                             API is exported and that no cache variable is forced on the parent.
# The consumer is configured with this build's compiler and flags (e.g. the sanitizer build).
set(focal_consumer_flags "-DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}" "-DCMAKE_CXX_FLAGS=${CMAKE_CXX_FLAGS}"
    "-DCMAKE_EXE_LINKER_FLAGS=${CMAKE_EXE_LINKER_FLAGS}" "-DCMAKE_SHARED_LINKER_FLAGS=${CMAKE_SHARED_LINKER_FLAGS}")
add_test(NAME example_find_package
  COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/check_consumer.sh find_package
          ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR} ${CMAKE_COMMAND}
          ${focal_consumer_flags})
add_test(NAME example_add_subdirectory
  COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/check_consumer.sh add_subdirectory
          ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR} ${CMAKE_COMMAND}
          ${focal_consumer_flags})
