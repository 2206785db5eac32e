// The portable float-float kernel ("scalar_ff"): the CUDA kernels' element (element::Element
// of kernels/element.hpp) compiled for the host and run one element at a time. Binary targets
// (dense u8, class labels, soft t in {0, 1}) at gamma 0..4 use the float-float element of
// focal/ff.hpp with ff::ScalarOps -- the bits every avx2/avx512 lane computes; soft targets strictly inside (0, 1)
// and other gamma use math.hpp in double, as the scalar reference does.
// Declared: 1 ULP for gamma 0..4 (exhaustively measured, results/*/exhaustive/), relative 1.2e-7
// otherwise. It runs on any x86-64 (std::fma is exact in software too); it exists to make the
// CUDA element testable, and verifiable bit for bit, on every machine.
#include "../backends.hpp"
#include "../element.hpp"
#include "scalar_loop.hpp"

namespace focal {
namespace {

// Two clones, chosen at load time: with FMA instructions where the CPU has them, else std::fma in
// software (exact either way, so both give the same bits; the FMA clone ran 12x faster here). flatten:
// the float-float helpers inline into the element loop (GCC; clang refuses it beside target_clones,
// and it is the sanitizer build's compiler, where speed does not matter).
#if defined(__clang__)
#define FOCAL_SCALAR_FF_FLATTEN
#else
#define FOCAL_SCALAR_FF_FLATTEN [[gnu::flatten]]
#endif
FOCAL_SCALAR_FF_FLATTEN __attribute__((target_clones("fma", "default")))
Partial scalar_ff_run(const Input& in, const Params& p, const Outputs& out) {
  return scalar::run_with(in, element::Element::make(p.alpha, p.gamma, p.grad_scale), out);
}

bool always(std::string*) { return true; }

const KernelInfo kScalarFF[] = {{
    .name = "scalar_ff",
    .backend = "scalar",
    .isa = "x86-64",
    .bound = element::kDeclaredBound,
    .bitwise_equal_to = "",
    .priority = 1,
    .available = always,
    .run = scalar_ff_run,
}};

}  // namespace

std::span<const KernelInfo> backends::scalar_ff_kernels() { return kScalarFF; }

}  // namespace focal
