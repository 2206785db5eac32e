// Regression tests for the element's special cases found by trying extreme inputs (issue 9 items
// 7 and 8), on every kernel against MPFR at the kernel's declared bound:
//  - a weight a_t (1-p_t)^gamma that underflows while CE is +inf: the loss is +inf, not 0;
//  - alpha 0 and 1 (a zero weight) with x = +-inf and NaN: 0 for the numbers, NaN for NaN, in
//    every layout;
//  - soft target t = 1/2 near x = 0, where p - t cancels;
//  - the sum's compensation (one large loss then millions of tiny ones);
//  - the fast tiers' |x| > 80 fallback, pinned by scaled gradients that lose bits in float there.
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>

#include "check.hpp"
#include "kernel_param.hpp"

namespace focal::testing {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

class SpecialValues : public PerKernel {
 protected:
  // Every element of `c` (dense u8 when binary, else soft) against MPFR at the declared bound.
  void expect_within_bound(const verify::DenseCases& c, const Options& opt,
                           const std::string& what, double grad_scale = 1.0) {
    const auto truth = verify::references(c, opt.alpha, opt.gamma, grad_scale);
    const auto m = verify::measure(kernel(), c, opt, truth);
    const std::string where = what + " alpha=" + std::to_string(opt.alpha) +
                              " gamma=" + std::to_string(opt.gamma);
    EXPECT_TRUE(m.loss.passes(kernel().bound, opt.gamma)) << where << "\n  "
                                                         << m.loss.describe("loss");
    EXPECT_TRUE(m.grad.passes(kernel().bound, opt.gamma)) << where << "\n  "
                                                         << m.grad.describe("grad");
  }
};

verify::DenseCases cases(std::string family, std::vector<float> x, std::vector<float> t) {
  return {std::move(family), std::move(x), std::move(t)};
}

// -inf with t = 2^-149: CE = +inf and (1-p_t)^gamma = 2^-149 gamma underflows even double for
// gamma >= 7.2; +inf with t just below 1 likewise. The `dead = (w == 0)` shortcut gave 0.
TEST_P(SpecialValues, UnderflowedWeightTimesInfiniteCeIsInf) {
  const float tiny = std::numeric_limits<float>::denorm_min();
  const float below_one = std::nextafter(1.0f, 0.0f);
  auto c = cases("underflowed weight", {-kInf, -kInf, -kInf, kInf, kInf, kInf},
                 {tiny, 1e-30f, 0.5f, below_one, 1.0f - 1e-6f, 0.5f});
  for (float alpha : {0.25f, 1.0f, 0.0f, -1.0f})
    for (float gamma : {6.5f, 7.0f, 7.25f, 7.5f, 8.0f, 2.0f})
      expect_within_bound(c, {.alpha = alpha, .gamma = gamma}, "soft x=+-inf");
}

// Alpha 0 (a_t = 0 for positives) and 1 (a_t = 0 for negatives): 0 and 0 wherever the input is
// a number, also x = +-inf (0 * inf must not become NaN), NaN for NaN.
TEST_P(SpecialValues, ZeroWeightAtInfinityAndNaN) {
  const std::vector<float> xs = {kInf, -kInf, kNaN, 0.0f, -0.0f, 1.0f, -1.0f, 100.0f, -100.0f,
                                 FLT_MAX, -FLT_MAX, 1e-40f};
  verify::DenseCases binary{"binary zero weight", {}, {}}, soft{"soft zero weight", {}, {}};
  for (float x : xs) {
    for (float t : {0.0f, 1.0f}) binary.x.push_back(x), binary.t.push_back(t);
    for (float t : {0.5f, 0.25f, 1e-30f}) soft.x.push_back(x), soft.t.push_back(t);
  }
  for (float alpha : {0.0f, 1.0f})
    // Non-integer gamma: there the fast tier's out-of-range vectors and its sibling both run the
  // double lanes (at gamma 0..4 the sibling runs the float-float element, whose bound the
  // first half of this test checks), so a moved threshold changes bits.
  for (float gamma : {0.5f, 1.5f}) {
      const Options opt{.alpha = alpha, .gamma = gamma};
      expect_within_bound(binary, opt, "dense");
      expect_within_bound(soft, opt, "soft");
    }
  // The class-label layout: each value as the positive and as a negative of a row.
  const std::size_t c = xs.size();
  std::vector<float> logits;
  std::vector<std::int32_t> labels;
  for (std::size_t row = 0; row < c; ++row) {
    logits.insert(logits.end(), xs.begin(), xs.end());
    labels.push_back(std::int32_t(row));
  }
  for (float alpha : {0.0f, 1.0f})
    // Non-integer gamma: there the fast tier's out-of-range vectors and its sibling both run the
  // double lanes (at gamma 0..4 the sibling runs the float-float element, whose bound the
  // first half of this test checks), so a moved threshold changes bits.
  for (float gamma : {0.5f, 1.5f}) {
      const Options opt{.alpha = alpha, .gamma = gamma};
      std::vector<float> loss(logits.size()), grad(logits.size());
      verify::poison(loss);
      verify::poison(grad);
      focal_loss(kernel(), LabelInput{logits, labels, c}, opt, {loss, grad});
      verify::Stats sl, sg;
      for (std::size_t i = 0; i < logits.size(); ++i) {
        const float t = std::size_t(labels[i / c]) == i % c ? 1.0f : 0.0f;
        const auto tr = verify::reference(logits[i], t, alpha, gamma);
        sl.add(i, logits[i], t, loss[i], tr.loss_exact, tr.loss_float, tr.loss_exact,
               verify::is_poison(loss[i]));
        sg.add(i, logits[i], t, grad[i], tr.grad_exact, tr.grad_float, tr.grad_exact,
               verify::is_poison(grad[i]));
      }
      EXPECT_TRUE(sl.passes(kernel().bound, gamma)) << "labels alpha=" << alpha << " gamma="
                                                    << gamma << "\n  " << sl.describe("loss");
      EXPECT_TRUE(sg.passes(kernel().bound, gamma)) << "labels alpha=" << alpha << " gamma="
                                                    << gamma << "\n  " << sg.describe("grad");
    }
}

// t = 1/2 (and its neighbours) near x = 0: p - t = x/4 must not cancel. Was 4080 ULP at
// x = 1e-10 and 0 below 1e-16.
TEST_P(SpecialValues, SoftHalfNearZero) {
  verify::DenseCases c{"soft near x = 0", {}, {}};
  const float half_up = std::nextafter(0.5f, 1.0f), half_down = std::nextafter(0.5f, 0.0f);
  for (int k = 0; k <= 300; ++k) {
    const float a = std::pow(10.0f, -44.0f + 44.0f * float(k) / 300.0f);  // 1e-44 .. 1
    for (float x : {a, -a})
      for (float t : {0.5f, half_up, half_down, 0.3f, 0.7f}) c.x.push_back(x), c.t.push_back(t);
  }
  for (float gamma : {0.0f, 2.0f, 4.0f, 0.5f, 8.0f})
    expect_within_bound(c, {.alpha = 0.25f, .gamma = gamma}, "soft near 0");
}

// One loss of ~2500 followed by 2e6 losses of ~7e-14: each tiny loss is below half an ulp of
// the running sum, so a plain double sum drops them all (5.6e-11 relative); the kernels' sums
// must stay within 1e-12 of the exact sum of their own fp32 losses.
TEST_P(SpecialValues, CompensatedSumKeepsTinyLossesAfterALargeOne) {
  const std::size_t n = 2'000'001;
  std::vector<float> x(n);
  std::vector<std::uint8_t> t(n, 1);
  std::mt19937_64 rng(verify::process_seed() + 77);
  std::uniform_real_distribution<float> tiny_x(28.6f, 29.2f);  // loss 0.25 e^-x ~ 7e-14
  x[0] = -10000.0f;                                            // loss 0.25 * 10000
  for (std::size_t i = 1; i < n; ++i) x[i] = tiny_x(rng);
  std::vector<float> loss(n);
  const Result r = focal_loss(kernel(), DenseInput{x, t}, {.alpha = 0.25f, .gamma = 0.0f},
                              {loss, {}});
  const double exact = verify::exact_sum(loss);
  double plain = 0;
  for (float v : loss) plain += v;
  // The case is hard: a plain sum misses by far more than the tolerance.
  ASSERT_GT(std::fabs(plain - exact), 1e-11 * exact) << "the test lost its teeth";
  EXPECT_LE(std::fabs(r.sum - exact), 1e-12 * exact)
      << kernel().name << ": sum " << r.sum << " vs exact " << exact;
}

// The fast tier (cuda_warp_fast; the CPU ones are gone) evaluates float lanes only for |x| <= 80
// (kernels/element.hpp) and sends other elements to the accurate path. Past x = 87.3, e = exp(-x) is
// subnormal in float and keeps 149 - 1.44 x bits; with the gradient scaled by 2^40 (normalizer
// 2^-40, the smallest allowed) that loss is visible: at gamma 0 the positive's gradient is
// -a_t e / (1 + e) 2^40, a normal float. So above 80 every kernel must be accurate (1 ULP, the
// accurate path's bound), and a fast tier must give exactly the bits of its accurate sibling
// (X_fast vs X) there. Measured by moving the threshold (then in the CPU fast tier): 82 fails the bitwise check, 88 also the
// 1-ULP check (5.3 ULP at x = 87.8). Moving the threshold down costs only speed (the benchmarks
// see that).
TEST_P(SpecialValues, FastRangeThresholdProtectsSubnormalIntermediates) {
  const double scale = 0x1p40;  // the largest gradient scale (normalizer 2^-40)
  verify::DenseCases inside{"|x| in [70, 80]", {}, {}}, outside{"|x| in (80, 104]", {}, {}};
  std::mt19937_64 rng(verify::process_seed() + 80);
  std::uniform_real_distribution<float> in_d(70.0f, 80.0f), out_d(80.0f, 104.0f);
  for (int i = 0; i < 4096; ++i) {
    const float t = (i / 16) % 2 ? 1.0f : 0.0f;  // whole vectors of positives or negatives
    inside.x.push_back(i == 0 ? 80.0f : in_d(rng)), inside.t.push_back(t);
    outside.x.push_back(i == 0 ? std::nextafter(80.0f, 100.0f) : out_d(rng)), outside.t.push_back(t);
  }
  // Sorted, so that every vector spans a narrow range of x: a vector takes the fast path only if
  // all its lanes are inside, so random order would hide a moved threshold.
  std::sort(inside.x.begin(), inside.x.end());
  std::sort(outside.x.begin(), outside.x.end());
  const Options opt{.alpha = 0.25f,
                    .gamma = 0.0f,
                    .reduction = Reduction::normalizer,
                    .normalizer = 1.0 / scale};
  expect_within_bound(inside, opt, "inside the fast range, grad scale 2^40", scale);
  const auto truth = verify::references(outside, opt.alpha, opt.gamma, scale);
  const auto m = verify::measure(kernel(), outside, opt, truth);
  const ErrorBound accurate{.ulp = std::min(kernel().bound.ulp, 1.0), .rel_other = 0};
  EXPECT_TRUE(m.loss.passes(accurate, 0.0f)) << m.loss.describe("loss");
  EXPECT_TRUE(m.grad.passes(accurate, 0.0f)) << m.grad.describe("grad");

  const std::string name(kernel().name), suffix = "_fast";
  if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix))
    return;
  const std::string sibling_name = name.substr(0, name.size() - suffix.size());
  const KernelInfo* sibling = nullptr;
  for (const auto& k : kernels())
    if (k.name == sibling_name && k.is_available()) sibling = &k;
  ASSERT_NE(sibling, nullptr) << name << " has no available accurate sibling " << sibling_name;
  const auto u8 = outside.targets_u8();
  // Non-integer gamma: there the fast tier's out-of-range vectors and its sibling both run the
  // double lanes (at gamma 0..4 the sibling runs the float-float element, whose bound the
  // first half of this test checks), so a moved threshold changes bits.
  for (float gamma : {0.5f, 1.5f})
    for (double norm : {1.0, 1.0 / scale}) {
      const Options o{.alpha = 0.25f, .gamma = gamma, .reduction = Reduction::normalizer,
                      .normalizer = norm};
      const std::size_t n = outside.x.size();
      std::vector<float> l1(n), g1(n), l2(n), g2(n);
      focal_loss(kernel(), DenseInput{outside.x, u8}, o, {l1, g1});
      focal_loss(*sibling, DenseInput{outside.x, u8}, o, {l2, g2});
      for (std::size_t i = 0; i < n; ++i)
        ASSERT_TRUE(std::memcmp(&l1[i], &l2[i], 4) == 0 && std::memcmp(&g1[i], &g2[i], 4) == 0)
            << name << " vs " << sibling_name << " at x = " << outside.x[i] << ", t = "
            << outside.t[i] << ", gamma " << gamma << ", normalizer " << norm << ": loss "
            << l1[i] << " vs " << l2[i] << ", grad " << g1[i] << " vs " << g2[i];
    }
}

FOCAL_INSTANTIATE_PER_KERNEL(SpecialValues);

}  // namespace
}  // namespace focal::testing
