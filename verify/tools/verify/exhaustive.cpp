#include "exhaustive.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cfloat>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <thread>

#include "focal_support/machine.hpp"
#include "focal_support/version.hpp"
#include "reference/fast_reference.hpp"
#include "ulp.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace fv {

using namespace focal;
using verify::Failure;
using verify::Stats;
using verify::Worst;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Bit patterns per work item: small enough that a thread's buffers stay in its cache.
constexpr std::uint64_t kChunk = 8192;

struct Chunk {
  std::uint64_t lo, hi;
};

std::vector<Chunk> chunks_of(const std::vector<BitRange>& ranges) {
  std::vector<Chunk> v;
  for (const auto& r : ranges)
    for (std::uint64_t lo = r.lo; lo < r.hi; lo += kChunk) v.push_back({lo, std::min(r.hi, lo + kChunk)});
  return v;
}

// The order of "worst input", the same whatever the threads and chunks: a special-value
// failure beats any ULP error, then the larger error; ties go to the lower bit pattern, then t = 0.
bool worse(const Worst& a, const Worst& b) {
  const bool fa = a.failure != Failure::none, fb = b.failure != Failure::none;
  if (fa != fb) return fa;
  if (!fa && a.ulp != b.ulp) return a.ulp > b.ulp;
  if (a.index != b.index) return a.index < b.index;
  return a.t < b.t;
}

bool before(const OverBound& a, const OverBound& b) {
  return a.bits != b.bits ? a.bits < b.bits : a.t != b.t ? a.t < b.t : std::strcmp(a.what, b.what) < 0;
}

// One thread's tally for one (kernel, gamma, alpha).
struct Tally {
  Stats loss, grad;
  std::uint64_t over = 0;
  std::vector<OverBound> list;   // this thread's first kOverCap, by before()
  std::vector<OverBound> chunk;  // the current chunk's, sorted into `list` at its end
  double kernel_seconds = 0;

  // One result against the truth: the measure of verify::Stats::add (ULP per verify/ulp.hpp,
  // verify::relative_error), with the order of worse() for the worst input.
  // Most results are finite and nonzero on both sides: they take the short path, which computes
  // the relative error (a division) only when it can matter.
  void add(Stats& s, const char* what, std::uint32_t bits, float x, int t, float got, double exact,
           float exact_f, const ErrorBound& bound, bool int_gamma) {
    ++s.n;
    const bool common = std::isfinite(got) && got != 0.0f && std::isfinite(exact_f) && exact != 0.0;
    const bool unwritten = std::bit_cast<std::uint32_t>(got) == verify::kPoisonBits;  // a NaN
    const verify::UlpError e = common      ? verify::UlpError{std::fabs(double(got) - exact) *
                                                                  verify::float_ulp_inverse(exact),
                                                              Failure::none}
                               : unwritten ? verify::UlpError{INFINITY, Failure::spurious_nan}
                                           : verify::ulp_error(got, exact, exact_f);
    bool bad;
    if (e.failure != Failure::none) {
      ++s.special_failures;
      s.max_rel = INFINITY;
      bad = true;
    } else {
      s.sum_ulp += e.ulp;
      s.max_ulp = std::max(s.max_ulp, e.ulp);
      // verify::relative_error; for a normal truth that is d / |exact|, and the division is done
      // only when d / |exact| > limit is possible (d > limit |exact| (1 - 2^-50), a rounding margin).
      const double d = std::fabs(double(got) - exact), ax = std::fabs(exact);
      const double limit = int_gamma ? s.max_rel : std::min(s.max_rel, bound.rel_other);
      double rel = 0;
      if (ax < double(FLT_MIN) || d > limit * ax * (1.0 - 0x1p-50)) {
        rel = ax < double(FLT_MIN) ? verify::relative_error(got, exact, exact) : d / ax;
        s.max_rel = std::max(s.max_rel, rel);
      }
      bad = int_gamma ? e.ulp > bound.ulp : rel > bound.rel_other;
    }
    if (s.n == 1 || e.failure != Failure::none || e.ulp >= s.worst.ulp) {
      const Worst w{bits, x, float(t), exact, got, e.ulp, e.failure};
      if (s.n == 1 || worse(w, s.worst)) s.worst = w;
    }
    if (bad) {
      ++over;
      chunk.push_back({bits, t, what, exact, got, e.ulp, e.failure});
    }
  }

