// The CUDA kernels: "cuda_warp" (hand-written reduction), "cuda_cub" (cub::BlockReduce /
// cub::WarpReduce), and the host-memory and device-pointer entry points of all three (the
// third, "cuda_cub_device", is in cub_device_reduce.cu).
//
// Valid range and error (all three): the whole float32 range of logits, binary, soft and
// class-label targets, gamma in [0, 8]. Each element is evaluated in double with CUDA's double
// exp/log1p/pow (<= 2 ulp of double) and rounded to float once: declared bound 1 ULP for
// gamma 0..4 and relative 1.2e-7 otherwise, the scalar reference's bound (NOTES.md has the
// error count). Per-element results of the three kernels are bitwise identical (same element
// code, --fmad=false). Sum: double, chunks of 16 summed first, then per thread, warp, block,
// and a fixed-order pass over the block partials: relative error <= ~600 * 2^-53 for n <=
// 2^31, and bitwise identical on every run on a given GPU (the grid depends only on n, the
// SM count and the occupancy; no floating-point atomics).
//
// "cuda_warp_fast" (the fast tier): cuda_warp with the element in float (math.hpp, T = float,
// CUDA's accurate expf/log1pf/powf, IEEE division; no __expf). Declared bound 24 ULP for gamma
// 0..4, relative 4e-6 otherwise (from CUDA's documented errors, NOTES.md); same sum and
// reduction as cuda_warp.
#include <cuda_runtime.h>

#include <cub/block/block_reduce.cuh>
#include <cub/warp/warp_reduce.cuh>

#include <cmath>
#include <map>
#include <mutex>
#include <utility>
#include <string>
#include <type_traits>
#include <vector>

#include "../backends.hpp"
#include "focal/cuda.hpp"
#include "internal.hpp"

