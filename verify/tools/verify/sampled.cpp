#include "sampled.hpp"

#include <algorithm>
#include <cfloat>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "focal_support/machine.hpp"
#include "focal_support/version.hpp"
#include "half_oracle.hpp"
#include "peer/torch_formula.hpp"
#include "reference/mpfr_reference.hpp"

#ifdef _OPENMP
#include <omp.h>
#else  // built without OpenMP: one thread
inline int omp_get_max_threads() { return 1; }
inline void omp_set_num_threads(int) {}
#endif

namespace fv {

using namespace focal;
using verify::DenseCases;
using verify::Stats;
using verify::Truth;
using Clock = std::chrono::steady_clock;
namespace peer = focal::verify::peer;

namespace {

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Sizes {
  std::size_t typical, uniform, extreme_points, soft, label_rows, stability;
};
Sizes sizes(Mode m) {
  if (m == Mode::full) return {200000, 200000, 15000, 150000, 2500, std::size_t(1) << 23};
  return {20000, 20000, 2000, 15000, 300, std::size_t(1) << 20};
}

struct Family {
  std::string name;
  DenseCases cases;                          // every element, in the kernel's layout order
  std::optional<verify::LabelCases> labels;  // set: run through LabelInput
  std::vector<char> ignored;                 // labels: element of an ignored anchor
  std::optional<Dtype> half;                 // set: run through HalfDenseInput (half_bits)
  std::vector<std::uint16_t> half_bits;
};

// Every `step`-th half pattern (and every inf/NaN one), each with t = 0 and t = 1; cases.x holds
// the exact values (decoded by arithmetic, verify/half_oracle.hpp), so the truth is at them.
Family half_family(Dtype d, std::uint32_t step) {
  Family f{"half_" + std::string(to_string(d)), {}, {}, {}, d, {}};
  f.cases.family = f.name;
  for (std::uint32_t h = 0; h < 65536; ++h) {
    const double v = verify::half_decode(std::uint16_t(h), d);
    if (h % step != 0 && std::isfinite(v)) continue;
    for (float t : {0.0f, 1.0f}) {
      f.half_bits.push_back(std::uint16_t(h));
      f.cases.x.push_back(float(v));
      f.cases.t.push_back(t);
    }
  }
  return f;
}

std::vector<Family> make_families(const Sizes& s, std::uint64_t seed, Mode mode) {
  std::vector<Family> f;
  f.push_back({"typical", verify::typical(s.typical, seed + 1), {}, {}, {}, {}});
  f.push_back({"uniform", verify::uniform(s.uniform, seed + 2), {}, {}, {}, {}});
  f.push_back({"extreme", verify::extreme(s.extreme_points, seed + 3), {}, {}, {}, {}});
  f.push_back({"special", verify::special(), {}, {}, {}, {}});
  f.push_back({"soft", verify::soft(s.soft, seed + 4), {}, {}, {}, {}});
  Family l{"labels", {}, verify::labels(s.label_rows, 80, seed + 5), {}, {}, {}};
  const auto& lc = *l.labels;
  l.cases.family = "labels";
  for (std::size_t r = 0; r < lc.labels.size(); ++r)
    for (std::size_t k = 0; k < lc.num_classes; ++k) {
      l.cases.x.push_back(lc.logits[r * lc.num_classes + k]);
      l.cases.t.push_back(lc.labels[r] >= 0 && std::size_t(lc.labels[r]) == k ? 1.0f : 0.0f);
      l.ignored.push_back(lc.labels[r] < 0);
    }
  f.push_back(std::move(l));
  for (Dtype d : {Dtype::fp16, Dtype::bf16}) f.push_back(half_family(d, mode == Mode::full ? 1 : 4));
  return f;
}

std::vector<Truth> truth_for(const Family& f, float alpha, float gamma) {
  auto t = verify::references(f.cases, alpha, gamma);
  for (std::size_t i = 0; i < t.size(); ++i)
    if (!f.ignored.empty() && f.ignored[i]) t[i] = Truth{0.0, 0.0, 0.0f, 0.0f, 0.0};
  return t;
}

std::uint64_t expected_count(const Family& f) {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < f.cases.x.size(); ++i) n += f.ignored.empty() || !f.ignored[i];
  return n;
}

// One kernel (or the peer) on one family at one (alpha, gamma).
struct Run {
  Stats loss, grad;
  Result result;
  std::vector<float> loss_out, grad_out;
  std::vector<std::uint16_t> grad_half_out;  // half families
  double seconds = 0;
};

struct HalfGrad {
  double max_ulp = 0;
  std::size_t failures = 0;
};

// The half gradient against the exact gradient, in ULPs of the dtype: NaN for NaN, the correctly
// rounded inf past the overflow threshold, 0 only for an exact 0 (verify/half_oracle.hpp).
HalfGrad measure_grad_half(const Run& r, Dtype d, const std::vector<Truth>& truth) {
  HalfGrad h;
  for (std::size_t i = 0; i < r.grad_half_out.size(); ++i) {
    const double exact = truth[i].grad_exact;
    const double got = verify::half_decode(r.grad_half_out[i], d);
    const double want = verify::half_round(exact, d);
    bool ok;
    if (std::isnan(exact) || std::isnan(got)) {
      ok = std::isnan(exact) && std::isnan(got);
    } else if (std::isinf(want) || std::isinf(got)) {
      ok = got == want;
    } else {
      const double e = std::fabs(got - exact) / verify::half_ulp(exact, d);
      ok = exact != 0.0 || got == 0.0;
      if (ok) h.max_ulp = std::max(h.max_ulp, e);
    }
    h.failures += !ok;
  }
  return h;
}

// The largest half-ULP error a kernel's bound allows: 0.5 for the rounding to the dtype plus the
// fp32 gradient's own error carried over (B float ULPs at integer gamma, relative rel_other at
// others; a float ULP is 2^(mbits - 23) half ULPs, a relative e at most e 2^(mbits + 1)).
double grad_half_bound(const ErrorBound& b, Dtype d, float gamma) {
  const int mbits = verify::half_format(d).mbits;
  return 0.5 + (verify::integer_gamma(gamma) ? b.ulp * std::ldexp(1.0, mbits - 23)
                                             : b.rel_other * std::ldexp(1.0, mbits + 1));
}

void measure_outputs(Run& r, const Family& f, const std::vector<Truth>& truth) {
  const bool binary = f.cases.binary();
  for (std::size_t i = 0; i < f.cases.x.size(); ++i) {
    const Truth& tr = truth[i];
    const float x = f.cases.x[i], t = f.cases.t[i];
    r.loss.add(i, x, t, r.loss_out[i], tr.loss_exact, tr.loss_float, tr.loss_exact,
               verify::is_poison(r.loss_out[i]));
    // Binary targets: both gradient terms share a sign, so the gradient's own ULP is the unit.
    const double gscale = binary ? tr.grad_exact : tr.grad_scale_term;
    r.grad.add(i, x, t, r.grad_out[i], tr.grad_exact, tr.grad_float, gscale,
               verify::is_poison(r.grad_out[i]));
  }
}

Run run_kernel(const KernelInfo& k, const Family& f, const Options& opt,
               const std::vector<Truth>& truth) {
  Run r;
  const auto t0 = Clock::now();
  if (f.half) {
    const std::size_t n = f.half_bits.size();
    r.loss_out.resize(n);
    r.grad_out.resize(n);
    r.grad_half_out.assign(n, 0x7d55);  // poison: a NaN in both dtypes, not what a kernel writes
    verify::poison(r.loss_out);
    verify::poison(r.grad_out);
    r.result = focal_loss(k, HalfDenseInput{f.half_bits, f.cases.targets_u8(), *f.half}, opt,
                          Outputs{.loss = r.loss_out, .grad = r.grad_out, .grad_half = r.grad_half_out});
    r.seconds = seconds_since(t0);
    measure_outputs(r, f, truth);
    return r;
  }
  if (!f.labels) {
    auto m = verify::measure(k, f.cases, opt, truth);
    r.seconds = seconds_since(t0);
    r.loss = m.loss;
    r.grad = m.grad;
    r.result = m.result;
    r.loss_out = std::move(m.loss_out);
    r.grad_out = std::move(m.grad_out);
    return r;
  }
  const auto& l = *f.labels;
  r.loss_out.resize(l.logits.size());
  r.grad_out.resize(l.logits.size());
  verify::poison(r.loss_out);
  verify::poison(r.grad_out);
  r.result = focal_loss(k, LabelInput{l.logits, l.labels, l.num_classes}, opt,
                        Outputs{r.loss_out, r.grad_out});
  r.seconds = seconds_since(t0);
  measure_outputs(r, f, truth);
  return r;
}

Run run_peer(const Family& f, const Options& opt, const std::vector<Truth>& truth) {
  Run r;
  const std::size_t n = f.cases.x.size();
  r.loss_out.resize(n);
  r.grad_out.resize(n);
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    if (!f.ignored.empty() && f.ignored[i]) {  // the usual code masks ignored anchors out
      r.loss_out[i] = r.grad_out[i] = 0.0f;
      continue;
    }
    const auto v = peer::torch_formula(f.cases.x[i], f.cases.t[i], opt.alpha, opt.gamma);
    r.loss_out[i] = v.loss;
    r.grad_out[i] = v.grad;
  }
  r.seconds = seconds_since(t0);
  measure_outputs(r, f, truth);
  return r;
}

