// Half-precision logits (fp16, bf16), every kernel: the accuracy contract proven exhaustively.
// For all 65,536 bit patterns of each dtype, t = 0 and 1, gamma 0..4, alpha 0.25:
//   - loss (fp32) within the kernel's declared ULP bound of the exact loss at the half value;
//   - fp32 gradient (on request) within the same bound;
//   - half gradient within 1 half-ULP of the exact gradient. It is the fp32 gradient rounded to
//     nearest even, a double rounding, so not always correctly rounded: the test measures how
//     often and how far (printed), and asserts the 1 half-ULP contract;
//   - NaN in -> NaN out (loss, both gradients), +-inf / +-0 / subnormal halves as the truth says.
// The truth, computed once per (dtype, gamma) and shared by all kernels, at the half value
// decoded here by arithmetic (verify/half_oracle.hpp), independently of the library's bit-level
// conversion: the MPFR oracle on every 16th pattern (both targets) and on every inf/NaN, the fast
// double reference (verify/reference/fast_reference.*, independent of the kernels' math and
// itself checked against MPFR to 1e-3 ULP by test_fast_reference) on the rest. MPFR on all
// 1.3M points costs ~11 s of CPU; this way the suite spends well under a second on it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <utility>
#include <vector>

#include "check.hpp"
#include "half_oracle.hpp"
#include "kernel_param.hpp"
#include "reference/fast_reference.hpp"

