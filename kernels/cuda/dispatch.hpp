// Internal to the CUDA backend (included by its .cu files only): device views of the inputs,
// the device scratch, error checks, and the dispatch entry point that the device-pointer API
// (device_api.cu) calls. Host code; the device code is in element_io.cuh and agent.cuh.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "../element.hpp"
#include "focal/cuda.hpp"
#include "plan.hpp"

namespace focal::cuda_detail {

using element::Element;
using element::FastElement;

// Throws focal::cuda_error("focal: <what>: <CUDA error name>: <text>") unless err is cudaSuccess.
void check(cudaError_t err, const char* what);
// After a launch: the launch's own error (bad configuration, no kernel image for this GPU).
void check_launch(const char* what);

struct DenseView {
  const float* x;
  const std::uint8_t* t;
  std::size_t n;
};
struct SoftView {
  const float* x;
  const float* t;
  std::size_t n;
};
struct LabelView {
  const float* x;
  const std::int32_t* labels;
  std::size_t n;  // rows * classes
  std::uint32_t classes;
};
struct OutView {
  float* loss;  // nullptr: not requested
  float* grad;
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

// "cuda_cub_device" (cub_device_reduce.cu): in.n > 0.
void enqueue_cub_device(const DenseView& in, const Element& el, const OutView& o, Scratch& s,
                        cudaStream_t stream);
void enqueue_cub_device(const SoftView& in, const Element& el, const OutView& o, Scratch& s,
                        cudaStream_t stream);
void enqueue_cub_device(const LabelView& in, const Element& el, const OutView& o, Scratch& s,
                        cudaStream_t stream);

}  // namespace focal::cuda_detail
