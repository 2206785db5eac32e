// CUDA benchmarks for focal-bench: the registry's CUDA kernels on device-resident data, timed
// with CUDA events on a stream (UseManualTime) after a warm-up, beside two ceilings measured in
// the same run over the same bytes:
//   probe_cuda_read/n:<n>  cub::DeviceReduce::Sum over as many bytes as the dense input of n
//                          logits (5n bytes: fp32 logits + u8 targets),
//   probe_cuda_copy/n:<n>  cudaMemcpyAsync device-to-device of those 5n bytes (counted as 10n:
//                          read + write),
// and what a caller whose data is on the host pays on top (pinned host memory):
//   probe_cuda_h2d/n:<n>   host-to-device copy of the dense input's 5n bytes,
//   probe_cuda_d2h/n:<n>   device-to-host copy of an fp32 gradient's 4n bytes.
// Names, layout words, counters and bytes: bench/names.hpp, as for the CPU benchmarks.
// Inputs are rotated among enough copies that consecutive iterations touch more than 3x the L2,
// so the numbers are DRAM numbers also for n below the L2 size.
#include <benchmark/benchmark.h>
#include <cuda_runtime.h>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cub/device/device_reduce.cuh>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cuda_bench.hpp"
#include "focal/cuda.hpp"
#include "focal/focal.hpp"

namespace focal::bench {
namespace {

void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess)
    throw cuda_error(std::string("focal-bench: CUDA ") + what + ": " + cudaGetErrorString(err));
}

constexpr std::size_t kClasses = kLabelClasses;

// Random inputs generated on the device (a hash per index: no host generation of 2^28 values).
__device__ __forceinline__ std::uint32_t mix(std::uint64_t v) {
  v ^= v >> 33;
  v *= 0xff51afd7ed558ccdull;
  v ^= v >> 33;
  v *= 0xc4ceb9fe1a85ec53ull;
  v ^= v >> 33;
  return std::uint32_t(v);
}
// x: fp32 logits, or half logits (fp16 / bf16 bits, rounded to nearest) when xh is set.
__global__ void fill(float* x, std::uint16_t* xh, bool bf16, std::uint8_t* t8, float* tf,
                     std::int32_t* labels, std::size_t n, std::size_t rows, std::uint64_t seed) {
  const std::size_t stride = std::size_t(gridDim.x) * blockDim.x;
  for (std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const std::uint32_t h = mix(seed * 0x9e3779b97f4a7c15ull + i);
    const float v = -4.6f + 8.0f * (float(h >> 8) * 0x1p-24f - 0.5f);  // prior bias -log(99) +- 4
    if (xh)
      xh[i] = bf16 ? __bfloat16_as_ushort(__float2bfloat16_rn(v)) : __half_as_ushort(__float2half_rn(v));
    else
      x[i] = v;
    if (t8) t8[i] = (h & 0x3ffu) == 0 ? 1 : 0;                   // ~1 positive in 1000
    if (tf) tf[i] = float(h & 0xffu) * (1.0f / 255.0f);
    if (labels && i < rows) labels[i] = int(h % (kClasses + 8)) - 4;  // some ignored (<0), some background (== C)
  }
}

