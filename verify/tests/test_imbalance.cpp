// The class-imbalance example that motivates focal loss (Lin et al. 2017): 1,000,000 easy
// negatives with p_t = 0.99 and 10 hard positives with p_t = 0.01. Cross-entropy lets the
// negatives carry 99.54% of the loss; focal loss (alpha 0.25, gamma 2) gives the positives 93.74%.
#include <gtest/gtest.h>

#include <cmath>

#include "kernel_param.hpp"
#include "reference/mpfr_reference.hpp"

namespace focal::testing {
namespace {

struct Shares {
  double negatives, positives;
};

Shares shares(const KernelInfo& k, float alpha, float gamma) {
  const float x = -std::log(99.0f);  // sigmoid(x) = 0.01: p_t = 0.99 for t = 0, 0.01 for t = 1
  std::vector<float> neg_x(1000000, x), pos_x(10, x);
  std::vector<std::uint8_t> neg_t(neg_x.size(), 0), pos_t(pos_x.size(), 1);
  Options opt{.alpha = alpha, .gamma = gamma};
  const double neg = focal_loss(k, DenseInput{neg_x, neg_t}, opt).sum;
  const double pos = focal_loss(k, DenseInput{pos_x, pos_t}, opt).sum;
  return {neg / (neg + pos), pos / (neg + pos)};
}

class Imbalance : public PerKernel {};

TEST_P(Imbalance, CrossEntropyVersusFocal) {
  const Shares ce = shares(kernel(), -1.0f, 0.0f);
  EXPECT_NEAR(ce.negatives, 0.9954, 0.00005);
  const Shares fl = shares(kernel(), 0.25f, 2.0f);
  EXPECT_NEAR(fl.positives, 0.9374, 0.00005);
}

FOCAL_INSTANTIATE_PER_KERNEL(Imbalance);

// The same shares from the MPFR oracle alone, so the expected numbers are not the code's.
TEST(ImbalanceOracle, SharesFromMpfr) {
  const float x = -std::log(99.0f);
  for (auto [alpha, gamma, want_neg] : {std::tuple{-1.0f, 0.0f, 0.9954}, std::tuple{0.25f, 2.0f, 1 - 0.9374}}) {
    const double neg = 1e6 * verify::reference(x, 0.0f, alpha, gamma).loss_exact;
    const double pos = 10 * verify::reference(x, 1.0f, alpha, gamma).loss_exact;
    EXPECT_NEAR(neg / (neg + pos), want_neg, 0.00005);
  }
}

}  // namespace
}  // namespace focal::testing
