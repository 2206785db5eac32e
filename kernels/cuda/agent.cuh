// The device loop of cuda_warp, cuda_cub and cuda_warp_fast ("agent" in CUB's words): a
// persistent grid-stride loop per thread, the warp and block reductions, and the __global__
// kernels -- a block pass writing one partial per block, then a one-block pass summing the
// partials in a fixed order. The grid is chosen in dispatch.cu, the only file including this.
#pragma once

#include <cuda_runtime.h>

#include <cub/block/block_reduce.cuh>
#include <cub/warp/warp_reduce.cuh>

#include <cstddef>

#include "element_io.cuh"

namespace focal::cuda_detail {

inline constexpr int kThreads = 256;  // threads per block of every block pass

// Internal linkage, as the kernels had in one file: dispatch.cu instantiates and launches them.
namespace {

constexpr unsigned kFullMask = 0xffffffffu;

// Grid-stride over the 16-element chunks first (the bulk, vector loads), then the head and
// tail elements one by one.
template <class View, class El>
__device__ __forceinline__ Acc thread_partial(const View& in, const El& el,
                                              const OutView& o, VectorPlan plan) {
  Acc acc{0.0, 0ull, 0u};
  const AccPlus plus;
  const std::size_t tid = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const std::size_t stride = std::size_t(gridDim.x) * blockDim.x;
  for (std::size_t c = tid; c < plan.chunks; c += stride)
    acc = plus(acc, chunk(in, el, o, plan.head + c * kChunk));
  for (std::size_t i = tid; i < plan.head; i += stride) acc = plus(acc, one(in, el, o, i));
  for (std::size_t i = plan.head + plan.chunks * kChunk + tid; i < in.n; i += stride)
    acc = plus(acc, one(in, el, o, i));
  return acc;
}

__device__ __forceinline__ Acc warp_sum(Acc a) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) {
    a.sum += __shfl_down_sync(kFullMask, a.sum, offset);
    a.count += __shfl_down_sync(kFullMask, a.count, offset);
    a.bad |= __shfl_down_sync(kFullMask, a.bad, offset);
  }
  return a;
}

// Warp sums by shuffle, then the warps' sums through shared memory; valid in thread 0.
__device__ __forceinline__ Acc block_sum_shuffle(Acc a) {
  __shared__ Acc warps[kThreads / 32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  a = warp_sum(a);
  if (lane == 0) warps[warp] = a;
  __syncthreads();
  if (warp == 0) {
    a = lane < kThreads / 32 ? warps[lane] : Acc{0.0, 0ull, 0u};
    a = warp_sum(a);
  }
  return a;
}

template <class View, class El>
__global__ void __launch_bounds__(kThreads)
    warp_blocks(View in, El el, OutView o, VectorPlan plan, Acc* partials) {
  const Acc a = block_sum_shuffle(thread_partial(in, el, o, plan));
  if (threadIdx.x == 0) partials[blockIdx.x] = a;
}

// One block, fixed order: thread j adds partials j, j + 256, ...; then the block sum.
__global__ void __launch_bounds__(kThreads)
    warp_finish(const Acc* partials, unsigned blocks, Acc* result) {
  Acc a{0.0, 0ull, 0u};
  const AccPlus plus;
  for (unsigned b = threadIdx.x; b < blocks; b += kThreads) a = plus(a, partials[b]);
  a = block_sum_shuffle(a);
  if (threadIdx.x == 0) *result = a;
}

template <class View>
__global__ void __launch_bounds__(kThreads)
    cub_blocks(View in, Element el, OutView o, VectorPlan plan, Acc* partials) {
  using BlockReduce = cub::BlockReduce<Acc, kThreads>;
  __shared__ typename BlockReduce::TempStorage temp;
  const Acc a = BlockReduce(temp).Reduce(thread_partial(in, el, o, plan), AccPlus{});
  if (threadIdx.x == 0) partials[blockIdx.x] = a;
}

// One warp, fixed order: lane j adds partials j, j + 32, ...; then cub::WarpReduce.
__global__ void __launch_bounds__(32) cub_finish(const Acc* partials, unsigned blocks, Acc* result) {
  using WarpReduce = cub::WarpReduce<Acc>;
  __shared__ typename WarpReduce::TempStorage temp;
  Acc a{0.0, 0ull, 0u};
  const AccPlus plus;
  for (unsigned b = threadIdx.x; b < blocks; b += 32) a = plus(a, partials[b]);
  a = WarpReduce(temp).Reduce(a, AccPlus{});
  if (threadIdx.x == 0) *result = a;
}

}  // namespace
}  // namespace focal::cuda_detail
