// The entry points each per-target translation unit exports (plain functions over raw memory, so
// that no inline function compiled with AVX flags is shared with baseline code).
#pragma once

#include <cstddef>
#include <cstdint>

#include "focal/focal.hpp"
#include "focal/math.hpp"

namespace focal::simd {

struct Args {
  math::Alpha alpha;
  float gamma;
  double grad_scale;
  float* loss;  // null: not requested
  float* grad;
  float alpha_param;  // the caller's alpha: the float-float element forms 1 - alpha exactly
  std::uint16_t* grad_half = nullptr;  // half logits only: the gradient in their dtype
};

struct Entry {
  const char* arch_name;  // xsimd's name of the arch the unit was compiled for
  Partial (*dense)(const float* x, const std::uint8_t* t, std::size_t n, const Args&);
  Partial (*soft)(const float* x, const float* t, std::size_t n, const Args&);
  Partial (*labels)(const float* x, const std::int32_t* labels, std::size_t rows,
                    std::size_t num_classes, const Args&);
  // Half logits (fp16 or bf16 bits, fused loads): binary layouts at integer gamma 0..4 only
  // (ff::is_int_gamma). The driver converts every other case.
  Partial (*dense_half)(const std::uint16_t* x, Dtype dtype, const std::uint8_t* t, std::size_t n,
                        const Args&);
  Partial (*labels_half)(const std::uint16_t* x, Dtype dtype, const std::int32_t* labels,
                         std::size_t rows, std::size_t num_classes, const Args&);
  // The fused path's loaders over whole arrays (for the tests).
  void (*half_to_float)(const std::uint16_t* in, float* out, std::size_t n, Dtype dtype);
  void (*float_to_half)(const float* in, std::uint16_t* out, std::size_t n, Dtype dtype);
};

// Defined in simd_avx2.cpp / simd_avx512.cpp; call only when the CPU and OS support the ISA.
const Entry& avx2_entry();
const Entry& avx512_entry();

// The arguments of the elements from `offset` on (offset 0: the whole input), from the driver's
// parameters and outputs; used by run_entry, run_half_entry and the openmp kernel's chunks.
// Defined in the baseline unit simd_kernels.cpp (no inline copy compiled with AVX flags).
Args args_at(const Params& p, const Outputs& out, std::size_t offset = 0);

// Runs an Input through an entry (dispatch over the layout variant); used by the registry
// entries and by the openmp kernel.
Partial run_entry(const Entry& e, const Input& in, const Params& p, const Outputs& out);
// The same for half logits through the fused loaders; false (nothing run) where the entry has
// none for this case (gamma outside 0..4).
bool run_half_entry(const Entry& e, const HalfInput& in, const Params& p, const Outputs& out,
                    Partial* result);

}  // namespace focal::simd
