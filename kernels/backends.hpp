// Internal: what each backend folder contributes to the registry. A new backend is one folder
// plus one line here and one in registry.cpp.
#pragma once

#include <span>

#include "focal/focal.hpp"

namespace focal::backends {

std::span<const KernelInfo> scalar_kernels();
std::span<const KernelInfo> scalar_ff_kernels();
#if FOCAL_HAVE_SIMD
std::span<const KernelInfo> simd_kernels();
#endif
#if FOCAL_HAVE_OPENMP
std::span<const KernelInfo> openmp_kernels();
#endif
#if FOCAL_HAVE_CUDA
std::span<const KernelInfo> cuda_kernels();
#endif

}  // namespace focal::backends
