// The CUDA kernels' half conversions and half vector plan (kernels/cuda/half_io.hpp), compiled
// on the host (no GPU needed): the very source the fused device loop runs, checked bit for bit
// against the driver's conversions (focal::half_to_float / float_to_half, kernels/half.cpp) and
// the arithmetic model (verify/half_oracle.hpp): every half pattern in; out every half value,
// every rounding midpoint with its float neighbours, every float near the fp16 subnormal and
// overflow edges and a stride over all float bit patterns. On a GPU, test_half_fused checks the
// kernels' outputs against the converted path.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "../../kernels/cuda/half_io.hpp"
#include "half_oracle.hpp"

namespace focal::testing {
namespace {

using cuda_detail::kChunk;
using verify::half_decode;
using verify::half_round;
constexpr auto bits_of = verify::float_bits;

template <Dtype D>
void check_every_pattern_in() {
  for (std::uint32_t i = 0; i < 65536; ++i) {
    const auto h = std::uint16_t(i);
    const float f = cuda_detail::from_half<D>(h);
    ASSERT_EQ(bits_of(f), bits_of(half_to_float(h, D))) << to_string(D) << " " << h;
    const double v = half_decode(h, D);
    if (std::isnan(v))
      ASSERT_TRUE(std::isnan(f) && (bits_of(f) & 0x00400000u)) << h << ": a quiet NaN";
    else
      ASSERT_TRUE(double(f) == v && std::signbit(f) == std::signbit(v)) << h;
  }
}


template <Dtype D>
void check_rounding_out() {
  for (const float v : verify::half_rounding_inputs(D)) {
    const std::uint16_t h = cuda_detail::to_half<D>(v);
    ASSERT_EQ(h, float_to_half(v, D)) << to_string(D) << " " << v << " bits " << bits_of(v);
    if (std::isnan(v)) {
      ASSERT_TRUE(std::isnan(half_decode(h, D))) << v;
    } else {
      ASSERT_EQ(half_decode(h, D), half_round(v, D)) << v;
      ASSERT_EQ(std::signbit(half_decode(h, D)), std::signbit(v)) << v;
    }
  }
}

TEST(CudaHalfIo, Fp16EveryPatternIn) { check_every_pattern_in<Dtype::fp16>(); }
TEST(CudaHalfIo, Bf16EveryPatternIn) { check_every_pattern_in<Dtype::bf16>(); }
TEST(CudaHalfIo, Fp16RoundingOut) { check_rounding_out<Dtype::fp16>(); }
TEST(CudaHalfIo, Bf16RoundingOut) { check_rounding_out<Dtype::bf16>(); }

// The chunk loaders' word order: what a 16-byte load of 8 consecutive halves gives.
template <Dtype D>
void check_pack_order() {
  std::uint16_t h[8];
  for (std::uint32_t base = 0; base < 65536; base += 8) {
    for (int k = 0; k < 8; ++k) h[k] = std::uint16_t(base + std::uint32_t(k) * 0x1235u);
    std::uint32_t w[4];
    std::memcpy(w, h, sizeof w);  // the bytes of a uint4 load, on a little-endian machine
    float v[8];
    cuda_detail::unpack_halves<D>(w, v);
    for (int k = 0; k < 8; ++k) ASSERT_EQ(bits_of(v[k]), bits_of(half_to_float(h[k], D))) << k;
    std::uint32_t back[4];
    cuda_detail::pack_halves<D>(v, back);
    std::uint16_t out[8];
    std::memcpy(out, back, sizeof out);
    for (int k = 0; k < 8; ++k) ASSERT_EQ(out[k], float_to_half(v[k], D)) << k;
  }
}
TEST(CudaHalfIo, ChunkWordOrder) {
  check_pack_order<Dtype::fp16>();
  check_pack_order<Dtype::bf16>();
}

// plan_vectors_half: the first index (< 16) where every given pointer is 16-byte aligned,
// checked against the definition over every residue of the five pointers.
TEST(CudaHalfIo, VectorPlanHalf) {
  const std::uintptr_t base = 0x10000;
  int with_chunks = 0, without = 0;
  for (std::uintptr_t x = 0; x < 16; x += 2)
    for (std::uintptr_t t = 0; t < 17; ++t)  // 16: labels (no target constraint)
      for (std::uintptr_t l = 0; l < 20; l += 4)  // 16: loss not requested
        for (std::uintptr_t g = 0; g < 20; g += 4)
          for (std::uintptr_t gh = 0; gh < 18; gh += 2)
            for (std::size_t n : {std::size_t{5}, std::size_t{1000}}) {
              const unsigned tb = t == 16 ? 0 : 1;
              const std::uintptr_t lp = l == 16 ? 0 : base + l, gp = g == 16 ? 0 : base + g;
              const std::uintptr_t hp = gh == 16 ? 0 : base + gh;
              const auto plan =
                  cuda_detail::plan_vectors_half(n, base + x, base + t, tb, lp, gp, hp);
              auto aligned = [&](std::size_t h) {
                return (base + x + 2 * h) % 16 == 0 && (tb == 0 || (base + t + h) % 16 == 0) &&
                       (lp == 0 || (lp + 4 * h) % 16 == 0) &&
                       (gp == 0 || (gp + 4 * h) % 16 == 0) && (hp == 0 || (hp + 2 * h) % 16 == 0);
              };
              std::size_t first = n;
              for (std::size_t h = 0; h < kChunk && h < n; ++h)
                if (aligned(h)) {
                  first = h;
                  break;
                }
              const std::string where = "x " + std::to_string(x) + " t " + std::to_string(t) +
                                        " loss " + std::to_string(l) + " grad " +
                                        std::to_string(g) + " grad_half " + std::to_string(gh);
              ASSERT_EQ(plan.head, first) << where;
              ASSERT_EQ(plan.chunks, first < n ? (n - first) / kChunk : 0) << where;
              (plan.chunks > 0 ? with_chunks : without)++;
            }
  EXPECT_GT(with_chunks, 0);
  EXPECT_GT(without, 0);
}

}  // namespace
}  // namespace focal::testing