  void end_chunk() {
    std::sort(chunk.begin(), chunk.end(), before);
    for (const auto& o : chunk) {
      if (list.size() >= kOverCap) break;
      list.push_back(o);
    }
    chunk.clear();
  }
};

void merge_stats(Stats& into, const Stats& s) {
  if (s.n == 0) return;
  if (into.n == 0 || worse(s.worst, into.worst)) into.worst = s.worst;
  into.n += s.n;
  into.max_ulp = std::max(into.max_ulp, s.max_ulp);
  into.sum_ulp += s.sum_ulp;
  into.max_rel = std::max(into.max_rel, s.max_rel);
  into.special_failures += s.special_failures;
}

std::string today_utc() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char b[16];
  std::strftime(b, sizeof b, "%Y-%m-%d", &tm);
  return b;
}

}  // namespace

Exhaustive run_exhaustive(const Config& cfg) {
  Exhaustive ex;
  ex.date = today_utc();
  for (const KernelInfo* k : selected(cfg)) (k->is_available() ? ex.ks : ex.skipped).push_back(k);
  const std::vector<Chunk> chunks = chunks_of(cfg.ranges);
  ex.threads = cfg.threads ? cfg.threads : focal::support::machine().cores;
  ex.threads = unsigned(std::min<std::size_t>(ex.threads, chunks.size()));  // no idle workers
  for (const auto& r : cfg.ranges) ex.patterns += r.size();

  const auto& mach = focal::support::machine();
  std::printf("focal-verify exhaustive | %s | machine %s (%s, %u cores) | dispatch %s | %u threads\n",
              std::string(focal::support::git_rev()).c_str(), mach.id.c_str(), mach.cpu.c_str(),
              mach.cores, std::string(best_kernel().name).c_str(), ex.threads);
  for (const KernelInfo* k : ex.skipped)
    std::printf("  skipped %s: %s\n", std::string(k->name).c_str(), k->unavailable_reason().c_str());
  if (cfg.exhaustive_all()) {
    std::printf("  every float32 bit pattern as x (2^32), t = 0 and 1, against the fast double reference\n");
  } else {
    std::printf("  x bit patterns");
    for (const auto& r : cfg.ranges)
      std::printf(" [0x%08llx, 0x%llx)", (unsigned long long)r.lo, (unsigned long long)r.hi);
    std::printf(" (%llu patterns, NOT exhaustive), t = 0 and 1, against the fast double reference\n",
                (unsigned long long)ex.patterns);
  }
  std::fflush(stdout);

  // results[(alpha * gammas + gamma) * kernels + kernel]
  const std::size_t nk = ex.ks.size(), ng = cfg.gammas.size(), na = cfg.alphas.size();
  const std::size_t nres = nk * ng * na;
  std::vector<std::vector<Tally>> tallies(ex.threads, std::vector<Tally>(nres));
  std::vector<double> ref_seconds(ex.threads, 0.0);
  std::atomic<std::size_t> next{0};
  std::atomic<std::uint64_t> done{0}, over{0};
  std::atomic<unsigned> running{ex.threads};
  std::mutex mu;
  std::condition_variable cv;

  auto worker = [&](unsigned tid) {
#ifdef _OPENMP
    omp_set_num_threads(1);  // the openmp kernel: one thread per worker, no oversubscription
#endif
    std::vector<Tally>& mine = tallies[tid];
    std::vector<float> x(kChunk), lo(kChunk), go(kChunk);
    std::vector<std::uint8_t> tv0(kChunk, 0), tv1(kChunk, 1);
    std::vector<verify::FastReferenceX> px(kChunk);
    std::vector<verify::Truth> truth[2] = {std::vector<verify::Truth>(kChunk),
                                           std::vector<verify::Truth>(kChunk)};
    for (std::size_t c; (c = next.fetch_add(1)) < chunks.size();) {
      const std::uint64_t base = chunks[c].lo, n = chunks[c].hi - chunks[c].lo;
      for (std::uint64_t i = 0; i < n; ++i) {
        const auto b = static_cast<std::uint32_t>(base + i);
        std::memcpy(&x[i], &b, 4);
      }
      auto t0 = Clock::now();
      for (std::uint64_t i = 0; i < n; ++i)
        if (std::isfinite(x[i])) px[i] = verify::fast_reference_x(x[i]);
      ref_seconds[tid] += seconds_since(t0);
      std::uint64_t chunk_over = 0;
      for (std::size_t ai = 0; ai < na; ++ai)
        for (std::size_t gi = 0; gi < ng; ++gi) {
          const float alpha = cfg.alphas[ai], gamma = cfg.gammas[gi];
          t0 = Clock::now();
          for (int t : {0, 1})
            for (std::uint64_t i = 0; i < n; ++i)
              truth[t][i] = std::isfinite(x[i]) ? verify::fast_reference(px[i], t == 1, alpha, gamma)
                                                : verify::fast_reference(x[i], t == 1, alpha, gamma);
          ref_seconds[tid] += seconds_since(t0);
          const bool int_gamma = verify::integer_gamma(gamma);
          Options opt;
          opt.alpha = alpha;
          opt.gamma = gamma;
          opt.reduction = Reduction::sum;
          for (std::size_t ki = 0; ki < nk; ++ki) {
            Tally& tl = mine[(ai * ng + gi) * nk + ki];
            const ErrorBound bound = bound_of(*ex.ks[ki], cfg);
            for (int t : {0, 1}) {
              const std::span<const float> xs(x.data(), n);
              const std::span<const std::uint8_t> ts((t ? tv1 : tv0).data(), n);
              const std::span<float> ls(lo.data(), n), gs(go.data(), n);
              verify::poison(ls);
              verify::poison(gs);
              const auto k0 = Clock::now();
              (void)focal_loss(*ex.ks[ki], DenseInput{xs, ts}, opt, Outputs{ls, gs});
              tl.kernel_seconds += seconds_since(k0);
              const auto& tr = truth[t];
              for (std::uint64_t i = 0; i < n; ++i) {
                const auto b = static_cast<std::uint32_t>(base + i);
                tl.add(tl.loss, "loss", b, x[i], t, lo[i], tr[i].loss_exact, tr[i].loss_float, bound, int_gamma);
                tl.add(tl.grad, "grad", b, x[i], t, go[i], tr[i].grad_exact, tr[i].grad_float, bound, int_gamma);
              }
            }
            chunk_over += tl.chunk.size();
            tl.end_chunk();
          }
        }
      over.fetch_add(chunk_over);
      done.fetch_add(n);
    }
    if (running.fetch_sub(1) == 1) {
      const std::lock_guard<std::mutex> lock(mu);
      cv.notify_all();
    }
  };

  const auto start = Clock::now();
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < ex.threads; ++t) pool.emplace_back(worker, t);
  {
    // Progress as whole lines about every 10 s, so it also shows in a log file.
    std::unique_lock<std::mutex> lock(mu);
    while (!cv.wait_for(lock, std::chrono::seconds(10), [&] { return running.load() == 0; })) {
      const double el = seconds_since(start), d = double(done.load());
      std::fprintf(stderr, "[focal-verify exhaustive] %5.1f%% of %llu x, %.0f s, ETA %.0f s, %llu over bound\n",
                   100.0 * d / double(ex.patterns), (unsigned long long)ex.patterns, el,
                   d > 0 ? el * (double(ex.patterns) / d - 1.0) : 0.0, (unsigned long long)over.load());
    }
  }
  for (auto& t : pool) t.join();
  ex.seconds = seconds_since(start);
  std::fprintf(stderr, "[focal-verify exhaustive] done: %llu x in %.0f s\n",
               (unsigned long long)ex.patterns, ex.seconds);
  for (double s : ref_seconds) ex.reference_seconds += s;

  for (std::size_t ai = 0; ai < na; ++ai)
    for (std::size_t gi = 0; gi < ng; ++gi)
      for (std::size_t ki = 0; ki < nk; ++ki) {
        ExhaustiveResult r{ex.ks[ki], cfg.gammas[gi], cfg.alphas[ai], {}, {}, 0, {}, 0, true};
        for (const auto& th : tallies) {
          const Tally& tl = th[(ai * ng + gi) * nk + ki];
          merge_stats(r.loss, tl.loss);
          merge_stats(r.grad, tl.grad);
          r.over += tl.over;
          r.kernel_seconds += tl.kernel_seconds;
          r.list.insert(r.list.end(), tl.list.begin(), tl.list.end());
        }
        std::sort(r.list.begin(), r.list.end(), before);
        if (r.list.size() > kOverCap) r.list.resize(kOverCap);
        r.pass = r.over == 0;
        ex.results.push_back(std::move(r));
      }
  return ex;
}

}  // namespace fv
