// CUDA benchmarks for focal-bench (compiled only when FOCAL_HAVE_CUDA). Owned by the CUDA work.
#pragma once

namespace focal::bench {
// Registers the CUDA kernel benchmarks and probes; registers nothing (and says why on stderr)
// when no GPU is usable.
void register_cuda_benchmarks();
// Adds GPU name, SM count, L2 size, memory clock and bus width to the benchmark context.
void add_cuda_context();
}  // namespace focal::bench
