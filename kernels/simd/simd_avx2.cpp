// The SIMD kernel compiled for xsimd's fma3<avx2> (flags -mavx2 -mfma on this file only).
#include "simd_ff_kernel.hpp"

namespace focal::simd {
namespace {
using Arch = xsimd::fma3<xsimd::avx2>;
using K = Kernel<Arch>;
using FF = FFKernel<Arch>;
const Entry kEntry{Arch::name(),     FF::dense,
                   K::soft,          FF::labels,
                   FF::dense_half,   FF::labels_half,
                   HalfArrays<Arch>::to_float, HalfArrays<Arch>::to_half};
}  // namespace
const Entry& avx2_entry() { return kEntry; }
}  // namespace focal::simd
