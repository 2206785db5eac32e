// focal-bench: every available CPU kernel of the registry (and the CUDA ones, via cuda_bench.hpp,
// when built with CUDA) x op x layout x size, beside memory probes measured in the same run.
// Names, layouts, counters and bytes: bench/names.hpp (shared with the CUDA benchmarks).
// All CPU times are wall-clock (UseRealTime), so openmp's threads count.
//
// Extra flags (taken out of argv before benchmark::Initialize; every --benchmark_* flag works;
// --help lists both): cli.cpp. Exit status: 0 ok, 1 nothing to run (a filter or
// --focal_kernels that matches nothing, a named kernel unavailable here) or --benchmark_out not
// writable, 2 a bad argument.
#include <benchmark/benchmark.h>
#if FOCAL_HAVE_OPENMP
#include <omp.h>
#endif

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "focal/focal.hpp"
#include "focal_support/machine.hpp"
#include "focal_support/version.hpp"
#include "cli.hpp"
#include "names.hpp"
#if FOCAL_HAVE_CUDA
#include "cuda_bench.hpp"
#endif

namespace {

using focal::bench::Layout;
namespace fb = focal::bench;
using fb::Config;
using fb::fail;
using fb::usage_error;

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
  std::vector<float> soft;           // soft targets in [0, 1]
  std::vector<std::int32_t> labels;  // rows = n / 80
  std::vector<float> grad;
  std::vector<std::uint16_t> fp16, bf16;  // the logits rounded to the half dtypes
  std::vector<std::uint16_t> grad_half;
};

std::uint64_t g_seed = 0;

// One size's data at a time: benchmarks run size by size.
const Data& data_for(std::size_t n) {
  static std::unique_ptr<Data> cur;
  if (cur && cur->n == n) return *cur;
  cur.reset();
  auto d = std::make_unique<Data>();
  d->n = n;
  d->rows = n / fb::kLabelClasses;
  d->logits.resize(n);
  d->targets.resize(n);
  d->soft.resize(n);
  d->grad.assign(n, 0.0f);
  d->labels.resize(d->rows);
  std::uint64_t s = g_seed ^ n;
  for (std::size_t i = 0; i < n; ++i) {
    const double noise = (uniform01(s) + uniform01(s) + uniform01(s) - 1.5) * 4.0;
    d->logits[i] = float(-4.6 + noise);
    const double u = uniform01(s);
    d->targets[i] = u < 0.01 ? 1 : 0;
    d->soft[i] = float(u);
  }
  for (auto& l : d->labels) {
    const double u = uniform01(s);
    l = u < 0.05 ? -1
        : u < 0.35 ? std::int32_t(splitmix(s) % fb::kLabelClasses)
                   : std::int32_t(fb::kLabelClasses);
  }
  d->fp16.resize(n);
  d->bf16.resize(n);
  d->grad_half.assign(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    d->fp16[i] = focal::float_to_half(d->logits[i], focal::Dtype::fp16);
    d->bf16[i] = focal::float_to_half(d->logits[i], focal::Dtype::bf16);
  }
  cur = std::move(d);
  return *cur;
}

std::map<std::size_t, double> g_probe_read_bps, g_probe_copy_bps;  // bytes/s per n

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

void probe_read(benchmark::State& state) {
  const auto n = std::size_t(state.range(0));
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
  const double bytes_per_iter = fb::moved_bytes(Layout::dense, n, false);
  g_probe_read_bps[n] = per_sec * bytes_per_iter;
  state.SetItemsProcessed(std::int64_t(state.iterations()) * std::int64_t(n));
  state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(bytes_per_iter));
}

void probe_copy(benchmark::State& state) {
  const auto n = std::size_t(state.range(0));
  const Data& d = data_for(n);
  float* out = const_cast<float*>(d.grad.data());
  const double per_sec = timed_loop(state, [&] {
    std::memcpy(out, d.logits.data(), n * sizeof(float));
    benchmark::ClobberMemory();
  });
  const double bytes_per_iter = 8.0 * double(n);
  g_probe_copy_bps[n] = per_sec * bytes_per_iter;
  state.SetItemsProcessed(std::int64_t(state.iterations()) * std::int64_t(n));
  state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(bytes_per_iter));
}

