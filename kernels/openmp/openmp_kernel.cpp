// The multi-core kernel (name "openmp"): the best available SIMD kernel (avx512, else avx2)
// run over chunks (their size a function of n only) by an OpenMP team.
//
// Determinism: chunk boundaries depend only on the input size (chunk_elements(n) logits; for
// class labels whole rows, chunk_elements(n) / C of them), never on the thread count. Each
// chunk's sum is the SIMD kernel's sum of that chunk, and the chunk sums are combined in chunk
// order by compensated summation, so the result is bitwise identical for any OMP_NUM_THREADS and
// on every run. Per-element outputs are exactly the SIMD kernel's (bitwise_equal_to names it).
// Accuracy: that of the SIMD kernel (1 ULP for gamma in {0..4}, relative 2e-7 otherwise); the
// sum stays within ~1e-13 of the exact sum of the fp32 losses.
// Small inputs: below kParallelMinElements the chunks run on the calling thread (same chunks,
// same result), since starting the team costs more than it saves there (bench/NOTES.md).
#include <omp.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "../backends.hpp"
#include "../layouts.hpp"
#include "../simd/cpu_features.hpp"
#include "../simd/simd_entry.hpp"
#include "focal/detail/sum.hpp"
#include "focal/ff.hpp"
#include "focal/math.hpp"

