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
};

struct Entry {
  const char* arch_name;  // xsimd's name of the arch the unit was compiled for
  Partial (*dense)(const float* x, const std::uint8_t* t, std::size_t n, const Args&);
  Partial (*soft)(const float* x, const float* t, std::size_t n, const Args&);
  Partial (*labels)(const float* x, const std::int32_t* labels, std::size_t rows,
                    std::size_t num_classes, const Args&);
};

// Defined in simd_avx2.cpp / simd_avx512.cpp; call only when the CPU and OS support the ISA.
const Entry& avx2_entry();
const Entry& avx512_entry();
// The fast tier (float lanes) from the same units.
const Entry& avx2_fast_entry();
const Entry& avx512_fast_entry();

// Runs an Input through an entry (dispatch over the layout variant); used by the registry
// entries and by the openmp kernel.
Partial run_entry(const Entry& e, const Input& in, const Params& p, const Outputs& out);

}  // namespace focal::simd
