// The case families every check draws from (tests, focal-verify, benchmarks' accuracy rows).
// Random families take a seed; callers draw a fresh one per run and print it, and FOCAL_SEED
// in the environment replays a run.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace focal::verify {

// Dense cases: logits with float targets (exactly 0/1 for binary families).
struct DenseCases {
  std::string family;
  std::vector<float> x;
  std::vector<float> t;
  bool binary() const;
  std::vector<std::uint8_t> targets_u8() const;  // requires binary()
};

// Class-label cases (RetinaNet layout).
struct LabelCases {
  std::vector<float> logits;        // rows * num_classes
  std::vector<std::int32_t> labels; // rows; < 0 ignored, == num_classes background
  std::size_t num_classes;
};

// A seed: FOCAL_SEED if set, else fresh from std::random_device.
std::uint64_t fresh_seed();
// This process's seed: fresh_seed() drawn once and printed ("[ seed ] FOCAL_SEED=..."), so any
// failure can be replayed.
std::uint64_t process_seed();

// RetinaNet-like: prior bias -log(99) plus N(0, 2) noise, 1 positive in 1000.
DenseCases typical(std::size_t n, std::uint64_t seed);
// x uniform in [-lim, lim], t in {0, 1} evenly.
DenseCases uniform(std::size_t n, std::uint64_t seed, float lim = 30.0f);
// |x| log-spaced from lo to hi (points per sign), both signs, t = 0 and t = 1.
DenseCases sweep(float lo, float hi, std::size_t points);
// The extreme-p_t regime: sweep(8, 1e4) plus random |x| in [15, 1e4].
DenseCases extreme(std::size_t points, std::uint64_t seed);
// +-0, +-inf, NaN, subnormal and boundary logits (FLT_MIN, FLT_MAX, xsimd's exp limit 88.376,
// float overflow/underflow edges), each with t = 0 and t = 1.
DenseCases special();
// Soft targets: t uniform in (0, 1) plus t near 0, 1/2 and 1; x uniform in [-lim, lim] plus
// extremes.
DenseCases soft(std::size_t n, std::uint64_t seed, float lim = 30.0f);
// rows x num_classes logits (bias -log(99) + noise), labels: ~1% positives, some background,
// ~5% ignored.
LabelCases labels(std::size_t rows, std::size_t num_classes, std::uint64_t seed);
// Labels expanded to dense (x, t) with t = (label == class); ignored rows dropped.
DenseCases expand(const LabelCases& l);

}  // namespace focal::verify
