// focal-bench: every available CPU kernel of the registry (and the CUDA ones, via cuda_bench.hpp,
// when built with CUDA) x op x layout x size, beside memory probes measured in the same run.
//
// Names:   focal_sum/<kernel>/<layout>/<n>    loss sum only (no per-element output)
//          focal_grad/<kernel>/<layout>/<n>   sum + fp32 gradient written, one pass
//          .../threads:<k>                    openmp only, k = 1 .. number of cores
//          probe_read/<n>   sums n fp32 + n u8 (the bytes of the dense input)
//          probe_copy/<n>   copies n fp32 (read 4 B + write 4 B per element)
// Layouts: dense (fp32 logits + u8 targets), labels_c80 (80 classes: fp32 logits + an int32
//          label per 80 logits; n/80 rows).
// Counters: items_per_second = logits per second; GB_per_s = decimal GB/s of the bytes the op
//          must move (dense: 4 B logit + 1 B target, + 4 B gradient written for focal_grad;
//          labels: 4 B + 4/80 B, + 4 B); frac_read / frac_copy = GB_per_s over the probe's GB/s
//          at the same n (probes run first at each size).
// All times are wall-clock (UseRealTime), so openmp's threads count.
//
// Extra flags (taken out of argv before benchmark::Initialize; every --benchmark_* flag works):
//   --focal_sizes=10,16,20,24,28   log2 of n (default 12,16,20,24)
//   --focal_kernels=avx512,openmp  kernels to run (default: every available CPU kernel)
//   --focal_scalar_max=20          largest log2 n for the scalar kernel (default 20: it is slow)
#include <benchmark/benchmark.h>
#if FOCAL_HAVE_OPENMP
#include <omp.h>
#endif

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "focal/focal.hpp"
#if FOCAL_HAVE_CUDA
#include "cuda_bench.hpp"
#endif

