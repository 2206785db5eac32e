// Every bad input is a focal::invalid_argument that names the argument and what was expected.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>

#include "kernel_param.hpp"

namespace focal::testing {
namespace {

class Errors : public PerKernel {};

TEST_P(Errors, OptionsAndSizes) {
  const auto& k = kernel();
  std::vector<float> x(10, 0.0f), out(9);
  std::vector<std::uint8_t> t(10, 0), t9(9, 0);
  const DenseInput in{x, t};
  const float nan = std::numeric_limits<float>::quiet_NaN();
  expect_error([&] { focal_loss(k, in, Options{.alpha = 1.5f}); }, "'alpha'");
  expect_error([&] { focal_loss(k, in, Options{.alpha = nan}); }, "'alpha'");
  expect_error([&] { focal_loss(k, in, Options{.gamma = -0.5f}); }, "'gamma'");
  expect_error([&] { focal_loss(k, in, Options{.gamma = nan}); }, "'gamma'");
  expect_error([&] { focal_loss(k, in, Options{.gamma = INFINITY}); }, "'gamma'");
  Options norm{.reduction = Reduction::normalizer, .normalizer = 0.0};
  expect_error([&] { focal_loss(k, in, norm); }, "'normalizer'");
  norm.normalizer = -3;
  expect_error([&] { focal_loss(k, in, norm); }, "'normalizer'");
  norm.normalizer = NAN;
  expect_error([&] { focal_loss(k, in, norm); }, "'normalizer'");
  expect_error([&] { focal_loss(k, DenseInput{x, t9}); }, "'targets'");
  expect_error([&] { focal_loss(k, SoftInput{x, out}); }, "'targets'");
  expect_error([&] { focal_loss(k, in, Options{}, Outputs{out, {}}); }, "'outputs.loss'");
  expect_error([&] { focal_loss(k, in, Options{}, Outputs{{}, out}); }, "'outputs.grad'");
}

TEST_P(Errors, Labels) {
  const auto& k = kernel();
  std::vector<float> x(12, 0.0f);
  std::vector<std::int32_t> labels = {0, 3, -1};  // C = 4: 3 is a class, 4 background
  EXPECT_NO_THROW(focal_loss(k, LabelInput{x, labels, 4}));
  labels[2] = 4;
  EXPECT_NO_THROW(focal_loss(k, LabelInput{x, labels, 4}));
  labels[2] = 5;
  expect_error([&] { focal_loss(k, LabelInput{x, labels, 4}); }, "'labels[2]'");
  labels[2] = 0;
  expect_error([&] { focal_loss(k, LabelInput{x, labels, 5}); }, "'logits'");
  expect_error([&] { focal_loss(k, LabelInput{x, labels, 0}); }, "'num_classes'");
}

// Bad target values are found by the kernels themselves, wherever they sit (head, inside a
// vector block, in the tail).
TEST_P(Errors, BadTargetsAnywhere) {
  const auto& k = kernel();
  for (std::size_t n : {std::size_t(1), std::size_t(37), std::size_t(70001)}) {
    for (std::size_t at : {std::size_t(0), n / 2, n - 1}) {
      std::vector<float> x(n, 0.25f);
      std::vector<std::uint8_t> t(n, 1);
      t[at] = 2;
      expect_error([&] { focal_loss(k, DenseInput{x, t}); }, "'targets[" + std::to_string(at) + "]'");
      std::vector<float> ts(n, 0.5f);
      for (float bad : {1.5f, -0.25f, std::numeric_limits<float>::quiet_NaN()}) {
        ts[at] = bad;
        expect_error([&] { focal_loss(k, SoftInput{x, ts}); }, "'targets[" + std::to_string(at) + "]'");
      }
    }
  }
}

FOCAL_INSTANTIATE_PER_KERNEL(Errors);

TEST(Registry, NamesAreUniqueAndScalarIsAlwaysThere) {
  std::set<std::string_view> seen;
  for (const auto& k : kernels()) {
    EXPECT_TRUE(seen.insert(k.name).second) << "duplicate kernel name " << k.name;
    EXPECT_GT(k.bound.ulp, 0.0) << k.name;
    EXPECT_GT(k.bound.rel_other, 0.0) << k.name;
    if (!k.is_available()) EXPECT_FALSE(k.unavailable_reason().empty()) << k.name;
  }
  EXPECT_TRUE(find_kernel("scalar").is_available());
}

TEST(Registry, UnknownNameListsTheKnownOnes) {
  expect_error([] { find_kernel("avx1024"); }, "scalar");
}

TEST(Registry, ForcedKernel) {
  ::setenv("FOCAL_KERNEL", "scalar", 1);
  EXPECT_EQ(best_kernel().name, "scalar");
  ::setenv("FOCAL_KERNEL", "no_such_kernel", 1);
  expect_error([] { best_kernel(); }, "FOCAL_KERNEL");
  for (const auto& k : kernels())
    if (!k.is_available()) {
      ::setenv("FOCAL_KERNEL", std::string(k.name).c_str(), 1);
      EXPECT_THROW(best_kernel(), unavailable_kernel) << k.name;
    }
  ::unsetenv("FOCAL_KERNEL");
  EXPECT_TRUE(best_kernel().is_available());
}

}  // namespace
}  // namespace focal::testing