double sum_rel_error(const Run& r) {
  const double exact = verify::exact_sum(r.loss_out);
  const double got = r.result.sum;
  if (!std::isfinite(exact)) {
    const bool same = std::isnan(exact) ? std::isnan(got) : got == exact;
    return same ? 0.0 : INFINITY;
  }
  if (exact == 0.0) return got == 0.0 ? 0.0 : INFINITY;
  return std::fabs(got - exact) / std::fabs(exact);
}

bool same_bits(float a, float b) {
  if (std::isnan(a) && std::isnan(b)) return true;  // NaN payloads are not part of the contract
  std::uint32_t x, y;
  std::memcpy(&x, &a, 4);
  std::memcpy(&y, &b, 4);
  return x == y;
}

void compare(Cross& c, const Family& f, float gamma, const Run& ra, const Run& rb,
             const std::vector<Truth>& truth, const Config& cfg) {
  const bool binary = f.cases.binary();
  const double ulp_allowed = bound_of(*c.a, cfg).ulp + bound_of(*c.b, cfg).ulp;
  const double rel_allowed = bound_of(*c.a, cfg).rel_other + bound_of(*c.b, cfg).rel_other;
  const bool int_gamma = verify::integer_gamma(gamma);
  auto one = [&](std::size_t i, const char* what, float va, float vb, double scale) {
    bool ok;
    if (c.bitwise) {
      ok = same_bits(va, vb);
    } else if (!std::isfinite(va) || !std::isfinite(vb)) {
      ok = same_bits(va, vb) || (va == vb);
    } else {
      const double d = std::fabs(double(va) - double(vb));
      const double du = d / verify::float_ulp(scale);
      const double dr = d / std::max(std::fabs(scale), double(FLT_MIN));
      if (int_gamma) c.max_diff_ulp = std::max(c.max_diff_ulp, du);
      c.max_diff_rel = std::max(c.max_diff_rel, dr);
      ok = int_gamma ? du <= ulp_allowed : dr <= rel_allowed;
    }
    if (c.bitwise && !ok && std::isfinite(va) && std::isfinite(vb))
      c.max_diff_ulp = std::max(c.max_diff_ulp, std::fabs(double(va) - double(vb)) /
                                                    verify::float_ulp(scale));
    if (!ok) {
      if (c.mismatches++ == 0) {
        char b[256];
        std::snprintf(b, sizeof b, "%s family=%s gamma=%g x=%.9g t=%g: %s %.9g vs %s %.9g", what,
                      f.name.c_str(), gamma, f.cases.x[i], f.cases.t[i],
                      std::string(c.a->name).c_str(), va, std::string(c.b->name).c_str(), vb);
        c.first_mismatch = b;
      }
      c.pass = false;
    }
  };
  for (std::size_t i = 0; i < f.cases.x.size(); ++i) {
    one(i, "loss", ra.loss_out[i], rb.loss_out[i], truth[i].loss_exact);
    one(i, "grad", ra.grad_out[i], rb.grad_out[i],
        binary ? truth[i].grad_exact : truth[i].grad_scale_term);
  }
}

