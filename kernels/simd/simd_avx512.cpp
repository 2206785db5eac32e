// The SIMD kernel compiled for xsimd's avx512bw (flags -mavx512f/dq/bw/vl on this file only).
#include "simd_kernel.hpp"

namespace focal::simd {
namespace {
using Arch = xsimd::avx512bw;
using K = Kernel<Arch>;
const Entry kEntry{Arch::name(), K::dense, K::soft, K::labels};
}  // namespace
const Entry& avx512_entry() { return kEntry; }
}  // namespace focal::simd
