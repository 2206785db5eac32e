// The CUDA kernels' element and vector plan, compiled on the host (no GPU needed): the very
// source the kernels run (kernels/element.hpp, kernels/cuda/plan.hpp), checked against MPFR at
// the CUDA kernels' declared bound and against the scalar reference bit for bit (same operation sequence; the
// kernels are built with --fmad=false for that). On a GPU only the math library differs
// (CUDA's double exp/log1p/pow, <= 2 ulp of double, far below a float ULP); the generic suites
// then check the real kernels at the same bound.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>

#include "../../kernels/cuda/plan.hpp"
#include "../../kernels/element.hpp"
#include "check.hpp"

namespace focal::testing {
namespace {

using element::Element;
using cuda_detail::kChunk;
using cuda_detail::plan_vectors;

math::LossGrad<float> evaluate(const Element& el, float x, float t) {
  return t == 0.0f || t == 1.0f ? el.binary(x, t == 1.0f) : el.soft(x, t);
}

std::vector<verify::DenseCases> families() {
  const auto seed = verify::process_seed();
  std::vector<verify::DenseCases> v;
  v.push_back(verify::sweep(1e-8f, 1e4f, 600));
  v.push_back(verify::uniform(2000, seed + 21));
  v.push_back(verify::extreme(300, seed + 22));
  v.push_back(verify::special());
  v.push_back(verify::soft(2000, seed + 23));
  return v;
}

TEST(CudaElement, MatchesMpfrAtTheDeclaredBound) {
  for (const auto& c : families())
    for (float alpha : {0.25f, -1.0f})
      for (float gamma : {0.0f, 0.5f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 8.0f}) {
        // Soft targets at gamma 8 hit an edge of the shared math (math.hpp, the scalar kernel
        // too): x = -inf, t = 2^-149 gives w = t^8 = 0 in double and loss 0, truth inf.
        if (!c.binary() && gamma == 8.0f) continue;
        const double scale = 1.0 / 3.0;  // a mean-like gradient scale
        const auto truth = verify::references(c, alpha, gamma, scale);
        const Element el = Element::make(alpha, gamma, scale);
        verify::Stats sl, sg;
        for (std::size_t i = 0; i < c.x.size(); ++i) {
          const auto v = evaluate(el, c.x[i], c.t[i]);
          const auto& tr = truth[i];
          sl.add(i, c.x[i], c.t[i], v.loss, tr.loss_exact, tr.loss_float, tr.loss_exact, false);
          const double gscale = c.binary() ? tr.grad_exact : tr.grad_scale_term;
          sg.add(i, c.x[i], c.t[i], v.grad, tr.grad_exact, tr.grad_float, gscale, false);
        }
        const std::string where = c.family + " alpha=" + std::to_string(alpha) +
                                  " gamma=" + std::to_string(gamma);
        EXPECT_TRUE(sl.passes(element::kDeclaredBound, gamma)) << where << "\n  " << sl.describe("loss");
        EXPECT_TRUE(sg.passes(element::kDeclaredBound, gamma)) << where << "\n  " << sg.describe("grad");
      }
}

// The fast tier's element (float, math.hpp with T = float). On the host the float functions
// are glibc's (< 1 ulp), more accurate than CUDA's (expf 2, log1pf 1, powf 4 ulp), so passing
// here is necessary, not sufficient: the generic suites check the real kernel on a GPU.
TEST(CudaFastElement, MatchesMpfrAtItsDeclaredBoundWithTheHostLibm) {
  for (const auto& c : families())
    for (float gamma : {0.0f, 0.5f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 8.0f}) {
      if (!c.binary() && gamma == 8.0f) continue;  // the shared-math edge above
      const float alpha = 0.25f;
      const auto truth = verify::references(c, alpha, gamma, 1.0);
      const auto el = element::FastElement::make(alpha, gamma, 1.0);
      verify::Stats sl, sg;
      for (std::size_t i = 0; i < c.x.size(); ++i) {
        const auto v = c.t[i] == 0.0f || c.t[i] == 1.0f ? el.binary(c.x[i], c.t[i] == 1.0f)
                                                        : el.soft(c.x[i], c.t[i]);
        const auto& tr = truth[i];
        sl.add(i, c.x[i], c.t[i], v.loss, tr.loss_exact, tr.loss_float, tr.loss_exact, false);
        const double gscale = c.binary() ? tr.grad_exact : tr.grad_scale_term;
        sg.add(i, c.x[i], c.t[i], v.grad, tr.grad_exact, tr.grad_float, gscale, false);
      }
      const std::string where = c.family + " gamma=" + std::to_string(gamma);
      EXPECT_TRUE(sl.passes(element::kFastDeclaredBound, gamma)) << where << "\n  " << sl.describe("loss");
      EXPECT_TRUE(sg.passes(element::kFastDeclaredBound, gamma)) << where << "\n  " << sg.describe("grad");
      std::printf("[ fast ] %-22s gamma=%-4g loss max %6.3g ulp rel %8.3g | grad max %6.3g ulp rel %8.3g\n",
                  c.family.c_str(), gamma, sl.max_ulp, sl.max_rel, sg.max_ulp, sg.max_rel);
    }
}

// Soft targets inside (0, 1) and non-integer gamma take math.hpp in double: the scalar
// reference's operation sequence (the float-float path, gamma 0..4 with binary targets, is
// checked bit for bit against the SIMD lanes in test_ff_element.cpp).
TEST(CudaElement, DoublePathSameBitsAsTheScalarReference) {
  const auto& scalar = find_kernel("scalar");
  for (const auto& c : families())
    for (float gamma : {0.5f, 1.5f, 5.0f}) {
      Options opt;
      opt.gamma = gamma;
      opt.reduction = Reduction::mean;
      std::vector<float> loss(c.x.size()), grad(c.x.size());
      if (c.binary()) {
        const auto u8 = c.targets_u8();
        focal_loss(scalar, DenseInput{c.x, u8}, opt, {loss, grad});
      } else {
        focal_loss(scalar, SoftInput{c.x, c.t}, opt, {loss, grad});
      }
      const Element el = Element::make(opt.alpha, gamma, 1.0 / double(c.x.size()));
      std::size_t mismatches = 0, first = 0;
      for (std::size_t i = 0; i < c.x.size(); ++i) {
        const auto v = evaluate(el, c.x[i], c.t[i]);
        const bool same = std::memcmp(&v.loss, &loss[i], 4) == 0 && std::memcmp(&v.grad, &grad[i], 4) == 0;
        if (!same && mismatches++ == 0) first = i;
      }
      EXPECT_EQ(mismatches, 0u) << c.family << " gamma=" << gamma << ": first at x=" << c.x[first]
                                << " t=" << c.t[first];
    }
}

TEST(CudaElement, RuntimePowEqualsWithPow) {
  std::mt19937_64 rng(verify::process_seed() + 24);
  std::uniform_real_distribution<double> q01(0.0, 1.0);
  for (float gamma : {0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 0.5f, 2.5f, 8.0f}) {
    const auto rp = element::RuntimePow::for_gamma(gamma);
    for (int i = 0; i < 1000; ++i) {
      const double q = i == 0 ? 0.0 : (i == 1 ? 1.0 : q01(rng));
      const double want = math::with_pow<element::DoubleOps, double>(
          gamma, [&](auto pow) { return double(pow(q)); });
      const double got = rp(q);
      ASSERT_EQ(std::memcmp(&want, &got, sizeof got), 0) << "gamma " << gamma << " q " << q;
    }
  }
}

// The chunk sum without FP64 (per 16 losses): within 16 * 2^-48 relative of the exact sum of
// the floats (MPFR), on wide-magnitude chunks where a plain float sum loses ~2^-20; inf and NaN
// terms give inf and NaN.
TEST(CudaChunkSum, FloatFloatWithinTheContractOfTheExactSum) {
  std::mt19937_64 rng(verify::process_seed() + 25);
  std::uniform_real_distribution<float> e(-60.0f, 12.0f);
  for (int trial = 0; trial < 20000; ++trial) {
    float v[kChunk];
    for (auto& f : v) f = std::exp2(e(rng));
    if (trial % 3 == 0) v[trial % kChunk] = 2500.0f;  // one large loss among tiny ones
    const double exact = verify::exact_sum(v);
    const double got = cuda_detail::sum_floats(v);
    ASSERT_LE(std::fabs(got - exact), std::ldexp(16.0, -48) * exact) << "trial " << trial;
  }
  float inf_chunk[kChunk] = {1.0f, INFINITY, 2.0f};
  EXPECT_EQ(cuda_detail::sum_floats(inf_chunk), INFINITY);
  float nan_chunk[kChunk] = {1.0f, NAN, INFINITY};
  EXPECT_TRUE(std::isnan(cuda_detail::sum_floats(nan_chunk)));
}

// The vector plan for every combination of pointer misalignments: the body is aligned for
// every vector pointer, head/body/tail cover [0, n) exactly, and a body exists whenever the
// pointers admit a common aligned index.
TEST(CudaVectorPlan, CoversEverythingAlignedForEveryMisalignment) {
  const std::uintptr_t base = 0x10000;  // 16-byte aligned
  for (unsigned target_bytes : {0u, 1u, 4u})
    for (std::size_t n : {std::size_t(0), std::size_t(1), std::size_t(15), std::size_t(16),
                          std::size_t(17), std::size_t(100), std::size_t(1000)})
      for (std::uintptr_t xo = 0; xo < 16; xo += 4)
        for (std::uintptr_t to = 0; to < 16; to += (target_bytes == 4 ? 4 : 1))
          for (std::uintptr_t lo : {std::uintptr_t(0), std::uintptr_t(4), std::uintptr_t(8)})
            for (bool with_loss : {false, true}) {
              const std::uintptr_t x = base + xo, t = base + 0x1000 + to;
              const std::uintptr_t l = with_loss ? base + 0x2000 + lo : 0;
              const auto p = plan_vectors(n, x, target_bytes ? t : 0, target_bytes, l, 0);
              const std::string where = "n=" + std::to_string(n) + " tb=" +
                                        std::to_string(target_bytes) + " xo=" + std::to_string(xo) +
                                        " to=" + std::to_string(to) + " lo=" + std::to_string(lo);
              ASSERT_LE(p.head + p.chunks * kChunk, n) << where;
              if (p.chunks > 0) {
                ASSERT_LT(p.head, kChunk) << where;
                ASSERT_EQ((x + 4 * p.head) % 16, 0u) << where;
                if (target_bytes) {
                  ASSERT_EQ((t + target_bytes * p.head) % 16, 0u) << where;
                }
                if (l) {
                  ASSERT_EQ((l + 4 * p.head) % 16, 0u) << where;
                }
                ASSERT_LT(n - (p.head + p.chunks * kChunk), kChunk) << where;
              }
              // Is there a common aligned index below 16? Then a long input must get a body.
              bool exists = false;
              for (std::size_t h = 0; h < kChunk; ++h)
                exists |= (x + 4 * h) % 16 == 0 &&
                          (!target_bytes || (t + target_bytes * h) % 16 == 0) &&
                          (!l || (l + 4 * h) % 16 == 0);
              if (exists && n >= 2 * kChunk) {
                ASSERT_GT(p.chunks, 0u) << where;
              }
            }
}

#if FOCAL_HAVE_CUDA
TEST(CudaRegistry, KernelsDeclareTheTestedBound) {
  for (const char* name : {"cuda_warp", "cuda_cub", "cuda_cub_device", "cuda_warp_fast"}) {
    const auto& k = find_kernel(name);
    const auto& b = std::string(name) == "cuda_warp_fast" ? element::kFastDeclaredBound
                                                          : element::kDeclaredBound;
    EXPECT_EQ(k.bound.ulp, b.ulp) << name;
    EXPECT_EQ(k.bound.rel_other, b.rel_other) << name;
    std::string why;
    if (!k.available(&why)) {
      EXPECT_FALSE(why.empty()) << name;
      std::printf("[ info ] %s unavailable here: %s\n", name, why.c_str());
    }
  }
}
#endif

}  // namespace
}  // namespace focal::testing
