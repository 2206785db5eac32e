// The dispatch of cuda_warp, cuda_cub, cuda_cub_device and cuda_warp_fast: the element for the
// reducer, the vector plan, the grid shape (one wave of resident blocks at most), the device
// scratch, and the launches. The kernels themselves are in agent.cuh (cub_device_reduce.cu for
// cuda_cub_device).
//
// The grid depends only on n, the SM count and the occupancy, and the partials are summed in a
// fixed order: the sum is bitwise identical on every run on a given GPU.
#include <cuda_runtime.h>

#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "agent.cuh"
#include "dispatch.hpp"

namespace focal::cuda_detail {

void check(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return;
  throw cuda_error(std::string("focal: CUDA ") + what + ": " + cudaGetErrorName(err) + ": " +
                   cudaGetErrorString(err));
}
void check_launch(const char* what) { check(cudaGetLastError(), what); }

void grow_temp(Scratch& s, std::size_t bytes) {
  if (bytes <= s.temp_bytes) return;
  if (s.temp) check(cudaFree(s.temp), "cudaFree (temp storage)");
  s.temp = nullptr;
  s.temp_bytes = 0;
  check(cudaMalloc(&s.temp, bytes), "cudaMalloc (temp storage)");
  s.temp_bytes = bytes;
}

namespace {

// Resident blocks per SM for a kernel, and the SM count, per device and kernel (asked once:
// the grid, hence the summation order, depends only on these and n).
struct DeviceShape {
  int sms = 0;
  int blocks_per_sm = 0;
};
DeviceShape device_shape(const void* kernel) {
  static std::mutex mu;
  static std::map<std::pair<int, const void*>, DeviceShape> known;
  int dev = 0;
  check(cudaGetDevice(&dev), "cudaGetDevice");
  std::lock_guard<std::mutex> lock(mu);
  DeviceShape& s = known[{dev, kernel}];
  if (s.sms == 0) {
    check(cudaDeviceGetAttribute(&s.sms, cudaDevAttrMultiProcessorCount, dev),
          "cudaDeviceGetAttribute (SM count)");
    check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&s.blocks_per_sm, kernel, kThreads, 0),
          "cudaOccupancyMaxActiveBlocksPerMultiprocessor");
    if (s.blocks_per_sm < 1) s.blocks_per_sm = 1;
  }
  return s;
}

void ensure_partials(Scratch& s, std::size_t blocks) {
  if (blocks <= s.partials_capacity) return;
  if (s.partials) check(cudaFree(s.partials), "cudaFree (partials)");
  s.partials = nullptr;
  s.partials_capacity = 0;
  check(cudaMalloc(&s.partials, blocks * sizeof(Acc)), "cudaMalloc (block partials)");
  s.partials_capacity = blocks;
}

template <class View, class El>
void enqueue_blocks(cuda::Reducer reducer, const View& in, const El& el, const OutView& o,
                    VectorPlan plan, Scratch& s, cudaStream_t stream) {
  const bool cub = reducer == cuda::Reducer::cub_block;
  auto kernel = warp_blocks<View, El>;
  if constexpr (std::is_same_v<El, Element>) {
    if (cub) kernel = cub_blocks<View>;
  }
  const DeviceShape shape = device_shape(reinterpret_cast<const void*>(kernel));
  // Enough threads for the chunks (or for the elements when there is no vector body), at most
  // one full wave of resident blocks (the persistent grid).
  const std::size_t items = plan.chunks > 0 ? plan.chunks : in.n;
  const std::size_t wanted = (items + kThreads - 1) / kThreads;
  const std::size_t wave = std::size_t(shape.sms) * std::size_t(shape.blocks_per_sm);
  const unsigned blocks = unsigned(wanted < wave ? (wanted > 0 ? wanted : 1) : wave);
  ensure_partials(s, blocks);
  kernel<<<blocks, kThreads, 0, stream>>>(in, el, o, plan, s.partials);
  check_launch(cub ? "launch cub_blocks" : "launch warp_blocks");
  if (cub) {
    cub_finish<<<1, 32, 0, stream>>>(s.partials, blocks, s.result);
    check_launch("launch cub_finish");
  } else {
    warp_finish<<<1, kThreads, 0, stream>>>(s.partials, blocks, s.result);
    check_launch("launch warp_finish");
  }
}

