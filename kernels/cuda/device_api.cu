// The device-pointer API of focal/cuda.hpp: availability, Workspace (validation, views of the
// device inputs -- fp32 or half logits -- the pass via dispatch.cu, the result), run,
// DeviceMemory.
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
  if (const auto* l = std::get_if<LabelDeviceInput>(&input)) return l->rows * l->num_classes;
  if (const auto* h = std::get_if<HalfDenseDeviceInput>(&input)) return h->n;
  const auto& hl = std::get<HalfLabelDeviceInput>(input);
  return hl.rows * hl.num_classes;
}

namespace {

std::uint32_t checked_classes(std::size_t c) {
  if (c == 0 || c > 0x7fffffffu)
    throw invalid_argument("focal: argument 'num_classes': expected a number of classes in "
                           "[1, 2^31-1], got " + std::to_string(c));
  return std::uint32_t(c);
}

// Half logits: the dtype as a template argument of the views (dispatch.cu instantiates both).
void enqueue_half(Reducer reducer, const DeviceInput& input, const Params& params,
                  const OutView& o, Scratch& s, cudaStream_t st) {
  const auto* dense = std::get_if<HalfDenseDeviceInput>(&input);
  const Dtype dtype = dense ? dense->dtype : std::get<HalfLabelDeviceInput>(input).dtype;
  if (dtype != Dtype::fp16 && dtype != Dtype::bf16)
    throw invalid_argument("focal: argument 'input.dtype': expected fp16 or bf16 for half logits, "
                           "got " + std::string(to_string(dtype)));
  if (reducer == Reducer::warp_fast)
    throw invalid_argument("focal: argument 'reducer': expected warp, cub_block or cub_device for "
                           "half logits, got warp_fast (fp32 logits only)");
  auto run = [&]<Dtype D>() {
    using X = cuda_detail::Half<D>;
    if (dense) {
      const cuda_detail::HalfDenseView<D> v{reinterpret_cast<const X*>(dense->logits),
                                            dense->targets, dense->n};
      cuda_detail::enqueue<D>(reducer, v, params, o, s, st);
    } else {
      const auto& l = std::get<HalfLabelDeviceInput>(input);
      const cuda_detail::HalfLabelView<D> v{reinterpret_cast<const X*>(l.logits), l.labels,
                                            l.rows * l.num_classes, checked_classes(l.num_classes)};
      cuda_detail::enqueue<D>(reducer, v, params, o, s, st);
    }
  };
  if (dtype == Dtype::bf16) run.template operator()<Dtype::bf16>();
  else run.template operator()<Dtype::fp16>();
}

}  // namespace

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
  const OutView o{outputs.loss, outputs.grad, outputs.grad_half};
  const cudaStream_t st = stream;
  const bool half = std::holds_alternative<HalfDenseDeviceInput>(input) ||
                    std::holds_alternative<HalfLabelDeviceInput>(input);
  if (!half && outputs.grad_half)
    throw invalid_argument("focal: argument 'outputs.grad_half': expected nullptr with fp32 "
                           "logits (a half gradient needs half logits)");
  if (half) {
    enqueue_half(reducer, input, params, o, s, st);
  } else if (const auto* d = std::get_if<DenseDeviceInput>(&input)) {
    cuda_detail::enqueue(reducer, DenseView{d->logits, d->targets, d->n}, params, o, s, st);
  } else if (const auto* sf = std::get_if<SoftDeviceInput>(&input)) {
    cuda_detail::enqueue(reducer, SoftView{sf->logits, sf->targets, sf->n}, params, o, s, st);
  } else {
    const auto& l = std::get<LabelDeviceInput>(input);
    const LabelView v{l.logits, l.labels, l.rows * l.num_classes, checked_classes(l.num_classes)};
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
