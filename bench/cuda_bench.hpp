// CUDA benchmarks for focal-bench (compiled only when FOCAL_HAVE_CUDA). Names: bench/names.hpp.
#pragma once

#include <string>
#include <vector>

#include "names.hpp"

namespace focal::bench {
// Registers the CUDA kernel benchmarks (the registry's CUDA kernels, or only `kernels` when not
// empty) and their probes at `log2_sizes` (empty: 16,20,24,27,28) for `layouts` (dense at every
// size; soft and labels at 2^24 and 2^27 only, when asked for). Registers nothing (and says why on
// stderr) when no GPU is usable. Returns the number of kernel benchmarks registered.
int register_cuda_benchmarks(const std::vector<std::string>& kernels,
                             const std::vector<int>& log2_sizes,
                             const std::vector<Layout>& layouts);
// Adds GPU name, SM count, L2 size, memory clock and bus width to the benchmark context.
void add_cuda_context();
}  // namespace focal::bench
