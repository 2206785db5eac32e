// focal-bench: every available CPU kernel of the registry (and the CUDA ones, via cuda_bench.hpp,
// when built with CUDA) x op x layout x size, beside memory probes measured in the same run.
// Names, layouts, counters and bytes: bench/names.hpp (shared with the CUDA benchmarks).
// All CPU times are wall-clock (UseRealTime), so openmp's threads count.
//
// Extra flags (taken out of argv before benchmark::Initialize; every --benchmark_* flag works;
// --help lists both): see kFocalHelp below. Exit status: 0 ok, 1 nothing to run (a filter or
// --focal_kernels that matches nothing, a named kernel unavailable here) or --benchmark_out not
// writable, 2 a bad argument.
#include <benchmark/benchmark.h>
#if FOCAL_HAVE_OPENMP
#include <omp.h>
#endif
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "focal/focal.hpp"
#include "focal_support/machine.hpp"
#include "focal_support/version.hpp"
#include "names.hpp"
#if FOCAL_HAVE_CUDA
#include "cuda_bench.hpp"
#endif

namespace {

using focal::bench::Layout;
namespace fb = focal::bench;

constexpr const char* kFocalHelp =
    "focal-bench flags (besides Google Benchmark's --benchmark_* flags above):\n"
    "  [--focal_sizes=LIST]      log2 of the sizes, each in [10, 28] (default 12,16,20,24;\n"
    "                            CUDA default 16,20,24,27,28)\n"
    "  [--focal_kernels=LIST]    kernels to run (default: every available one); a named kernel\n"
    "                            that is unavailable here is an error\n"
    "  [--focal_layouts=LIST]    dense, soft, labels_c80, dense_fp16, dense_bf16,\n"
    "                            labels_c80_fp16, labels_c80_bf16 (default dense,labels_c80,\n"
    "                            dense_fp16,dense_bf16; half layouts: fp16/bf16 logits, the\n"
    "                            gradient written in their dtype)\n"
    "  [--focal_threads=LIST]    thread counts of the openmp kernels, each in [1, cores]\n"
    "                            (default 1, 2, ..., cores)\n"
    "  [--focal_scalar_max=K]    largest log2 size for the scalar-backend kernels (default 20:\n"
    "                            they are slow)\n"
    "  [--version]               print the version and exit\n"
    "Formats: console or json (--benchmark_format, --benchmark_out_format); csv is refused: its\n"
    "reporter aborts when benchmarks count different things, as probes and kernels do.\n"
    "Names: focal_sum|focal_grad/<kernel>/<layout>/n:<n>[/threads:<k>], probe_<what>/n:<n>\n"
    "(probe_read, probe_copy; CUDA: probe_cuda_read, probe_cuda_copy, probe_cuda_h2d, probe_cuda_d2h)\n"
    "Exit status: 0 ok; 1 nothing matched or --benchmark_out (or stdout) not writable; 2 bad\n"
    "argument.\n";

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

// --- flags -------------------------------------------------------------------------------------

[[noreturn]] void usage_error(const std::string& msg);

// A comma-separated list; an empty item ("10,,12", "scalar,") is an error, not skipped.
std::vector<std::string> split(const std::string& s, const char* flag) {
  std::vector<std::string> v;
  std::size_t start = 0;
  while (start <= s.size()) {
    const std::size_t end = std::min(s.find(',', start), s.size());
    v.push_back(s.substr(start, end - start));
    if (v.back().empty())
      usage_error(std::string(flag) + ": empty item in the list '" + s + "'");
    start = end + 1;
  }
  return v;
}

[[noreturn]] void usage_error(const std::string& msg) {
  std::fprintf(stderr, "focal-bench: %s\n%s", msg.c_str(), kFocalHelp);
  std::exit(2);
}
[[noreturn]] void fail(const std::string& msg) {
  std::fprintf(stderr, "focal-bench: %s\n", msg.c_str());
  std::exit(1);
}
// The console report (Google Benchmark writes it to std::cout and never checks): a full disk
// or closed stdout is an error, not exit 0 with the results lost.
void check_stdout_written() {
  std::cout.flush();
  if (!std::cout || std::fflush(stdout) != 0 || std::ferror(stdout))
    fail("writing the results to stdout failed");
}

int parse_log2(const std::string& s, const char* flag) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end || errno || v < 10 || v > 28)
    usage_error(std::string(flag) + ": expected integers in [10, 28], got '" + s + "'");
  return int(v);
}

int parse_threads(const std::string& s) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(s.c_str(), &end, 10);
  const int cores = num_procs();
  if (s.empty() || *end || errno || v < 1 || v > cores)
    usage_error("--focal_threads: expected integers in [1, " + std::to_string(cores) +
                "] (this machine's cores), got '" + s + "'");
  return int(v);
}

struct Config {
  std::vector<int> sizes;            // empty: the defaults (CPU and CUDA differ)
  std::vector<std::string> kernels;  // empty: all available
  std::vector<Layout> layouts{std::begin(fb::kDefaultLayouts), std::end(fb::kDefaultLayouts)};
  std::vector<int> threads;          // empty: 1..cores
  int scalar_max = 20;
  std::string out_path;              // --benchmark_out, checked before running
  std::string out_format = "json";   // --benchmark_out_format
};