namespace {

constexpr std::size_t kClasses = 80;

int num_procs() {
#if FOCAL_HAVE_OPENMP
  return omp_get_num_procs();
#else
  return int(std::max(1u, std::thread::hardware_concurrency()));
#endif
}
void set_threads([[maybe_unused]] int k) {
#if FOCAL_HAVE_OPENMP
  omp_set_num_threads(k);
#endif
}

std::uint64_t splitmix(std::uint64_t& s) {
  std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
double uniform01(std::uint64_t& s) { return double(splitmix(s) >> 11) * 0x1p-53; }

// Fresh random inputs for one size (RetinaNet-like logits: prior bias -4.6 plus noise).
struct Data {
  std::size_t n = 0, rows = 0;
  std::vector<float> logits;
  std::vector<std::uint8_t> targets;
  std::vector<std::int32_t> labels;  // rows = n / 80
  std::vector<float> grad;
};

std::uint64_t g_seed = 0;

// One size's data at a time: benchmarks are registered size by size.
const Data& data_for(std::size_t n) {
  static std::unique_ptr<Data> cur;
  if (cur && cur->n == n) return *cur;
  cur.reset();
  auto d = std::make_unique<Data>();
  d->n = n;
  d->rows = n / kClasses;
  d->logits.resize(n);
  d->targets.resize(n);
  d->grad.resize(n);
  d->labels.resize(d->rows);
  std::uint64_t s = g_seed ^ n;
  for (std::size_t i = 0; i < n; ++i) {
    const double noise = (uniform01(s) + uniform01(s) + uniform01(s) - 1.5) * 4.0;
    d->logits[i] = float(-4.6 + noise);
    d->targets[i] = uniform01(s) < 0.01 ? 1 : 0;
    d->grad[i] = 0.0f;
  }
  for (auto& l : d->labels) {
    const double u = uniform01(s);
    l = u < 0.05 ? -1 : u < 0.35 ? std::int32_t(splitmix(s) % kClasses) : std::int32_t(kClasses);
  }
  cur = std::move(d);
  return *cur;
}

std::map<std::size_t, double> g_probe_read_gbps, g_probe_copy_gbps;

// Times the state loop itself so the probes can hand their rate to later benchmarks.
template <class F>
double timed_loop(benchmark::State& state, F&& body) {
  const auto t0 = std::chrono::steady_clock::now();
  std::int64_t iters = 0;
  for (auto _ : state) {
    body();
    ++iters;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s > 0 ? double(iters) / s : 0.0;
}

void probe_read(benchmark::State& state, std::size_t n) {
  const Data& d = data_for(n);
  const auto* words = reinterpret_cast<const std::uint32_t*>(d.logits.data());
  const std::uint8_t* bytes = d.targets.data();
  // Integer sums: the compiler vectorizes them (a float sum would be latency-bound).
  const double per_sec = timed_loop(state, [&] {
    std::uint32_t a = 0, b = 0;
    for (std::size_t i = 0; i < n; ++i) a += words[i];
    for (std::size_t i = 0; i < n; ++i) b += bytes[i];
    benchmark::DoNotOptimize(a);
    benchmark::DoNotOptimize(b);
  });
  const double bytes_per_iter = 5.0 * double(n);
  g_probe_read_gbps[n] = per_sec * bytes_per_iter / 1e9;
  state.SetItemsProcessed(std::int64_t(state.iterations()) * std::int64_t(n));
  state.counters["GB_per_s"] = benchmark::Counter(bytes_per_iter * double(state.iterations()) / 1e9,
                                                  benchmark::Counter::kIsRate);
}

void probe_copy(benchmark::State& state, std::size_t n) {
  const Data& d = data_for(n);
  float* out = const_cast<float*>(d.grad.data());
  const double per_sec = timed_loop(state, [&] {
    std::memcpy(out, d.logits.data(), n * sizeof(float));
    benchmark::ClobberMemory();
  });
  const double bytes_per_iter = 8.0 * double(n);
  g_probe_copy_gbps[n] = per_sec * bytes_per_iter / 1e9;
  state.SetItemsProcessed(std::int64_t(state.iterations()) * std::int64_t(n));
  state.counters["GB_per_s"] = benchmark::Counter(bytes_per_iter * double(state.iterations()) / 1e9,
                                                  benchmark::Counter::kIsRate);
}

enum class Op { sum, grad };
enum class Layout { dense, labels };

void run_kernel(benchmark::State& state, const focal::KernelInfo* k, Op op, Layout layout,
                std::size_t n, int threads) {
  const Data& d = data_for(n);
  if (threads > 0) set_threads(threads);
  focal::Input in;
  std::size_t items;
  double in_bytes;
  if (layout == Layout::dense) {
    in = focal::DenseInput{d.logits, d.targets};
    items = n;
    in_bytes = 5.0 * double(items);
  } else {
    items = d.rows * kClasses;
    in = focal::LabelInput{std::span<const float>(d.logits.data(), items), d.labels, kClasses};
    in_bytes = 4.0 * double(items) + 4.0 * double(d.rows);
  }
  focal::Outputs out;
  double bytes = in_bytes;
  if (op == Op::grad) {
    out.grad = std::span<float>(const_cast<float*>(d.grad.data()), items);
    bytes += 4.0 * double(items);
  }
  focal::Options opt;
  opt.reduction = focal::Reduction::mean;
  for (auto _ : state) {
    const auto r = focal::focal_loss(*k, in, opt, out);
    benchmark::DoNotOptimize(r.sum);
    benchmark::ClobberMemory();
  }
  const double it = double(state.iterations());
  state.SetItemsProcessed(std::int64_t(it) * std::int64_t(items));
  state.counters["GB_per_s"] = benchmark::Counter(bytes * it / 1e9, benchmark::Counter::kIsRate);
  // Fraction of the probes' bandwidth: (GB/s) / (probe GB/s), as a rate counter.
  if (auto p = g_probe_read_gbps.find(n); p != g_probe_read_gbps.end() && p->second > 0)
    state.counters["frac_read"] =
        benchmark::Counter(bytes * it / 1e9 / p->second, benchmark::Counter::kIsRate);
  if (auto p = g_probe_copy_gbps.find(n); p != g_probe_copy_gbps.end() && p->second > 0)
    state.counters["frac_copy"] =
        benchmark::Counter(bytes * it / 1e9 / p->second, benchmark::Counter::kIsRate);
  if (threads > 0) set_threads(num_procs());
}

// --- flags -------------------------------------------------------------------------------------

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> v;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) v.push_back(item);
  return v;
}

[[noreturn]] void usage_error(const std::string& msg) {
  std::fprintf(
      stderr,
      "focal-bench: %s\n"
      "  --focal_sizes=LIST       log2 of the sizes, each in [10, 28] (default 12,16,20,24)\n"
      "  --focal_kernels=LIST     CPU kernels (default: every available one)\n"
      "  --focal_scalar_max=K     largest log2 size for 'scalar' (default 20)\n"
      "  plus every --benchmark_* flag of Google Benchmark\n",
      msg.c_str());
  std::exit(2);
}

int parse_log2(const std::string& s, const char* flag) {
  char* end = nullptr;
  const long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end || v < 10 || v > 28)
    usage_error(std::string(flag) + ": expected integers in [10, 28], got '" + s + "'");
  return int(v);
}

