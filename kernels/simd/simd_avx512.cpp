// The SIMD kernel compiled for xsimd's avx512bw (flags -mavx512f/dq/bw/vl on this file only).
#include "simd_ff_kernel.hpp"

namespace focal::simd {
namespace {
using Arch = xsimd::avx512bw;
using K = Kernel<Arch>;
using FF = FFKernel<Arch>;
const Entry kEntry{Arch::name(),     FF::dense,
                   K::soft,          FF::labels,
                   FF::dense_half,   FF::labels_half,
                   HalfArrays<Arch>::to_float, HalfArrays<Arch>::to_half};
}  // namespace
const Entry& avx512_entry() { return kEntry; }
}  // namespace focal::simd