// Google Benchmark answers an unknown format with its help and exit status 0, and its csv
// reporter aborts unless every benchmark has the first one's counters (probes and kernels here
// count different things).
void check_format(const char* flag, const std::string& v) {
  if (v == "csv")
    usage_error(std::string(flag) + ": csv is not supported (Google Benchmark's csv reporter needs "
                "the same counters in every benchmark); use json or console");
  if (v != "console" && v != "json")
    usage_error(std::string(flag) + ": expected console or json, got '" + v + "'");
}

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
      for (const auto& s : split(v, "--focal_sizes")) c.sizes.push_back(parse_log2(s, "--focal_sizes"));
      if (c.sizes.empty()) usage_error("--focal_sizes: empty list");
    } else if (const char* v = value("--focal_kernels=")) {
      c.kernels = split(v, "--focal_kernels");
      if (c.kernels.empty()) usage_error("--focal_kernels: empty list");
    } else if (const char* v = value("--focal_layouts=")) {
      c.layouts.clear();
      for (const auto& w : split(v, "--focal_layouts")) {
        Layout l;
        if (!fb::parse_layout(w, &l))
          usage_error("--focal_layouts: unknown layout '" + w + "' (expected " + fb::layout_words() + ")");
        if (std::find(c.layouts.begin(), c.layouts.end(), l) == c.layouts.end()) c.layouts.push_back(l);
      }
      if (c.layouts.empty()) usage_error("--focal_layouts: empty list");
    } else if (const char* v = value("--focal_threads=")) {
      c.threads.clear();
      for (const auto& s : split(v, "--focal_threads")) c.threads.push_back(parse_threads(s));
      if (c.threads.empty()) usage_error("--focal_threads: empty list");
    } else if (const char* v = value("--focal_scalar_max=")) {
      c.scalar_max = parse_log2(v, "--focal_scalar_max");
    } else if (a == "--version") {
      std::printf("%s\n", focal::support::version_line("focal-bench").c_str());
      check_stdout_written();
      std::exit(0);
    } else if (a.rfind("--focal_", 0) == 0) {
      usage_error("unknown flag '" + a + "'");
    } else {
      if (const char* v = value("--benchmark_out=")) c.out_path = v;
      if (const char* v = value("--benchmark_out_format=")) check_format("--benchmark_out_format", c.out_format = v);
      if (const char* v = value("--benchmark_format=")) check_format("--benchmark_format", v);
      argv[out++] = argv[i];
    }
  }
  argc = out;
  for (auto* v : {&c.sizes, &c.threads}) {
    std::sort(v->begin(), v->end());
    v->erase(std::unique(v->begin(), v->end()), v->end());
  }
  return c;
}

// Google Benchmark reports an unopenable --benchmark_out but exits 0 and, past the open, never
// checks the writes; so try the path first, and check the result after the run.
// Returns whether the file existed before (so a run that writes nothing can remove it again).
bool check_out_path(const std::string& path) {
  if (path.empty()) return true;
  struct stat st{};
  const bool existed = stat(path.c_str(), &st) == 0;
  std::ofstream f(path, std::ios::app);
  if (!f) fail("--benchmark_out=" + path + ": cannot write: " + std::strerror(errno));
  // A device cannot be checked after the run (/dev/full takes the open, then fails every
  // write): one newline now tells.
  if (existed && S_ISCHR(st.st_mode) && !(f << '\n' << std::flush))
    fail("--benchmark_out=" + path + ": cannot write to it");
  return existed;
}
// A write that failed half way (a full disk, a file size limit) leaves a file cut short: JSON
// ends by closing the "benchmarks" list and the document ("]" then "}"), csv and console with a
// newline. Google Benchmark does not check its writes.
void check_out_written(const std::string& path, const std::string& format) {
  struct stat st{};
  if (path.empty() || stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return;
  if (st.st_size == 0) fail("--benchmark_out=" + path + ": nothing was written");
  std::ifstream f(path, std::ios::binary);
  const std::streamoff tail = std::min<std::streamoff>(st.st_size, 64);
  std::string end(static_cast<std::size_t>(tail), '\0');
  f.seekg(-tail, std::ios::end);
  f.read(end.data(), tail);
  if (!f) fail("--benchmark_out=" + path + ": cannot read it back");
  bool whole = end.back() == '\n';
  if (format == "json") {
    std::string ink;  // the last characters that are not blanks
    for (char c : end)
      if (!std::isspace(static_cast<unsigned char>(c))) ink += c;
    whole = ink.size() >= 2 && ink.compare(ink.size() - 2, 2, "]}") == 0;
  }
  if (!whole)
    fail("--benchmark_out=" + path + ": the file is cut short (a write failed: a full disk or a "
         "file size limit?)");
}

void print_help() {
  benchmark::PrintDefaultHelp();
  std::fputs(kFocalHelp, stdout);
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
  const Config cfg = take_flags(argc, argv);
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

  benchmark::Initialize(&argc, argv, print_help);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  const bool out_existed = check_out_path(cfg.out_path);
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
  check_out_written(cfg.out_path, cfg.out_format);
  check_stdout_written();
  return 0;
}
