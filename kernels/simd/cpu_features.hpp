// What this CPU *and* its operating system let us run. xsimd 8.1 reads CPUID only; a CPU with
// AVX-512 under an OS (or hypervisor) that does not save the ZMM/opmask state in XSAVE would
// crash on the first AVX-512 instruction, so we also read XCR0 with xgetbv.
#pragma once

#include <string>

namespace focal::cpu {

struct Features {
  bool avx = false, avx2 = false, fma = false, f16c = false;              // CPUID
  bool avx512f = false, avx512dq = false, avx512bw = false, avx512vl = false;
  bool os_ymm = false;  // XCR0 bits 1, 2: SSE and AVX (YMM) state enabled by the OS
  bool os_zmm = false;  // XCR0 bits 5, 6, 7: opmask, ZMM_Hi256, Hi16_ZMM state enabled
  std::string model;    // CPUID brand string, e.g. "Intel(R) Xeon(R) Processor"
};

// Read once per process.
const Features& features();

// Tests only: features() answers `*f` instead of this CPU (so do every kernel's availability and
// best_kernel()), until called with nullptr. Only to test the selection: never run a kernel
// meanwhile, the flags may claim instructions this CPU lacks.
void override_features_for_testing(const Features* f);

// Can the avx2 (fma3<avx2> + F16C for the fp16 loads) / avx512 kernels run here? If not and why_not is non-null, it
// receives a sentence naming the missing CPU feature or OS support.
bool avx2_fma_usable(std::string* why_not);
bool avx512_usable(std::string* why_not);

}  // namespace focal::cpu
