// The float-float element (focal/ff.hpp): one element, the same bits everywhere.
//  - Every kernel that runs it (avx2, avx512, openmp lanes; scalar_ff = the CUDA element compiled
//    for the host) gives bitwise identical losses and gradients for binary targets at gamma 0..4,
//    over random bit patterns of the whole float range, the path boundary |x| = 80, the tail,
//    subnormals, +-inf and NaN, alphas whose complement is not a float, and gradient scales at
//    both ends of the supported range. A kernel that silently took another path (the double
//    lanes, a different reduction order inside the element) would differ in some last bit.
//  - Against the fast double reference (itself checked against MPFR by test_fast_reference), a
//    strided sweep of every float bit pattern stays within the declared 1 ULP.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "cases.hpp"
#include "check.hpp"
#include "focal/focal.hpp"
#include "reference/fast_reference.hpp"
#include "ulp.hpp"

namespace focal::testing {
namespace {

float from_bits(std::uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

// Inputs that exercise every branch of the element.
std::vector<float> edge_logits(std::uint64_t seed) {
  std::vector<float> x = {0.0f, -0.0f, 80.0f, -80.0f, std::nextafter(80.0f, 100.0f),
                          std::nextafter(-80.0f, -100.0f), std::nextafter(80.0f, 0.0f),
                          87.3f, 88.7f, 103.9f, 104.0f, 110.0f, 140.0f, 1e4f, FLT_MAX,
                          -FLT_MAX, INFINITY, -INFINITY, NAN, -NAN, FLT_MIN, -FLT_MIN,
                          from_bits(1), from_bits(0x80000001u), 1e-30f, 17.0f, -17.0f, 20.7f,
                          26.0f, 34.66f, 51.9f,
                          // signalling NaNs (one with the checker's poison payload): the
                          // outputs must be quiet NaNs, never the input's bits
                          from_bits(0x7fbadbadu), from_bits(0xffbadbadu), from_bits(0x7f800001u)};
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::uint32_t> bits;
  std::uniform_real_distribution<float> mid(-120.0f, 120.0f), main_path(-40.0f, 40.0f);
  for (int i = 0; i < 6000; ++i) x.push_back(from_bits(bits(rng)));  // the whole float range
  for (int i = 0; i < 6000; ++i) x.push_back(mid(rng));              // where results live
  // Runs of main-path lanes only (|x| <= 80), so whole SIMD blocks take the staged main path
  // (above, nearly every vector has a lane for the tail), with a few tail lanes between runs.
  for (int i = 0; i < 6000; ++i) x.push_back(i % 1000 == 999 ? mid(rng) : main_path(rng));
  return x;
}

struct Outs {
  std::vector<float> loss, grad;
  double sum;
};

// with_grad = false: the loss alone (the kernels' separate loss-only loops).
Outs run(const KernelInfo& k, std::span<const float> x, std::span<const std::uint8_t> t,
        const Options& opt, bool with_grad = true) {
  Outs r{std::vector<float>(x.size()), std::vector<float>(x.size()), 0.0};
  verify::poison(r.loss);
  verify::poison(r.grad);
  r.sum = focal_loss(k, DenseInput{x, t}, opt,
                     {r.loss, with_grad ? std::span<float>(r.grad) : std::span<float>()})
              .sum;
  return r;
}

// Kernels that evaluate the float-float element for binary targets at integer gamma.
std::vector<const KernelInfo*> ff_kernels() {
  std::vector<const KernelInfo*> v;
  for (const char* name : {"avx2", "avx512", "openmp"}) {
    const auto& k = find_kernel(name);
    if (k.is_available()) v.push_back(&k);
  }
  return v;
}

TEST(FFElement, SameBitsInEveryKernelAndLayout) {
  const auto seed = verify::process_seed();
  std::vector<float> x = edge_logits(seed);
  std::vector<std::uint8_t> t(x.size());
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = std::uint8_t((i * 7 + (i >> 3)) & 1);
  const auto& ref = find_kernel("scalar_ff");
  const auto others = ff_kernels();
  if (others.empty()) GTEST_SKIP() << "no SIMD kernel runs on this CPU";
  std::size_t compared = 0;
  for (float alpha : {0.25f, 0.1f, -1.0f, 0.0f, 1.0f})
    for (float gamma : {0.0f, 1.0f, 2.0f, 3.0f, 4.0f})
      for (auto [reduction, normalizer] :
           {std::pair{Reduction::sum, 1.0}, std::pair{Reduction::mean, 1.0},
            std::pair{Reduction::normalizer, std::ldexp(1.0, -40)},
            std::pair{Reduction::normalizer, 3.0 * std::ldexp(1.0, 60)}}) {
        Options opt{alpha, gamma, reduction, normalizer};
        const Outs want = run(ref, x, t, opt);
        for (const KernelInfo* k : others) {
          const Outs got = run(*k, x, t, opt);
          for (std::size_t i = 0; i < x.size(); ++i) {
            const bool same = std::memcmp(&got.loss[i], &want.loss[i], 4) == 0 &&
                              std::memcmp(&got.grad[i], &want.grad[i], 4) == 0;
            ASSERT_TRUE(same) << k->name << " vs scalar_ff, alpha " << alpha << " gamma " << gamma
                              << " normalizer " << normalizer << ": x = " << std::hexfloat << x[i]
                              << " t = " << int(t[i]) << ": loss " << got.loss[i] << " vs "
                              << want.loss[i] << ", grad " << got.grad[i] << " vs "
                              << want.grad[i];
            ++compared;
          }
          // The loss alone: the same loss bits, and the same sum (the same losses added in the
          // same order).
          const Outs alone = run(*k, x, t, opt, false);
          for (std::size_t i = 0; i < x.size(); ++i)
            ASSERT_EQ(std::memcmp(&alone.loss[i], &want.loss[i], 4), 0)
                << k->name << " loss alone vs scalar_ff, alpha " << alpha << " gamma " << gamma
                << ": x = " << std::hexfloat << x[i] << " t = " << int(t[i]) << ": "
                << alone.loss[i] << " vs " << want.loss[i];
          // (A NaN sum's sign and payload are the compiler's choice of operand order.)
          const bool both_nan = std::isnan(alone.sum) && std::isnan(got.sum);
          ASSERT_TRUE(both_nan || std::memcmp(&alone.sum, &got.sum, sizeof got.sum) == 0)
              << k->name << " sum with and without the gradient, alpha " << alpha << " gamma "
              << gamma << ": " << alone.sum << " vs " << got.sum;
        }
      }
  // Class labels: the same element through the row loops (rows of 80 and of 7 classes).
  for (std::size_t c : {std::size_t(80), std::size_t(7)}) {
    const auto l = verify::labels(60, c, seed + 1);
    for (float gamma : {0.0f, 2.0f, 4.0f}) {
      Options opt{0.25f, gamma, Reduction::normalizer, 17.0};
      std::vector<float> lw(l.logits.size()), gw(l.logits.size());
      focal_loss(ref, LabelInput{l.logits, l.labels, c}, opt, {lw, gw});
      for (const KernelInfo* k : others) {
        std::vector<float> lg(l.logits.size()), gg(l.logits.size());
        verify::poison(lg);
        verify::poison(gg);
        focal_loss(*k, LabelInput{l.logits, l.labels, c}, opt, {lg, gg});
        ASSERT_EQ(std::memcmp(lg.data(), lw.data(), 4 * lw.size()), 0) << k->name << " labels c=" << c;
        ASSERT_EQ(std::memcmp(gg.data(), gw.data(), 4 * gw.size()), 0) << k->name << " labels c=" << c;
      }
    }
  }
  std::printf("[ ff ] %zu elements bitwise equal to scalar_ff across %zu kernels\n", compared,
              others.size());
}

// NaN in, quiet NaN out, in every kernel and layout: a signalling NaN logit (here with the
// checker's poison payload, which a kernel that copied its input's bits would pass off as
// "unwritten") must come out as a quiet NaN in both outputs.
TEST(FFElement, SignallingNaNsComeOutQuiet) {
  std::vector<float> x = {from_bits(0x7fbadbadu), from_bits(0xffbadbadu), from_bits(0x7f800001u)};
  x.resize(40, 1.0f);  // whole vectors and a tail
  const std::vector<std::uint8_t> t(x.size(), 1), t0(x.size(), 0);
  for (const auto& k : kernels()) {
    if (!k.is_available()) continue;
    for (const auto* tt : {&t, &t0})
      for (float gamma : {0.0f, 2.0f, 2.5f}) {
        Options opt;
        opt.gamma = gamma;
        const Outs r = run(k, x, *tt, opt);
        for (std::size_t i = 0; i < 3; ++i)
          for (float v : {r.loss[i], r.grad[i]}) {
            std::uint32_t b;
            std::memcpy(&b, &v, 4);
            EXPECT_TRUE(std::isnan(v) && (b & 0x00400000u)) << k.name << " gamma " << gamma << " x#" << i
                                                             << ": got bits " << std::hex << b;
          }
      }
  }
}

// Every 2^13-th float bit pattern (offset by a fresh seed), t = 0 and 1, gamma 0..4: the
// element within its declared bound against the fast double reference, nothing flushed, no
// spurious NaN or inf. Also the worst error, to compare with the exhaustive record.
TEST(FFElement, StridedSweepOfAllFloatsWithinOneUlp) {
  const auto& k = find_kernel("scalar_ff");
  const std::uint32_t stride = 1u << 13;
  const std::uint32_t offset = std::uint32_t(verify::process_seed() % stride);
  std::vector<float> x;
  for (std::uint64_t b = offset; b < (std::uint64_t(1) << 32); b += stride)
    x.push_back(from_bits(std::uint32_t(b)));
  for (int positive = 0; positive < 2; ++positive) {
    std::vector<std::uint8_t> t(x.size(), std::uint8_t(positive));
    for (float gamma : {0.0f, 1.0f, 2.0f, 3.0f, 4.0f}) {
      Options opt;
      opt.gamma = gamma;
      const Outs r = run(k, x, t, opt);
      double worst = 0;
      for (std::size_t i = 0; i < x.size(); ++i) {
        const auto tr = verify::fast_reference(x[i], positive, opt.alpha, gamma);
        const auto el = verify::ulp_error(r.loss[i], tr.loss_exact, tr.loss_float);
        const auto eg = verify::ulp_error(r.grad[i], tr.grad_exact, tr.grad_float, tr.grad_scale_term);
        ASSERT_LE(el.ulp, k.bound.ulp) << "loss x=" << std::hexfloat << x[i] << " t=" << positive
                                       << " gamma=" << gamma << " " << verify::to_string(el.failure);
        ASSERT_LE(eg.ulp, k.bound.ulp) << "grad x=" << std::hexfloat << x[i] << " t=" << positive
                                       << " gamma=" << gamma << " " << verify::to_string(eg.failure);
        worst = std::max({worst, el.ulp, eg.ulp});
      }
      std::printf("[ ff ] t=%d gamma=%g: %zu floats, max %.3f ULP\n", positive, gamma, x.size(), worst);
    }
  }
}

}  // namespace
}  // namespace focal::testing
