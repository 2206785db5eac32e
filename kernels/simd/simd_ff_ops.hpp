// The lane ops of the float-float element (focal/ff.hpp) for xsimd float batches: the same IEEE
// operations as ff::ScalarOps, lane by lane, so every lane computes the scalar element's bits.
// min/max are x86 minps/maxps (second operand unless the first is strictly smaller/larger), as
// ScalarOps writes them; tables are looked up by permutes on the low 4 bits of the carrier.
#pragma once

#include <cstdint>
#include <xsimd/xsimd.hpp>

#include "focal/ff.hpp"
#include "simd_ops.hpp"

namespace focal::simd {

template <class Arch>
struct FFOps {
  using F = xsimd::batch<float, Arch>;
  using I = xsimd::batch<std::int32_t, Arch>;
  using M = xsimd::batch_bool<float, Arch>;
  static constexpr bool k512 = is_avx512<Arch>;

  static F fma(F a, F b, F c) {
    if constexpr (k512)
      return F(_mm512_fmadd_ps(a, b, c));
    else
      return F(_mm256_fmadd_ps(a, b, c));
  }
  static F fms(F a, F b, F c) {  // a b - c
    if constexpr (k512)
      return F(_mm512_fmsub_ps(a, b, c));
    else
      return F(_mm256_fmsub_ps(a, b, c));
  }
  static F fnma(F a, F b, F c) {  // c - a b
    if constexpr (k512)
      return F(_mm512_fnmadd_ps(a, b, c));
    else
      return F(_mm256_fnmadd_ps(a, b, c));
  }
  static F min(F a, F b) {
    if constexpr (k512)
      return F(_mm512_min_ps(a, b));
    else
      return F(_mm256_min_ps(a, b));
  }
  static F max(F a, F b) {
    if constexpr (k512)
      return F(_mm512_max_ps(a, b));
    else
      return F(_mm256_max_ps(a, b));
  }
  static F abs(F a) { return from_bits(bits(a) & I(0x7fffffff)); }
  // A sign flip (xsimd's avx512 negation is 0 - a, which loses the sign of zeros).
  static F neg(F a) { return from_bits(bits(a) ^ I(std::int32_t(0x80000000u))); }
  static F neg_abs(F a) { return from_bits(bits(a) | I(std::int32_t(0x80000000u))); }
  static F select(M m, F a, F b) { return xsimd::select(m, a, b); }
  static M is_nan(F a) {  // unordered compare (xsimd's != is ordered: false for NaN)
    if constexpr (k512)
      return M(_mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q));
    else
      return M(_mm256_cmp_ps(a, a, _CMP_UNORD_Q));
  }
  static bool all(M m) { return xsimd::all(m); }
  static bool none(M m) { return !xsimd::any(m); }
  static I bits(F v) { return xsimd::bitwise_cast<I>(v); }
  static F from_bits(I i) { return xsimd::bitwise_cast<F>(i); }

  template <ff::constants::Table T>
  static F lookup(F carrier) {
    const float* table = ff::constants::kTables[int(T)];
    const I idx = bits(carrier);
    if constexpr (k512) {
      return F(_mm512_permutexvar_ps(idx, _mm512_loadu_ps(table)));
    } else {
      // Two 8-entry permutes (low 3 bits), chosen by bit 3 moved into the sign bit.
      const __m256 lo = _mm256_permutevar8x32_ps(_mm256_loadu_ps(table), idx);
      const __m256 hi = _mm256_permutevar8x32_ps(_mm256_loadu_ps(table + 8), idx);
      return F(_mm256_blendv_ps(lo, hi, _mm256_castsi256_ps(_mm256_slli_epi32(idx, 28))));
    }
  }
};

}  // namespace focal::simd
