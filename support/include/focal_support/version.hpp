// What `--version` prints, the same for every tool.
#pragma once

#include <string>
#include <string_view>

namespace focal::support {

// The git revision the build was configured at ("unknown" outside a git checkout).
std::string_view git_rev();

// "<tool> <focal::version()> (git <rev>)", e.g. "focal-verify 0.1 (git 10830ac0f5e2)".
std::string version_line(std::string_view tool);

}  // namespace focal::support