// All input copies of one (layout, n), kept until a different one is asked for.
struct Arena {
  Layout layout;
  std::size_t n = 0;     // logits per copy
  std::size_t rows = 0;  // labels layout
  std::size_t copies = 1;
  std::unique_ptr<cuda::DeviceMemory> x, t, grad;
  std::size_t input_bytes() const { return std::size_t(moved_bytes(layout, n, false)); }
  cuda::DeviceInput input(std::size_t c) const {
    if (is_half(layout)) {
      const std::uint16_t* xh = x->as<std::uint16_t>() + c * n;
      const Dtype d = is_bf16(layout) ? Dtype::bf16 : Dtype::fp16;
      if (is_labels(layout))
        return cuda::HalfLabelDeviceInput{xh, t->as<std::int32_t>() + c * rows, rows, kClasses, d};
      return cuda::HalfDenseDeviceInput{xh, t->as<std::uint8_t>() + c * n, n, d};
    }
    const float* xs = x->as<float>() + c * n;
    if (layout == Layout::dense) return cuda::DenseDeviceInput{xs, t->as<std::uint8_t>() + c * n, n};
    if (layout == Layout::soft) return cuda::SoftDeviceInput{xs, t->as<float>() + c * n, n};
    return cuda::LabelDeviceInput{xs, t->as<std::int32_t>() + c * rows, rows, kClasses};
  }
  // The gradient output of copy c, in the logits' type.
  void set_grad(cuda::DeviceOutputs& out, std::size_t c) const {
    if (is_half(layout))
      out.grad_half = grad->as<std::uint16_t>() + c * n;
    else
      out.grad = grad->as<float>() + c * n;
  }
};

std::size_t l2_bytes() {
  int dev = 0, l2 = 0;
  check(cudaGetDevice(&dev), "cudaGetDevice");
  check(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, dev), "cudaDeviceGetAttribute");
  return std::size_t(l2);
}
// Copies so that one pass over all of them moves more than 3x the L2.
std::size_t copies_for(std::size_t bytes_per_copy) {
  const std::size_t want = 3 * l2_bytes();
  return bytes_per_copy >= want ? 1 : (want + bytes_per_copy - 1) / bytes_per_copy;
}

Arena& arena(Layout layout, std::size_t n_wanted, bool with_grad) {
  static std::unique_ptr<Arena> cur;
  const std::size_t n = layout_logits(layout, n_wanted);
  if (cur && cur->layout == layout && cur->n == n && (!with_grad || cur->grad)) return *cur;
  cur.reset();  // free the previous arena first
  auto a = std::make_unique<Arena>();
  a->layout = layout;
  a->n = n;
  a->rows = is_labels(layout) ? n / kClasses : 0;
  const std::size_t logit_bytes = is_half(layout) ? 2 : 4;
  a->copies = copies_for(a->input_bytes() + logit_bytes * n);
  const std::size_t total = a->n * a->copies;
  a->x = std::make_unique<cuda::DeviceMemory>(logit_bytes * total);
  const bool dense = !is_labels(layout) && layout != Layout::soft;
  const std::size_t tbytes = dense ? total : layout == Layout::soft ? 4 * total : 4 * a->rows * a->copies;
  a->t = std::make_unique<cuda::DeviceMemory>(tbytes);
  a->grad = std::make_unique<cuda::DeviceMemory>(logit_bytes * total);
  fill<<<1024, 256>>>(is_half(layout) ? nullptr : a->x->as<float>(),
                      is_half(layout) ? a->x->as<std::uint16_t>() : nullptr, is_bf16(layout),
                      dense ? a->t->as<std::uint8_t>() : nullptr,
                      layout == Layout::soft ? a->t->as<float>() : nullptr,
                      is_labels(layout) ? a->t->as<std::int32_t>() : nullptr, total,
                      a->rows * a->copies, 12345);
  check(cudaGetLastError(), "launch fill");
  check(cudaDeviceSynchronize(), "fill");
  cur = std::move(a);
  return *cur;
}

// Probe results per n (GB/s), for the fractions.
std::map<std::size_t, double>& probe_read_gbps() {
  static std::map<std::size_t, double> m;
  return m;
}
std::map<std::size_t, double>& probe_copy_gbps() {
  static std::map<std::size_t, double> m;
  return m;
}

