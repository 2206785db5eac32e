// Layouts, reductions and sums, on every kernel, against MPFR.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "check.hpp"
#include "kernel_param.hpp"

namespace focal::testing {
namespace {

using verify::ulp_error;

class Layouts : public PerKernel {};

// Class-label layout: every element against MPFR; ignored rows exactly 0 and not counted.
TEST_P(Layouts, ClassLabelsMatchReferenceAndIgnore) {
  for (std::size_t classes : {std::size_t(80), std::size_t(1), std::size_t(7)}) {
    const auto l = verify::labels(67, classes, verify::process_seed() + classes);
    for (float gamma : {0.0f, 2.0f, 0.5f}) {
      Options opt;
      opt.gamma = gamma;
      opt.reduction = Reduction::mean;
      std::vector<float> loss(l.logits.size()), grad(l.logits.size());
      verify::poison(loss);
      verify::poison(grad);
      const auto r = focal_loss(kernel(), LabelInput{l.logits, l.labels, classes}, opt, {loss, grad});
      std::uint64_t counted_rows = 0;
      for (auto lab : l.labels) counted_rows += lab >= 0;
      ASSERT_EQ(r.count, counted_rows * classes);
      const double scale = r.count ? 1.0 / double(r.count) : 0.0;
      verify::Stats sl, sg;
      for (std::size_t row = 0; row < l.labels.size(); ++row)
        for (std::size_t k = 0; k < classes; ++k) {
          const std::size_t i = row * classes + k;
          if (l.labels[row] < 0) {
            ASSERT_EQ(loss[i], 0.0f) << "ignored row " << row;
            ASSERT_EQ(grad[i], 0.0f) << "ignored row " << row;
            continue;
          }
          const float t = std::size_t(l.labels[row]) == k ? 1.0f : 0.0f;
          const auto tr = verify::reference(l.logits[i], t, opt.alpha, gamma, scale);
          sl.add(i, l.logits[i], t, loss[i], tr.loss_exact, tr.loss_float, tr.loss_exact,
                 verify::is_poison(loss[i]));
          sg.add(i, l.logits[i], t, grad[i], tr.grad_exact, tr.grad_float, tr.grad_exact,
                 verify::is_poison(grad[i]));
        }
      EXPECT_TRUE(sl.passes(kernel().bound, gamma)) << "C=" << classes << " " << sl.describe("loss");
      EXPECT_TRUE(sg.passes(kernel().bound, gamma)) << "C=" << classes << " " << sg.describe("grad");
      EXPECT_NEAR(r.value, r.sum * scale, 1e-15 * std::fabs(r.sum * scale));
      EXPECT_LE(std::fabs(r.sum - verify::exact_sum(loss)), 1e-12 * std::fabs(r.sum));
    }
  }
}

// Reductions: value and the gradient's scale for sum, mean and a caller's normalizer.
TEST_P(Layouts, ReductionsScaleValueAndGradient) {
  const auto c = verify::uniform(1000, verify::process_seed() + 11, 20.0f);
  const auto u8 = c.targets_u8();
  for (auto [red, norm] : {std::pair{Reduction::sum, 1.0}, std::pair{Reduction::mean, 1.0},
                           std::pair{Reduction::normalizer, 37.0}, std::pair{Reduction::none, 1.0}}) {
    Options opt;
    opt.reduction = red;
    opt.normalizer = norm;
    const double scale = red == Reduction::mean ? 1e-3 : red == Reduction::normalizer ? 1.0 / 37.0 : 1.0;
    const auto truth = verify::references(c, opt.alpha, opt.gamma, scale);
    const auto m = verify::measure(kernel(), c, opt, truth);
    EXPECT_TRUE(m.grad.passes(kernel().bound, 2.0f)) << m.grad.describe("grad");
    EXPECT_TRUE(m.loss.passes(kernel().bound, 2.0f)) << m.loss.describe("loss");
    EXPECT_DOUBLE_EQ(m.result.value, m.result.sum * scale);
  }
}

TEST_P(Layouts, EverythingIgnoredGivesZeroNotNaN) {
  std::vector<float> logits(3 * 5, 1.0f);
  std::vector<std::int32_t> labels = {-1, -7, -1};
  std::vector<float> loss(logits.size()), grad(logits.size());
  verify::poison(loss);
  verify::poison(grad);
  Options opt;
  opt.reduction = Reduction::mean;
  const auto r = focal_loss(kernel(), LabelInput{logits, labels, 5}, opt, {loss, grad});
  EXPECT_EQ(r.count, 0u);
  EXPECT_EQ(r.value, 0.0);
  for (std::size_t i = 0; i < loss.size(); ++i) {
    EXPECT_EQ(loss[i], 0.0f);
    EXPECT_EQ(grad[i], 0.0f);
  }
}

TEST_P(Layouts, EmptyInput) {
  const auto r = focal_loss(kernel(), DenseInput{}, Options{});
  EXPECT_EQ(r.sum, 0.0);
  EXPECT_EQ(r.count, 0u);
}

// NaN in gives NaN out for that element only; its neighbours are untouched.
TEST_P(Layouts, NaNStaysInItsElement) {
  std::vector<float> x(100, 0.5f);
  std::vector<std::uint8_t> t(100, 1);
  x[37] = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> loss(100), grad(100);
  const auto r = focal_loss(kernel(), DenseInput{x, t}, Options{}, {loss, grad});
  EXPECT_TRUE(std::isnan(r.sum));
  for (std::size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(std::isnan(loss[i]), i == 37) << i;
    EXPECT_EQ(std::isnan(grad[i]), i == 37) << i;
  }
}

// The sum does not depend on which outputs are requested, and equals the exact sum of the
// kernel's own fp32 losses within 1e-12, on a size that spans many blocks and odd tails.
TEST_P(Layouts, SumIsExactSumOfOwnLossesAndIndependentOfOutputs) {
  for (std::size_t n : {std::size_t(1), std::size_t(17), std::size_t(1000003)}) {
    const auto c = verify::typical(n, verify::process_seed() + n);
    const auto u8 = c.targets_u8();
    std::vector<float> loss(n);
    verify::poison(loss);
    const auto with = focal_loss(kernel(), DenseInput{c.x, u8}, Options{}, {loss, {}});
    const auto without = focal_loss(kernel(), DenseInput{c.x, u8}, Options{});
    const double exact = verify::exact_sum(loss);
    EXPECT_LE(std::fabs(with.sum - exact), 1e-12 * exact) << "n=" << n;
    EXPECT_EQ(with.sum, without.sum) << "n=" << n;
    for (std::size_t i = 0; i < n; ++i) ASSERT_FALSE(verify::is_poison(loss[i])) << i;
  }
}

FOCAL_INSTANTIATE_PER_KERNEL(Layouts);

}  // namespace
}  // namespace focal::testing
