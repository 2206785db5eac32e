// focal-kernels on data already on a GPU: the CUDA kernels' device-pointer entry points.
//
// The registry's CUDA kernels ("cuda_warp", "cuda_cub", "cuda_cub_device") take host memory
// (focal_loss() copies in, runs, copies out). Callers whose tensors live on the GPU -- and the
// benchmarks -- use this header instead: the same kernels on device pointers, enqueued on a
// stream. Plain C++ (no CUDA header needed); a Stream is a cudaStream_t.
//
// Only declared when the library was built with CUDA (FOCAL_HAVE_CUDA); every function throws
// focal::cuda_error carrying the CUDA error text when a CUDA call fails, and
// focal::unavailable_kernel when no usable GPU is present.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <variant>

#include "focal/focal.hpp"

FOCAL_API_BEGIN  // exported from a shared build (focal/export.hpp)
struct CUstream_st;  // what cudaStream_t points to

namespace focal {

// A CUDA runtime call failed; what() names the call and carries CUDA's error text.
struct cuda_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace cuda {

using Stream = CUstream_st*;  // == cudaStream_t; nullptr is the default stream

// Device-resident inputs: the layouts of focal.hpp, as device pointers and sizes. Any pointer
// alignment is accepted (16-byte vector loads are used from the first index where all
// pointers are aligned; see kernels/cuda/plan.hpp).
struct DenseDeviceInput {
  const float* logits;
  const std::uint8_t* targets;
  std::size_t n;
};
struct SoftDeviceInput {
  const float* logits;
  const float* targets;
  std::size_t n;
};
// logits[rows * num_classes], labels[rows]: label < 0 ignored, == num_classes background;
// label > num_classes cannot be checked on the host here, so it sets Partial::bad_target.
struct LabelDeviceInput {
  const float* logits;
  const std::int32_t* labels;
  std::size_t rows;
  std::size_t num_classes;
};
// Half logits (focal.hpp's HalfDenseInput / HalfLabelInput on the device): fp16 or bf16 bit
// patterns per `dtype` (fp32 is an invalid_argument), read 2 bytes each and converted exactly
// in the kernel's loop. The accurate reducers only (warp, cub_block, cub_device; warp_fast is
// an invalid_argument); the same per-element bits as the fp32 input of the converted logits.
struct HalfDenseDeviceInput {
  const std::uint16_t* logits;
  const std::uint8_t* targets;
  std::size_t n;
  Dtype dtype;
};
struct HalfLabelDeviceInput {
  const std::uint16_t* logits;
  const std::int32_t* labels;
  std::size_t rows;
  std::size_t num_classes;
  Dtype dtype;
};
using DeviceInput = std::variant<DenseDeviceInput, SoftDeviceInput, LabelDeviceInput,
                                 HalfDenseDeviceInput, HalfLabelDeviceInput>;

// Optional per-element outputs (device pointers, nullptr = not requested), as focal::Outputs.
struct DeviceOutputs {
  float* loss = nullptr;
  float* grad = nullptr;
  std::uint16_t* grad_half = nullptr;  // half inputs only: the gradient in the logits' dtype
};

// Which kernel: the reduction that finishes the sum, and the element's precision (the first
// three evaluate the element in double, bit for bit alike; warp_fast in float):
enum class Reducer {
  warp,        // "cuda_warp": __shfl_down_sync warp sums, shared-memory block sum, fixed-order pass
  cub_block,   // "cuda_cub": cub::BlockReduce per block, cub::WarpReduce for the final pass
  cub_device,  // "cuda_cub_device": cub::DeviceReduce::TransformReduce (library baseline)
  warp_fast,   // "cuda_warp_fast": cuda_warp with the element in float (looser bound)
};

// True when a CUDA device with compute capability >= 8.0 is usable; otherwise false and, if
// why_not is given, the reason (e.g. "no CUDA device: CUDA driver version is insufficient...").
bool available(std::string* why_not = nullptr);

// Device scratch for one computation at a time (block partials, the result, CUB temp storage).
// Reuse one per stream; not for concurrent use from several threads.
class Workspace {
 public:
  Workspace();
  ~Workspace();
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;

  // Enqueues the whole computation on `stream` and returns at once. `params` as from
  // focal::validate() (alpha <= 1, gamma finite >= 0; checked again here).
  void enqueue(Reducer reducer, const DeviceInput& input, const Params& params,
               const DeviceOutputs& outputs = {}, Stream stream = nullptr);
  // Waits for `stream` and returns the last enqueued computation's sum, count and bad flag.
  Partial result(Stream stream = nullptr);

  struct Impl;

 private:
  Impl* impl_;
};

// enqueue() then result() with a workspace of its own (synchronous).
Partial run(Reducer reducer, const DeviceInput& input, const Params& params,
            const DeviceOutputs& outputs = {}, Stream stream = nullptr);

// Device memory (cudaMalloc behind it), for tests, tools and benchmarks that hold inputs on
// the GPU without including CUDA headers themselves.
class DeviceMemory {
 public:
  explicit DeviceMemory(std::size_t bytes);
  ~DeviceMemory();
  DeviceMemory(DeviceMemory&& other) noexcept;
  DeviceMemory& operator=(DeviceMemory&& other) noexcept;
  DeviceMemory(const DeviceMemory&) = delete;
  DeviceMemory& operator=(const DeviceMemory&) = delete;

  void* data() const { return ptr_; }
  std::size_t size() const { return bytes_; }
  template <class T>
  T* as(std::size_t byte_offset = 0) const {
    return reinterpret_cast<T*>(static_cast<char*>(ptr_) + byte_offset);
  }
  // Synchronous copies; byte ranges must lie inside the allocation.
  void upload(const void* host, std::size_t bytes, std::size_t byte_offset = 0);
  void download(void* host, std::size_t bytes, std::size_t byte_offset = 0) const;

 private:
  void* ptr_ = nullptr;
  std::size_t bytes_ = 0;
};

// Number of logits a device input covers.
std::size_t element_count(const DeviceInput& input);

}  // namespace cuda
}  // namespace focal
FOCAL_API_END