namespace focal::testing {
namespace {

using verify::DenseCases;
using verify::Truth;

using verify::half_ulp;
double decode(std::uint16_t h, Dtype d) { return verify::half_decode(h, d); }
double round_half(double v, Dtype d) { return verify::half_round(v, d); }

std::vector<std::uint16_t> all_patterns_twice() {  // each pattern with t = 0, then t = 1
  std::vector<std::uint16_t> bits(2 * 65536);
  for (std::uint32_t h = 0; h < 65536; ++h) bits[2 * h] = bits[2 * h + 1] = std::uint16_t(h);
  return bits;
}

DenseCases cases(Dtype d) {
  DenseCases c{std::string("all ") + std::string(to_string(d)) + " patterns", {}, {}};
  for (std::uint16_t h : all_patterns_twice()) {
    c.x.push_back(float(decode(h, d)));  // exact: every half value is a float
    c.t.push_back(float(c.t.size() % 2));
  }
  return c;
}

// Checked against MPFR: every 16th pattern (both targets) and every non-finite one.
bool mpfr_sampled(std::size_t i, double x) { return i % 32 < 2 || !std::isfinite(x); }

// The truth for cases(d): MPFR on the sampled patterns, the fast double reference on the rest.
const std::vector<Truth>& truth(Dtype d, float gamma) {
  static std::map<std::pair<Dtype, float>, std::vector<Truth>> cache;
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  auto& t = cache[{d, gamma}];
  if (!t.empty()) return t;
  const DenseCases c = cases(d);
  t.resize(c.x.size());
  DenseCases sample{c.family + " (MPFR sample)", {}, {}};
  std::vector<std::size_t> where;
  for (std::size_t i = 0; i < c.x.size(); ++i) {
    if (mpfr_sampled(i, c.x[i])) {
      sample.x.push_back(c.x[i]);
      sample.t.push_back(c.t[i]);
      where.push_back(i);
    } else {
      t[i] = verify::fast_reference(c.x[i], c.t[i] == 1.0f, 0.25f, gamma);
    }
  }
  const auto mp = verify::references(sample, 0.25f, gamma);
  for (std::size_t j = 0; j < where.size(); ++j) t[where[j]] = mp[j];
  return t;
}

struct HalfGradStats {
  double max_ulp = 0;             // in half ULPs of the exact gradient
  std::size_t not_rounded = 0;    // results that differ from the correctly rounded half
  std::size_t failures = 0;       // NaN/inf/zero mismatches
  std::size_t worst = 0;
};

void check_dtype(const KernelInfo& k, Dtype d, float gamma) {
  const auto bits = all_patterns_twice();
  std::vector<std::uint8_t> tgt(bits.size());
  for (std::size_t i = 0; i < tgt.size(); ++i) tgt[i] = std::uint8_t(i % 2);
  std::vector<float> loss(bits.size()), grad(bits.size());
  std::vector<std::uint16_t> grad_h(bits.size(), 0x7d55);  // poison: an fp16/bf16 NaN payload
  verify::poison(loss);
  verify::poison(grad);
  const Options opt{.alpha = 0.25f, .gamma = gamma};
  const Result r = focal_loss(k, HalfDenseInput{bits, tgt, d}, opt,
                              Outputs{.loss = loss, .grad = grad, .grad_half = grad_h});
  const auto& tr = truth(d, gamma);
  const DenseCases c = cases(d);

  verify::Stats ls, gs;
  HalfGradStats hs;
  for (std::size_t i = 0; i < bits.size(); ++i) {
    const Truth& t = tr[i];
    ls.add(i, c.x[i], c.t[i], loss[i], t.loss_exact, t.loss_float, std::fabs(t.loss_exact),
           verify::is_poison(loss[i]));
    gs.add(i, c.x[i], c.t[i], grad[i], t.grad_exact, t.grad_float, std::fabs(t.grad_exact),
           verify::is_poison(grad[i]));
    const double got = decode(grad_h[i], d), want = round_half(t.grad_exact, d);
    bool ok;
    if (std::isnan(t.grad_exact) || std::isnan(got)) {
      ok = std::isnan(t.grad_exact) && std::isnan(got);
    } else if (std::isinf(want) || std::isinf(got)) {
      ok = got == want;
    } else {
      const double e = std::fabs(got - t.grad_exact) / half_ulp(t.grad_exact, d);
      ok = t.grad_exact != 0.0 ? e <= 1.0 : got == 0.0;
      if (ok && e > hs.max_ulp) hs.max_ulp = e, hs.worst = i;
    }
    hs.failures += !ok;
    hs.not_rounded += ok && !std::isnan(got) && got != want;
  }
  const std::string where = std::string(k.name) + " " + std::string(to_string(d)) +
                            " gamma=" + std::to_string(gamma);
  EXPECT_TRUE(ls.passes(k.bound, gamma)) << where << "\n  " << ls.describe("loss");
  EXPECT_TRUE(gs.passes(k.bound, gamma)) << where << "\n  " << gs.describe("grad");
  EXPECT_EQ(hs.failures, 0u) << where << ": half gradients over 1 half-ULP or special mismatch";
  // Rounding a float within B float-ULPs to half adds at most B float-ULPs to its 0.5 half-ULP
  // (a float ULP is 2^-13 fp16 ULP, 2^-16 bf16 ULP): far inside the contract's 1, and a
  // conversion that truncates (up to 1 half-ULP) fails here.
  const double double_rounding = 0.5 + k.bound.ulp * std::ldexp(1.0, verify::half_format(d).mbits - 23);
  EXPECT_LE(hs.max_ulp, double_rounding) << where << ": half gradient not rounded to nearest";
  std::printf("[ half ] %-12s %s gamma %g: loss max %.3f ULP, grad max %.3f ULP, grad_%s max "
              "%.4f half-ULP (x = %a), %zu of %zu not correctly rounded\n",
              std::string(k.name).c_str(), std::string(to_string(d)).c_str(), gamma, ls.max_ulp,
              gs.max_ulp, std::string(to_string(d)).c_str(), hs.max_ulp, c.x[hs.worst],
              hs.not_rounded, bits.size());
  const double exact = verify::exact_sum(loss);  // NaN: the NaN patterns are in the sum
  EXPECT_TRUE(std::isnan(exact) && std::isnan(r.sum)) << where << ": sum " << r.sum;
  EXPECT_EQ(r.count, bits.size()) << where;
}

class Half : public PerKernel {};

TEST_P(Half, EveryFp16PatternGamma0To4) {
  for (float gamma : {0.0f, 1.0f, 2.0f, 3.0f, 4.0f}) check_dtype(kernel(), Dtype::fp16, gamma);
}

TEST_P(Half, EveryBf16PatternGamma0To4) {
  for (float gamma : {0.0f, 1.0f, 2.0f, 3.0f, 4.0f}) check_dtype(kernel(), Dtype::bf16, gamma);
}

// Across chunk boundaries, mean reduction: every element against the fast double reference
// (checked against MPFR by test_fast_reference), with the whole input's 1/count in the gradient;
// the sum within 1e-12 of the exact sum of the kernel's own losses.
TEST_P(Half, MeanAcrossChunks) {
  std::mt19937 rng{unsigned(verify::process_seed())};
  const std::size_t n = 300001;  // > 2 chunks, not a multiple of anything
  std::vector<std::uint16_t> bits(n), gh(n);
  std::vector<std::uint8_t> tgt(n);
  std::vector<float> loss(n), grad(n);
  for (Dtype d : {Dtype::fp16, Dtype::bf16}) {
    for (std::size_t i = 0; i < n; ++i) {
      do bits[i] = std::uint16_t(rng());
      while (!std::isfinite(decode(bits[i], d)));
      tgt[i] = rng() & 1;
    }
    const Result r = focal_loss(kernel(), HalfDenseInput{bits, tgt, d},
                                Options{.reduction = Reduction::mean},
                                Outputs{.loss = loss, .grad = grad, .grad_half = gh});
    const double exact = verify::exact_sum(loss);
    EXPECT_LE(std::fabs(r.sum - exact), 1e-12 * std::fabs(exact)) << to_string(d);
    EXPECT_EQ(r.count, n);
    EXPECT_DOUBLE_EQ(r.value, r.sum / double(n));
    std::size_t bad = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const Truth t = verify::fast_reference(float(decode(bits[i], d)), tgt[i] == 1, 0.25f, 2.0f,
                                             1.0 / double(n));
      const bool ok =
          verify::ulp_error(loss[i], t.loss_exact, t.loss_float).ulp <= kernel().bound.ulp &&
          verify::ulp_error(grad[i], t.grad_exact, t.grad_float).ulp <= kernel().bound.ulp &&
          std::fabs(decode(gh[i], d) - t.grad_exact) <= half_ulp(t.grad_exact, d);
      if (!ok && bad++ < 5)
        ADD_FAILURE() << to_string(d) << " i=" << i << " x=" << decode(bits[i], d)
                      << " t=" << int(tgt[i]) << ": loss " << loss[i] << " vs " << t.loss_exact
                      << ", grad " << grad[i] << " / " << decode(gh[i], d) << " vs "
                      << t.grad_exact;
    }
    EXPECT_EQ(bad, 0u) << to_string(d);
  }
}

FOCAL_INSTANTIATE_PER_KERNEL(Half);

}  // namespace
}  // namespace focal::testing