namespace focal {
namespace cuda_detail {

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

// Defined in cub_device_reduce.cu.
void enqueue_cub_device(const DenseView& in, const Element& el, const OutView& o, Scratch& s,
                        cudaStream_t stream);
void enqueue_cub_device(const SoftView& in, const Element& el, const OutView& o, Scratch& s,
                        cudaStream_t stream);
void enqueue_cub_device(const LabelView& in, const Element& el, const OutView& o, Scratch& s,
                        cudaStream_t stream);

namespace {

constexpr int kThreads = 256;
constexpr unsigned kFullMask = 0xffffffffu;

// ------------------------------------------------------------------------------------------
// Device code
// ------------------------------------------------------------------------------------------

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

// ------------------------------------------------------------------------------------------
// Host side
// ------------------------------------------------------------------------------------------

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
  if (reducer == cuda::Reducer::cub_device)
    enqueue_cub_device(in, Element::make(p.alpha, p.gamma, p.grad_scale), o, s, stream);
  else if (reducer == cuda::Reducer::warp_fast)
    enqueue_blocks(reducer, in, FastElement::make(p.alpha, p.gamma, p.grad_scale), o, plan, s, stream);
  else
    enqueue_blocks(reducer, in, Element::make(p.alpha, p.gamma, p.grad_scale), o, plan, s, stream);
}

std::uintptr_t addr(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

}  // namespace
}  // namespace cuda_detail

// ============================================================================================
// focal/cuda.hpp
// ============================================================================================
namespace cuda {

using namespace cuda_detail;

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
  const OutView o{outputs.loss, outputs.grad};
  const cudaStream_t st = stream;
  if (const auto* d = std::get_if<DenseDeviceInput>(&input)) {
    const DenseView v{d->logits, d->targets, d->n};
    enqueue_view(reducer, v, params, o, plan_vectors(v.n, addr(v.x), addr(v.t), 1, addr(o.loss), addr(o.grad)), s, st);
  } else if (const auto* sf = std::get_if<SoftDeviceInput>(&input)) {
    const SoftView v{sf->logits, sf->targets, sf->n};
    enqueue_view(reducer, v, params, o, plan_vectors(v.n, addr(v.x), addr(v.t), 4, addr(o.loss), addr(o.grad)), s, st);
  } else {
    const auto& l = std::get<LabelDeviceInput>(input);
    if (l.num_classes == 0 || l.num_classes > 0x7fffffffu)
      throw invalid_argument("focal: argument 'num_classes': expected a number of classes in "
                             "[1, 2^31-1], got " + std::to_string(l.num_classes));
    const LabelView v{l.logits, l.labels, l.rows * l.num_classes, std::uint32_t(l.num_classes)};
    enqueue_view(reducer, v, params, o, plan_vectors(v.n, addr(v.x), 0, 0, addr(o.loss), addr(o.grad)), s, st);
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

}  // namespace cuda

// ============================================================================================
// Registry entries: host memory in, host memory out.
// ============================================================================================
namespace {

using cuda_detail::check;

// Grow-only device buffers, reused across calls (one caller at a time).
struct DeviceBuffer {
  void* ptr = nullptr;
  std::size_t capacity = 0;
  void* reserve(std::size_t bytes) {
    if (bytes > capacity) {
      if (ptr) check(cudaFree(ptr), "cudaFree (staging)");
      ptr = nullptr;
      capacity = 0;
      check(cudaMalloc(&ptr, bytes), "cudaMalloc (input/output buffer)");
      capacity = bytes;
    }
    return ptr;
  }
};
struct HostPath {
  std::mutex mu;
  DeviceBuffer logits, targets, loss, grad;
  cuda::Workspace workspace;
};
// Never destroyed: freeing device memory during static destruction races the runtime's own
// teardown; the process exit releases it.
HostPath& host_path() {
  static HostPath* p = new HostPath;
  return *p;
}

template <class T>
const T* upload(DeviceBuffer& b, std::span<const T> v) {
  void* d = b.reserve(v.size_bytes());
  check(cudaMemcpy(d, v.data(), v.size_bytes(), cudaMemcpyHostToDevice), "cudaMemcpy (input)");
  return static_cast<const T*>(d);
}

Partial run_host(cuda::Reducer reducer, const Input& in, const Params& p, const Outputs& out) {
  const std::size_t n = element_count(in);
  if (n == 0) return Partial{};
  HostPath& h = host_path();
  std::lock_guard<std::mutex> lock(h.mu);
  cuda::DeviceInput dev;
  if (const auto* d = std::get_if<DenseInput>(&in)) {
    dev = cuda::DenseDeviceInput{upload(h.logits, d->logits), upload(h.targets, d->targets), n};
  } else if (const auto* s = std::get_if<SoftInput>(&in)) {
    dev = cuda::SoftDeviceInput{upload(h.logits, s->logits), upload(h.targets, s->targets), n};
  } else {
    const auto& l = std::get<LabelInput>(in);
    dev = cuda::LabelDeviceInput{upload(h.logits, l.logits), upload(h.targets, l.labels),
                                 l.labels.size(), l.num_classes};
  }
  cuda::DeviceOutputs dout;
  if (!out.loss.empty()) dout.loss = static_cast<float*>(h.loss.reserve(out.loss.size_bytes()));
  if (!out.grad.empty()) dout.grad = static_cast<float*>(h.grad.reserve(out.grad.size_bytes()));
  h.workspace.enqueue(reducer, dev, p, dout, nullptr);
  const Partial part = h.workspace.result(nullptr);
  if (dout.loss)
    check(cudaMemcpy(out.loss.data(), dout.loss, out.loss.size_bytes(), cudaMemcpyDeviceToHost),
          "cudaMemcpy (loss)");
  if (dout.grad)
    check(cudaMemcpy(out.grad.data(), dout.grad, out.grad.size_bytes(), cudaMemcpyDeviceToHost),
          "cudaMemcpy (grad)");
  return part;
}

Partial run_warp(const Input& in, const Params& p, const Outputs& o) {
  return run_host(cuda::Reducer::warp, in, p, o);
}
Partial run_cub(const Input& in, const Params& p, const Outputs& o) {
  return run_host(cuda::Reducer::cub_block, in, p, o);
}
Partial run_cub_device(const Input& in, const Params& p, const Outputs& o) {
  return run_host(cuda::Reducer::cub_device, in, p, o);
}
Partial run_warp_fast(const Input& in, const Params& p, const Outputs& o) {
  return run_host(cuda::Reducer::warp_fast, in, p, o);
}
bool cuda_available(std::string* why) { return cuda::available(why); }

// Priority below the CPU kernels: for host-memory inputs the PCIe copies dominate (5 bytes per
// logit each way at ~50 GB/s is slower than the CPU kernels' own pass), so the registry only
// picks a CUDA kernel when forced (FOCAL_KERNEL) or when nothing else is built.
const KernelInfo kCuda[] = {
    {.name = "cuda_warp",
     .backend = "cuda",
     .isa = "sm_80/sm_90",
     .bound = element::kDeclaredBound,
     .bitwise_equal_to = "",
     .priority = 5,
     .available = cuda_available,
     .run = run_warp},
    {.name = "cuda_cub",
     .backend = "cuda",
     .isa = "sm_80/sm_90",
     .bound = element::kDeclaredBound,
     .bitwise_equal_to = "cuda_warp",
     .priority = 4,
     .available = cuda_available,
     .run = run_cub},
    {.name = "cuda_cub_device",
     .backend = "cuda",
     .isa = "sm_80/sm_90",
     .bound = element::kDeclaredBound,
     .bitwise_equal_to = "cuda_warp",
     .priority = 3,
     .available = cuda_available,
     .run = run_cub_device},
    // The fast tier: the element in float with CUDA's accurate float functions (no __expf),
    // otherwise cuda_warp. Its own, looser bound (NOTES.md): for bandwidth-bound use.
    {.name = "cuda_warp_fast",
     .backend = "cuda",
     .isa = "sm_80/sm_90",
     .bound = element::kFastDeclaredBound,
     .bitwise_equal_to = "",
     .priority = 2,
     .available = cuda_available,
     .run = run_warp_fast},
};

}  // namespace

std::span<const KernelInfo> backends::cuda_kernels() { return kCuda; }

}  // namespace focal
