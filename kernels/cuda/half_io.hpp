// The CUDA kernels' half-precision conversions (fused half loaders, element_io.cuh), written
// once for host and device (FOCAL_HD) with integer bit operations only, so that the bits do not
// depend on the floating-point mode and verify/tests/test_cuda_half_io.cpp checks the very code
// the GPU runs against focal::half_to_float / focal::float_to_half (kernels/half.cpp), over
// every half pattern, every rounding midpoint and a stride over all floats.
//   fp16 -> float: exact (subnormal halves become normal floats), NaN made quiet (0x00400000);
//   bf16 -> float: a 16-bit shift, NaN made quiet;
//   float -> fp16: round to nearest even, >= 65520 to inf, NaN 0x7e00 | top payload bits;
//   float -> bf16: round to nearest even on the bits (a carry reaches inf), NaN (bits>>16)|0x40.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "focal/ff.hpp"     // ScalarOps bit casts
#include "focal/focal.hpp"  // Dtype
#include "focal/math.hpp"   // FOCAL_HD
#include "plan.hpp"

namespace focal::cuda_detail {

// A half logit of dtype D in device memory (2 bytes): the logit type of the half views.
template <Dtype D>
struct Half {
  static_assert(D == Dtype::fp16 || D == Dtype::bf16);
  static constexpr Dtype dtype = D;
  std::uint16_t bits;
};
template <class X>
inline constexpr bool is_half_v = !std::is_same_v<X, float>;

// The bit casts of the element's lane ops (memcpy on the host, __float_as_int on the device).
FOCAL_HD inline std::uint32_t float_bits(float f) { return std::uint32_t(ff::ScalarOps::bits(f)); }
FOCAL_HD inline float bits_float(std::uint32_t b) {
  return ff::ScalarOps::from_bits(std::int32_t(b));
}

template <Dtype D>
FOCAL_HD inline float from_half(std::uint16_t h) {
  if constexpr (D == Dtype::bf16) {
    const std::uint32_t b = std::uint32_t{h} << 16;
    return bits_float((b & 0x7fffffffu) > 0x7f800000u ? b | 0x00400000u : b);
  } else {
    const std::uint32_t sign = std::uint32_t{h & 0x8000u} << 16;
    const std::uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    if (e == 0x1f) return bits_float(sign | 0x7f800000u | (m << 13) | (m ? 0x00400000u : 0u));
    if (e != 0) return bits_float(sign | (((h & 0x7fffu) << 13) + (112u << 23)));  // rebias
    if (m == 0) return bits_float(sign);
    // Subnormal m 2^-24: shift the leading bit into place (at most 10 steps).
    int k = 0;
    while (((m << k) & 0x400u) == 0) ++k;  // leading bit at 10 - k
    return bits_float(sign | (std::uint32_t(113 - k) << 23) | ((m << (13 + k)) & 0x7fffffu));
  }
}

template <Dtype D>
FOCAL_HD inline std::uint16_t to_half(float v) {
  const std::uint32_t b = float_bits(v), a = b & 0x7fffffffu;
  if constexpr (D == Dtype::bf16) {
    if (a > 0x7f800000u) return std::uint16_t((b >> 16) | 0x40u);  // NaN: quiet
    return std::uint16_t((b + 0x7fffu + ((b >> 16) & 1u)) >> 16);  // a carry may reach inf
  } else {
    const std::uint32_t sign = (b >> 16) & 0x8000u;
    if (a > 0x7f800000u) return std::uint16_t(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
    if (a >= 0x477ff000u) return std::uint16_t(sign | 0x7c00u);  // >= 65520 (incl. inf): inf
    if (a >= 0x38800000u) {  // normal fp16: rebias, drop 13 bits to nearest even
      const std::uint32_t r = a - (112u << 23);
      return std::uint16_t(sign | ((r + 0xfffu + ((r >> 13) & 1u)) >> 13));
    }
    // Below 2^-14: |v| 2^24 = m 2^-s fp16 subnormal units, rounded to nearest even (up to
    // 0x400, the least normal). s >= 25 leaves less than half a unit: 0.
    const std::uint32_t e = a >> 23;
    const std::uint32_t m = (a & 0x7fffffu) | (e ? 0x800000u : 0u);
    const std::uint32_t s = e ? 126u - e : 125u;
    if (s >= 25u) return std::uint16_t(sign);
    const std::uint32_t q = m >> s, rem = m & ((1u << s) - 1u), halfway = 1u << (s - 1u);
    return std::uint16_t(sign | (q + (rem > halfway || (rem == halfway && (q & 1u)) ? 1u : 0u)));
  }
}

// 8 halves in four 32-bit words as a 16-byte load gives them (little-endian: element 2k is
// the low half of word k), to float; and back. The chunk loaders of element_io.cuh.
template <Dtype D>
FOCAL_HD inline void unpack_halves(const std::uint32_t (&w)[4], float* v) {
  for (int k = 0; k < 4; ++k) {
    v[2 * k] = from_half<D>(std::uint16_t(w[k] & 0xffffu));
    v[2 * k + 1] = from_half<D>(std::uint16_t(w[k] >> 16));
  }
}
template <Dtype D>
FOCAL_HD inline void pack_halves(const float* v, std::uint32_t (&w)[4]) {
  for (int k = 0; k < 4; ++k)
    w[k] = std::uint32_t{to_half<D>(v[2 * k])} | (std::uint32_t{to_half<D>(v[2 * k + 1])} << 16);
}

// The vector plan of the half views (plan.hpp's rule): 2-byte logits and half gradient,
// 4-byte loss and fp32 gradient, 1-byte targets (target_bytes 0: labels, no constraint).
FOCAL_HD inline VectorPlan plan_vectors_half(std::size_t n, std::uintptr_t logits,
                                             std::uintptr_t targets, unsigned target_bytes,
                                             std::uintptr_t loss, std::uintptr_t grad,
                                             std::uintptr_t grad_half) {
  for (std::size_t h = 0; h < kChunk && h < n; ++h) {
    const bool ok = (logits + 2 * h) % 16 == 0 &&
                    (target_bytes == 0 || (targets + target_bytes * h) % 16 == 0) &&
                    (loss == 0 || (loss + 4 * h) % 16 == 0) &&
                    (grad == 0 || (grad + 4 * h) % 16 == 0) &&
                    (grad_half == 0 || (grad_half + 2 * h) % 16 == 0);
    if (ok) return {h, (n - h) / kChunk};
  }
  return {n, 0};
}

}  // namespace focal::cuda_detail
