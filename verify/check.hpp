// Measuring a kernel against the oracle: run it on a case family with poisoned outputs,
// compare every element's loss and gradient with MPFR in ULPs (verify/ulp.hpp), keep the worst.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "cases.hpp"
#include "focal/focal.hpp"
#include "reference/mpfr_reference.hpp"
#include "ulp.hpp"

namespace focal::verify {

// Bit pattern written into outputs before a kernel runs; a kernel never produces it.
inline constexpr std::uint32_t kPoisonBits = 0x7fbadbadu;  // a signalling NaN with a payload
void poison(std::span<float> v);
bool is_poison(float v);

// MPFR truth for every case (multithreaded with OpenMP when available).
std::vector<Truth> references(const DenseCases& c, float alpha, float gamma,
                              double grad_scale = 1.0);

struct Worst {
  std::size_t index = 0;
  float x = 0, t = 0;
  double expected = 0;
  float got = 0;
  double ulp = 0;
  Failure failure = Failure::none;
};

// |got - exact| / |scale|; in the subnormal range (|scale| < FLT_MIN) the final rounding's
// half-spacing 2^-150 is forgiven first (no float can do better there).
double relative_error(float got, double exact, double scale);

struct Stats {
  std::size_t n = 0;
  double max_ulp = 0;
  double sum_ulp = 0;  // over finite measurements, for the mean
  double max_rel = 0;
  std::size_t special_failures = 0;  // Failure != none (NaN/inf/zero mismatches, unwritten)
  Worst worst;
  void add(std::size_t i, float x, float t, float got, double exact, float exact_float,
           double scale, bool unwritten);
  double mean_ulp() const { return n ? sum_ulp / double(n) : 0.0; }
  // Pass against a bound: ULP for integer gamma 0..4, relative error otherwise.
  bool passes(const ErrorBound& b, float gamma) const;
  std::string describe(const char* what) const;  // one line: max/mean ULP and the worst input
};

struct Measurement {
  Stats loss, grad;
  Result result;                 // what the kernel returned (sum, count)
  std::vector<float> loss_out;   // the kernel's per-element losses
  std::vector<float> grad_out;
};

bool integer_gamma(float gamma);  // gamma in {0, 1, 2, 3, 4}

// Runs `kernel` on the cases (dense u8 targets when the family is binary, else soft targets)
// and measures against `truth` (from references() with the same alpha, gamma, scale).
Measurement measure(const KernelInfo& kernel, const DenseCases& c, const Options& opt,
                    std::span<const Truth> truth);

}  // namespace focal::verify
