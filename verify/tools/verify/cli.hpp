// focal-verify's command line: what to check (mode, kernels, gammas, alphas, bit ranges) and
// where the results go. Parsing throws UsageError (exit 2) with a message naming the argument.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "focal/focal.hpp"

namespace fv {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class Mode { quick, full, exhaustive };
const char* to_string(Mode m);

// A half-open range of float32 bit patterns [lo, hi), hi <= 2^32.
struct BitRange {
  std::uint64_t lo, hi;
  std::uint64_t size() const { return hi - lo; }
};
inline constexpr std::uint64_t kAllBits = std::uint64_t(1) << 32;

struct Config {
  Mode mode = Mode::quick;
  std::vector<std::string> kernel_names;  // empty: the mode's default set
  std::vector<float> gammas;
  std::vector<float> alphas;
  std::string json;           // one JSON file with everything (any mode)
  std::string out_dir;        // exhaustive: one JSON + one markdown file per kernel and gamma
  std::vector<BitRange> ranges = {{0, kAllBits}};  // exhaustive: the x bit patterns
  unsigned threads = 0;       // exhaustive: worker threads (0: every CPU of this process)
  bool verbose = false;
  double bound_scale = 1.0;   // < 1 only to show that the checks can fail
  bool exhaustive_all() const { return ranges.size() == 1 && ranges[0].size() == kAllBits; }
};

extern const char* const kUsage;

// argv -> Config. --help, --version and --machine-id print and exit(0) here.
Config parse(int argc, char** argv);

// The kernels to verify: --kernels, else every registered one (sampled modes; unavailable ones
// are reported as skipped) or scalar plus the dispatch pick (exhaustive).
std::vector<const focal::KernelInfo*> selected(const Config& c);

// A kernel's declared bound times --bound-scale.
focal::ErrorBound bound_of(const focal::KernelInfo& k, const Config& c);

}  // namespace fv