Stability stability(const KernelInfo& k, const DenseCases& c) {
  Stability s;
  const auto u8 = c.targets_u8();
  Options opt;  // alpha 0.25, gamma 2, sum
  const bool omp_backend = k.backend == "openmp";
  if (omp_backend) s.thread_counts = {1, 2, 3};
  const int saved = omp_get_max_threads();
  std::vector<float> ref_loss, ref_grad, loss(c.x.size()), grad(c.x.size());
  double ref_sum = 0;
  bool first = true;
  for (int threads : omp_backend ? std::vector<int>{1, 2, 3} : std::vector<int>{0}) {
    if (threads) omp_set_num_threads(threads);
    for (int run = 0; run < 3; ++run) {
      verify::poison(loss);
      verify::poison(grad);
      const auto r = focal_loss(k, DenseInput{c.x, u8}, opt, Outputs{loss, grad});
      if (first) {
        ref_sum = r.sum, ref_loss = loss, ref_grad = grad, first = false;
        continue;
      }
      const bool same_sum = std::memcmp(&ref_sum, &r.sum, sizeof ref_sum) == 0;
      const bool same_out = std::memcmp(ref_loss.data(), loss.data(), loss.size() * 4) == 0 &&
                            std::memcmp(ref_grad.data(), grad.data(), grad.size() * 4) == 0;
      if ((!same_sum || !same_out) && s.stable) {
        char b[200];
        std::snprintf(b, sizeof b, "run %d%s%s: sum %.17g vs %.17g%s", run + 1,
                      threads ? " with threads=" : "", threads ? std::to_string(threads).c_str() : "",
                      r.sum, ref_sum, same_out ? "" : ", per-element outputs differ");
        s.detail = b;
        s.stable = false;
      }
    }
  }
  omp_set_num_threads(saved);
  return s;
}

}  // namespace