// Times `body(copy_index, stream)` with events; returns total seconds and iterations.
template <class Body>
void timed_loop(benchmark::State& st, std::size_t copies, Body&& body, double bytes_per_iter,
                std::size_t items_per_iter, std::map<std::size_t, double>* record,
                std::size_t n_key) {
  cudaStream_t stream = nullptr;
  check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
  cudaEvent_t start = nullptr, stop = nullptr;
  check(cudaEventCreate(&start), "cudaEventCreate");
  check(cudaEventCreate(&stop), "cudaEventCreate");
  for (int w = 0; w < 3; ++w) body(std::size_t(w) % copies, stream);  // warm-up
  check(cudaStreamSynchronize(stream), "warm-up");
  std::size_t k = 0;
  double seconds = 0;
  for (auto _ : st) {
    check(cudaEventRecord(start, stream), "cudaEventRecord");
    body(k++ % copies, stream);
    check(cudaEventRecord(stop, stream), "cudaEventRecord");
    check(cudaEventSynchronize(stop), "cudaEventSynchronize");
    float ms = 0;
    check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
    st.SetIterationTime(double(ms) * 1e-3);
    seconds += double(ms) * 1e-3;
  }
  check(cudaEventDestroy(start), "cudaEventDestroy");
  check(cudaEventDestroy(stop), "cudaEventDestroy");
  check(cudaStreamDestroy(stream), "cudaStreamDestroy");
  const double iters = double(st.iterations());
  st.SetItemsProcessed(std::int64_t(iters) * std::int64_t(items_per_iter));
  st.SetBytesProcessed(std::int64_t(bytes_per_iter * iters));
  const double gbps = seconds > 0 ? bytes_per_iter * iters / seconds * 1e-9 : 0;
  if (record) (*record)[n_key] = gbps;
  if (!record) {
    if (auto it = probe_read_gbps().find(n_key); it != probe_read_gbps().end() && it->second > 0)
      st.counters[kCounterFracRead] = gbps / it->second;
    if (auto it = probe_copy_gbps().find(n_key); it != probe_copy_gbps().end() && it->second > 0)
      st.counters[kCounterFracCopy] = gbps / it->second;
  }
}

void bm_probe_read(benchmark::State& st) {
  const auto n = std::size_t(st.range(0));
  try {
    const std::size_t bytes = 5 * n, floats = bytes / 4;
    const std::size_t copies = copies_for(bytes);
    cuda::DeviceMemory in(floats * copies * 4), out(8);
    // Finite values (the sum's value is irrelevant; only the bytes read matter).
    check(cudaMemset(in.data(), 0x3c, in.size()), "cudaMemset");
    std::size_t temp_bytes = 0;
    check(cub::DeviceReduce::Sum(nullptr, temp_bytes, in.as<float>(), out.as<float>(), floats), "cub::DeviceReduce::Sum");
    cuda::DeviceMemory temp(temp_bytes);
    timed_loop(
        st, copies,
        [&](std::size_t c, cudaStream_t s) {
          check(cub::DeviceReduce::Sum(temp.data(), temp_bytes, in.as<float>() + c * floats,
                                       out.as<float>(), floats, s),
                "cub::DeviceReduce::Sum");
        },
        double(floats * 4), n, &probe_read_gbps(), n);
  } catch (const std::exception& e) {
    st.SkipWithError(e.what());
  }
}

void bm_probe_copy(benchmark::State& st) {
  const auto n = std::size_t(st.range(0));
  try {
    const std::size_t bytes = 5 * n;
    const std::size_t copies = copies_for(2 * bytes);
    cuda::DeviceMemory src(bytes * copies), dst(bytes * copies);
    check(cudaMemset(src.data(), 1, src.size()), "cudaMemset");
    timed_loop(
        st, copies,
        [&](std::size_t c, cudaStream_t s) {
          check(cudaMemcpyAsync(dst.as<char>(c * bytes), src.as<char>(c * bytes), bytes,
                                cudaMemcpyDeviceToDevice, s),
                "cudaMemcpyAsync");
        },
        double(2 * bytes), n, &probe_copy_gbps(), n);
  } catch (const std::exception& e) {
    st.SkipWithError(e.what());
  }
}

