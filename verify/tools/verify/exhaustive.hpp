// --exhaustive: every float32 bit pattern as x (or the --range slices), t = 0 and 1, each gamma
// and alpha, for every selected kernel, against the fast double reference
// (verify/reference/fast_reference.hpp). The reference's x-only part is evaluated once per x and
// shared by both targets, every gamma and alpha and every kernel; worker threads take chunks of
// consecutive bit patterns; a progress line goes to stderr about every 10 s.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "check.hpp"
#include "cli.hpp"

namespace fv {

// One result over the kernel's bound (or a special-value failure).
struct OverBound {
  std::uint32_t bits;
  int t;
  const char* what;  // "loss" or "grad"
  double expected;
  float got;
  double ulp;
  focal::verify::Failure failure;
  float x_of() const {
    float x;
    std::memcpy(&x, &bits, sizeof x);
    return x;
  }
};

// One kernel at one (gamma, alpha) over the whole range.
struct ExhaustiveResult {
  const focal::KernelInfo* k;
  float gamma, alpha;
  focal::verify::Stats loss, grad;  // worst.index = the bit pattern of x
  std::uint64_t over = 0;           // results over the bound (loss and grad counted apart)
  std::vector<OverBound> list;      // the first kOverCap of them, by bit pattern
  double kernel_seconds = 0;        // thread-seconds inside this kernel's calls
  bool pass = true;
};

inline constexpr std::size_t kOverCap = 1000;

struct Exhaustive {
  std::vector<const focal::KernelInfo*> ks;       // available kernels that ran
  std::vector<const focal::KernelInfo*> skipped;  // selected but unavailable
  std::vector<ExhaustiveResult> results;          // per alpha, gamma, kernel
  unsigned threads = 1;
  std::uint64_t patterns = 0;                     // x bit patterns checked
  double seconds = 0;                             // wall time of the whole run
  double reference_seconds = 0;                   // thread-seconds in the reference
  std::string date;                               // UTC, YYYY-MM-DD
};

Exhaustive run_exhaustive(const Config& cfg);

// The text report on stdout, --json and the --out files; returns the exit status.
int report_exhaustive(const Config& cfg, const Exhaustive& e);

}  // namespace fv
