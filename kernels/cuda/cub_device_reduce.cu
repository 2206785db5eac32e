// The dispatch of "cuda_cub_device", the library baseline. The sum is
// cub::DeviceReduce::TransformReduce over the element indices (the transform evaluates one
// element: the same device code as cuda_warp and cuda_cub, element_io.cuh's one(), so its
// per-element results are bitwise theirs).
// Per-element outputs, when requested, are written by a cub::DeviceFor::Bulk pass before the
// reduction (the reduction's transform must be free of side effects), so with outputs this
// kernel reads its inputs twice -- it is the baseline, not the fast path.
// CUB documents TransformReduce as run-to-run deterministic on the same GPU.
#include <cuda_runtime.h>

#include <cub/device/device_for.cuh>
#include <cub/device/device_reduce.cuh>
#include <thrust/iterator/counting_iterator.h>

#include "dispatch.hpp"
#include "element_io.cuh"

namespace focal::cuda_detail {
namespace {

template <class View>
struct ElementSum {
  View in;
  Element el;
  __device__ Acc operator()(std::size_t i) const {
    return one(in, el, OutView{nullptr, nullptr, nullptr}, i);
  }
};

template <class View>
struct ElementWrite {
  View in;
  Element el;
  OutView o;
  __device__ void operator()(std::size_t i) const { (void)one(in, el, o, i); }
};

template <class View>
void enqueue(const View& in, const Element& el, const OutView& o, Scratch& s, cudaStream_t stream) {
  if (o.loss || o.grad || o.grad_half)
    check(cub::DeviceFor::Bulk(in.n, ElementWrite<View>{in, el, o}, stream),
          "cub::DeviceFor::Bulk (per-element outputs)");
  const thrust::counting_iterator<std::size_t> first(0);
  const ElementSum<View> transform{in, el};
  const Acc zero{0.0, 0ull, 0u};
  std::size_t bytes = 0;
  check(cub::DeviceReduce::TransformReduce(nullptr, bytes, first, s.result, in.n, AccPlus{},
                                           transform, zero, stream),
        "cub::DeviceReduce::TransformReduce (size query)");
  grow_temp(s, bytes);
  check(cub::DeviceReduce::TransformReduce(s.temp, bytes, first, s.result, in.n, AccPlus{},
                                           transform, zero, stream),
        "cub::DeviceReduce::TransformReduce");
  check_launch("cub::DeviceReduce::TransformReduce launch");
}

}  // namespace

template <class View>
void enqueue_cub_device(const View& in, const Element& el, const OutView& o, Scratch& s,
                        cudaStream_t stream) {
  enqueue(in, el, o, s, stream);
}

#define FOCAL_CUB_DEVICE(View)                                                                  \
  template void enqueue_cub_device(const View&, const Element&, const OutView&, Scratch&,       \
                                   cudaStream_t);
FOCAL_CUB_DEVICE(DenseView)
FOCAL_CUB_DEVICE(SoftView)
FOCAL_CUB_DEVICE(LabelView)
FOCAL_CUB_DEVICE(HalfDenseView<Dtype::fp16>)
FOCAL_CUB_DEVICE(HalfDenseView<Dtype::bf16>)
FOCAL_CUB_DEVICE(HalfLabelView<Dtype::fp16>)
FOCAL_CUB_DEVICE(HalfLabelView<Dtype::bf16>)
#undef FOCAL_CUB_DEVICE

}  // namespace focal::cuda_detail
