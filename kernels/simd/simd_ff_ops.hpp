// The lane ops of the float-float element (focal/ff.hpp) for xsimd float batches: the same IEEE
// operations as ff::ScalarOps, lane by lane, so every lane computes the scalar element's bits.
// min/max are x86 minps/maxps (second operand unless the first is strictly smaller/larger), as
// ScalarOps writes them; tables are looked up by permutes on the low 4 bits of the carrier.
#pragma once

#include <cstdint>
#include <type_traits>
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
  // ff::Element's second loop body for exact weights: 5% faster sum on AVX-512; on AVX2 within
  // noise (+1.5% sum, session 4), so not worth the second copy there.
  static constexpr bool kExactWeightCopy = k512;

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

// Two vectors in lockstep: every op of the element is issued for both halves side by side, so
// the two independent dependency chains (~150 cycles each) are interleaved in program order and
// the out-of-order core sees work from both in its scheduler window (written one after the other,
// the second chain waited behind the first's stalled instructions). Lane by lane the same
// operations as FFOps: the same bits.
template <class B>
struct Pair {
  B a, b;
  Pair() = default;
  Pair(B x, B y) : a(x), b(y) {}
  template <class S>
    requires std::is_arithmetic_v<S>
  Pair(S s) : a(s), b(s) {}
  explicit Pair(B s) : a(s), b(s) {}
};
#define FOCAL_PAIR_BINARY(op)                                                         \
  template <class B>                                                                   \
  auto operator op(const Pair<B>& x, const Pair<B>& y) {                               \
    return Pair<decltype(x.a op y.a)>{x.a op y.a, x.b op y.b};                         \
  }                                                                                    \
  template <class B>                                                                   \
  auto operator op(const Pair<B>& x, int y) {                                          \
    return Pair<decltype(x.a op y)>{x.a op y, x.b op y};                               \
  }
FOCAL_PAIR_BINARY(+)
FOCAL_PAIR_BINARY(-)
FOCAL_PAIR_BINARY(*)
FOCAL_PAIR_BINARY(/)
FOCAL_PAIR_BINARY(&)
FOCAL_PAIR_BINARY(|)
FOCAL_PAIR_BINARY(^)
FOCAL_PAIR_BINARY(<<)
FOCAL_PAIR_BINARY(>>)
FOCAL_PAIR_BINARY(<)
FOCAL_PAIR_BINARY(<=)
FOCAL_PAIR_BINARY(>)
FOCAL_PAIR_BINARY(>=)
FOCAL_PAIR_BINARY(==)
#undef FOCAL_PAIR_BINARY
template <class B>
auto operator!(const Pair<B>& x) {
  return Pair<decltype(!x.a)>{!x.a, !x.b};
}

template <class O>
struct PairOps {
  static constexpr bool kExactWeightCopy = O::kExactWeightCopy;
  using F = Pair<typename O::F>;
  using I = Pair<typename O::I>;
  using M = Pair<typename O::M>;

  static F fma(F a, F b, F c) { return {O::fma(a.a, b.a, c.a), O::fma(a.b, b.b, c.b)}; }
  static F fms(F a, F b, F c) { return {O::fms(a.a, b.a, c.a), O::fms(a.b, b.b, c.b)}; }
  static F fnma(F a, F b, F c) { return {O::fnma(a.a, b.a, c.a), O::fnma(a.b, b.b, c.b)}; }
  static F min(F a, F b) { return {O::min(a.a, b.a), O::min(a.b, b.b)}; }
  static F max(F a, F b) { return {O::max(a.a, b.a), O::max(a.b, b.b)}; }
  static F abs(F a) { return {O::abs(a.a), O::abs(a.b)}; }
  static F neg(F a) { return {O::neg(a.a), O::neg(a.b)}; }
  static F neg_abs(F a) { return {O::neg_abs(a.a), O::neg_abs(a.b)}; }
  static F select(M m, F a, F b) { return {O::select(m.a, a.a, b.a), O::select(m.b, a.b, b.b)}; }
  static M is_nan(F a) { return {O::is_nan(a.a), O::is_nan(a.b)}; }
  static bool all(M m) { return O::all(m.a & m.b); }
  static bool none(M m) { return O::none(m.a | m.b); }
  static I bits(F v) { return {O::bits(v.a), O::bits(v.b)}; }
  static F from_bits(I i) { return {O::from_bits(i.a), O::from_bits(i.b)}; }
  template <ff::constants::Table T>
  static F lookup(F carrier) {
    return {O::template lookup<T>(carrier.a), O::template lookup<T>(carrier.b)};
  }
};

template <class Arch>
using FFOps2 = PairOps<FFOps<Arch>>;

// The element of FFOps2 with the constants of a one-vector element (both halves the same).
template <class O, int K>
ff::Element<PairOps<O>, K> pair_element(const ff::Element<O, K>& e) {
  using P = typename PairOps<O>::F;
  return {{P(e.w_hi[0]), P(e.w_hi[1])}, {P(e.w_lo[0]), P(e.w_lo[1])},
          {P(e.a_hi[0]), P(e.a_hi[1])}, {P(e.a_lo[0]), P(e.a_lo[1])},
          P(e.s_hi), P(e.s_lo), P(e.loss_pow2), P(e.grad_pow2), e.scaled, e.exact_w};
}

}  // namespace focal::simd
