// Runtime dispatch: the registry's SIMD entries are what we think they are (each per-target unit
// reports the xsimd arch it was compiled for, and the registry's isa must match it), availability
// agrees with the kernel's own reading of the CPU (/proc/cpuinfo) and, for injected CPU flags,
// with the expected table; FOCAL_KERNEL forces every kernel; best_kernel() picks by priority.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
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

// The flags as Linux reports them (/proc/cpuinfo): a second reading of the CPU, independent of
// our CPUID/XGETBV code. Linux drops the AVX/AVX-512 flags when their register state is not
// enabled in XCR0, so these also say what the OS allows. Empty when unreadable.
std::string linux_cpu_flags() {
  std::ifstream f("/proc/cpuinfo");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("flags", 0) == 0) return line.substr(line.find(':') + 1) + " ";
  return {};
}
bool has_flag(const std::string& flags, const char* flag) {
  return flags.find(std::string(" ") + flag + " ") != std::string::npos;
}

TEST(Dispatch, AvailabilityAgreesWithLinuxCpuFlags) {
  const auto& f = cpu::features();
  std::printf("[ cpu      ] %s: avx2 %d fma %d avx512f/dq/bw/vl %d%d%d%d, OS ymm %d zmm %d\n",
              f.model.c_str(), f.avx2, f.fma, f.avx512f, f.avx512dq, f.avx512bw, f.avx512vl,
              f.os_ymm, f.os_zmm);
  const std::string flags = linux_cpu_flags();
  if (flags.empty()) GTEST_SKIP() << "no /proc/cpuinfo flags line to compare with";
  const bool avx2 = has_flag(flags, "avx") && has_flag(flags, "avx2") && has_flag(flags, "fma");
  const bool avx512 = avx2 && has_flag(flags, "avx512f") && has_flag(flags, "avx512dq") &&
                      has_flag(flags, "avx512bw") && has_flag(flags, "avx512vl");
  EXPECT_EQ(find_kernel("avx2").is_available(), avx2);
  EXPECT_EQ(find_kernel("avx512").is_available(), avx512);
  for (const auto& k : kernels()) {
    const std::string why = k.unavailable_reason();
    EXPECT_EQ(why.empty(), k.is_available()) << k.name << ": " << why;
    if (!why.empty()) EXPECT_GT(why.size(), 10u) << k.name;  // a sentence, not a code
  }
}

// Injected flags: which kernels can run and which one is picked, for CPUs this machine is not.
struct FlagSet {
  const char* what;
  cpu::Features f;
  bool avx2, avx512;     // expected: the avx2-class / avx512-class kernels can run
  const char* why_avx2;  // expected words in the reasons (when unavailable)
  const char* why_avx512;
};

cpu::Features flags(bool avx2, bool fma, bool avx512, bool os_ymm, bool os_zmm, bool f16c = true) {
  cpu::Features f;
  f.avx = f.avx2 = avx2;
  f.fma = fma;
  f.f16c = f16c;
  f.avx512f = f.avx512dq = f.avx512bw = f.avx512vl = avx512;
  f.os_ymm = os_ymm;
  f.os_zmm = os_zmm;
  f.model = "injected";
  return f;
}

// Restores the detected flags at scope exit, whatever the test does.
struct Injected {
  explicit Injected(const cpu::Features& f) { cpu::override_features_for_testing(&f); }
  ~Injected() { cpu::override_features_for_testing(nullptr); }
};

TEST(Dispatch, SelectionForInjectedCpuFlags) {
  // The kernels whose availability follows the SIMD flags; every other kernel keeps its own
  // (openmp too: it fixes the SIMD kernel it runs, and so its availability, once per process).
  const std::map<std::string, bool FlagSet::*> follows = {{"avx2", &FlagSet::avx2},
                                                          {"avx512", &FlagSet::avx512}};
  std::map<std::string, bool> real;
  for (const auto& k : kernels()) real[std::string(k.name)] = k.is_available();  // (table built first)
  unsetenv("FOCAL_KERNEL");
  const FlagSet sets[] = {
      {"no SIMD", flags(false, false, false, true, true), false, false, "AVX2/FMA", "AVX-512"},
      {"AVX2 without FMA", flags(true, false, false, true, true), false, false, "AVX2/FMA", "AVX-512"},
      {"AVX2+FMA without F16C", flags(true, true, false, true, true, false), false, false, "F16C",
       "AVX-512"},
      {"AVX-512 without F16C", flags(true, true, true, true, true, false), false, false, "F16C",
       "F16C"},
      {"AVX2+FMA", flags(true, true, false, true, false), true, false, "", "AVX-512F/DQ/BW/VL"},
      {"AVX2+FMA, OS without YMM state", flags(true, true, false, false, false), false, false, "XCR0",
       "AVX-512"},
      {"AVX-512, OS without ZMM state", flags(true, true, true, true, false), true, false, "", "XCR0"},
      {"AVX-512 without FMA", flags(true, false, true, true, true), false, false, "AVX2/FMA", "AVX2/FMA"},
      {"AVX-512", flags(true, true, true, true, true), true, true, "", ""},
  };
  for (const auto& s : sets) {
    SCOPED_TRACE(s.what);
    const Injected injected(s.f);
    const KernelInfo* expected_best = nullptr;
    for (const auto& k : kernels()) {
      const auto it = follows.find(std::string(k.name));
      const bool want = it != follows.end() ? s.*(it->second) : real[std::string(k.name)];
      EXPECT_EQ(k.is_available(), want) << k.name;
      if (it != follows.end() && !want) {
        const char* words = it->second == &FlagSet::avx2 ? s.why_avx2 : s.why_avx512;
        EXPECT_NE(k.unavailable_reason().find(words), std::string::npos)
            << k.name << ": '" << k.unavailable_reason() << "' should name " << words;
      }
      if (want && (!expected_best || k.priority > expected_best->priority)) expected_best = &k;
    }
    ASSERT_NE(expected_best, nullptr);
    EXPECT_EQ(best_kernel().name, expected_best->name);
  }
  // And back to this CPU.
  for (const auto& k : kernels()) EXPECT_EQ(k.is_available(), real[std::string(k.name)]) << k.name;
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
