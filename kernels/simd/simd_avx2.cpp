// The SIMD kernel compiled for xsimd's fma3<avx2> (flags -mavx2 -mfma on this file only).
#include "simd_kernel.hpp"

namespace focal::simd {
namespace {
using Arch = xsimd::fma3<xsimd::avx2>;
using K = Kernel<Arch>;
const Entry kEntry{Arch::name(), K::dense, K::soft, K::labels};
}  // namespace
const Entry& avx2_entry() { return kEntry; }
}  // namespace focal::simd
