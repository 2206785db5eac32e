// Placeholder until the CUDA benchmarks land.
#include "cuda_bench.hpp"

namespace focal::bench {
void register_cuda_benchmarks() {}
void add_cuda_context() {}
}  // namespace focal::bench