// with_threads: the benchmark has the second argument (threads:k, openmp kernels only); reading
// range(1) of a one-argument benchmark is out of bounds.
void run_kernel(benchmark::State& state, const focal::KernelInfo* k, bool grad, Layout layout,
                bool with_threads) {
  const auto n = std::size_t(state.range(0));
  const int threads = with_threads && state.range(1) > 0 ? int(state.range(1)) : 0;
  const Data& d = data_for(n);
  if (threads > 0) set_threads(threads);
  const std::size_t items = fb::layout_logits(layout, n);
  const std::span<const float> x(d.logits.data(), items);
  const focal::Dtype dtype = fb::is_bf16(layout) ? focal::Dtype::bf16 : focal::Dtype::fp16;
  const std::span<const std::uint16_t> xh((dtype == focal::Dtype::bf16 ? d.bf16 : d.fp16).data(),
                                          items);
  std::variant<focal::Input, focal::HalfInput> in;
  switch (layout) {
    case Layout::dense: in = focal::Input(focal::DenseInput{x, d.targets}); break;
    case Layout::soft: in = focal::Input(focal::SoftInput{x, d.soft}); break;
    case Layout::labels: in = focal::Input(focal::LabelInput{x, d.labels, fb::kLabelClasses}); break;
    case Layout::dense_fp16:
    case Layout::dense_bf16: in = focal::HalfInput(focal::HalfDenseInput{xh, d.targets, dtype}); break;
    case Layout::labels_fp16:
    case Layout::labels_bf16:
      in = focal::HalfInput(focal::HalfLabelInput{xh, d.labels, fb::kLabelClasses, dtype});
      break;
  }
  focal::Outputs out;
  if (grad && fb::is_half(layout))
    out.grad_half = std::span<std::uint16_t>(const_cast<std::uint16_t*>(d.grad_half.data()), items);
  else if (grad)
    out.grad = std::span<float>(const_cast<float*>(d.grad.data()), items);
  focal::Options opt;
  opt.reduction = focal::Reduction::mean;
  const double per_sec = timed_loop(state, [&] {
    const auto r = std::visit([&](const auto& i) { return focal::focal_loss(*k, i, opt, out); }, in);
    benchmark::DoNotOptimize(r.sum);
    benchmark::ClobberMemory();
  });
  const double it = double(state.iterations());
  const double bytes = fb::moved_bytes(layout, items, grad);
  state.SetItemsProcessed(std::int64_t(it) * std::int64_t(items));
  state.SetBytesProcessed(std::int64_t(it * bytes));
  state.counters[fb::kCounterBytesPerLogit] = bytes / double(items);
  // Fraction of the probes' bandwidth at this n: (bytes/s) / (probe bytes/s), a plain number.
  for (auto [probe, name] : {std::pair{&g_probe_read_bps, fb::kCounterFracRead},
                             std::pair{&g_probe_copy_bps, fb::kCounterFracCopy}})
    if (auto p = probe->find(n); p != probe->end() && p->second > 0)
      state.counters[name] = per_sec * bytes / p->second;
  if (threads > 0) set_threads(num_procs());
}

// --- context -----------------------------------------------------------------------------------

// Appends `item` to a separated list (std::string::append: no temporaries, no -Wrestrict).
void append(std::string& list, const char* sep, const std::string& item) {
  if (!list.empty()) list.append(sep);
  list.append(item);
}

void add_context(const std::vector<const focal::KernelInfo*>& chosen) {
  // The machine id (results/<id>/) from the one implementation the tools share.
  const auto& machine = focal::support::machine();
  benchmark::AddCustomContext("focal_machine_id", machine.id);
  benchmark::AddCustomContext("focal_version", focal::support::version_line("focal-bench"));
  benchmark::AddCustomContext("focal_git_revision", std::string(focal::support::git_rev()));
  benchmark::AddCustomContext("focal_build_type", FOCAL_BUILD_TYPE);
  benchmark::AddCustomContext("focal_compiler", "g++ " __VERSION__);
  benchmark::AddCustomContext(
      "focal_flags", FOCAL_CXX_FLAGS
      " | kernels: -fno-fast-math -ffp-contract=off; simd_avx2.cpp: -mavx2 -mfma -mf16c;"
      " simd_avx512.cpp: -mavx2 -mfma -mf16c -mavx512f -mavx512cd -mavx512dq -mavx512bw -mavx512vl");
  benchmark::AddCustomContext("focal_cpu", machine.cpu);
  if (!machine.gpu.empty()) benchmark::AddCustomContext("focal_gpu", machine.gpu);
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
  std::string list, unavailable, run;
  for (const auto& k : focal::kernels()) {
    const std::string why = k.unavailable_reason();
    if (why.empty())
      append(list, ",", std::string(k.name) + " (" + std::string(k.isa) + ")");
    else
      append(unavailable, "; ", std::string(k.name) + ": " + why);
  }
  benchmark::AddCustomContext("focal_kernels_available", list);
  if (!unavailable.empty()) benchmark::AddCustomContext("focal_kernels_unavailable", unavailable);
  for (const auto* k : chosen) append(run, ",", std::string(k->name));
  benchmark::AddCustomContext("focal_kernels_benchmarked", run);
}

