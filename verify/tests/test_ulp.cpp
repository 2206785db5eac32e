// The checker checked: the ULP definition (verify/ulp.hpp) and the relative error (Stats) on
// known values, so that a checker that measures wrongly (e.g. an exponent off by one, which
// halves every error) fails here instead of making every kernel look better.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>

#include "check.hpp"
#include "ulp.hpp"

namespace focal::verify {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

float up(float f) { return std::nextafter(f, kInf); }
float down(float f) { return std::nextafter(f, -kInf); }

TEST(FloatUlp, KnownValues) {
  EXPECT_EQ(float_ulp(1.0), 0x1p-23);
  EXPECT_EQ(float_ulp(-1.0), 0x1p-23);
  EXPECT_EQ(float_ulp(1.5), 0x1p-23);
  EXPECT_EQ(float_ulp(1.0 + 0x1p-30), 0x1p-23);  // a double between floats
  EXPECT_EQ(float_ulp(double(down(1.0f))), 0x1p-24);
  EXPECT_EQ(float_ulp(2.0), 0x1p-22);
  EXPECT_EQ(float_ulp(0x1p-10), 0x1p-33);
  EXPECT_EQ(float_ulp(3.0e4), 0x1p-9);  // 2^14 <= 3e4 < 2^15
  EXPECT_EQ(float_ulp(double(FLT_MIN)), 0x1p-149);
  EXPECT_EQ(float_ulp(double(FLT_MIN) / 2), 0x1p-149);  // subnormal range: fixed spacing
  EXPECT_EQ(float_ulp(0x1p-149), 0x1p-149);
  EXPECT_EQ(float_ulp(0x1p-160), 0x1p-149);  // below every float
  EXPECT_EQ(float_ulp(0.0), 0x1p-149);
  EXPECT_EQ(float_ulp(0x1p127), 0x1p104);
  EXPECT_EQ(float_ulp(double(FLT_MAX)), 0x1p104);
  EXPECT_EQ(float_ulp(1e300), 0x1p104);  // beyond float: FLT_MAX's spacing
  EXPECT_EQ(float_ulp(double(kInf)), 0x1p104);
  EXPECT_TRUE(std::isnan(float_ulp(double(kNaN))));
}

// Against an independent definition: the distance to the next float up, for every binade and
// random bit patterns.
TEST(FloatUlp, IsTheSpacingToTheNextFloat) {
  std::mt19937 rng(12345);
  std::uniform_int_distribution<std::uint32_t> bits(0, 0x7f7ffffe);
  for (int i = 0; i < 200000; ++i) {
    std::uint32_t b = i < 255 * 4 ? (std::uint32_t(i / 4) << 23) | std::uint32_t(i % 4) : bits(rng);
    if (b > 0x7f7ffffe) continue;
    float f;
    std::memcpy(&f, &b, sizeof f);
    const double spacing = double(up(f)) - double(f);
    ASSERT_EQ(float_ulp(f), spacing) << std::hexfloat << f;
    ASSERT_EQ(float_ulp(-f), spacing) << std::hexfloat << f;
    ASSERT_EQ(float_ulp_inverse(f), 1.0 / spacing) << std::hexfloat << f;
  }
  EXPECT_EQ(float_ulp_inverse(1.0), 0x1p23);
  EXPECT_EQ(float_ulp_inverse(0.0), 0x1p149);
  EXPECT_EQ(float_ulp_inverse(1e300), 0x1p-104);
}

// One float off measures exactly 1 ULP of the truth, wherever the truth is.
TEST(UlpError, OneFloatOffIsOneUlp) {
  for (float exact : {1.0f, -1.0f, 0x1p-10f, 0x1p100f, 3.0f, 0.1f, 1e-30f, FLT_MIN, -FLT_MIN,
                      0x1.8p-140f, 3 * 0x1p-149f, 0x1p-149f, down(FLT_MAX)}) {
    const auto e = ulp_error(exact < 0 ? down(exact) : up(exact), double(exact), exact);
    EXPECT_EQ(e.failure, Failure::none) << exact;
    EXPECT_EQ(e.ulp, 1.0) << std::hexfloat << exact;
  }
  // Below a power of two the floats are twice as dense: one float down is half an ULP of the
  // truth (the unit is the truth's ULP, not the result's).
  EXPECT_EQ(ulp_error(down(1.0f), 1.0, 1.0f).ulp, 0.5);
  EXPECT_EQ(ulp_error(down(0x1p-10f), 0x1p-10, 0x1p-10f).ulp, 0.5);
  // ... except at FLT_MIN, where the spacing is 2^-149 on both sides.
  EXPECT_EQ(ulp_error(down(FLT_MIN), double(FLT_MIN), FLT_MIN).ulp, 1.0);
  // Exact and half-way.
  EXPECT_EQ(ulp_error(1.0f, 1.0, 1.0f).ulp, 0.0);
  EXPECT_EQ(ulp_error(1.0f, 1.0 + 0x1p-24, 1.0f).ulp, 0.5);
  EXPECT_EQ(ulp_error(2.0f, 2.0 - 0x1p-23, 2.0f).ulp, 1.0);  // truth just below 2: its ULP is 2^-23
  EXPECT_EQ(ulp_error(0.0f, 0x1p-151, 0.0f).ulp, 0.25);      // a truth that rounds to 0
  EXPECT_EQ(ulp_error(4 * 0x1p-149f, 3 * 0x1p-149, 3 * 0x1p-149f).ulp, 1.0);  // subnormals
  EXPECT_EQ(ulp_error(up(1.0f), 1.0, 1.0f, 2.0).ulp, 0.5);  // scale: ULP of the larger term
}

TEST(UlpError, SpecialValuesAreFailuresOfTheirOwnKind) {
  EXPECT_EQ(ulp_error(kNaN, double(kNaN), kNaN).failure, Failure::none);
  EXPECT_EQ(ulp_error(1.0f, double(kNaN), kNaN).failure, Failure::missing_nan);
  EXPECT_EQ(ulp_error(kNaN, 1.0, 1.0f).failure, Failure::spurious_nan);
  EXPECT_EQ(ulp_error(kInf, 1e39, kInf).failure, Failure::none);
  EXPECT_EQ(ulp_error(FLT_MAX, 1e39, kInf).failure, Failure::wrong_inf);
  EXPECT_EQ(ulp_error(kInf, 1.0, 1.0f).failure, Failure::wrong_inf);
  EXPECT_EQ(ulp_error(-kInf, double(kInf), kInf).failure, Failure::wrong_inf);
  EXPECT_EQ(ulp_error(0.0f, 0.0, 0.0f).failure, Failure::none);
  EXPECT_EQ(ulp_error(-0.0f, 0.0, 0.0f).failure, Failure::none);
  EXPECT_EQ(ulp_error(0x1p-149f, 0.0, 0.0f).failure, Failure::nonzero_for_zero);
  EXPECT_EQ(ulp_error(0.0f, 1e-40, 1e-40f).failure, Failure::flushed_to_zero);
  EXPECT_EQ(ulp_error(0.0f, 1.0, 1.0f).failure, Failure::flushed_to_zero);
  // A soft-target gradient crossing zero, measured against its larger term: a subnormal truth
  // may come out as 0.
  EXPECT_EQ(ulp_error(0.0f, 1e-40, 1e-40f, 1.0).failure, Failure::none);
  EXPECT_EQ(ulp_error(0x1p-24f, 0.0, 0.0f, 1.0).ulp, 0.5);
  for (auto f : {Failure::missing_nan, Failure::spurious_nan, Failure::wrong_inf,
                 Failure::nonzero_for_zero, Failure::flushed_to_zero}) {
    EXPECT_TRUE(std::isinf(UlpError{INFINITY, f}.ulp));
    EXPECT_STRNE(to_string(f), "ok");
  }
}

TEST(Stats, UlpAndRelativeErrorOnKnownValues) {
  Stats s;
  s.add(0, 1.0f, 1.0f, up(1.0f), 1.0, 1.0f, 1.0, false);  // 1 ULP, rel 2^-23
  EXPECT_EQ(s.max_ulp, 1.0);
  EXPECT_EQ(s.max_rel, 0x1p-23);
  s.add(1, 2.0f, 1.0f, 0.75f, 0.75, 0.75f, 0.75, false);  // exact
  EXPECT_EQ(s.n, 2u);
  EXPECT_EQ(s.mean_ulp(), 0.5);
  // In the subnormal range no float is relatively accurate: the final rounding's half spacing
  // (2^-150) is forgiven, the rest is relative to the value (verify::relative_error).
  Stats sub;
  sub.add(0, 90.0f, 1.0f, up(0x1p-140f), 0x1p-140, 0x1p-140f, 0x1p-140, false);  // 2^-149 off
  EXPECT_EQ(sub.max_ulp, 1.0);
  EXPECT_EQ(sub.max_rel, 0x1p-150 / 0x1p-140);
  sub.add(1, 90.0f, 1.0f, 0x1.2p-140f, 0x1p-140, 0x1p-140f, 0x1p-140, false);  // 2^-143 off
  EXPECT_EQ(sub.max_ulp, 64.0);
  EXPECT_EQ(sub.max_rel, (0x1p-143 - 0x1p-150) / 0x1p-140);
  EXPECT_EQ(relative_error(0x1p-149f, 0x1.8p-150, 0x1.8p-150), 0.0);  // within the rounding
  EXPECT_EQ(relative_error(1.5f, 1.0, 1.0), 0.5);
  EXPECT_EQ(relative_error(1.5f, 1.0, 3.0), 0.5 / 3.0);                 // against the scale
  EXPECT_EQ(relative_error(float(FLT_MIN), 0.5 * double(FLT_MIN), 0.5 * double(FLT_MIN)),
            (0.5 * double(FLT_MIN) - 0x1p-150) / (0.5 * double(FLT_MIN)));
  EXPECT_EQ(sub.worst.index, 1u);
}

TEST(Stats, PassesJudgesUlpAtIntegerGammaAndRelativeElsewhere) {
  Stats s;
  s.add(7, 1.0f, 1.0f, up(1.0f), 1.0, 1.0f, 1.0, false);
  EXPECT_TRUE(s.passes({1.0, 1e-6}, 2.0f));
  EXPECT_FALSE(s.passes({0.99, 1e-6}, 2.0f));
  EXPECT_TRUE(s.passes({0.5, 2e-7}, 0.5f));  // rel 1.19e-7 <= 2e-7
  EXPECT_FALSE(s.passes({1.0, 1e-7}, 0.5f));
  EXPECT_EQ(s.worst.index, 7u);
  s.add(8, 1.0f, 0.0f, 0.0f, 1.0, 1.0f, 1.0, false);  // flushed to 0: a special failure
  EXPECT_EQ(s.special_failures, 1u);
  EXPECT_TRUE(std::isinf(s.max_rel));
  EXPECT_EQ(s.max_ulp, 1.0);  // failures are counted apart, not as a number
  EXPECT_EQ(s.worst.failure, Failure::flushed_to_zero);
  EXPECT_FALSE(s.passes({1e9, 1e9}, 2.0f));
  Stats unwritten;
  unwritten.add(0, 1.0f, 1.0f, 1.0f, 1.0, 1.0f, 1.0, true);
  EXPECT_EQ(unwritten.special_failures, 1u);
  EXPECT_EQ(unwritten.worst.failure, Failure::spurious_nan);
  for (float g : {0.0f, 1.0f, 2.0f, 3.0f, 4.0f}) EXPECT_TRUE(integer_gamma(g));
  for (float g : {0.5f, 5.0f, 2.0001f, 8.0f}) EXPECT_FALSE(integer_gamma(g));
}

}  // namespace
}  // namespace focal::verify