// Pinned host memory (cudaMallocHost): what a DataLoader with pin_memory hands over.
class PinnedMemory {
 public:
  explicit PinnedMemory(std::size_t bytes) {
    check(cudaMallocHost(&p_, bytes), "cudaMallocHost");
  }
  ~PinnedMemory() { cudaFreeHost(p_); }
  PinnedMemory(const PinnedMemory&) = delete;
  PinnedMemory& operator=(const PinnedMemory&) = delete;
  char* data() const { return static_cast<char*>(p_); }

 private:
  void* p_ = nullptr;
};

// One transfer direction over `bytes` (to_device: host -> device), timed like the kernels.
void transfer_probe(benchmark::State& st, std::size_t bytes, bool to_device) {
  const auto n = std::size_t(st.range(0));
  try {
    PinnedMemory host(bytes);
    cuda::DeviceMemory dev(bytes);
    std::memset(host.data(), 1, bytes);
    std::map<std::size_t, double> rate;  // not a ceiling for the kernels' fractions
    timed_loop(
        st, 1,
        [&](std::size_t, cudaStream_t s) {
          check(to_device ? cudaMemcpyAsync(dev.data(), host.data(), bytes, cudaMemcpyHostToDevice, s)
                          : cudaMemcpyAsync(host.data(), dev.data(), bytes, cudaMemcpyDeviceToHost, s),
                "cudaMemcpyAsync");
        },
        double(bytes), n, &rate, n);
  } catch (const std::exception& e) {
    st.SkipWithError(e.what());
  }
}
// Up: the dense input (moved_bytes of a dense sum); down: its fp32 gradient (what a dense grad
// moves beyond the sum).
void bm_probe_h2d(benchmark::State& st) {
  const auto n = std::size_t(st.range(0));
  transfer_probe(st, std::size_t(moved_bytes(Layout::dense, n, false)), true);
}
void bm_probe_d2h(benchmark::State& st) {
  const auto n = std::size_t(st.range(0));
  transfer_probe(st, std::size_t(moved_bytes(Layout::dense, n, true) - moved_bytes(Layout::dense, n, false)), false);
}

void bm_focal(benchmark::State& st, cuda::Reducer reducer, Layout layout, bool grad) {
  const auto n = std::size_t(st.range(0));
  try {
    Arena& a = arena(layout, n, grad);
    cuda::Workspace ws;
    const Params params{0.25f, 2.0f, grad ? 1.0 / double(a.n) : 1.0};
    const double bytes = moved_bytes(layout, a.n, grad);
    timed_loop(
        st, a.copies,
        [&](std::size_t c, cudaStream_t s) {
          cuda::DeviceOutputs out;
          if (grad) a.set_grad(out, c);
          ws.enqueue(reducer, a.input(c), params, out, s);
        },
        bytes, a.n, nullptr, n);
    st.counters[kCounterBytesPerLogit] = bytes / double(a.n);
    const Partial p = ws.result(nullptr);
    if (!is_labels(layout) && p.count != a.n) st.SkipWithError("wrong count");
    if (!std::isfinite(p.sum)) st.SkipWithError("non-finite sum");
  } catch (const std::exception& e) {
    st.SkipWithError(e.what());
  }
}

// The device-pointer API's reducer behind each registry name (the registry is the list of
// kernels; this maps those it has to the enum the device API takes).
bool reducer_for(std::string_view name, cuda::Reducer* out) {
  static const std::pair<std::string_view, cuda::Reducer> table[] = {
      {"cuda_warp", cuda::Reducer::warp},
      {"cuda_cub", cuda::Reducer::cub_block},
      {"cuda_cub_device", cuda::Reducer::cub_device},
      {"cuda_warp_fast", cuda::Reducer::warp_fast}};
  for (const auto& [n, r] : table)
    if (n == name) {
      *out = r;
      return true;
    }
  return false;
}

}  // namespace

