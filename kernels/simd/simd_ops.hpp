// The vector Ops policy for focal/math.hpp, and the few per-ISA loads/stores it needs.
//
// Why double lanes: the loss at gamma = 4 is a_t q^4 CE, so a float evaluation multiplies the
// error of q = e / (1 + e) by four and adds ~6 roundings; no float ordering stays within 4 ULP.
// Each lane therefore evaluates math.hpp in double (8 lanes per AVX-512 register, 4 per AVX2),
// with elementary functions accurate to ~2^-33 relative -- far beyond float, far short of full
// double, which is what makes them cheap -- and rounds to float once at the end:
//   exp    on (-inf, 0]: 2^n p(r), |r| <= ln2/2, p = 1 + r Q(r) of degree 7 (2^-33); x < -708.3
//          gives 0 (every loss built from such an e is below 2^-1000; AVX-512 scales with
//          vscalefpd, which reaches 0 by itself); NaN propagates.
//   log1p  on [0, 1]:    2 atanh(s), s = e / (2 + e) in [0, 1/3], odd series degree 11
//          (2^-33.1), s via rcp14 + one Newton step (2^-28).
//   recip  on [1, 2]:    rcp + Newton steps to 2^-50.
//   pow    on [0, 1] x (0, 8]: exp(g * log q), log via exponent + 2 atanh(s) (general gamma
//          only, where the bound is relative 1e-5).
// Subnormal float results come out right because nothing is flushed: the double lanes hold
// every intermediate of a loss down to 2^-149 with 53-bit precision.
// Errors of these functions (relative): exp 2^-33, log1p 2^-27.9, recip 2^-50; the loss and the
// gradient get at most ~(gamma+1) 2^-34 + 2^-27.9 before the final rounding to float.
#pragma once

#include <cfloat>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <xsimd/xsimd.hpp>

namespace focal::simd {

template <class Arch>
inline constexpr bool is_avx512 = std::is_base_of_v<xsimd::avx512f, Arch>;

// Precise = true: exp to 2^-52 (degree 11, two-constant reduction), for the soft-target path,
// whose gradient term (p - t) cancels and so needs p = sigmoid(x) nearly to double precision.
template <class Arch, bool Precise = false>
struct VecOps {
  using B = xsimd::batch<double, Arch>;
  using M = xsimd::batch_bool<double, Arch>;
  using U = xsimd::batch<std::uint64_t, Arch>;

  // Fused multiply-add by intrinsic: xsimd 8.1's avx512 arch has no fma kernel (it falls back to
  // a * b + c, two roundings, which -ffp-contract=off keeps unfused).
  static B fma(B a, B b, B c) {
    if constexpr (is_avx512<Arch>)
      return B(_mm512_fmadd_pd(a, b, c));
    else
      return B(_mm256_fmadd_pd(a, b, c));
  }
  static B fnma(B a, B b, B c) {  // c - a * b
    if constexpr (is_avx512<Arch>)
      return B(_mm512_fnmadd_pd(a, b, c));
    else
      return B(_mm256_fnmadd_pd(a, b, c));
  }

  static B abs(B v) { return xsimd::abs(v); }
  // (x86 min/max return the second operand when either is NaN; math.hpp does not rely on it.)
  static B min(B a, B b) { return xsimd::min(a, b); }
  static B max(B a, B b) { return xsimd::max(a, b); }
  static B select(M m, B a, B b) { return xsimd::select(m, a, b); }
  static B largest(B) { return B(DBL_MAX); }

  // ~2^-14 (AVX-512 rcp14) or ~2^-11 (AVX2: float rcp) reciprocal estimate of d in [1, 3].
  static B recip_estimate(B d) {
    if constexpr (is_avx512<Arch>) {
      return B(_mm512_rcp14_pd(d));
    } else {
      return B(_mm256_cvtps_pd(_mm_rcp_ps(_mm256_cvtpd_ps(d))));
    }
  }
  static B newton(B d, B y) { return fma(y, fnma(d, y, B(1.0)), y); }

  // 1 / d for d in [1, 2] (math.hpp: 1 / (1 + e)), relative error <= 2^-50.
  static B recip(B d) {
    B y = newton(d, newton(d, recip_estimate(d)));
    if constexpr (!is_avx512<Arch>) y = newton(d, y);  // 2^-11 -> 2^-22 -> 2^-44 -> 2^-53
    return y;
  }

