// The parts of the CUDA kernels' plan that need no GPU: the chunk sum, the accumulator, the
// vector plan. __host__ __device__ (FOCAL_HD) like the element (kernels/element.hpp), so that
// verify/tests/test_cuda_math.cpp checks them on the host.
#pragma once

#include <cstddef>
#include <cstdint>

#include "focal/math.hpp"  // FOCAL_HD

namespace focal::cuda_detail {

// The sum of a chunk's float losses (all >= 0, or inf/NaN) without FP64 arithmetic: a
// float-float running sum (two_sum per term, error-free), rounded to double once. Relative
// error <= n 2^-48 for n terms (n = 16: 2^-44), inside the 1e-12 sum contract, while the
// per-element cost is 6 float operations instead of one FP64 addition (1/64 rate on consumer
// GPUs). inf and NaN terms give the plain float sum (the compensation would be NaN).
template <int N>
FOCAL_HD inline double sum_floats(const float (&v)[N]) {
  float hi = 0.0f, lo = 0.0f;
  for (int j = 0; j < N; ++j) {
    const float s = hi + v[j];
    const float b = s - hi;
    lo += (hi - (s - b)) + (v[j] - b);
    hi = s;
  }
  return hi - hi == 0.0f ? double(hi) + double(lo) : double(hi);
}

// What a thread, a block and the grid accumulate. The losses are >= 0 (or inf/NaN), so plain
// double addition has relative error <= (depth of the addition chain) * 2^-53: with chunks of
// 16 summed first, the chain is 16 + chunks per thread + 8 (block) + 11 (final pass), about
// 550 adds at n = 2^31 on 132 SMs -- 6e-14, inside the 1e-12 sum contract.
struct Acc {
  double sum;
  unsigned long long count;
  unsigned int bad;  // nonzero: some target was invalid (dense != 0/1, soft outside [0,1], label > C)
};
struct AccPlus {
  FOCAL_HD Acc operator()(const Acc& x, const Acc& y) const {
    return {x.sum + y.sum, x.count + y.count, x.bad | y.bad};
  }
};

// Vector plan: elements [0, head) and [head + 16 * chunks, n) are read one by one, the chunks
// of 16 in between with 16-byte loads (4 x float4 logits, and 16 u8 or 4 x float4 targets, and
// 4 x float4 per output). head is the first index at which every vector pointer is 16-byte
// aligned; when no such index exists (pointers misaligned against each other), chunks = 0 and
// everything goes element by element -- correct, just slower.
inline constexpr std::size_t kChunk = 16;
struct VectorPlan {
  std::size_t head;
  std::size_t chunks;
};
// target_bytes: 1 (u8), 4 (f32) or 0 (labels: the label array is read per row, not vectorized).
// A null output pointer is not requested and imposes nothing.
FOCAL_HD inline VectorPlan plan_vectors(std::size_t n, std::uintptr_t logits,
                                        std::uintptr_t targets, unsigned target_bytes,
                                        std::uintptr_t loss, std::uintptr_t grad) {
  for (std::size_t h = 0; h < kChunk && h < n; ++h) {
    const bool ok = (logits + 4 * h) % 16 == 0 &&
                    (target_bytes == 0 || (targets + target_bytes * h) % 16 == 0) &&
                    (loss == 0 || (loss + 4 * h) % 16 == 0) &&
                    (grad == 0 || (grad + 4 * h) % 16 == 0);
    if (ok) return {h, (n - h) / kChunk};
  }
  return {n, 0};  // no common alignment: all elements one by one
}

}  // namespace focal::cuda_detail
