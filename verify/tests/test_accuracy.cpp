// Per-element accuracy of every kernel against MPFR, at exactly the bound each kernel declares:
// ULP for gamma in {0..4}, relative error for other gamma. Fresh random inputs each run (the
// seed is printed; FOCAL_SEED replays it). On failure the worst input is printed.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <mutex>
#include <tuple>

#include "check.hpp"
#include "kernel_param.hpp"

namespace focal::testing {
namespace {

using verify::DenseCases;
using verify::Truth;

const std::vector<DenseCases>& families() {
  static const std::vector<DenseCases> f = [] {
    const auto seed = verify::process_seed();
    std::vector<DenseCases> v;
    auto sw = verify::sweep(1e-8f, 1e4f, 1200);
    sw.family = "sweep 1e-8..1e4";
    v.push_back(std::move(sw));
    v.push_back(verify::uniform(3000, seed + 1));
    v.push_back(verify::typical(3000, seed + 2));
    v.push_back(verify::extreme(500, seed + 3));
    v.push_back(verify::special());
    v.push_back(verify::soft(2500, seed + 4));
    v.push_back(verify::expand(verify::labels(40, 80, seed + 5)));
    return v;
  }();
  return f;
}

// MPFR truth, computed once per (family, alpha, gamma) and shared by all kernels.
const std::vector<Truth>& truth(std::size_t family, float alpha, float gamma) {
  static std::map<std::tuple<std::size_t, float, float>, std::vector<Truth>> cache;
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  auto key = std::make_tuple(family, alpha, gamma);
  auto it = cache.find(key);
  if (it == cache.end())
    it = cache.emplace(key, verify::references(families()[family], alpha, gamma)).first;
  return it->second;
}

void check_family(const KernelInfo& k, std::size_t fi, float alpha, float gamma) {
  const DenseCases& c = families()[fi];
  Options opt;
  opt.alpha = alpha;
  opt.gamma = gamma;
  const auto m = verify::measure(k, c, opt, truth(fi, alpha, gamma));
  const std::string where = std::string(k.name) + " family=" + c.family +
                            " alpha=" + std::to_string(alpha) + " gamma=" + std::to_string(gamma);
  EXPECT_TRUE(m.loss.passes(k.bound, gamma)) << where << "\n  " << m.loss.describe("loss");
  EXPECT_TRUE(m.grad.passes(k.bound, gamma)) << where << "\n  " << m.grad.describe("grad");
  // The sum is the sum of the kernel's own fp32 losses, within 1e-12 of the exact sum.
  const double exact = verify::exact_sum(m.loss_out);
  if (std::isfinite(exact)) {
    EXPECT_LE(std::fabs(m.result.sum - exact), 1e-12 * std::fabs(exact) + 1e-300)
        << where << ": sum " << m.result.sum << " vs exact " << exact;
  } else {
    EXPECT_TRUE(std::isnan(exact) ? std::isnan(m.result.sum) : m.result.sum == exact)
        << where << ": sum " << m.result.sum << " vs exact " << exact;
  }
  EXPECT_EQ(m.result.count, c.x.size()) << where;
}

class Accuracy : public PerKernel {};

TEST_P(Accuracy, AllFamiliesAllGammas) {
  for (std::size_t fi = 0; fi < families().size(); ++fi)
    for (float alpha : {0.25f, 0.5f, -1.0f})
      for (float gamma : {0.0f, 0.5f, 1.0f, 2.0f, 3.0f, 5.0f}) check_family(kernel(), fi, alpha, gamma);
}

TEST_P(Accuracy, WholeGammaRangeOnTheSweep) {
  // gamma 4 (last integer of the ULP bound), 1.5, 7.25 and 8 (end of the contract's range).
  for (float gamma : {4.0f, 1.5f, 7.25f, 8.0f}) check_family(kernel(), 0, 0.25f, gamma);
}

// The headline numbers of the contract, pinned against MPFR: the torchvision formula returns 0
// at x = 17, t = 1 where the true loss is 1.77e-23; at x = -100, t = 1 the loss is 25 (alpha 0.25).
TEST_P(Accuracy, ExtremePtHeadlines) {
  const std::vector<float> x = {17.0f, -100.0f, -30.0f, 15.0f, 100.0f};
  const std::vector<float> t = {1.0f, 1.0f, 0.0f, 0.0f, 1.0f};
  DenseCases c{"headline", x, t};
  const auto tr = verify::references(c, 0.25f, 2.0f);
  EXPECT_NEAR(tr[0].loss_exact, 1.77e-23, 0.01e-23);
  EXPECT_NEAR(tr[1].loss_exact, 25.0, 1e-6);
  EXPECT_GT(tr[2].loss_float, 0.0f);  // ~6.1e-40 (gamma 2, alpha 0.25 -> a_t 0.75): subnormal
  const auto m = verify::measure(kernel(), c, Options{}, tr);
  EXPECT_TRUE(m.loss.passes(kernel().bound, 2.0f)) << m.loss.describe("loss");
  EXPECT_TRUE(m.grad.passes(kernel().bound, 2.0f)) << m.grad.describe("grad");
  EXPECT_GT(m.loss_out[0], 0.0f);
  EXPECT_GT(m.loss_out[2], 0.0f);
}

FOCAL_INSTANTIATE_PER_KERNEL(Accuracy);

}  // namespace
}  // namespace focal::testing
