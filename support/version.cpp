#include "focal_support/version.hpp"

#include "focal/version.hpp"

#include "focal_git_rev.h"  // generated at build time (cmake/git_rev.cmake)

namespace focal::support {

std::string_view git_rev() { return FOCAL_GIT_REV; }

std::string version_line(std::string_view tool) {
  return std::string(tool) + " " + std::string(focal::version()) + " (git " + std::string(git_rev()) + ")";
}

}  // namespace focal::support
