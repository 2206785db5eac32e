// Internal: the double reference kernel's run function ("scalar"), which scalar_ff falls back to
// for soft targets and non-integer gamma.
#pragma once

#include "focal/focal.hpp"

namespace focal {
Partial scalar_double_run(const Input& in, const Params& p, const Outputs& out);
}
