// The fast double reference (focal-verify --exhaustive's oracle) against the MPFR oracle:
// its loss and gradient must be within 1e-3 float ULP of MPFR's on random logits (uniform over
// float bit patterns, and log-uniform over the interesting magnitudes), a log sweep, and the
// special values, for t = 0 and 1 and every gamma/alpha focal-verify uses.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "cases.hpp"
#include "check.hpp"
#include "reference/fast_reference.hpp"
#include "ulp.hpp"

namespace focal::verify {
namespace {

constexpr double kMaxUlp = 1e-3;

// Distance in float ULPs between the fast value and MPFR's (both doubles); NaN must match NaN.
double ulp_distance(double fast, double mpfr) {
  if (std::isnan(mpfr) || std::isnan(fast)) return std::isnan(mpfr) == std::isnan(fast) ? 0 : INFINITY;
  if (std::isinf(mpfr) || std::isinf(fast)) return fast == mpfr ? 0 : INFINITY;
  return std::fabs(fast - mpfr) / float_ulp(mpfr);
}

DenseCases sample(std::size_t n, std::uint64_t seed) {
  DenseCases c{"fast-reference sample", {}, {}};
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::uint32_t> bits;
  std::uniform_real_distribution<double> log_mag(std::log(1e-4), std::log(300.0));
  for (std::size_t i = 0; i < n; ++i) {
    float x;
    if (i % 2 == 0) {  // any bit pattern (NaN/inf included), as the exhaustive run sees them
      const std::uint32_t b = bits(rng);
      std::memcpy(&x, &b, sizeof x);
    } else {  // the magnitudes where loss and gradient are neither trivial nor underflowing
      x = float(std::exp(log_mag(rng))) * (bits(rng) & 1 ? -1.0f : 1.0f);
    }
    for (float t : {0.0f, 1.0f}) {
      c.x.push_back(x);
      c.t.push_back(t);
    }
  }
  auto append = [&c](const DenseCases& d) {
    c.x.insert(c.x.end(), d.x.begin(), d.x.end());
    c.t.insert(c.t.end(), d.t.begin(), d.t.end());
  };
  append(sweep(1e-30f, 3e38f, 4000));
  append(special());
  return c;
}

void check(const DenseCases& c, float alpha, float gamma) {
  const auto truth = references(c, alpha, gamma);
  double worst_loss = 0, worst_grad = 0;
  std::size_t bad = 0;
  for (std::size_t i = 0; i < c.x.size(); ++i) {
    const Truth f = fast_reference(c.x[i], c.t[i] == 1.0f, alpha, gamma);
    const double dl = ulp_distance(f.loss_exact, truth[i].loss_exact);
    const double dg = ulp_distance(f.grad_exact, truth[i].grad_exact);
    worst_loss = std::fmax(worst_loss, dl);
    worst_grad = std::fmax(worst_grad, dg);
    if ((dl > kMaxUlp || dg > kMaxUlp) && bad++ < 5)
      ADD_FAILURE() << "x=" << std::hexfloat << c.x[i] << std::defaultfloat << " (" << c.x[i]
                    << ") t=" << c.t[i] << " alpha=" << alpha << " gamma=" << gamma
                    << ": loss fast " << f.loss_exact << " mpfr " << truth[i].loss_exact << " ("
                    << dl << " ulp), grad fast " << f.grad_exact << " mpfr "
                    << truth[i].grad_exact << " (" << dg << " ulp)";
  }
  EXPECT_EQ(bad, 0u);
  std::printf("alpha %5.2f gamma %3.1f: %zu inputs, max |fast - mpfr| loss %.3g ulp, grad %.3g ulp\n",
              alpha, gamma, c.x.size(), worst_loss, worst_grad);
}

TEST(FastReference, MatchesMpfrAtGamma2) {
  const auto c = sample(50000, process_seed());  // 1e5 random elements + sweep + special
  check(c, 0.25f, 2.0f);
}

TEST(FastReference, MatchesMpfrForEveryGammaAndAlpha) {
  const auto c = sample(4000, process_seed() + 1);
  for (float alpha : {0.25f, -1.0f, 1.0f})
    for (float gamma : {0.0f, 0.5f, 1.0f, 3.0f, 5.0f, 8.0f}) check(c, alpha, gamma);
}

TEST(FastReference, GradientScale) {
  const auto c = sample(2000, process_seed() + 2);
  const auto truth = references(c, 0.25f, 2.0f, 1.0 / 3000.0);
  for (std::size_t i = 0; i < c.x.size(); ++i) {
    const Truth f = fast_reference(c.x[i], c.t[i] == 1.0f, 0.25f, 2.0f, 1.0 / 3000.0);
    ASSERT_LE(ulp_distance(f.grad_exact, truth[i].grad_exact), kMaxUlp) << "x=" << c.x[i];
  }
}

}  // namespace
}  // namespace focal::verify
