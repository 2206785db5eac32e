// The driver's validation (kernels/api.cpp) on every kernel: size products that would wrap,
// the gamma and normalizer ranges, outputs that overlap inputs or each other, and exact in-place
// use (allowed, and correct against MPFR).
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "check.hpp"
#include "kernel_param.hpp"

namespace focal::testing {
namespace {

class Validation : public PerKernel {};

// 2^34 labels with C = 2^30: N C = 2^64 wraps to 0 and matched the 0 logits, then the kernel
// read out of bounds. The spans only claim the sizes: validation must reject them before
// reading a single label.
TEST_P(Validation, LabelSizeProductOverflow) {
  std::vector<std::int32_t> few(4, 0);
  const std::span<const std::int32_t> huge(few.data(), std::size_t(1) << 34);
  expect_error([&] { focal_loss(kernel(), LabelInput{{}, huge, std::size_t(1) << 30}); },
               "'labels'");
  const std::span<const std::int32_t> odd(few.data(), (std::size_t(1) << 33) + 5);  // > 2^64 / C
  expect_error([&] { focal_loss(kernel(), LabelInput{{}, odd, std::size_t(INT32_MAX)}); },
               "'labels'");
  // No overflow, just a mismatch: the logits are named.
  std::vector<float> x(7);
  expect_error([&] { focal_loss(kernel(), LabelInput{x, std::span(few).first(2), 4}); },
               "'logits'");
}

// gamma in [0, 8], the range whose accuracy is verified.
TEST_P(Validation, GammaRange) {
  std::vector<float> x = {100.0f, -3.0f, 0.5f}, t = {1e-30f, 0.5f, 1.0f};
  for (float g : {std::nextafter(8.0f, 9.0f), 9.0f, FLT_MAX, INFINITY, -0.5f, -FLT_MIN, NAN})
    expect_error([&] { focal_loss(kernel(), SoftInput{x, t}, {.alpha = 0.0f, .gamma = g}); },
                 "'gamma'");
  for (float g : {0.0f, 8.0f}) {  // both ends accepted, and right
    verify::DenseCases c{"gamma ends", x, t};
    const Options opt{.alpha = 0.0f, .gamma = g};
    const auto truth = verify::references(c, opt.alpha, g);
    const auto m = verify::measure(kernel(), c, opt, truth);
    EXPECT_TRUE(m.loss.passes(kernel().bound, g)) << m.loss.describe("loss");
    EXPECT_TRUE(m.grad.passes(kernel().bound, g)) << m.grad.describe("grad");
  }
}

// normalizer in [2^-40, 2^62]: 1e-310 gave 0 * inf = NaN gradients, 1e-40 gave -inf in the
// fast tiers. Both ends are accepted and every gradient meets the bound there.
TEST_P(Validation, NormalizerRange) {
  std::vector<float> x(64);
  std::vector<std::uint8_t> t(64);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i) - 31.5f, t[i] = i % 3 == 0;
  const DenseInput in{x, t};
  const double inf = INFINITY, nan = NAN;
  for (double norm : {std::nextafter(0x1p-40, 0.0), std::nextafter(0x1p62, inf), 1e-310, 0x1p-62,
                      1e-40, 0.0, -1.0, inf, nan})
    expect_error([&] {
      focal_loss(kernel(), in, {.reduction = Reduction::normalizer, .normalizer = norm});
    }, "'normalizer'");
  // The ends: logits up to |x| = 100 (where a scaled gradient of (1-p_t)^gamma ~ e^-(gamma+1)|x|
  // is still a normal float at scale 2^40), gamma 0 and 2, the gradient scaled by 2^40, 2^-62.
  const auto c = verify::uniform(4096, verify::process_seed() + 62, 100.0f);
  for (double norm : {0x1p-40, 0x1p62})
    for (float gamma : {0.0f, 2.0f}) {
      const Options opt{.gamma = gamma, .reduction = Reduction::normalizer, .normalizer = norm};
      const auto truth = verify::references(c, opt.alpha, gamma, 1.0 / norm);
      const auto m = verify::measure(kernel(), c, opt, truth);
      EXPECT_TRUE(m.grad.passes(kernel().bound, gamma))
          << "normalizer " << norm << " gamma " << gamma << "\n  " << m.grad.describe("grad");
      EXPECT_EQ(m.result.value, m.result.sum / norm);
    }
}

// Outputs may be exactly the logits (in place) but overlap nothing else.
TEST_P(Validation, OverlappingOutputsAreRejected) {
  const std::size_t n = 40;
  std::vector<float> buf(2 * n + 8, 0.5f);
  const std::span<float> all(buf);
  const std::span<const float> logits = all.subspan(0, n);
  std::vector<std::uint8_t> t(n, 1);
  const DenseInput dense{logits, t};
  const auto shifted = all.subspan(1, n), other = all.subspan(n + 4, n);
  expect_error([&] { focal_loss(kernel(), dense, {}, {shifted, {}}); }, "'outputs.loss'");
  expect_error([&] { focal_loss(kernel(), dense, {}, {{}, shifted}); }, "'outputs.grad'");
  expect_error([&] { focal_loss(kernel(), dense, {}, {other, other}); }, "'outputs.grad'");
  expect_error([&] { focal_loss(kernel(), dense, {}, {all.subspan(n + 4, n), all.subspan(n + 5, n)}); },
               "'outputs.grad'");
  // Soft targets: no overlap at all, not even exact.
  const SoftInput soft{logits, other};
  expect_error([&] { focal_loss(kernel(), soft, {}, {other, {}}); }, "'outputs.loss'");
  expect_error([&] { focal_loss(kernel(), soft, {}, {{}, all.subspan(n + 2, n)}); },
               "'outputs.grad'");
  // u8 targets and int32 labels living in the output's bytes.
  std::vector<float> out(n);
  const std::span<const std::uint8_t> t_in_out(reinterpret_cast<const std::uint8_t*>(out.data()) + 3, n);
  expect_error([&] { focal_loss(kernel(), DenseInput{logits, t_in_out}, {}, {out, {}}); },
               "'outputs.loss'");
  std::vector<std::int32_t> labels(n / 4, 0);
  const std::span<float> over_labels(reinterpret_cast<float*>(labels.data()), n / 4);
  expect_error([&] { focal_loss(kernel(), LabelInput{logits.first(n / 4), labels, 1}, {}, {{}, over_labels}); },
               "'outputs.grad'");
}

// Exact in place: the loss or the gradient written over the logits, in every layout, equals
// MPFR on the original logits (poisoned other output, odd size with a vector tail).
TEST_P(Validation, ExactlyInPlaceIsAllowedAndRight) {
  const auto c = verify::soft(203, verify::process_seed() + 9, 20.0f);
  const auto b = verify::uniform(203, verify::process_seed() + 10, 20.0f);
  const auto u8 = b.targets_u8();
  for (int which = 0; which < 2; ++which)
    for (int layout = 0; layout < 3; ++layout) {
      const verify::DenseCases& cs = layout == 1 ? c : b;
      std::vector<float> x = cs.x, other(x.size());
      verify::poison(other);
      const Options opt{.gamma = 2.0f};
      Outputs out = which == 0 ? Outputs{x, other} : Outputs{other, x};
      std::vector<std::int32_t> labels;
      if (layout == 0) {
        focal_loss(kernel(), DenseInput{x, u8}, opt, out);
      } else if (layout == 1) {
        focal_loss(kernel(), SoftInput{x, cs.t}, opt, out);
      } else {  // one class per row: label 0 where t = 1, background (1) otherwise
        for (float t : cs.t) labels.push_back(t == 1.0f ? 0 : 1);
        focal_loss(kernel(), LabelInput{x, labels, 1}, opt, out);
      }
      const auto truth = verify::references(cs, opt.alpha, opt.gamma);
      verify::Stats sl, sg;
      for (std::size_t i = 0; i < x.size(); ++i) {
        const float loss = which == 0 ? x[i] : other[i], grad = which == 0 ? other[i] : x[i];
        const bool bin = cs.t[i] == 0.0f || cs.t[i] == 1.0f;
        sl.add(i, cs.x[i], cs.t[i], loss, truth[i].loss_exact, truth[i].loss_float,
               truth[i].loss_exact, verify::is_poison(loss));
        sg.add(i, cs.x[i], cs.t[i], grad, truth[i].grad_exact, truth[i].grad_float,
               bin ? truth[i].grad_exact : truth[i].grad_scale_term, verify::is_poison(grad));
      }
      const std::string what = std::string(which == 0 ? "loss" : "grad") + " in place, layout " +
                               (layout == 0 ? "dense" : layout == 1 ? "soft" : "labels");
      EXPECT_TRUE(sl.passes(kernel().bound, 2.0f)) << what << "\n  " << sl.describe("loss");
      EXPECT_TRUE(sg.passes(kernel().bound, 2.0f)) << what << "\n  " << sg.describe("grad");
    }
}

FOCAL_INSTANTIATE_PER_KERNEL(Validation);

}  // namespace
}  // namespace focal::testing
