// Half-precision inputs beyond the dense contract sweep (test_half.cpp): the exact conversions
// against the arithmetic model (verify/half_oracle.hpp), the class-label layout across chunk
// boundaries (whole rows, also rows wider than a chunk) against the fast double reference, and
// every bad input as a clear invalid_argument with the index in the whole input.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "check.hpp"
#include "half_oracle.hpp"
#include "kernel_param.hpp"
#include "reference/fast_reference.hpp"

namespace focal::testing {
namespace {

using verify::half_decode;
using verify::half_round;
using verify::half_ulp;

float as_float(std::uint32_t b) {
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}

// half -> float is exact for every pattern; float -> half is round to nearest even: every half
// round-trips, every midpoint between neighbours goes to the even one and one float either side
// of it to the nearer one, and random floats (all magnitudes) match the arithmetic rounding.
TEST(HalfConversion, ExactInRoundToNearestEvenOut) {
  std::mt19937 rng{unsigned(verify::process_seed())};
  for (Dtype d : {Dtype::fp16, Dtype::bf16}) {
    for (std::uint32_t h = 0; h < 65536; ++h) {
      const double v = half_decode(std::uint16_t(h), d);
      const float f = half_to_float(std::uint16_t(h), d);
      if (std::isnan(v)) {
        ASSERT_TRUE(std::isnan(f)) << to_string(d) << " " << h;
        ASSERT_TRUE(std::isnan(half_decode(float_to_half(f, d), d))) << to_string(d) << " " << h;
        continue;
      }
      ASSERT_EQ(double(f), v) << to_string(d) << " " << h;
      ASSERT_EQ(std::signbit(f), std::signbit(v)) << to_string(d) << " " << h;
      ASSERT_EQ(float_to_half(f, d), h) << to_string(d) << " round trip " << h;
      const double next = half_decode(std::uint16_t(h + 1), d);  // same sign, larger magnitude
      if ((h & 0x7fffu) == 0x7fffu || !std::isfinite(next) || !std::isfinite(v)) continue;
      const float mid = float((v + next) / 2);  // exact in float: 1 bit more than the format
      ASSERT_EQ(double(mid), (v + next) / 2);
      const std::uint16_t even = (h & 1u) ? std::uint16_t(h + 1) : std::uint16_t(h);
      ASSERT_EQ(float_to_half(mid, d), even) << to_string(d) << " midpoint above " << h;
      ASSERT_EQ(float_to_half(std::nextafter(mid, 0.0f), d), h) << to_string(d) << " " << h;
      ASSERT_EQ(float_to_half(std::nextafter(mid, 2 * mid), d), h + 1) << to_string(d) << " " << h;
    }
    for (int i = 0; i < 2000000; ++i) {
      const float f = as_float(std::uint32_t(rng()));
      if (std::isnan(f)) continue;
      ASSERT_EQ(half_decode(float_to_half(f, d), d), half_round(f, d)) << to_string(d) << " " << f;
    }
  }
  expect_error([] { half_to_float(0, Dtype::fp32); }, "dtype");
  expect_error([] { float_to_half(1.0f, Dtype{7}); }, "dtype");
}

class HalfInputs : public PerKernel {};

// Labels: random rows (about 1% positive, some background, some ignored) with finite half
// logits; every element against the fast reference (t = label == class), normalizer reduction.
void check_labels(const KernelInfo& k, Dtype d, std::size_t rows, std::size_t classes,
                  std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::uint16_t> bits(rows * classes), gh(bits.size());
  std::vector<std::int32_t> labels(rows);
  for (auto& b : bits) {
    do b = std::uint16_t(rng());
    while (!std::isfinite(half_decode(b, d)));
  }
  std::size_t fg = 0;
  for (auto& l : labels) {
    const auto u = rng() % 100;
    l = u < 5 ? -1 : u < 20 ? std::int32_t(rng() % classes) : std::int32_t(classes);
    fg += l >= 0 && l < std::int32_t(classes);
  }
  std::vector<float> loss(bits.size()), grad(bits.size());
  verify::poison(loss);
  verify::poison(grad);
  const double norm = double(fg ? fg : 1);
  const Options opt{.reduction = Reduction::normalizer, .normalizer = norm};
  const Result r = focal_loss(k, HalfLabelInput{bits, labels, classes, d}, opt,
                              Outputs{.loss = loss, .grad = grad, .grad_half = gh});
  std::uint64_t count = 0;
  std::size_t bad = 0;
  for (std::size_t i = 0; i < bits.size(); ++i) {
    const std::int32_t lab = labels[i / classes];
    bool ok;
    if (lab < 0) {
      ok = loss[i] == 0.0f && grad[i] == 0.0f && gh[i] == 0;
    } else {
      ++count;
      const auto t = verify::fast_reference(float(half_decode(bits[i], d)),
                                            std::size_t(lab) == i % classes, 0.25f, 2.0f, 1.0 / norm);
      ok = verify::ulp_error(loss[i], t.loss_exact, t.loss_float).ulp <= k.bound.ulp &&
           verify::ulp_error(grad[i], t.grad_exact, t.grad_float).ulp <= k.bound.ulp &&
           std::fabs(half_decode(gh[i], d) - t.grad_exact) <= half_ulp(t.grad_exact, d);
    }
    if (!ok && bad++ < 5)
      ADD_FAILURE() << to_string(d) << " row " << i / classes << " class " << i % classes
                    << " label " << lab << " x=" << half_decode(bits[i], d) << ": loss " << loss[i]
                    << " grad " << grad[i] << " grad_half " << half_decode(gh[i], d);
  }
  EXPECT_EQ(bad, 0u) << to_string(d) << " " << rows << " x " << classes;
  EXPECT_EQ(r.count, count);
  const double exact = verify::exact_sum(loss);
  EXPECT_LE(std::fabs(r.sum - exact), 1e-12 * std::fabs(exact));
  EXPECT_DOUBLE_EQ(r.value, r.sum / norm);
}

TEST_P(HalfInputs, LabelsAcrossChunks) {
  const auto seed = verify::process_seed();
  for (Dtype d : {Dtype::fp16, Dtype::bf16}) {
    check_labels(kernel(), d, 2003, 80, seed + 1);   // 160240 logits: chunks of 1638 rows
    check_labels(kernel(), d, 2, 131101, seed + 2);  // a row wider than a chunk
  }
}

TEST_P(HalfInputs, EmptyAndAllIgnored) {
  const auto r = focal_loss(kernel(), HalfDenseInput{{}, {}, Dtype::bf16});
  EXPECT_EQ(r.sum, 0.0);
  EXPECT_EQ(r.count, 0u);
  std::vector<std::uint16_t> bits(15, 0x3c00), gh(15, 0x7e00);  // 1.0 (fp16), poison NaN
  std::vector<std::int32_t> labels = {-1, -7, -1};
  const auto m = focal_loss(kernel(), HalfLabelInput{bits, labels, 5, Dtype::fp16},
                            Options{.reduction = Reduction::mean}, Outputs{.grad_half = gh});
  EXPECT_EQ(m.count, 0u);
  EXPECT_EQ(m.value, 0.0);
  for (auto g : gh) EXPECT_EQ(g, 0u);
}

TEST_P(HalfInputs, BadInputNamesArgumentAndWholeInputIndex) {
  const auto& k = kernel();
  const std::size_t n = 300000;
  std::vector<std::uint16_t> bits(n, 0x3c00), gh(n), gh_short(n - 1);
  std::vector<std::uint8_t> t(n, 1);
  std::vector<float> x(n, 1.0f), grad(n);
  expect_error([&] { focal_loss(k, HalfDenseInput{bits, t}); }, "'input.dtype'");
  expect_error([&] { focal_loss(k, HalfDenseInput{bits, t, Dtype{9}}); }, "'input.dtype'");
  expect_error([&] { focal_loss(k, DenseInput{x, t}, {}, Outputs{.grad_half = gh}); },
               "'outputs.grad_half'");
  expect_error([&] { focal_loss(k, HalfDenseInput{bits, t, Dtype::fp16}, {}, {.grad_half = gh_short}); },
               "'outputs.grad_half'");
  expect_error([&] { focal_loss(k, HalfDenseInput{bits, std::span(t).first(n - 1), Dtype::fp16}); },
               "'targets'");
  expect_error([&] { focal_loss(k, HalfDenseInput{bits, t, Dtype::fp16}, Options{.gamma = NAN}); },
               "'gamma'");
  t[200001] = 2;  // in the second chunk: the index is the whole input's
  expect_error([&] { focal_loss(k, HalfDenseInput{bits, t, Dtype::bf16}, {}, {.grad = grad}); },
               "'targets[200001]'");
  std::vector<std::int32_t> labels(n / 100, 100);  // 100 classes
  expect_error([&] { focal_loss(k, HalfLabelInput{bits, labels, 0, Dtype::fp16}); }, "'num_classes'");
  expect_error([&] { focal_loss(k, HalfLabelInput{bits, labels, 99, Dtype::fp16}); }, "'logits'");
  labels[2500] = 101;  // row 2500: past the first chunk of 1310 rows
  expect_error([&] { focal_loss(k, HalfLabelInput{bits, labels, 100, Dtype::fp16}); },
               "'labels[2500]'");
}

FOCAL_INSTANTIATE_PER_KERNEL(HalfInputs);

// A fused path (KernelInfo::run_half, part of the public kernel interface) that flags a bad
// target on a labels input: the driver only locates bad dense targets, so this must not touch
// the dense view (it dereferenced a null HalfDenseInput). As with fp32 labels, validated
// before the kernel ran, there is nothing to report.
bool flagging_run_half(const HalfInput&, const Params&, const Outputs&, Partial* r) {
  *r = Partial{1.5, 3, true};
  return true;
}

TEST(HalfDriver, LabelsFlaggedByAFusedPathDoNotCrash) {
  KernelInfo k = find_kernel("scalar");
  k.run_half = flagging_run_half;
  std::vector<std::uint16_t> bits(6, 0x3c00);
  std::vector<std::int32_t> labels = {0, 3};
  const auto r = focal_loss(k, HalfLabelInput{bits, labels, 3, Dtype::fp16});
  EXPECT_EQ(r.sum, 1.5);
  EXPECT_EQ(r.count, 3u);
  std::vector<std::uint8_t> t(6, 1);  // dense: the flag is located (no bad target: no error)
  EXPECT_EQ(focal_loss(k, HalfDenseInput{bits, t, Dtype::fp16}).sum, 1.5);
  t[4] = 7;
  expect_error([&] { focal_loss(k, HalfDenseInput{bits, t, Dtype::fp16}); }, "'targets[4]'");
}

}  // namespace
}  // namespace focal::testing
