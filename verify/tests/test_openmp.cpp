// The openmp kernel: the sum is bitwise identical for 1, 2, 3 and 7 threads and on every run,
// per-element outputs are bit for bit those of the SIMD kernel it names (bitwise_equal_to), and
// the sum stays within 1e-12 of the exact (MPFR) sum of its own fp32 losses. Inputs span many
// fixed-size chunks and odd tails, for the dense, soft and class-label layouts.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "check.hpp"

namespace focal::testing {
namespace {

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }
bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

struct Run {
  Result result;
  std::vector<float> loss, grad;
};

Run run(const KernelInfo& k, const Input& in, int threads) {
  // Teams of exactly `threads`, also on a busy machine (the kernel otherwise shrinks the team to
  // the idle CPUs), and the parallel path for every size that has more than one chunk.
  setenv("FOCAL_OPENMP_TEAM", "fixed", 1);
  setenv("FOCAL_OPENMP_MIN_ELEMENTS", "0", 1);  // read once, before the first openmp call
  omp_set_num_threads(threads);
  Run r;
  const std::size_t n = element_count(in);
  r.loss.resize(n);
  r.grad.resize(n);
  verify::poison(r.loss);
  verify::poison(r.grad);
  Options opt;
  opt.reduction = Reduction::mean;
  r.result = focal_loss(k, in, opt, {r.loss, r.grad});
  return r;
}

void check_deterministic(const Input& in, const std::string& what) {
  const auto& omp = find_kernel("openmp");
  if (!omp.is_available()) GTEST_SKIP() << omp.unavailable_reason();
  const auto& simd = find_kernel(omp.bitwise_equal_to);
  const Run ref = run(simd, in, 1);
  const Run first = run(omp, in, 1);
  EXPECT_TRUE(same_bits(first.loss, ref.loss)) << what << ": losses differ from " << simd.name;
  EXPECT_TRUE(same_bits(first.grad, ref.grad)) << what << ": gradients differ from " << simd.name;
  const double exact = verify::exact_sum(first.loss);
  if (std::isfinite(exact))
    EXPECT_LE(std::fabs(first.result.sum - exact), 1e-12 * std::fabs(exact)) << what;
  else  // the soft family holds x = +-inf: an infinite loss makes the sum inf
    EXPECT_TRUE(std::isnan(exact) ? std::isnan(first.result.sum) : first.result.sum == exact)
        << what << ": sum " << first.result.sum << " vs exact " << exact;
  EXPECT_EQ(first.result.count, ref.result.count) << what;
  for (int threads : {1, 2, 3, 7, 2}) {
    const Run again = run(omp, in, threads);
    EXPECT_TRUE(same_bits(again.result.sum, first.result.sum))
        << what << " threads=" << threads << ": sum " << again.result.sum << " vs "
        << first.result.sum;
    EXPECT_TRUE(same_bits(again.result.value, first.result.value)) << what;
    EXPECT_EQ(again.result.count, first.result.count) << what;
    EXPECT_TRUE(same_bits(again.loss, first.loss)) << what << " threads=" << threads;
    EXPECT_TRUE(same_bits(again.grad, first.grad)) << what << " threads=" << threads;
  }
  omp_set_num_threads(omp_get_num_procs());
}

TEST(OpenMP, DenseSumIsBitwiseStableAcrossThreadCounts) {
  for (std::size_t n : {std::size_t(1), std::size_t(1000), std::size_t((1 << 14) + 3),
                        std::size_t(5 * (1 << 14) + 17), std::size_t(1000003),
                        std::size_t((1 << 23) + 5)}) {  // chunks of 2^15 from 2^23 on
    const auto c = verify::typical(n, verify::process_seed() + n);
    const auto u8 = c.targets_u8();
    check_deterministic(DenseInput{c.x, u8}, "dense n=" + std::to_string(n));
  }
}

// Narrow-magnitude losses give the same bits under most chunkings; losses over many magnitudes
// do not (issue 9: a thread-count-dependent split differed in the last bit at 7 threads on this
// data). Checked here: chunks of 2^14 x threads combined by a plain sum fail this test in about
// half the runs (and the dense test above every time); with the compensated combine, chunks
// that depend on the thread count still give the same bits.
TEST(OpenMP, WideMagnitudeSumIsBitwiseStableAcrossThreadCounts) {
  const std::size_t n = 1'000'003;
  std::mt19937_64 rng(verify::process_seed() + 3);
  std::uniform_real_distribution<double> log_mag(std::log(1e-3), std::log(120.0));
  std::bernoulli_distribution coin(0.5);
  std::vector<float> x(n);
  std::vector<std::uint8_t> t(n);
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = float(std::exp(log_mag(rng))) * (coin(rng) ? 1.0f : -1.0f);
    t[i] = coin(rng);
  }
  check_deterministic(DenseInput{x, t}, "dense wide magnitudes n=1000003");
}

TEST(OpenMP, SoftSumIsBitwiseStableAcrossThreadCounts) {
  const auto c = verify::soft(300007, verify::process_seed() + 1);
  check_deterministic(SoftInput{c.x, c.t}, "soft n=300007");
}

TEST(OpenMP, LabelSumIsBitwiseStableAcrossThreadCounts) {
  for (std::size_t classes : {std::size_t(80), std::size_t(7)}) {
    const auto l = verify::labels(3001, classes, verify::process_seed() + classes);
    check_deterministic(LabelInput{l.logits, l.labels, classes},
                        "labels C=" + std::to_string(classes));
  }
  // 8.4 M logits: chunks of 2^15 / 80 rows.
  const auto l = verify::labels(105001, 80, verify::process_seed() + 5);
  check_deterministic(LabelInput{l.logits, l.labels, 80}, "labels C=80 rows=105001");
}

}  // namespace
}  // namespace focal::testing
