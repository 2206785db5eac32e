// Registry entries of the SIMD backend: "avx2" (xsimd fma3<avx2>) and "avx512" (xsimd
// avx512bw). Compiled for baseline x86-64: it only checks the CPU/OS and calls into the
// per-target units (simd_avx2.cpp, simd_avx512.cpp).
//
// Accuracy (both kernels): binary targets at gamma 0..4 take the float-float element
// (focal/ff.hpp, simd_ff_kernel.hpp; exhaustively <= 0.75 ULP, results/*/exhaustive/); other gamma
// and soft targets take math.hpp in double lanes (simd_kernel.hpp), one rounding to float. Declared:
// 1 ULP for gamma in {0..4} and relative 2e-7 for any gamma in [0, 8], over the whole float32 range
// of x (subnormal results included). Sum: within ~1e-13 relative of the exact sum of the kernel's
// fp32 losses, for any n.
//
// No fast tier (float-lane math.hpp, 24 ULP) any more: avx512_fast went once the float-float
// avx512 kernel ran within 1.21-1.24x of it, avx2_fast once the float-float avx2 kernel ran faster
// than it (issue 9, item 5: a fast tier stays only at >= 1.3x its accurate sibling;
// bench/NOTES.md).
#include "../backends.hpp"
#include "../layouts.hpp"
#include "cpu_features.hpp"
#include "focal/ff.hpp"
#include "focal/math.hpp"
#include "simd_entry.hpp"

namespace focal {
namespace simd {

Args args_at(const Params& p, const Outputs& out, std::size_t offset) {
  auto at = [offset](auto span) { return span.empty() ? nullptr : span.data() + offset; };
  Args a{math::balance(p.alpha), p.gamma, p.grad_scale, at(out.loss), at(out.grad), p.alpha};
  a.grad_half = at(out.grad_half);
  return a;
}

Partial run_entry(const Entry& e, const Input& in, const Params& p, const Outputs& out) {
  const Args a = args_at(p, out);
  return visit_layout(
      in,
      [&](const DenseInput& d) {
        return e.dense(d.logits.data(), d.targets.data(), d.logits.size(), a);
      },
      [&](const SoftInput& s) {
        return e.soft(s.logits.data(), s.targets.data(), s.logits.size(), a);
      },
      [&](const LabelInput& l) {
        return e.labels(l.logits.data(), l.labels.data(), l.labels.size(), l.num_classes, a);
      });
}

bool run_half_entry(const Entry& e, const HalfInput& in, const Params& p, const Outputs& out,
                    Partial* result) {
  if (!e.dense_half || !ff::is_int_gamma(p.gamma)) return false;
  const Args a = args_at(p, out);
  if (const auto* d = std::get_if<HalfDenseInput>(&in))
    *result = e.dense_half(d->logits.data(), d->dtype, d->targets.data(), d->logits.size(), a);
  else if (const auto* l = std::get_if<HalfLabelInput>(&in))
    *result = e.labels_half(l->logits.data(), l->dtype, l->labels.data(), l->labels.size(),
                            l->num_classes, a);
  return true;
}

}  // namespace simd

namespace {

Partial avx2_run(const Input& in, const Params& p, const Outputs& out) {
  return simd::run_entry(simd::avx2_entry(), in, p, out);
}
Partial avx512_run(const Input& in, const Params& p, const Outputs& out) {
  return simd::run_entry(simd::avx512_entry(), in, p, out);
}
bool avx2_run_half(const HalfInput& in, const Params& p, const Outputs& out, Partial* r) {
  return simd::run_half_entry(simd::avx2_entry(), in, p, out, r);
}
bool avx512_run_half(const HalfInput& in, const Params& p, const Outputs& out, Partial* r) {
  return simd::run_half_entry(simd::avx512_entry(), in, p, out, r);
}
const KernelInfo kSimd[] = {
    {
        .name = "avx2",
        .backend = "simd",
        .isa = "fma3+avx2",  // == xsimd's name of the arch simd_avx2.cpp is compiled for
        .bound = {.ulp = 1.0, .rel_other = 2e-7},
        .bitwise_equal_to = "",
        .priority = 10,
        .available = cpu::avx2_fma_usable,
        .run = avx2_run,
        .run_half = avx2_run_half,
    },
    {
        .name = "avx512",
        .backend = "simd",
        .isa = "avx512bw",  // == xsimd's name of the arch simd_avx512.cpp is compiled for
        .bound = {.ulp = 1.0, .rel_other = 2e-7},
        .bitwise_equal_to = "",
        .priority = 20,
        .available = cpu::avx512_usable,
        .run = avx512_run,
        .run_half = avx512_run_half,
    },
};

}  // namespace

std::span<const KernelInfo> backends::simd_kernels() { return kSimd; }

}  // namespace focal
