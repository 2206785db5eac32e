// The loaders of the fused half path: N fp16 or bf16 logits into float lanes, and float
// gradients back to N halves. The only per-ISA code half inputs add to the SIMD loops
// (simd_ff_kernel.hpp); the element is the fp32 kernel's. Included only by the per-target units.
//
// Bits: the same as half.cpp's conversions (test_half_fused checks every one of the 65,536
// patterns of each dtype, a sweep of floats and every rounding tie, through HalfArrays):
// - fp16 -> float: F16C vcvtph2ps, exact (subnormal halves become normal floats; a signalling
//   NaN comes out quiet with its payload);
// - bf16 -> float: a 16-bit shift, NaN made quiet (the driver's rule: the element then sees the
//   same bits whichever path the input takes);
// - float -> fp16: F16C vcvtps2ph with round-to-nearest-even (overflow to inf, NaN quiet with
//   the top payload bits);
// - float -> bf16: round to nearest even on the integer bits, NaN quiet (bit 6 of the half).
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <xsimd/xsimd.hpp>

#include "focal/focal.hpp"
#include "simd_ops.hpp"

namespace focal::simd {

// Src of the SIMD loops for fp32 logits: plain loads.
template <class Arch>
struct FloatSrc {
  using T = float;
  using F = xsimd::batch<float, Arch>;
  static constexpr bool kHalf = false;
  static F load(const float* p) { return F::load_unaligned(p); }
};

// Src for half logits of dtype D (fp16 or bf16).
template <class Arch, Dtype D>
struct HalfSrc {
  using T = std::uint16_t;
  using F = xsimd::batch<float, Arch>;
  static constexpr bool kHalf = true;
  static constexpr bool k512 = is_avx512<Arch>;
  static_assert(D == Dtype::fp16 || D == Dtype::bf16);

  static F load(const std::uint16_t* p) {
    if constexpr (k512) {
      const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
      if constexpr (D == Dtype::fp16) {
        return F(_mm512_cvtph_ps(h));
      } else {
        const __m512i b = _mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16);
        const __m512i abs = _mm512_and_si512(b, _mm512_set1_epi32(0x7fffffff));
        const __mmask16 nan = _mm512_cmpgt_epu32_mask(abs, _mm512_set1_epi32(0x7f800000));
        return F(_mm512_castsi512_ps(
            _mm512_mask_or_epi32(b, nan, b, _mm512_set1_epi32(0x00400000))));
      }
    } else {
      const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      if constexpr (D == Dtype::fp16) {
        return F(_mm256_cvtph_ps(h));
      } else {
        const __m256i b = _mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16);
        const __m256i abs = _mm256_and_si256(b, _mm256_set1_epi32(0x7fffffff));
        // abs <= 0x7fffffff, so a signed compare is the unsigned one.
        const __m256i nan = _mm256_cmpgt_epi32(abs, _mm256_set1_epi32(0x7f800000));
        return F(_mm256_castsi256_ps(
            _mm256_or_si256(b, _mm256_and_si256(nan, _mm256_set1_epi32(0x00400000)))));
      }
    }
  }

  static void store(F v, std::uint16_t* p) {
    if constexpr (D == Dtype::fp16) {
      constexpr int kNearest = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
      if constexpr (k512)
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm512_cvtps_ph(v, kNearest));
      else
        _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_cvtps_ph(v, kNearest));
    } else if constexpr (k512) {
      const __m512i b = _mm512_castps_si512(v);
      const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(b, 16), _mm512_set1_epi32(1));
      const __m512i rounded = _mm512_srli_epi32(
          _mm512_add_epi32(b, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7fff))), 16);
      const __m512i abs = _mm512_and_si512(b, _mm512_set1_epi32(0x7fffffff));
      const __mmask16 nan = _mm512_cmpgt_epu32_mask(abs, _mm512_set1_epi32(0x7f800000));
      const __m512i quiet = _mm512_or_si512(_mm512_srli_epi32(b, 16), _mm512_set1_epi32(0x40));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(p),
                          _mm512_cvtepi32_epi16(_mm512_mask_mov_epi32(rounded, nan, quiet)));
    } else {
      const __m256i b = _mm256_castps_si256(v);
      const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(b, 16), _mm256_set1_epi32(1));
      const __m256i rounded = _mm256_srli_epi32(
          _mm256_add_epi32(b, _mm256_add_epi32(odd, _mm256_set1_epi32(0x7fff))), 16);
      const __m256i abs = _mm256_and_si256(b, _mm256_set1_epi32(0x7fffffff));
      const __m256i nan = _mm256_cmpgt_epi32(abs, _mm256_set1_epi32(0x7f800000));
      const __m256i quiet = _mm256_or_si256(_mm256_srli_epi32(b, 16), _mm256_set1_epi32(0x40));
      const __m256i h = _mm256_blendv_epi8(rounded, quiet, nan);  // 8 values <= 0xffff
      _mm_storeu_si128(reinterpret_cast<__m128i*>(p),
                       _mm_packus_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1)));
    }
  }
};

// Whole arrays through the loaders (tails through padded buffers): the entry points the tests
// use to check the loaders' bits against half.cpp's conversions over every pattern.
template <class Arch>
struct HalfArrays {
  static constexpr std::size_t N = xsimd::batch<float, Arch>::size;

  template <Dtype D>
  static void load(const std::uint16_t* in, float* out, std::size_t n) {
    std::size_t i = 0;
    for (; i + N <= n; i += N) HalfSrc<Arch, D>::load(in + i).store_unaligned(out + i);
    if (i == n) return;
    std::uint16_t hb[N] = {};
    float fb[N];
    for (std::size_t k = 0; k < n - i; ++k) hb[k] = in[i + k];
    HalfSrc<Arch, D>::load(hb).store_unaligned(fb);
    for (std::size_t k = 0; k < n - i; ++k) out[i + k] = fb[k];
  }
  template <Dtype D>
  static void store(const float* in, std::uint16_t* out, std::size_t n) {
    using F = xsimd::batch<float, Arch>;
    std::size_t i = 0;
    for (; i + N <= n; i += N) HalfSrc<Arch, D>::store(F::load_unaligned(in + i), out + i);
    if (i == n) return;
    float fb[N] = {};
    std::uint16_t hb[N];
    for (std::size_t k = 0; k < n - i; ++k) fb[k] = in[i + k];
    HalfSrc<Arch, D>::store(F::load_unaligned(fb), hb);
    for (std::size_t k = 0; k < n - i; ++k) out[i + k] = hb[k];
  }
  static void to_float(const std::uint16_t* in, float* out, std::size_t n, Dtype d) {
    d == Dtype::bf16 ? load<Dtype::bf16>(in, out, n) : load<Dtype::fp16>(in, out, n);
  }
  static void to_half(const float* in, std::uint16_t* out, std::size_t n, Dtype d) {
    d == Dtype::bf16 ? store<Dtype::bf16>(in, out, n) : store<Dtype::fp16>(in, out, n);
  }
};

}  // namespace focal::simd
