// The project version, from CMake's `project(focal_kernels VERSION ...)` (one definition: the
// top-level CMakeLists.txt; kernels/version.cpp.in is configured from it).
#pragma once

#include <string_view>

namespace focal {

// "MAJOR.MINOR[.PATCH]", exactly as the top-level project() declares it, e.g. "0.1".
std::string_view version();

}  // namespace focal