Sampled run_sampled(const Config& cfg) {
  Sampled out;
  const auto t_start = Clock::now();
  const std::uint64_t seed = out.seed = verify::process_seed();
  const auto& mach = focal::support::machine();
  const Sizes sz = sizes(cfg.mode);
  const auto fams = make_families(sz, seed, cfg.mode);
  std::vector<const KernelInfo*> ks;
  std::printf("focal-verify %s | git %s | machine %s (%s, %u cores) | dispatch %s\n",
              to_string(cfg.mode), std::string(focal::support::git_rev()).c_str(), mach.id.c_str(), mach.cpu.c_str(), mach.cores,
              std::string(best_kernel().name).c_str());
  for (const KernelInfo* k : selected(cfg)) {
    if (k->is_available()) {
      ks.push_back(k);
    } else {
      std::printf("  skipped %s: %s\n", std::string(k->name).c_str(), k->unavailable_reason().c_str());
      out.skipped.push_back(k);
    }
  }
  std::size_t total = 0;
  for (const auto& f : fams) total += f.cases.x.size();
  std::printf("  %zu kernels x %zu inputs (%zu families) x %zu gammas x %zu alphas, MPFR 192-bit truth\n\n",
              ks.size(), total, fams.size(), cfg.gammas.size(), cfg.alphas.size());
  std::fflush(stdout);

  std::vector<KernelReport> reps(ks.size());
  for (std::size_t i = 0; i < ks.size(); ++i) reps[i].k = ks[i];
  std::vector<FamilyResult> peer;
  std::vector<Cross> cross;
  for (std::size_t a = 0; a < ks.size(); ++a)
    for (std::size_t b = a + 1; b < ks.size(); ++b) {
      const bool bw = ks[a]->bitwise_equal_to == ks[b]->name || ks[b]->bitwise_equal_to == ks[a]->name;
      cross.push_back(Cross{ks[a], ks[b], bw, 0, 0, 0, {}, true});
    }

  double t_truth = 0;
  std::size_t steps = 0;
  for (float alpha : cfg.alphas)
    for (float gamma : cfg.gammas) {
      Options opt;
      opt.alpha = alpha;
      opt.gamma = gamma;
      for (const auto& f : fams) {
        const auto t0 = Clock::now();
        const auto truth = truth_for(f, alpha, gamma);
        t_truth += seconds_since(t0);
        std::vector<Run> runs;
        for (auto& rep : reps) {
          Run r = run_kernel(*rep.k, f, opt, truth);
          FamilyResult fr{f.name, gamma, alpha, r.loss, r.grad};
          fr.count_ok = r.result.count == expected_count(f);
          fr.sum_rel = sum_rel_error(r);
          fr.seconds = r.seconds;
          rep.seconds += r.seconds;
          // Sums: the kernel's sum of its own fp32 losses within 1e-12 of their exact sum.
          fr.pass = r.loss.passes(bound_of(*rep.k, cfg), gamma) && r.grad.passes(bound_of(*rep.k, cfg), gamma) &&
                    fr.count_ok && fr.sum_rel <= 1e-12;
          if (f.half) {
            const HalfGrad h = measure_grad_half(r, *f.half, truth);
            fr.grad_half_ulp = h.max_ulp;
            fr.grad_half_failures = h.failures;
            fr.grad_half_bound = grad_half_bound(bound_of(*rep.k, cfg), *f.half, gamma);
            fr.pass = fr.pass && h.failures == 0 && h.max_ulp <= fr.grad_half_bound;
          }
          rep.max_sum_rel = std::max(rep.max_sum_rel, fr.sum_rel);
          rep.pass = rep.pass && fr.pass;
          rep.families.push_back(fr);
          runs.push_back(std::move(r));
        }
        Run pr = run_peer(f, opt, truth);
        FamilyResult pf{f.name, gamma, alpha, pr.loss, pr.grad};
        peer.push_back(pf);
        std::size_t ci = 0;
        for (std::size_t a = 0; a < ks.size(); ++a)
          for (std::size_t b = a + 1; b < ks.size(); ++b) compare(cross[ci++], f, gamma, runs[a], runs[b], truth, cfg);
      }
      // Progress as whole lines, so it also shows in a log file (scripts/run's run.log).
      std::fprintf(stderr, "[focal-verify %s] alpha %g gamma %g done (%zu of %zu), %.0f s\n",
                   to_string(cfg.mode), alpha, gamma, ++steps, cfg.alphas.size() * cfg.gammas.size(),
                   seconds_since(t_start));
    }
  std::fprintf(stderr, "[focal-verify %s] bitwise stability and error vs |x|\n", to_string(cfg.mode));

  // Stability on a larger input (no MPFR needed): sums and outputs, bit for bit.
  const auto stab_cases = verify::uniform(sz.stability, seed + 6);
  for (auto& rep : reps) {
    rep.stab = stability(*rep.k, stab_cases);
    rep.pass = rep.pass && rep.stab.stable;
  }

  // error_vs_x: gamma 2 (first configured if 2 is not among them), alpha 0.25.
  const float ex_gamma = std::find(cfg.gammas.begin(), cfg.gammas.end(), 2.0f) != cfg.gammas.end() ? 2.0f : cfg.gammas[0];
  const float ex_alpha = 0.25f;
  std::vector<double> abs_x;
  const int per_decade = 8, bin = 32;
  for (int i = 0; i <= 7 * per_decade; ++i) abs_x.push_back(std::pow(10.0, -3.0 + double(i) / per_decade));
  Family exf{"error_vs_x", {}, {}, {}, {}, {}};
  for (double c : abs_x)
    for (int s = 0; s < bin; ++s) {  // bin: +-1/4 of the step around c, both signs, t = 0, 1
      const double m = c * std::pow(10.0, (double(s) / (bin - 1) - 0.5) * 0.5 / per_decade);
      for (float sign : {1.0f, -1.0f})
        for (float t : {0.0f, 1.0f}) {
          exf.cases.x.push_back(sign * float(m));
          exf.cases.t.push_back(t);
        }
    }
  std::vector<Series> series;
  {
    Options opt;
    opt.alpha = ex_alpha;
    opt.gamma = ex_gamma;
    const auto truth = truth_for(exf, ex_alpha, ex_gamma);
    auto add_series = [&](const std::string& name, const Run& r) {
      for (int t : {1, 0}) {
        Series s{name, t, {}, {}, {}, {}};
        const std::size_t per_point = bin * 4;
        for (std::size_t p = 0; p < abs_x.size(); ++p) {
          double lu = 0, lr = 0, gu = 0, gr = 0;
          for (std::size_t i = p * per_point; i < (p + 1) * per_point; ++i) {
            if (exf.cases.t[i] != float(t)) continue;
            const Truth& tr = truth[i];
            const auto le = verify::ulp_error(r.loss_out[i], tr.loss_exact, tr.loss_float);
            const auto ge = verify::ulp_error(r.grad_out[i], tr.grad_exact, tr.grad_float);
            lu = std::max(lu, le.ulp);
            gu = std::max(gu, ge.ulp);
            auto rel = [](float got, double exact, const verify::UlpError& e) {
              if (e.failure != verify::Failure::none) return double(INFINITY);
              return verify::relative_error(got, exact, exact);
            };
            lr = std::max(lr, rel(r.loss_out[i], tr.loss_exact, le));
            gr = std::max(gr, rel(r.grad_out[i], tr.grad_exact, ge));
          }
          s.loss_ulp.push_back(lu), s.loss_rel.push_back(lr), s.grad_ulp.push_back(gu), s.grad_rel.push_back(gr);
        }
        series.push_back(std::move(s));
      }
    };
    for (auto& rep : reps) add_series(std::string(rep.k->name), run_kernel(*rep.k, exf, opt, truth));
    add_series(peer::kName, run_peer(exf, opt, truth));
  }
  out.reps = std::move(reps);
  out.peer = std::move(peer);
  out.cross = std::move(cross);
  out.ex_gamma = ex_gamma;
  out.ex_alpha = ex_alpha;
  out.abs_x = std::move(abs_x);
  out.series = std::move(series);
  out.truth_seconds = t_truth;
  out.seconds = seconds_since(t_start);
  return out;
}

}  // namespace fv