struct Config {
  std::vector<int> sizes = {12, 16, 20, 24};
  std::vector<std::string> kernels;  // empty: all available
  int scalar_max = 20;
};

Config take_flags(int& argc, char** argv) {
  Config c;
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* name) -> const char* {
      const std::size_t len = std::strlen(name);
      return a.compare(0, len, name) == 0 ? argv[i] + len : nullptr;
    };
    if (const char* v = value("--focal_sizes=")) {
      c.sizes.clear();
      for (const auto& s : split(v)) c.sizes.push_back(parse_log2(s, "--focal_sizes"));
      if (c.sizes.empty()) usage_error("--focal_sizes: empty list");
    } else if (const char* v = value("--focal_kernels=")) {
      c.kernels = split(v);
      if (c.kernels.empty()) usage_error("--focal_kernels: empty list");
    } else if (const char* v = value("--focal_scalar_max=")) {
      c.scalar_max = parse_log2(v, "--focal_scalar_max");
    } else if (a.rfind("--focal_", 0) == 0) {
      usage_error("unknown flag '" + a + "'");
    } else {
      argv[out++] = argv[i];
    }
  }
  argc = out;
  std::sort(c.sizes.begin(), c.sizes.end());
  c.sizes.erase(std::unique(c.sizes.begin(), c.sizes.end()), c.sizes.end());
  return c;
}

// --- context -----------------------------------------------------------------------------------

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      return colon == std::string::npos ? line
                                        : line.substr(line.find_first_not_of(' ', colon + 1));
    }
  return "unknown";
}