// --- registration ------------------------------------------------------------------------------

void register_all(const Config& cfg, const std::vector<const focal::KernelInfo*>& chosen) {
  const int cores = num_procs();
  const std::vector<int> sizes = cfg.sizes.empty() ? std::vector<int>{12, 16, 20, 24} : cfg.sizes;
  for (int lg : sizes) {
    const auto n = std::int64_t(1) << lg;
    benchmark::RegisterBenchmark(fb::kProbeRead, probe_read)->ArgName(fb::kArgN)->Arg(n)->UseRealTime();
    benchmark::RegisterBenchmark(fb::kProbeCopy, probe_copy)->ArgName(fb::kArgN)->Arg(n)->UseRealTime();
    for (const auto* k : chosen) {
      const std::string name(k->name);
      if (k->backend == "scalar" && lg > cfg.scalar_max) {  // one float at a time: slow
        if (!cfg.kernels.empty())  // named: say why it does not run
          std::fprintf(stderr, "focal-bench: %s is not run at 2^%d (above --focal_scalar_max=%d)\n",
                       std::string(k->name).c_str(), lg, cfg.scalar_max);
        continue;
      }
      const bool omp = k->backend == "openmp";
      for (bool grad : {false, true})
        for (Layout layout : cfg.layouts) {
          auto* b = benchmark::RegisterBenchmark(fb::kernel_family(grad, name, layout).c_str(),
                                                 run_kernel, k, grad, layout, omp);
          b->UseRealTime();
          if (!omp) {
            b->ArgName(fb::kArgN)->Arg(n);
            continue;
          }
          b->ArgNames({fb::kArgN, fb::kArgThreads});
          if (cfg.threads.empty())
            for (int t = 1; t <= cores; ++t) b->Args({n, t});
          else
            for (int t : cfg.threads) b->Args({n, t});
        }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Config cfg = fb::take_flags(argc, argv, num_procs());
  g_seed = std::random_device{}() ^ (std::uint64_t(std::random_device{}()) << 32);

  std::vector<const focal::KernelInfo*> chosen;
  std::vector<std::string> cuda_named;  // CUDA kernels named in --focal_kernels
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
      const std::string why = k->unavailable_reason();
      if (!why.empty()) fail("--focal_kernels: kernel '" + name + "' is unavailable here: " + why);
      // A kernel named twice runs once (as repeated sizes and layouts do): registered twice,
      // its benchmarks would run twice and appear twice under one name in the JSON.
      if (std::find(chosen.begin(), chosen.end(), k) != chosen.end() ||
          std::find(cuda_named.begin(), cuda_named.end(), std::string(k->name)) != cuda_named.end())
        continue;
      if (k->backend == "cuda")
        cuda_named.push_back(std::string(k->name));  // registered by the CUDA benchmarks below
      else
        chosen.push_back(k);
    }
  }

  benchmark::Initialize(&argc, argv, fb::print_help);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  const bool out_existed = fb::check_out_path(cfg.out_path);
  add_context(chosen);
  register_all(cfg, chosen);
#if FOCAL_HAVE_CUDA
  focal::bench::add_cuda_context();
  // With --focal_kernels naming only CPU kernels, no CUDA benchmarks.
  if ((cfg.kernels.empty() || !cuda_named.empty()) &&
      focal::bench::register_cuda_benchmarks(cuda_named, cfg.sizes, cfg.layouts) == 0 &&
      !cuda_named.empty())
    fail("--focal_kernels: no CUDA benchmark registered for the CUDA kernels named");
#endif
  const std::size_t ran = benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (ran == 0) {
    if (!out_existed) std::remove(cfg.out_path.c_str());
    fail("no benchmark matched (check --benchmark_filter and --focal_kernels)");
  }
  fb::check_out_written(cfg.out_path, cfg.out_format);
  fb::check_stdout_written();
  return 0;
}
