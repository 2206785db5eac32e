// The device-pointer API of focal/cuda.hpp: availability, Workspace (validation, views of the
// device inputs, the pass via dispatch.cu, the result), run, DeviceMemory.
#include <cuda_runtime.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "dispatch.hpp"
#include "focal/cuda.hpp"

namespace focal::cuda {

using cuda_detail::Acc;
using cuda_detail::check;
using cuda_detail::DenseView;
using cuda_detail::LabelView;
using cuda_detail::OutView;
using cuda_detail::Scratch;
using cuda_detail::SoftView;

bool available(std::string* why_not) {
  static const std::string reason = []() -> std::string {
    int n = 0;
    const cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess) {
      (void)cudaGetLastError();
      return std::string("no CUDA device: ") + cudaGetErrorString(err);
    }
    if (n == 0) return "no CUDA device: none found";
    int dev = 0, major = 0, minor = 0;
    if (cudaGetDevice(&dev) != cudaSuccess ||
        cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) != cudaSuccess ||
        cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev) != cudaSuccess) {
      const cudaError_t e = cudaGetLastError();
      return std::string("CUDA device query failed: ") + cudaGetErrorString(e);
    }
    if (major < 8)
      return "GPU of compute capability " + std::to_string(major) + "." + std::to_string(minor) +
             ": these kernels are built for 8.0 and newer";
    return {};
  }();
  if (!reason.empty() && why_not) *why_not = reason;
  return reason.empty();
}

std::size_t element_count(const DeviceInput& input) {
  if (const auto* d = std::get_if<DenseDeviceInput>(&input)) return d->n;
  if (const auto* s = std::get_if<SoftDeviceInput>(&input)) return s->n;
  const auto& l = std::get<LabelDeviceInput>(input);
  return l.rows * l.num_classes;
}

struct Workspace::Impl {
  Scratch scratch;
};

Workspace::Workspace() : impl_(new Impl) {}

Workspace::~Workspace() {
  // Errors are ignored here: destructors must not throw, and at process exit the runtime may
  // already be gone.
  if (impl_->scratch.partials) (void)cudaFree(impl_->scratch.partials);
  if (impl_->scratch.result) (void)cudaFree(impl_->scratch.result);
  if (impl_->scratch.temp) (void)cudaFree(impl_->scratch.temp);
  delete impl_;
}

void Workspace::enqueue(Reducer reducer, const DeviceInput& input, const Params& params,
                        const DeviceOutputs& outputs, Stream stream) {
  std::string why;
  if (!available(&why)) throw unavailable_kernel("focal: CUDA kernels unavailable: " + why);
  if (std::isnan(params.alpha) || params.alpha > 1.0f)
    throw invalid_argument("focal: argument 'alpha': expected a value <= 1, got " +
                           std::to_string(params.alpha));
  if (!std::isfinite(params.gamma) || params.gamma < 0.0f)
    throw invalid_argument("focal: argument 'gamma': expected a finite value >= 0, got " +
                           std::to_string(params.gamma));
  Scratch& s = impl_->scratch;
  if (!s.result) check(cudaMalloc(&s.result, sizeof(Acc)), "cudaMalloc (result)");
  const OutView o{outputs.loss, outputs.grad, nullptr};
  const cudaStream_t st = stream;
  if (const auto* d = std::get_if<DenseDeviceInput>(&input)) {
    cuda_detail::enqueue(reducer, DenseView{d->logits, d->targets, d->n}, params, o, s, st);
  } else if (const auto* sf = std::get_if<SoftDeviceInput>(&input)) {
    cuda_detail::enqueue(reducer, SoftView{sf->logits, sf->targets, sf->n}, params, o, s, st);
  } else {
    const auto& l = std::get<LabelDeviceInput>(input);
    if (l.num_classes == 0 || l.num_classes > 0x7fffffffu)
      throw invalid_argument("focal: argument 'num_classes': expected a number of classes in "
                             "[1, 2^31-1], got " + std::to_string(l.num_classes));
    const LabelView v{l.logits, l.labels, l.rows * l.num_classes, std::uint32_t(l.num_classes)};
    cuda_detail::enqueue(reducer, v, params, o, s, st);
  }
}

Partial Workspace::result(Stream stream) {
  Scratch& s = impl_->scratch;
  if (!s.result) throw std::logic_error("focal::cuda::Workspace::result before enqueue");
  Acc a{};
  check(cudaMemcpyAsync(&a, s.result, sizeof(Acc), cudaMemcpyDeviceToHost, stream),
        "cudaMemcpyAsync (result)");
  check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
  return Partial{a.sum, a.count, a.bad != 0};
}

Partial run(Reducer reducer, const DeviceInput& input, const Params& params,
            const DeviceOutputs& outputs, Stream stream) {
  Workspace ws;
  ws.enqueue(reducer, input, params, outputs, stream);
  return ws.result(stream);
}

DeviceMemory::DeviceMemory(std::size_t bytes) : bytes_(bytes) {
  if (bytes > 0) check(cudaMalloc(&ptr_, bytes), "cudaMalloc (DeviceMemory)");
}
DeviceMemory::~DeviceMemory() {
  if (ptr_) (void)cudaFree(ptr_);
}
DeviceMemory::DeviceMemory(DeviceMemory&& other) noexcept : ptr_(other.ptr_), bytes_(other.bytes_) {
  other.ptr_ = nullptr;
  other.bytes_ = 0;
}
DeviceMemory& DeviceMemory::operator=(DeviceMemory&& other) noexcept {
  if (this != &other) {
    if (ptr_) (void)cudaFree(ptr_);
    ptr_ = other.ptr_;
    bytes_ = other.bytes_;
    other.ptr_ = nullptr;
    other.bytes_ = 0;
  }
  return *this;
}
void DeviceMemory::upload(const void* host, std::size_t bytes, std::size_t byte_offset) {
  if (byte_offset + bytes > bytes_)
    throw invalid_argument("focal: argument 'bytes': expected a range inside the " +
                           std::to_string(bytes_) + "-byte allocation");
  check(cudaMemcpy(as<char>(byte_offset), host, bytes, cudaMemcpyHostToDevice), "cudaMemcpy (upload)");
}
void DeviceMemory::download(void* host, std::size_t bytes, std::size_t byte_offset) const {
  if (byte_offset + bytes > bytes_)
    throw invalid_argument("focal: argument 'bytes': expected a range inside the " +
                           std::to_string(bytes_) + "-byte allocation");
  check(cudaMemcpy(host, as<char>(byte_offset), bytes, cudaMemcpyDeviceToHost), "cudaMemcpy (download)");
}

}  // namespace focal::cuda