  // e^x for x <= 0 (and NaN). See the header comment.
  static B exp(B x) {
    constexpr double kLog2e = 1.4426950408889634074;
    constexpr double kLn2 = 0.69314718055994530942;
    // 1.5 * 2^52 rounds x log2e to an integer n in the low mantissa bits; + 1023 puts the
    // exponent bias there too, so (bits << 52) is 2^n directly.
    constexpr double kShift = 6755399441055744.0 + 1023.0;
    // AVX-512 applies 2^n with vscalefpd (correctly rounded, 0 far below): clamp only far out.
    // AVX2 builds 2^n from bits: n >= -1022 keeps it a normal double, below that we select 0.
    constexpr double kLowest = is_avx512<Arch> ? -1100.0 : -708.3;
    const B xc = xsimd::max(B(kLowest), x);  // NaN: max returns its second operand, x
    const B t = fma(xc, B(kLog2e), B(kShift));
    const B n = t - B(kShift);
    B p;
    if constexpr (Precise) {
      const B r = fnma(n, B(2.3190468138462996e-17), fnma(n, B(kLn2), xc));
      p = B(2.510520668068106e-08);
      for (double c :
           {2.762635764031128e-07, 2.7557255425009614e-06, 2.4801504346039526e-05,
            1.9841269874801073e-04, 1.3888888932489353e-03, 8.333333333326141e-03,
            4.166666666657314e-02, 1.666666666666667e-01, 5.000000000000006e-01, 1.0, 1.0})
        p = fma(p, r, B(c));
    } else {
      const B r = fnma(n, B(kLn2), xc);  // one rounding; |n (ln2 - kLn2)| < 2^-45
      // e^r = 1 + r Q(r): exactly 1 at r = 0 (so p = 1 - p at x = 0, where the soft-target
      // gradient is exactly 0); relative error 2^-33.
      p = B(1.9899274293835886042e-4);
      p = fma(p, r, B(1.3941108735823515421e-3));
      p = fma(p, r, B(8.3332984833523088878e-3));
      p = fma(p, r, B(4.1666352893149819909e-2));
      p = fma(p, r, B(1.6666666718998415076e-1));
      p = fma(p, r, B(5.000000004711857403e-1));
      p = fma(p, r, B(1.0));
      p = fma(p, r, B(1.0));
    }
    if constexpr (is_avx512<Arch>) {
      return B(_mm512_scalef_pd(p, n));
    } else {
      const B scale = xsimd::bitwise_cast<B>(xsimd::bitwise_cast<U>(t) << 52);
      return xsimd::select(x < B(kLowest), B(0.0), p * scale);
    }
  }

  // 2 atanh(s) / (2 s) = P(s^2) for s^2 in [0, 1/9] (relative 2^-33.1).
  static B atanh_series(B w) {
    B p(1.2196954042011512453e-1);
    p = fma(p, w, B(1.0699280253339271618e-1));
    p = fma(p, w, B(1.4310103704218619165e-1));
    p = fma(p, w, B(1.9999355623431165808e-1));
    p = fma(p, w, B(3.333333951321698478e-1));
    p = fma(p, w, B(9.9999999990450300652e-1));
    return p;
  }

  // log(1 + e) for e in [0, 1] (and NaN): 2 atanh(e / (2 + e)).
  static B log1p(B e) {
    const B d = B(2.0) + e;
    const B s = e * newton(d, recip_estimate(d));  // 2^-28 (AVX2: 2^-22, then below)
    const B s_fixed = is_avx512<Arch> ? s : fma(newton(d, recip_estimate(d)), fnma(s, d, e), s);
    return (s_fixed + s_fixed) * atanh_series(s_fixed * s_fixed);
  }

  // log(v) for v in [2^-1022, 1] (and NaN): v = 2^k m, m in [sqrt(1/2), sqrt(2)).
  static B log(B v) {
    constexpr std::uint64_t kSqrtHalf = 0x3fe6a09e667f3bcdull;  // bits of sqrt(1/2)
    constexpr std::uint64_t kOne = 0x3ff0000000000000ull;
    const U bits = xsimd::bitwise_cast<U>(v) + U(kOne - kSqrtHalf);
    const U biased_k = bits >> 52;  // k + 1023, in [1, 1024]
    const B m = xsimd::bitwise_cast<B>((bits & U(0x000fffffffffffffull)) + U(kSqrtHalf));
    // k as a double without int64 -> double conversion (AVX2 has none): 2^52 + k' - 2^52.
    const B k = xsimd::bitwise_cast<B>(biased_k | U(0x4330000000000000ull)) -
                B(4503599627370496.0 + 1023.0);
    const B s = (m - B(1.0)) / (m + B(1.0));
    const B log_m = (s + s) * atanh_series(s * s);
    // The bit manipulation above turns a NaN into a number; v - v carries it back (0 otherwise).
    return fma(k, B(0.69314718055994530942), log_m) + (v - v);
  }