namespace focal {
namespace {

// Chunks of 2^14 logits up to n = 2^22, then n / 256 (a power of two) up to 2^16: at 2^24 on two
// cores, chunks of 2^16 ran the team 2-4% faster than 2^14 (fewer chunk starts, each with its
// first prefetches missing), and 256 chunks still balance 16 threads (bench/NOTES.md, OpenMP).
constexpr std::size_t kMinChunkElements = std::size_t(1) << 14;
constexpr std::size_t kMaxChunkElements = std::size_t(1) << 16;
std::size_t chunk_elements(std::size_t n) {
  std::size_t chunk = kMinChunkElements;
  while (chunk < kMaxChunkElements && chunk * 2 * 256 <= n) chunk *= 2;
  return chunk;
}
constexpr std::size_t kParallelMinElements = std::size_t(1) << 17;

// FOCAL_OPENMP_MIN_ELEMENTS overrides the threshold (for measuring it; bench/NOTES.md). A value
// that is not a count is ignored, and said so once.
std::size_t parallel_min_elements() {
  static const std::size_t v = [] {
    const char* s = std::getenv("FOCAL_OPENMP_MIN_ELEMENTS");
    if (!s || !*s) return kParallelMinElements;
    char* end = nullptr;
    errno = 0;
    const unsigned long long n = std::strtoull(s, &end, 10);
    if (*end || errno || !(*s >= '0' && *s <= '9')) {  // strtoull takes blanks and signs
      std::fprintf(stderr, "focal: FOCAL_OPENMP_MIN_ELEMENTS='%s' is not a count of elements; using %zu\n",
                   s, kParallelMinElements);
      return kParallelMinElements;
    }
    return std::size_t(n);
  }();
  return v;
}

// The SIMD kernel this machine runs (null if neither AVX2 nor AVX-512 is usable).
const simd::Entry* best_entry() {
  static const simd::Entry* e = cpu::avx512_usable(nullptr)     ? &simd::avx512_entry()
                                : cpu::avx2_fma_usable(nullptr) ? &simd::avx2_entry()
                                                                : nullptr;
  return e;
}

bool openmp_available(std::string* why_not) {
  if (best_entry()) return true;
  std::string why;
  cpu::avx2_fma_usable(&why);
  if (why_not) *why_not = "needs the avx2 or avx512 kernel: " + why;
  return false;
}

// Threads for one call. libgomp's threads spin while they wait (OMP_WAIT_POLICY=active is its
// default when threads <= CPUs), so when other processes occupy the CPUs a team of 2 on a busy
// 2-CPU machine ran 3x *slower* than one thread (bench/NOTES.md). Unless the user asked the
// runtime to adapt (OMP_DYNAMIC=true), on a machine under sustained load cap the team by the CPUs
// not running someone else right now (/proc/loadavg: runnable count, includes this thread). The result does not depend
// on the thread count. FOCAL_OPENMP_TEAM=fixed turns the cap off (tests use it to run teams of
// exactly omp_set_num_threads threads).
int team_size() {
  int t = omp_get_max_threads();
  if (t <= 1 || omp_get_dynamic()) return t;
  if (const char* fixed = std::getenv("FOCAL_OPENMP_TEAM"); fixed && std::string(fixed) == "fixed")
    return t;
  if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
    double l1, l5, l15;
    int running = 0, total = 0;
    const int got = std::fscanf(f, "%lf %lf %lf %d/%d", &l1, &l5, &l15, &running, &total);
    std::fclose(f);
    // Only under sustained load (1-minute average near the CPU count, this process included):
    // with a lightly used machine the full team still wins (2.05x measured, 2 CPUs).
    const int cpus = omp_get_num_procs();
    if (got == 5 && running >= 1 && l1 > cpus - 0.5) {
      const int free_cpus = cpus - (running - 1);
      t = std::max(1, std::min(t, free_cpus));
    }
  }
  return t;
}

// Runs chunk(c) -> Partial for c in [0, chunks) and combines in chunk order. Dynamic schedule:
// chunks go to whichever thread is running (on a busy machine a descheduled thread would
// otherwise hold its static share); the result does not depend on who ran a chunk.
template <class Chunk>
Partial over_chunks(std::size_t chunks, std::size_t elements, Chunk&& chunk) {
  std::vector<Partial> parts(chunks);
  const long n = long(chunks);
  const bool parallel = elements >= parallel_min_elements() && chunks > 1;
  const int threads = parallel ? team_size() : 1;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
  for (long c = 0; c < n; ++c) parts[std::size_t(c)] = chunk(std::size_t(c));
  detail::CompensatedSum sum;
  Partial total;
  for (const Partial& p : parts) {
    sum.add(p.sum);
    total.count += p.count;
    total.bad_target |= p.bad_target;
  }
  total.sum = chunks == 1 ? parts[0].sum : sum.value();
  return total;
}

// Chunks of chunk_elements(n) elements: run(i0, len) for each.
template <class Run>
Partial element_chunks(std::size_t n, Run&& run) {
  const std::size_t size = chunk_elements(n);
  const std::size_t chunks = std::max<std::size_t>(1, (n + size - 1) / size);
  return over_chunks(chunks, n, [&](std::size_t k) {
    const std::size_t i0 = k * size;
    return run(i0, std::min(n, i0 + size) - i0);
  });
}

// Chunks of whole rows (about chunk_elements(rows C) elements): run(r0, rows) for each.
template <class Run>
Partial row_chunks(std::size_t rows, std::size_t c, Run&& run) {
  const std::size_t rows_per_chunk = std::max<std::size_t>(1, chunk_elements(rows * c) / c);
  const std::size_t chunks = std::max<std::size_t>(1, (rows + rows_per_chunk - 1) / rows_per_chunk);
  return over_chunks(chunks, rows * c, [&](std::size_t k) {
    const std::size_t r0 = k * rows_per_chunk;
    return run(r0, std::min(rows, r0 + rows_per_chunk) - r0);
  });
}

Partial openmp_run(const Input& in, const Params& p, const Outputs& out) {
  const simd::Entry& e = *best_entry();
  return visit_layout(
      in,
      [&](const DenseInput& d) {
        return element_chunks(d.logits.size(), [&](std::size_t i0, std::size_t len) {
          return e.dense(d.logits.data() + i0, d.targets.data() + i0, len,
                         simd::args_at(p, out, i0));
        });
      },
      [&](const SoftInput& s) {
        return element_chunks(s.logits.size(), [&](std::size_t i0, std::size_t len) {
          return e.soft(s.logits.data() + i0, s.targets.data() + i0, len,
                        simd::args_at(p, out, i0));
        });
      },
      [&](const LabelInput& l) {
        const std::size_t c = l.num_classes;
        return row_chunks(l.labels.size(), c, [&](std::size_t r0, std::size_t rows) {
          return e.labels(l.logits.data() + r0 * c, l.labels.data() + r0, rows, c,
                          simd::args_at(p, out, r0 * c));
        });
      });
}

// Half logits: the SIMD entry's fused loaders over the same chunks (integer gamma 0..4).
bool openmp_run_half(const HalfInput& in, const Params& p, const Outputs& out, Partial* result) {
  const simd::Entry& e = *best_entry();
  if (!e.dense_half || !ff::is_int_gamma(p.gamma)) return false;
  if (const auto* d = std::get_if<HalfDenseInput>(&in)) {
    *result = element_chunks(d->logits.size(), [&](std::size_t i0, std::size_t len) {
      return e.dense_half(d->logits.data() + i0, d->dtype, d->targets.data() + i0, len,
                          simd::args_at(p, out, i0));
    });
  } else if (const auto* l = std::get_if<HalfLabelInput>(&in)) {
    const std::size_t c = l->num_classes;
    *result = row_chunks(l->labels.size(), c, [&](std::size_t r0, std::size_t rows) {
      return e.labels_half(l->logits.data() + r0 * c, l->dtype, l->labels.data() + r0, rows, c,
                           simd::args_at(p, out, r0 * c));
    });
  }
  return true;
}

std::vector<KernelInfo> make_table() {
  const bool avx512 = cpu::avx512_usable(nullptr);
  return {{
      .name = "openmp",
      .backend = "openmp",
      .isa = avx512 ? "avx512bw+openmp" : "fma3+avx2+openmp",
      .bound = {.ulp = 1.0, .rel_other = 2e-7},
      .bitwise_equal_to = avx512 ? "avx512" : "avx2",
      .priority = 30,
      .available = openmp_available,
      .run = openmp_run,
      .run_half = openmp_run_half,
  }};
}

}  // namespace

std::span<const KernelInfo> backends::openmp_kernels() {
  static const std::vector<KernelInfo> table = make_table();
  return table;
}

}  // namespace focal