template <class View>
void enqueue_view(cuda::Reducer reducer, const View& in, const Params& p, const OutView& o,
                  VectorPlan plan, Scratch& s, cudaStream_t stream) {
  if (in.n == 0) {
    check(cudaMemsetAsync(s.result, 0, sizeof(Acc), stream), "cudaMemsetAsync (empty result)");
    return;
  }
  const float a = p.alpha, g = p.gamma;
  if (reducer == cuda::Reducer::cub_device) {
    enqueue_cub_device(in, Element::make(a, g, p.grad_scale), o, s, stream);
  } else if (reducer == cuda::Reducer::warp_fast) {
    // The fast tier has no fused half path (its half inputs are converted by the driver).
    if constexpr (is_half_v<std::remove_cv_t<std::remove_pointer_t<decltype(in.x)>>>)
      throw std::logic_error("focal: cuda_warp_fast takes fp32 logits only");
    else
      enqueue_blocks(reducer, in, FastElement::make(a, g, p.grad_scale), o, plan, s, stream);
  } else {
    enqueue_blocks(reducer, in, Element::make(a, g, p.grad_scale), o, plan, s, stream);
  }
}

std::uintptr_t addr(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

}  // namespace

// The fp32 views carry no half gradient (o.grad_half is null there).
void enqueue(cuda::Reducer reducer, const DenseView& in, const Params& p, const OutView& o,
             Scratch& s, cudaStream_t stream) {
  const VectorPlan plan =
      plan_vectors(in.n, addr(in.x), addr(in.t), 1, addr(o.loss), addr(o.grad));  // u8 targets
  enqueue_view(reducer, in, p, o, plan, s, stream);
}
void enqueue(cuda::Reducer reducer, const SoftView& in, const Params& p, const OutView& o,
             Scratch& s, cudaStream_t stream) {
  const VectorPlan plan =
      plan_vectors(in.n, addr(in.x), addr(in.t), 4, addr(o.loss), addr(o.grad));  // f32 targets
  enqueue_view(reducer, in, p, o, plan, s, stream);
}
void enqueue(cuda::Reducer reducer, const LabelView& in, const Params& p, const OutView& o,
             Scratch& s, cudaStream_t stream) {
  // Labels are read per row, not vectorized: they impose no alignment.
  const VectorPlan plan = plan_vectors(in.n, addr(in.x), 0, 0, addr(o.loss), addr(o.grad));
  enqueue_view(reducer, in, p, o, plan, s, stream);
}

template <Dtype D>
void enqueue(cuda::Reducer reducer, const HalfDenseView<D>& in, const Params& p,
             const OutView& o, Scratch& s, cudaStream_t stream) {
  const VectorPlan plan = plan_vectors_half(in.n, addr(in.x), addr(in.t), 1, addr(o.loss),
                                            addr(o.grad), addr(o.grad_half));
  enqueue_view(reducer, in, p, o, plan, s, stream);
}
template <Dtype D>
void enqueue(cuda::Reducer reducer, const HalfLabelView<D>& in, const Params& p,
             const OutView& o, Scratch& s, cudaStream_t stream) {
  const VectorPlan plan = plan_vectors_half(in.n, addr(in.x), 0, 0, addr(o.loss), addr(o.grad),
                                            addr(o.grad_half));
  enqueue_view(reducer, in, p, o, plan, s, stream);
}

#define FOCAL_HALF_ENQUEUE(D)                                                                   \
  template void enqueue<D>(cuda::Reducer, const HalfDenseView<D>&, const Params&,               \
                           const OutView&, Scratch&, cudaStream_t);                             \
  template void enqueue<D>(cuda::Reducer, const HalfLabelView<D>&, const Params&,               \
                           const OutView&, Scratch&, cudaStream_t);
FOCAL_HALF_ENQUEUE(Dtype::fp16)
FOCAL_HALF_ENQUEUE(Dtype::bf16)
#undef FOCAL_HALF_ENQUEUE

}  // namespace focal::cuda_detail
