// The fused half path (KernelInfo::run_half at gamma 0..4: avx2, avx512, openmp, and with a
// GPU cuda_warp, cuda_cub, cuda_cub_device), beyond the accuracy sweep every kernel gets in
// test_half.cpp (the CUDA conversions themselves are checked on the host in test_cuda_half_io):
//   - the SIMD loaders (simd_half_io.hpp) against the arithmetic model (verify/half_oracle.hpp)
//     and the driver's conversions, bit for bit: every half pattern in, and out every half,
//     every rounding midpoint with its neighbours, and a sweep of all float magnitudes;
//   - that the fused path is what runs (run_half answers true) where it should, and false
//     (nothing written) where the driver converts instead;
//   - per-element bits equal to the fp32 kernel on the converted logits (the declared property
//     of the two paths), over every pattern, dense and labels (rows narrower and wider than a
//     vector, ignored rows), odd lengths, poisoned outputs, both dtypes, random scales;
//   - the aliasing rule for half inputs (in place on the logits allowed, any other overlap an
//     error naming the output).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "check.hpp"
#include "half_oracle.hpp"
#include "kernel_param.hpp"
#include "../../kernels/simd/cpu_features.hpp"
#include "../../kernels/simd/simd_entry.hpp"

namespace focal::testing {
namespace {

using verify::half_decode;
using verify::half_round;

constexpr auto bits_of = verify::float_bits;
constexpr auto float_of = verify::bits_float;

struct NamedEntry {
  const char* name;
  const simd::Entry* entry;
};
std::vector<NamedEntry> usable_entries() {
  std::vector<NamedEntry> v;
  if (cpu::avx2_fma_usable(nullptr)) v.push_back({"avx2", &simd::avx2_entry()});
  if (cpu::avx512_usable(nullptr)) v.push_back({"avx512", &simd::avx512_entry()});
  return v;
}

TEST(HalfLoaders, EveryPatternInAndEveryRoundingOut) {
  const auto entries = usable_entries();
  if (entries.empty()) GTEST_SKIP() << "no SIMD kernel usable here";
  std::vector<std::uint16_t> all(65536);
  for (std::uint32_t h = 0; h < 65536; ++h) all[h] = std::uint16_t(h);
  for (const auto& [name, e] : entries) {
    for (Dtype d : {Dtype::fp16, Dtype::bf16}) {
      SCOPED_TRACE(std::string(name) + " " + std::string(to_string(d)));
      // In: every pattern (an odd count, so the tail path runs too), bits as the driver's.
      std::vector<float> f(all.size() - 3, -1.0f);
      e->half_to_float(all.data() + 3, f.data(), f.size(), d);
      for (std::size_t i = 0; i < f.size(); ++i) {
        const std::uint16_t h = all[i + 3];
        const double v = half_decode(h, d);
        if (std::isnan(v))
          ASSERT_TRUE(std::isnan(f[i]) && (bits_of(f[i]) & 0x00400000u)) << h << " quiet NaN";
        else
          ASSERT_TRUE(double(f[i]) == v && std::signbit(f[i]) == std::signbit(v)) << h;
        ASSERT_EQ(bits_of(f[i]), bits_of(half_to_float(h, d))) << h;
      }
      // Out: every value, midpoint and edge of verify::half_rounding_inputs.
      const std::vector<float> in = verify::half_rounding_inputs(d);
      std::vector<std::uint16_t> out(in.size(), 0xdead);
      e->float_to_half(in.data(), out.data(), out.size(), d);
      for (std::size_t i = 0; i < in.size(); ++i) {
        ASSERT_EQ(out[i], float_to_half(in[i], d)) << in[i];
        if (std::isnan(in[i])) {
          ASSERT_TRUE(std::isnan(half_decode(out[i], d))) << in[i];
        } else {
          ASSERT_EQ(half_decode(out[i], d), half_round(in[i], d)) << in[i];
          ASSERT_EQ(std::signbit(half_decode(out[i], d)), std::signbit(in[i])) << in[i];
        }
      }
    }
  }
}

class HalfFused : public PerKernel {
 protected:
  void SetUp() override {
    PerKernel::SetUp();
    if (IsSkipped()) return;
    if (!kernel().run_half) GTEST_SKIP() << kernel().name << " has no fused half path (converted)";
  }
};

// The kernels that must have the fused path, so that the suite cannot silently test nothing
// (the CUDA ones have it whether or not a GPU is present; HalfFused runs them where one is).
TEST(HalfFusedKernels, SimdOpenmpAndCudaHaveIt) {
  std::vector<const char*> fused = {"avx2", "avx512", "openmp"};
  std::vector<const char*> converted = {"scalar", "scalar_ff"};
#ifdef FOCAL_HAVE_CUDA
  for (const char* name : {"cuda_warp", "cuda_cub", "cuda_cub_device"})
    EXPECT_NE(find_kernel(name).run_half, nullptr) << name;
  converted.push_back("cuda_warp_fast");
#endif
  for (const char* name : fused) {
    const KernelInfo& k = find_kernel(name);
    if (k.is_available()) EXPECT_NE(k.run_half, nullptr) << name;
  }
  for (const char* name : converted)
    EXPECT_EQ(find_kernel(name).run_half, nullptr) << name << ": converted by the driver";
}

TEST_P(HalfFused, TakenAtIntegerGammaOnlyAndWritesNothingOtherwise) {
  const std::vector<std::uint16_t> x = {0x3c00, 0xbc00, 0x4900};
  const std::vector<std::uint8_t> t = {0, 1, 1};
  for (float gamma : {0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 2.5f, 0.5f, 8.0f}) {
    std::vector<float> loss(3, -7.0f);
    Partial p;
    const bool fused = kernel().run_half(HalfDenseInput{x, t, Dtype::fp16},
                                         Params{0.25f, gamma, 1.0}, Outputs{.loss = loss}, &p);
    const bool integer = gamma == std::floor(gamma) && gamma <= 4.0f;
    EXPECT_EQ(fused, integer) << "gamma " << gamma;
    if (!integer)
      for (float l : loss) EXPECT_EQ(l, -7.0f) << "gamma " << gamma << ": wrote";
    else
      EXPECT_EQ(p.count, 3u);
  }
}

// Per-element bits of the fused path == the fp32 kernel on the converted logits.
void expect_same_as_converted(const KernelInfo& k, const HalfInput& in, const Options& opt,
                              const std::string& what) {
  const std::size_t n = element_count(in);
  const bool dense = std::holds_alternative<HalfDenseInput>(in);
  const Dtype d = dense ? std::get<HalfDenseInput>(in).dtype : std::get<HalfLabelInput>(in).dtype;
  const auto& bits = dense ? std::get<HalfDenseInput>(in).logits : std::get<HalfLabelInput>(in).logits;
  std::vector<float> xf(n);
  for (std::size_t i = 0; i < n; ++i) xf[i] = half_to_float(bits[i], d);

  std::vector<float> loss(n, float_of(0x7fbadbad)), grad(n, float_of(0x7fbadbad));
  std::vector<std::uint16_t> gh(n, 0x7dad);
  std::vector<float> loss32(n), grad32(n);
  const Result r = focal_loss(k, in, opt, Outputs{.loss = loss, .grad = grad, .grad_half = gh});
  Result r32;
  if (dense) {
    const auto& di = std::get<HalfDenseInput>(in);
    r32 = focal_loss(k, DenseInput{xf, di.targets}, opt, Outputs{.loss = loss32, .grad = grad32});
  } else {
    const auto& li = std::get<HalfLabelInput>(in);
    r32 = focal_loss(k, LabelInput{xf, li.labels, li.num_classes}, opt,
                     Outputs{.loss = loss32, .grad = grad32});
  }
  std::size_t bad = 0;
  for (std::size_t i = 0; i < n && bad < 5; ++i) {
    if (bits_of(loss[i]) == bits_of(loss32[i]) && bits_of(grad[i]) == bits_of(grad32[i]) &&
        gh[i] == float_to_half(grad32[i], d))
      continue;
    ++bad;
    ADD_FAILURE() << what << " element " << i << " x=" << xf[i] << ": loss " << loss[i] << " vs "
                  << loss32[i] << ", grad " << grad[i] << " vs " << grad32[i] << ", grad_half "
                  << gh[i] << " vs " << float_to_half(grad32[i], d);
  }
  EXPECT_EQ(r.count, r32.count) << what;
  if (std::isfinite(r32.sum))  // each within ~1e-13 of the exact sum of the same fp32 losses
    EXPECT_LE(std::fabs(r.sum - r32.sum), 2e-13 * std::fabs(r32.sum)) << what;
  else  // NaN or inf logits among the patterns
    EXPECT_TRUE(std::isnan(r.sum) ? std::isnan(r32.sum) : r.sum == r32.sum) << what;
}

TEST_P(HalfFused, SameBitsAsTheConvertedPath) {
  std::mt19937_64 rng(verify::process_seed());
  for (Dtype d : {Dtype::fp16, Dtype::bf16}) {
    // Every pattern twice (t = 0, 1), plus 13 random ones: not a whole number of vectors.
    std::vector<std::uint16_t> x;
    std::vector<std::uint8_t> t;
    for (std::uint32_t h = 0; h < 65536; ++h)
      for (std::uint8_t tv : {0, 1}) {
        x.push_back(std::uint16_t(h));
        t.push_back(tv);
      }
    for (int i = 0; i < 13; ++i) {
      x.push_back(std::uint16_t(rng()));
      t.push_back(std::uint8_t(rng() & 1));
    }
    for (float gamma : {0.0f, 1.0f, 2.0f, 3.0f, 4.0f}) {
      // A random scale over the whole valid range: gradients from fp16's subnormals to inf.
      const double norm = std::exp2(std::uniform_real_distribution<double>(-40.0, 62.0)(rng));
      const Options opt{.alpha = 0.25f, .gamma = gamma, .reduction = Reduction::normalizer,
                        .normalizer = norm};
      const std::string what = std::string(to_string(d)) + " dense gamma " +
                               std::to_string(gamma) + " normalizer " + std::to_string(norm);
      expect_same_as_converted(kernel(), HalfDenseInput{x, t, d}, opt, what);
    }
    // Labels: rows narrower than a vector, wider and not a multiple; ignored and background rows.
    for (std::size_t classes : {3u, 80u, 37u}) {
      const std::size_t rows = 4099;
      std::vector<std::uint16_t> lx(rows * classes);
      std::normal_distribution<float> logit(0.0f, 8.0f);  // finite, so the sums compare
      for (auto& v : lx) v = float_to_half(logit(rng), d);
      std::vector<std::int32_t> labels(rows);
      for (auto& l : labels) l = std::int32_t(rng() % (classes + 3)) - 2;  // -2 .. classes
      const Options opt{.alpha = -1.0f, .gamma = 2.0f, .reduction = Reduction::mean};
      expect_same_as_converted(kernel(), HalfLabelInput{lx, labels, classes, d}, opt,
                               std::string(to_string(d)) + " labels C=" + std::to_string(classes));
    }
  }
}

TEST_P(HalfFused, InPlaceGradientOverTheLogits) {
  std::mt19937_64 rng(verify::process_seed() + 7);
  std::vector<std::uint16_t> x(1000), grad_in_place;
  std::vector<std::uint8_t> t(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    x[i] = std::uint16_t(0x3000 + rng() % 0x1800);  // fp16 in about [0.125, 64)
    t[i] = std::uint8_t(rng() & 1);
  }
  std::vector<std::uint16_t> expected(x.size());
  focal_loss(kernel(), HalfDenseInput{x, t, Dtype::fp16}, {}, Outputs{.grad_half = expected});
  grad_in_place = x;
  focal_loss(kernel(), HalfDenseInput{grad_in_place, t, Dtype::fp16}, {},
             Outputs{.grad_half = grad_in_place});
  EXPECT_EQ(grad_in_place, expected);
}

FOCAL_INSTANTIATE_PER_KERNEL(HalfFused);

// The aliasing rule with half logits, for every kernel (fused or converted).
class HalfAliasing : public PerKernel {};

TEST_P(HalfAliasing, OverlapsAreErrorsNamingTheOutput) {
  std::vector<std::uint16_t> buf(64, 0x3c00);
  const std::span<const std::uint16_t> x(buf.data(), 16);
  std::vector<std::uint8_t> tbuf(32, 0);
  const std::span<const std::uint8_t> t(tbuf.data(), 16);
  std::vector<float> fbuf(32);
  const HalfDenseInput in{x, t, Dtype::fp16};
  // float outputs over the half logits (another element size): no in-place use possible.
  expect_error([&] {
    focal_loss(kernel(), in, {}, Outputs{.loss = std::span<float>(reinterpret_cast<float*>(buf.data()), 16)});
  }, "outputs.loss");
  expect_error([&] {
    focal_loss(kernel(), in, {}, Outputs{.grad = std::span<float>(reinterpret_cast<float*>(buf.data() + 8), 16)});
  }, "outputs.grad");
  // A shifted half gradient over the logits, and over the targets.
  expect_error([&] { focal_loss(kernel(), in, {}, Outputs{.grad_half = std::span(buf.data() + 1, 16)}); },
               "outputs.grad_half");
  expect_error([&] {
    focal_loss(kernel(), in, {},
               Outputs{.grad_half = std::span(reinterpret_cast<std::uint16_t*>(tbuf.data()), 16)});
  }, "outputs.grad_half");
  // Outputs over each other.
  expect_error([&] {
    focal_loss(kernel(), in, {},
               Outputs{.loss = std::span(fbuf.data(), 16), .grad = std::span(fbuf.data() + 4, 16)});
  }, "outputs.grad");
  // The labels layout: an output over the labels.
  std::vector<std::int32_t> labels(16, 0);
  expect_error([&] {
    focal_loss(kernel(), HalfLabelInput{x, labels, 1, Dtype::bf16}, {},
               Outputs{.loss = std::span(reinterpret_cast<float*>(labels.data()), 16)});
  }, "outputs.loss");
  // Exactly in place is allowed (and checked for correctness above).
  EXPECT_NO_THROW(focal_loss(kernel(), in, {}, Outputs{.grad_half = std::span(buf.data(), 16)}));
}

FOCAL_INSTANTIATE_PER_KERNEL(HalfAliasing);

}  // namespace
}  // namespace focal::testing
