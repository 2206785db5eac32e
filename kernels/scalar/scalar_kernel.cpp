// The scalar reference kernel (name "scalar").
//
// Evaluates focal/math.hpp in double (element::DoubleElement of kernels/element.hpp, the element
// the CUDA kernels and scalar_ff take for soft targets and gamma outside 0..4) and rounds each
// result to float once, so every loss and gradient is within 0.5 ULP + 2^-28 ULP of the
// correctly rounded float value: declared bound 1 ULP for every gamma in [0, 8] (relative
// 1.2e-7), over the whole float32 range of x, for binary and soft targets (soft-target gradient: ULP of the larger of its two terms).
// Double has the range to hold every intermediate whose float result is representable, so
// subnormal results are neither flushed nor do large ones overflow early.
// Sum: Neumaier-compensated double over the rounded fp32 losses (relative error ~1e-16);
// the loop over the layouts is scalar_loop.hpp's, shared with scalar_ff.
#include <cmath>

#include "../backends.hpp"
#include "../element.hpp"
#include "scalar_loop.hpp"

namespace focal {
namespace {

Partial scalar_run(const Input& in, const Params& p, const Outputs& out) {
  return scalar::run_with(in, element::DoubleElement::make(p.alpha, p.gamma, p.grad_scale), out);
}

bool always(std::string*) { return true; }

const KernelInfo kScalar[] = {{
    .name = "scalar",
    .backend = "scalar",
    .isa = "x86-64",
    .bound = element::kDeclaredBound,
    .bitwise_equal_to = "",
    .priority = 0,
    .available = always,
    .run = scalar_run,
}};

}  // namespace

std::span<const KernelInfo> backends::scalar_kernels() { return kScalar; }

}  // namespace focal
