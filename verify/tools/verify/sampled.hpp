// --quick / --full: every kernel on the case families (typical, uniform, extreme, special,
// soft, labels in the LabelInput layout, and half_fp16 / half_bf16: every half bit pattern (every
// 4th in --quick) through HalfDenseInput) for each gamma and alpha, per element against MPFR;
// each kernel's sum against the exact sum of its own outputs; bitwise stability across runs
// (and OMP thread counts 1, 2, 3 for backend "openmp"); kernels against each other (bit for bit
// where declared, else within the sum of the two bounds); the usual PyTorch formula in float32
// as a reference row (not pass/fail); and the error-vs-|x| series for plots.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cases.hpp"
#include "check.hpp"
#include "cli.hpp"

namespace fv {

// Result of one (family, gamma, alpha) for a kernel or the peer.
struct FamilyResult {
  std::string family;
  float gamma, alpha;
  focal::verify::Stats loss, grad;
  bool count_ok = true;
  double sum_rel = 0;  // |kernel sum - exact sum of its outputs| / |exact|
  bool pass = true;
  double seconds = 0;
  // Half families (half_fp16, half_bf16): the gradient in the logits' dtype, in ULPs of that
  // dtype at the exact gradient, and NaN/inf/zero mismatches; bound: 0.5 + the fp32 bound
  // carried over (a float ULP is 2^-13 fp16 / 2^-16 bf16 ULP). Absent (-1) elsewhere.
  double grad_half_ulp = -1;
  double grad_half_bound = 0;
  std::size_t grad_half_failures = 0;
};

// Two kernels' outputs against each other over every family and gamma.
struct Cross {
  const focal::KernelInfo* a;
  const focal::KernelInfo* b;
  bool bitwise;
  double max_diff_ulp = 0;  // integer gammas: |a - b| in ULPs of the truth
  double max_diff_rel = 0;  // every gamma: |a - b| relative to the truth
  std::size_t mismatches = 0;
  std::string first_mismatch;
  bool pass = true;
};

// Bitwise stability of the sum and outputs: 3 runs (per thread count 1, 2, 3 for openmp).
struct Stability {
  bool stable = true;
  std::vector<int> thread_counts;
  std::string detail;
};

struct KernelReport {
  const focal::KernelInfo* k;
  std::vector<FamilyResult> families;
  double max_sum_rel = 0;
  Stability stab;
  bool pass = true;
  double seconds = 0;
};

// error_vs_x: max error over a small bin around each |x| (both signs), per t.
struct Series {
  std::string name;
  int t;
  std::vector<double> loss_ulp, loss_rel, grad_ulp, grad_rel;
};

struct Sampled {
  std::uint64_t seed = 0;
  std::vector<KernelReport> reps;        // available kernels
  std::vector<const focal::KernelInfo*> skipped;  // selected but unavailable
  std::vector<FamilyResult> peer;
  std::vector<Cross> cross;
  float ex_gamma = 2, ex_alpha = 0.25f;  // error_vs_x
  std::vector<double> abs_x;
  std::vector<Series> series;
  double truth_seconds = 0, seconds = 0;
};

Sampled run_sampled(const Config& cfg);

// The text report on stdout and --json; returns the exit status (0 pass, 1 fail, 2 no JSON).
int report_sampled(const Config& cfg, const Sampled& s);

}  // namespace fv
