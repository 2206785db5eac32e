// The SIMD kernel compiled for xsimd's fma3<avx2> (flags -mavx2 -mfma on this file only).
#include "simd_ff_kernel.hpp"

namespace focal::simd {
namespace {
using Arch = xsimd::fma3<xsimd::avx2>;
using K = Kernel<Arch, double>;
using F = Kernel<Arch, float>;
using FF = FFKernel<Arch>;
const Entry kEntry{Arch::name(),     FF::dense,
                   K::soft,          FF::labels,
                   FF::dense_half,   FF::labels_half,
                   HalfArrays<Arch>::to_float, HalfArrays<Arch>::to_half};
// Soft targets: the accurate path (its gradient cancels in p - t, beyond float lanes).
const Entry kFastEntry{Arch::name(), F::dense, K::soft, F::labels, nullptr, nullptr, nullptr, nullptr};
}  // namespace
const Entry& avx2_entry() { return kEntry; }
const Entry& avx2_fast_entry() { return kFastEntry; }
}  // namespace focal::simd
