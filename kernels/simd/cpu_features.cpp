// CPUID + XGETBV. Compiled for baseline x86-64 (no AVX in this file): it must run everywhere.
#include "cpu_features.hpp"

#include <cpuid.h>

#include <atomic>
#include <cstdint>
#include <cstring>

namespace focal::cpu {
namespace {

std::uint64_t read_xcr0() {
  std::uint32_t eax, edx;
  // xgetbv with ecx = 0 (XCR0); only legal when CPUID.1:ECX.OSXSAVE is set (checked by caller).
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (std::uint64_t(edx) << 32) | eax;
}

Features detect() {
  Features f;
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = c & (1u << 27);
  f.avx = c & (1u << 28);
  f.fma = c & (1u << 12);
  f.f16c = c & (1u << 29);
  if (__get_cpuid_max(0, nullptr) >= 7) {
    __cpuid_count(7, 0, a, b, c, d);
    f.avx2 = b & (1u << 5);
    f.avx512f = b & (1u << 16);
    f.avx512dq = b & (1u << 17);
    f.avx512bw = b & (1u << 30);
    f.avx512vl = b & (1u << 31);
  }
  if (osxsave) {
    const std::uint64_t xcr0 = read_xcr0();
    f.os_ymm = (xcr0 & 0x6) == 0x6;
    f.os_zmm = f.os_ymm && (xcr0 & 0xe0) == 0xe0;
  }
  char brand[49] = {};
  if (static_cast<unsigned>(__get_cpuid_max(0x80000000u, nullptr)) >= 0x80000004u) {
    for (unsigned leaf = 0; leaf < 3; ++leaf) {
      __get_cpuid(0x80000002u + leaf, &a, &b, &c, &d);
      std::memcpy(brand + 16 * leaf + 0, &a, 4);
      std::memcpy(brand + 16 * leaf + 4, &b, 4);
      std::memcpy(brand + 16 * leaf + 8, &c, 4);
      std::memcpy(brand + 16 * leaf + 12, &d, 4);
    }
  }
  f.model = brand;
  while (!f.model.empty() && f.model.front() == ' ') f.model.erase(f.model.begin());
  return f;
}

bool fail(std::string* why_not, const char* why) {
  if (why_not) *why_not = why;
  return false;
}

}  // namespace

namespace {
std::atomic<const Features*> g_override{nullptr};
}  // namespace

const Features& features() {
  if (const Features* o = g_override.load(std::memory_order_acquire)) return *o;
  static const Features f = detect();
  return f;
}

void override_features_for_testing(const Features* f) {
  g_override.store(f, std::memory_order_release);
}

bool avx2_fma_usable(std::string* why_not) {
  const Features& f = features();
  // F16C: the fp16 loads of the fused half path (every AVX2 CPU has it; checked all the same).
  if (!f.avx || !f.avx2 || !f.fma || !f.f16c) return fail(why_not, "CPU lacks AVX2/FMA/F16C");
  if (!f.os_ymm)
    return fail(why_not, "OS has not enabled AVX (YMM) register state (XCR0 bits 1-2)");
  return true;
}

bool avx512_usable(std::string* why_not) {
  const Features& f = features();
  if (!f.avx512f || !f.avx512dq || !f.avx512bw || !f.avx512vl)
    return fail(why_not, "CPU lacks AVX-512F/DQ/BW/VL");
  if (!f.fma || !f.avx2 || !f.f16c) return fail(why_not, "CPU lacks AVX2/FMA/F16C");
  if (!f.os_zmm)
    return fail(why_not, "OS has not enabled AVX-512 register state (XCR0 opmask/ZMM bits 5-7)");
  return true;
}

}  // namespace focal::cpu