void add_cuda_context() {
  std::string why;
  if (!cuda::available(&why)) {
    benchmark::AddCustomContext("cuda", "unavailable: " + why);
    return;
  }
  int dev = 0;
  cudaDeviceProp p{};
  if (cudaGetDevice(&dev) != cudaSuccess || cudaGetDeviceProperties(&p, dev) != cudaSuccess) return;
  int mem_khz = 0, bus_bits = 0, driver = 0, runtime = 0;
  (void)cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, dev);
  (void)cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, dev);
  (void)cudaDriverGetVersion(&driver);
  (void)cudaRuntimeGetVersion(&runtime);
  benchmark::AddCustomContext("cuda_gpu", p.name);
  benchmark::AddCustomContext("cuda_sm_count", std::to_string(p.multiProcessorCount));
  benchmark::AddCustomContext("cuda_compute_capability", std::to_string(p.major) + "." + std::to_string(p.minor));
  benchmark::AddCustomContext("cuda_l2_bytes", std::to_string(p.l2CacheSize));
  benchmark::AddCustomContext("cuda_memory_clock_khz", std::to_string(mem_khz));
  benchmark::AddCustomContext("cuda_memory_bus_bits", std::to_string(bus_bits));
  // Double data rate: 2 transfers per clock.
  const double peak = 2.0 * double(mem_khz) * 1e3 * double(bus_bits) / 8.0 * 1e-9;
  benchmark::AddCustomContext("cuda_peak_dram_GBps", std::to_string(peak));
  benchmark::AddCustomContext("cuda_driver_runtime", std::to_string(driver) + "/" + std::to_string(runtime));
}

int register_cuda_benchmarks(const std::vector<std::string>& kernels,
                             const std::vector<int>& log2_sizes,
                             const std::vector<Layout>& layouts) {
  std::string why;
  if (!cuda::available(&why)) {
    std::fprintf(stderr, "focal-bench: CUDA benchmarks not registered: %s\n", why.c_str());
    return 0;
  }
  std::vector<std::pair<std::string, cuda::Reducer>> chosen;
  for (const auto& k : focal::kernels()) {
    if (k.backend != "cuda") continue;
    const std::string name(k.name);
    if (!kernels.empty() && std::find(kernels.begin(), kernels.end(), name) == kernels.end()) continue;
    cuda::Reducer r;
    if (reducer_for(name, &r))
      chosen.emplace_back(name, r);
    else
      std::fprintf(stderr, "focal-bench: CUDA kernel '%s' has no device-pointer reducer: not benchmarked\n",
                   name.c_str());
  }
  const std::vector<int> sizes = log2_sizes.empty() ? std::vector<int>{16, 20, 24, 27, 28} : log2_sizes;
  auto reg = [](const std::string& name, auto fn, auto... args) {
    return benchmark::RegisterBenchmark(name.c_str(), fn, args...)
        ->ArgName(kArgN)->UseManualTime()->Unit(benchmark::kMicrosecond);
  };
  int count = 0;
  for (int lg : sizes) {
    const auto n = std::int64_t(1) << lg;
    // Probes first: the kernels' fractions use the probe measured just before, in this run.
    reg(kProbeCudaRead, bm_probe_read)->Arg(n);
    reg(kProbeCudaCopy, bm_probe_copy)->Arg(n);
    reg(kProbeCudaH2D, bm_probe_h2d)->Arg(n);
    reg(kProbeCudaD2H, bm_probe_d2h)->Arg(n);
    // dense at every size; the others at 2^24 and 2^27 only (every size when sizes were given)
    for (Layout l : kLayouts) {
      if (std::find(layouts.begin(), layouts.end(), l) == layouts.end()) continue;
      // Half logits: the accurate reducers only (focal/cuda.hpp); warp_fast converts on the host.
      if (l != Layout::dense && log2_sizes.empty() && lg != 24 && lg != 27) continue;
      for (bool grad : {false, true})
        for (const auto& [name, r] : chosen) {
          if (is_half(l) && r == cuda::Reducer::warp_fast) continue;
          reg(kernel_family(grad, name, l), bm_focal, r, l, grad)->Arg(n);
          ++count;
        }
    }
  }
  return count;
}

}  // namespace focal::bench
