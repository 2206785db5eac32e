// Runtime dispatch: the registry's SIMD entries are what we think they are (each per-target unit
// reports the xsimd arch it was compiled for, and the registry's isa must match it), availability
// follows CPUID + XCR0, FOCAL_KERNEL forces every kernel, and best_kernel() picks by priority.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "../../kernels/simd/cpu_features.hpp"
#include "../../kernels/simd/simd_entry.hpp"
#include "focal/focal.hpp"

namespace focal::testing {
namespace {

// Sets FOCAL_KERNEL for one scope.
class ForcedKernel {
 public:
  explicit ForcedKernel(const std::string& name) { setenv("FOCAL_KERNEL", name.c_str(), 1); }
  ~ForcedKernel() { unsetenv("FOCAL_KERNEL"); }
};

TEST(Dispatch, SimdUnitsWereCompiledForTheIsaTheRegistryClaims) {
  const auto& avx2 = find_kernel("avx2");
  const auto& avx512 = find_kernel("avx512");
  // The names come from xsimd's arch types inside the units built with -mavx2 / -mavx512*.
  EXPECT_EQ(std::string(simd::avx2_entry().arch_name), "fma3+avx2");
  EXPECT_EQ(std::string(simd::avx512_entry().arch_name), "avx512bw");
  EXPECT_EQ(avx2.isa, simd::avx2_entry().arch_name);
  EXPECT_EQ(avx512.isa, simd::avx512_entry().arch_name);
  EXPECT_EQ(avx2.backend, "simd");
  EXPECT_EQ(avx512.backend, "simd");
}

TEST(Dispatch, AvailabilityFollowsCpuidAndXcr0) {
  const auto& f = cpu::features();
  std::printf("[ cpu      ] %s: avx2 %d fma %d avx512f/dq/bw/vl %d%d%d%d, OS ymm %d zmm %d\n",
              f.model.c_str(), f.avx2, f.fma, f.avx512f, f.avx512dq, f.avx512bw, f.avx512vl,
              f.os_ymm, f.os_zmm);
  const bool avx2 = f.avx && f.avx2 && f.fma && f.os_ymm;
  const bool avx512 = avx2 && f.avx512f && f.avx512dq && f.avx512bw && f.avx512vl && f.os_zmm;
  EXPECT_EQ(find_kernel("avx2").is_available(), avx2);
  EXPECT_EQ(find_kernel("avx512").is_available(), avx512);
  EXPECT_EQ(find_kernel("openmp").is_available(), avx2);
  for (const auto& k : kernels()) {
    const std::string why = k.unavailable_reason();
    EXPECT_EQ(why.empty(), k.is_available()) << k.name << ": " << why;
    if (!why.empty()) EXPECT_GT(why.size(), 10u) << k.name;  // a sentence, not a code
  }
}

TEST(Dispatch, PrioritiesOrderTheCpuKernels) {
  EXPECT_LT(find_kernel("scalar").priority, find_kernel("avx2").priority);
  EXPECT_LT(find_kernel("avx2").priority, find_kernel("avx512").priority);
  EXPECT_LT(find_kernel("avx512").priority, find_kernel("openmp").priority);
  const KernelInfo* best = nullptr;
  for (const auto& k : kernels())
    if (k.is_available() && (!best || k.priority > best->priority)) best = &k;
  unsetenv("FOCAL_KERNEL");
  EXPECT_EQ(best_kernel().name, best->name);
}

TEST(Dispatch, OpenmpReproducesTheSimdKernelItRuns) {
  const auto& omp = find_kernel("openmp");
  if (!omp.is_available()) GTEST_SKIP() << omp.unavailable_reason();
  const std::string expected = find_kernel("avx512").is_available() ? "avx512" : "avx2";
  EXPECT_EQ(omp.bitwise_equal_to, expected);
}

TEST(Dispatch, FocalKernelForcesEachKernel) {
  const std::vector<float> x = {-3.0f, 0.5f, 2.0f};
  const std::vector<std::uint8_t> t = {0, 1, 0};
  for (const auto& k : kernels()) {
    ForcedKernel forced{std::string(k.name)};
    if (k.is_available()) {
      EXPECT_EQ(best_kernel().name, k.name);
      const auto r = focal_loss(DenseInput{x, t});
      ASSERT_NE(r.kernel, nullptr);
      EXPECT_EQ(r.kernel->name, k.name);
    } else {
      EXPECT_THROW(best_kernel(), unavailable_kernel) << k.name;
    }
  }
  ForcedKernel unknown{"avx1024"};
  EXPECT_THROW(best_kernel(), invalid_argument);
}

}  // namespace
}  // namespace focal::testing
