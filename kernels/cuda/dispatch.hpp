// Internal to the CUDA backend (included by its .cu files only): device views of the inputs,
// the device scratch, error checks, and the dispatch entry point that the device-pointer API
// (device_api.cu) calls. Host code; the device code is in element_io.cuh and agent.cuh.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "../element.hpp"
#include "focal/cuda.hpp"
#include "half_io.hpp"
#include "plan.hpp"

namespace focal::cuda_detail {

using element::Element;
using element::FastElement;

// Throws focal::cuda_error("focal: <what>: <CUDA error name>: <text>") unless err is cudaSuccess.
void check(cudaError_t err, const char* what);
// After a launch: the launch's own error (bad configuration, no kernel image for this GPU).
void check_launch(const char* what);

// X: the logit type in device memory, float or Half<D> (half_io.hpp: the fused half loaders).
template <class X>
struct BasicDenseView {
  const X* x;
  const std::uint8_t* t;
  std::size_t n;
};
struct SoftView {
  const float* x;
  const float* t;
  std::size_t n;
};
template <class X>
struct BasicLabelView {
  const X* x;
  const std::int32_t* labels;
  std::size_t n;  // rows * classes
  std::uint32_t classes;
};
using DenseView = BasicDenseView<float>;
using LabelView = BasicLabelView<float>;
template <Dtype D>
using HalfDenseView = BasicDenseView<Half<D>>;
template <Dtype D>
using HalfLabelView = BasicLabelView<Half<D>>;

struct OutView {
  float* loss;  // nullptr: not requested
  float* grad;
  std::uint16_t* grad_half;  // half views only: the gradient in the logits' dtype
};

// Device scratch behind focal::cuda::Workspace.
struct Scratch {
  Acc* partials = nullptr;
  std::size_t partials_capacity = 0;
  Acc* result = nullptr;
  void* temp = nullptr;  // CUB temp storage
  std::size_t temp_bytes = 0;
};
void grow_temp(Scratch& s, std::size_t bytes);

// One pass of `reducer` over `in` on `stream` (dispatch.cu): per-element outputs into o, the
// sum, count and bad-target flag into *s.result. p is validated; s.result is allocated.
void enqueue(cuda::Reducer reducer, const DenseView& in, const Params& p, const OutView& o,
             Scratch& s, cudaStream_t stream);
void enqueue(cuda::Reducer reducer, const SoftView& in, const Params& p, const OutView& o,
             Scratch& s, cudaStream_t stream);
void enqueue(cuda::Reducer reducer, const LabelView& in, const Params& p, const OutView& o,
             Scratch& s, cudaStream_t stream);
// Half logits (fp16, bf16; instantiated in dispatch.cu): the accurate reducers only (warp,
// cub_block, cub_device; warp_fast is a logic_error), any gamma (the element is Element).
template <Dtype D>
void enqueue(cuda::Reducer reducer, const HalfDenseView<D>& in, const Params& p,
             const OutView& o, Scratch& s, cudaStream_t stream);
template <Dtype D>
void enqueue(cuda::Reducer reducer, const HalfLabelView<D>& in, const Params& p,
             const OutView& o, Scratch& s, cudaStream_t stream);

// "cuda_cub_device" (cub_device_reduce.cu, instantiated there for every view): in.n > 0.
template <class View>
void enqueue_cub_device(const View& in, const Element& el, const OutView& o, Scratch& s,
                        cudaStream_t stream);

}  // namespace focal::cuda_detail