  // q^g for q in [0, 1], g > 0 (general gamma only; integer 0..4 use math::IntPow).
  static B pow(B q, B g) {
    // Below 1e-300 every loss and gradient term built from q^g is far below float's range.
    const B qc = xsimd::max(B(1e-300), q);  // NaN stays (second operand)
    return xsimd::select(q == B(0.0), B(0.0), exp(g * log(qc)));
  }
};

// Per-ISA memory glue: N float lanes in and out, u8 targets to a lane mask, and the rounded
// losses widened to double lanes for the sum. Real = double: N = batch<double>::size.
template <class Arch, class Real>
struct Glue;

template <class Arch>
struct Glue<Arch, double> {
  using B = xsimd::batch<double, Arch>;
  using M = xsimd::batch_bool<double, Arch>;
  static constexpr std::size_t N = B::size;

  static B load(const float* p) {
    if constexpr (is_avx512<Arch>) {
      return B(_mm512_cvtps_pd(_mm256_loadu_ps(p)));
    } else {
      return B(_mm256_cvtps_pd(_mm_loadu_ps(p)));
    }
  }
  // Rounds each lane to float (the kernel's result), stores it if `to` is set, and returns the
  // rounded values as doubles (what the sum adds).
  static B round_store(B v, float* to) {
    if constexpr (is_avx512<Arch>) {
      const __m256 f = _mm512_cvtpd_ps(v);
      if (to) _mm256_storeu_ps(to, f);
      return B(_mm512_cvtps_pd(f));
    } else {
      const __m128 f = _mm256_cvtpd_ps(v);
      if (to) _mm_storeu_ps(to, f);
      return B(_mm256_cvtps_pd(f));
    }
  }
  static void store_rounded(B v, float* to) {
    if constexpr (is_avx512<Arch>) {
      _mm256_storeu_ps(to, _mm512_cvtpd_ps(v));
    } else {
      _mm_storeu_ps(to, _mm256_cvtpd_ps(v));
    }
  }
  static B widen(B rounded) { return rounded; }
  // targets[0..N) != 0 as a lane mask; `bad` gets lanes with targets > 1.
  static M load_targets(const std::uint8_t* p, M& bad) {
    if constexpr (is_avx512<Arch>) {
      const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
      bad = bad | M(__mmask8(_mm_cmpgt_epu8_mask(b, _mm_set1_epi8(1)) & 0xff));
      return M(__mmask8(_mm_test_epi8_mask(b, b) & 0xff));
    } else {
      std::int32_t four;
      std::memcpy(&four, p, 4);
      const __m256i v = _mm256_cvtepu8_epi64(_mm_cvtsi32_si128(four));
      bad = bad | M(_mm256_castsi256_pd(_mm256_cmpgt_epi64(v, _mm256_set1_epi64x(1))));
      return M(_mm256_castsi256_pd(_mm256_cmpgt_epi64(v, _mm256_setzero_si256())));
    }
  }
};

template <class Arch>
struct Glue<Arch, float> {
  using B = xsimd::batch<float, Arch>;
  using M = xsimd::batch_bool<float, Arch>;
  using D = xsimd::batch<double, Arch>;
  static constexpr std::size_t N = B::size;

  static B load(const float* p) { return B::load_unaligned(p); }
  static B round_store(B v, float* to) {
    if (to) v.store_unaligned(to);
    return v;
  }
  static void store_rounded(B v, float* to) { v.store_unaligned(to); }
  // Both halves in double, added: two terms per double lane.
  static D widen(B v) {
    if constexpr (is_avx512<Arch>) {
      return D(_mm512_cvtps_pd(_mm512_castps512_ps256(v))) +
             D(_mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))));
    } else {
      return D(_mm256_cvtps_pd(_mm256_castps256_ps128(v))) +
             D(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
    }
  }
  static M load_targets(const std::uint8_t* p, M& bad) {
    if constexpr (is_avx512<Arch>) {
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      bad = bad | M(__mmask16(_mm_cmpgt_epu8_mask(b, _mm_set1_epi8(1))));
      return M(__mmask16(_mm_test_epi8_mask(b, b)));
    } else {
      const __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
      bad = bad | M(_mm256_castsi256_ps(_mm256_cmpgt_epi32(v, _mm256_set1_epi32(1))));
      return M(_mm256_castsi256_ps(_mm256_cmpgt_epi32(v, _mm256_setzero_si256())));
    }
  }
};

}  // namespace focal::simd