void add_context(const std::vector<const focal::KernelInfo*>& chosen) {
  benchmark::AddCustomContext("focal_git_revision", FOCAL_GIT_REV);
  benchmark::AddCustomContext("focal_compiler", "g++ " __VERSION__);
  benchmark::AddCustomContext(
      "focal_flags", FOCAL_CXX_FLAGS
      " | kernels: -fno-fast-math -ffp-contract=off; simd_avx2.cpp: -mavx2 -mfma;"
      " simd_avx512.cpp: -mavx2 -mfma -mavx512f -mavx512cd -mavx512dq -mavx512bw -mavx512vl");
  benchmark::AddCustomContext("focal_cpu", cpu_model());
  benchmark::AddCustomContext("focal_cores", std::to_string(num_procs()));
  benchmark::AddCustomContext("focal_seed", std::to_string(g_seed));
  // The OpenMP environment changes what threads:k rows measure (bench/NOTES.md).
  for (const char* var : {"OMP_NUM_THREADS", "OMP_DYNAMIC", "OMP_WAIT_POLICY", "OMP_PROC_BIND"})
    if (const char* v = std::getenv(var))
      benchmark::AddCustomContext(std::string("focal_env_") + var, v);
  std::string dispatch;
  try {
    dispatch = std::string(focal::best_kernel().name);
  } catch (const std::exception& e) {
    dispatch = std::string("error: ") + e.what();
  }
  benchmark::AddCustomContext("focal_dispatch", dispatch);
  std::string list, unavailable;
  for (const auto& k : focal::kernels()) {
    const std::string why = k.unavailable_reason();
    if (why.empty()) {
      list += (list.empty() ? "" : ",") + std::string(k.name) + " (" + std::string(k.isa) + ")";
    } else {
      unavailable += (unavailable.empty() ? "" : "; ") + std::string(k.name) + ": " + why;
    }
  }
  benchmark::AddCustomContext("focal_kernels_available", list);
  if (!unavailable.empty()) benchmark::AddCustomContext("focal_kernels_unavailable", unavailable);
  std::string run;
  for (const auto* k : chosen) run += (run.empty() ? "" : ",") + std::string(k->name);
  benchmark::AddCustomContext("focal_kernels_benchmarked", run);
}

// --- registration ------------------------------------------------------------------------------

void register_all(const Config& cfg, const std::vector<const focal::KernelInfo*>& chosen) {
  const int cores = num_procs();
  for (int lg : cfg.sizes) {
    const std::size_t n = std::size_t(1) << lg;
    const std::string ns = std::to_string(n);
    benchmark::RegisterBenchmark(("probe_read/" + ns).c_str(), probe_read, n)->UseRealTime();
    benchmark::RegisterBenchmark(("probe_copy/" + ns).c_str(), probe_copy, n)->UseRealTime();
    for (const auto* k : chosen) {
      const std::string name(k->name);
      if (name == "scalar" && lg > cfg.scalar_max) continue;
      const bool omp = k->backend == "openmp";
      for (Op op : {Op::sum, Op::grad})
        for (Layout layout : {Layout::dense, Layout::labels}) {
          const std::string base = std::string(op == Op::sum ? "focal_sum/" : "focal_grad/") +
                                   name + (layout == Layout::dense ? "/dense/" : "/labels_c80/") +
                                   ns;
          if (!omp) {
            benchmark::RegisterBenchmark(base.c_str(), run_kernel, k, op, layout, n, 0)
                ->UseRealTime();
            continue;
          }
          for (int t = 1; t <= cores; ++t)
            benchmark::RegisterBenchmark((base + "/threads:" + std::to_string(t)).c_str(),
                                         run_kernel, k, op, layout, n, t)
                ->UseRealTime();
        }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Config cfg = take_flags(argc, argv);
  g_seed = std::random_device{}() ^ (std::uint64_t(std::random_device{}()) << 32);

  std::vector<const focal::KernelInfo*> chosen;
  if (cfg.kernels.empty()) {
    for (const auto& k : focal::kernels())
      if (k.backend != "cuda" && k.is_available()) chosen.push_back(&k);
  } else {
    for (const auto& name : cfg.kernels) {
      const focal::KernelInfo* k = nullptr;
      try {
        k = &focal::find_kernel(name);
      } catch (const std::exception& e) {
        usage_error(std::string("--focal_kernels: ") + e.what());
      }
      if (k->backend == "cuda") continue;  // registered by the CUDA benchmarks below
      const std::string why = k->unavailable_reason();
      if (!why.empty()) {
        std::fprintf(stderr, "focal-bench: skipping kernel '%s': %s\n", name.c_str(), why.c_str());
        continue;
      }
      chosen.push_back(k);
    }
  }

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  add_context(chosen);
  register_all(cfg, chosen);
#if FOCAL_HAVE_CUDA
  focal::bench::add_cuda_context();
  focal::bench::register_cuda_benchmarks();
#endif
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
