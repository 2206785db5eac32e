// The --quick / --full report: a table per kernel and family on stdout, and --json.
#include <algorithm>
#include <cstdio>
#include <map>

#include "peer/torch_formula.hpp"
#include "report.hpp"
#include "sampled.hpp"

namespace fv {

using namespace focal;
using verify::Stats;
namespace peer = focal::verify::peer;
using focal::support::short_float;

namespace {

std::string worst_str(const Stats& s, float gamma) {
  char b[200];
  std::snprintf(b, sizeof b, "x=%.9g t=%g g=%g exp %.7g got %.7g%s%s", s.worst.x, s.worst.t, gamma,
                s.worst.expected, s.worst.got, s.worst.failure == verify::Failure::none ? "" : " ",
                s.worst.failure == verify::Failure::none ? "" : verify::to_string(s.worst.failure));
  return b;
}

// Aggregate over gammas/alphas for one family (text table).
struct Agg {
  Stats loss, grad;
  float loss_worst_gamma = 0, grad_worst_gamma = 0;
  bool pass = true;
};

void print_header() {
  std::printf("%-18s %-8s %9s  %-27s  %-27s %5s  %s\n", "kernel", "family", "n",
              "loss: max ulp/mean/max rel", "grad: max ulp/mean/max rel", "spec",
              "result  worst loss input");
  std::printf("%-18s %-8s %9s  %-27s\n", "", "", "", "(max ulp: gammas 0..4)");
}

void print_row(const std::string& kernel, const std::string& fam, const Agg& a, const char* verdict) {
  std::string l = fmt_g(a.loss.max_ulp) + " / " + fmt_g(a.loss.mean_ulp(), "%.2g") + " / " +
                  fmt_g(a.loss.max_rel, "%.2g");
  std::string g = fmt_g(a.grad.max_ulp) + " / " + fmt_g(a.grad.mean_ulp(), "%.2g") + " / " +
                  fmt_g(a.grad.max_rel, "%.2g");
  std::printf("%-18s %-8s %9zu  %-27s  %-27s %5zu  %-6s  %s\n", kernel.c_str(), fam.c_str(), a.loss.n,
              l.c_str(), g.c_str(), a.loss.special_failures + a.grad.special_failures, verdict,
              worst_str(a.loss, a.loss_worst_gamma).c_str());
}

std::map<std::string, Agg> aggregate(const std::vector<FamilyResult>& fr) {
  std::map<std::string, Agg> m;
  for (const auto& r : fr) {
    Agg& a = m[r.family];
    const double prev_l = a.loss.n ? a.loss.worst.ulp : -1, prev_g = a.grad.n ? a.grad.worst.ulp : -1;
    const auto prev_lf = a.loss.worst.failure, prev_gf = a.grad.worst.failure;
    // The ULP columns cover the gammas with a ULP bound (0..4); other gammas count by max rel.
    Stats l = r.loss, g = r.grad;
    if (!verify::integer_gamma(r.gamma)) {
      l.max_ulp = g.max_ulp = 0;
      if (l.worst.failure == verify::Failure::none) l.worst.ulp = -1;
      if (g.worst.failure == verify::Failure::none) g.worst.ulp = -1;
    }
    merge(a.loss, l);
    merge(a.grad, g);
    if (a.loss.worst.ulp != prev_l || a.loss.worst.failure != prev_lf) a.loss_worst_gamma = r.gamma;
    if (a.grad.worst.ulp != prev_g || a.grad.worst.failure != prev_gf) a.grad_worst_gamma = r.gamma;
    a.pass = a.pass && r.pass;
  }
  return m;
}

Json family_json(const FamilyResult& r, bool with_pass) {
  Json j;
  j["family"] = r.family;
  j["gamma"] = short_float(r.gamma);
  j["alpha"] = short_float(r.alpha);
  j["n"] = r.loss.n;
  j["loss"] = stats_json(r.loss);
  j["grad"] = stats_json(r.grad);
  if (r.grad_half_ulp >= 0)
    j["grad_half"] = {{"max_half_ulp", r.grad_half_ulp},
                      {"bound_half_ulp", r.grad_half_bound},
                      {"failures", r.grad_half_failures}};
  if (with_pass) {
    j["sum_rel_err_vs_exact"] = r.sum_rel;
    j["count_ok"] = r.count_ok;
    j["seconds"] = r.seconds;
    j["pass"] = r.pass;
  }
  return j;
}

Json sampled_json(const Config& cfg, const Sampled& s, bool all_pass) {
  Json j = run_header(cfg, s.seed);
  Json ks = Json::array();
  for (const auto& rep : s.reps) {
    Json k = kernel_header(*rep.k, cfg);
    k["families"] = Json::array();
    for (const auto& r : rep.families) k["families"].push_back(family_json(r, true));
    k["sum"] = {{"max_rel_err_vs_exact", rep.max_sum_rel},
                {"bitwise_stable", rep.stab.stable},
                {"thread_counts", rep.stab.thread_counts}};
    if (!rep.stab.stable) k["sum"]["detail"] = rep.stab.detail;
    k["seconds"] = rep.seconds;
    k["pass"] = rep.pass;
    ks.push_back(std::move(k));
  }
  for (const KernelInfo* sk : s.skipped) {
    Json k = kernel_header(*sk, cfg);
    k["families"] = Json::array();
    k["pass"] = nullptr;
    ks.push_back(std::move(k));
  }
  j["kernels"] = std::move(ks);
  Json pf = Json::array();
  for (const auto& r : s.peer) pf.push_back(family_json(r, false));
  j["peer"] = {{"name", peer::kName}, {"families", std::move(pf)}};
  j["cross"] = Json::array();
  for (const auto& c : s.cross) {
    Json x = {{"a", std::string(c.a->name)},
              {"b", std::string(c.b->name)},
              {"kind", c.bitwise ? "bitwise" : "within_bounds"},
              {"pass", c.pass},
              {"max_diff_ulp", c.max_diff_ulp},
              {"max_diff_rel", c.max_diff_rel},
              {"mismatches", c.mismatches}};
    if (!c.pass) x["first_mismatch"] = c.first_mismatch;
    j["cross"].push_back(std::move(x));
  }
  Json ex = {{"gamma", short_float(s.ex_gamma)},
             {"alpha", short_float(s.ex_alpha)},
             {"bin", "max over 32 log-spaced |x| within +-1/32 decade of each point, both signs"},
             {"abs_x", s.abs_x},
             {"series", Json::array()}};
  for (const auto& se : s.series)  // inf (wrong special value / 0) is written as null
    ex["series"].push_back({{"name", se.name},
                            {"t", se.t},
                            {"loss_ulp", se.loss_ulp},
                            {"loss_rel", se.loss_rel},
                            {"grad_ulp", se.grad_ulp},
                            {"grad_rel", se.grad_rel}});
  j["error_vs_x"] = std::move(ex);
  j["seconds"] = s.seconds;
  j["pass"] = all_pass;
  return j;
}

}  // namespace

int report_sampled(const Config& cfg, const Sampled& s) {
  // ---- text report ----
  print_header();
  bool all_pass = true;
  for (const auto& rep : s.reps) {
    all_pass = all_pass && rep.pass;
    const auto agg = aggregate(rep.families);
    for (const auto& [fam, a] : agg) {
      print_row(std::string(rep.k->name), fam, a, a.pass ? "PASS" : "FAIL");
      if (!a.pass || cfg.verbose)
        for (const auto& r : rep.families)
          if (r.family == fam && (!r.pass || cfg.verbose))
            std::printf("    %s gamma=%g alpha=%g %s%s\n      %s\n      %s\n", r.pass ? "ok  " : "FAIL",
                        r.gamma, r.alpha, r.count_ok ? "" : "WRONG COUNT ",
                        r.sum_rel > 1e-12 ? ("sum rel err " + fmt_g(r.sum_rel)).c_str() : "",
                        r.loss.describe("loss").c_str(), r.grad.describe("grad").c_str());
    }
    // The half families' gradient in the logits' dtype (not in the table's float-ULP columns).
    std::map<std::string, std::pair<double, std::size_t>> half;  // family -> max ulp, failures
    for (const auto& r : rep.families)
      if (r.grad_half_ulp >= 0) {
        auto& [ulp, failures] = half[r.family];
        ulp = std::max(ulp, r.grad_half_ulp);
        failures += r.grad_half_failures;
      }
    for (const auto& [fam, h] : half)
      std::printf("%-18s %-8s gradient in the dtype: max %s half-ULP of the exact gradient "
                  "(bound 0.5 + the fp32 error), %zu special mismatches\n",
                  std::string(rep.k->name).c_str(), fam.c_str(), fmt_g(h.first).c_str(), h.second);
    std::printf("%-18s bound %g ulp (gamma 0..4), rel %.2g otherwise; sum max rel err vs exact %s; "
                "%s%s; kernel time %.2f s => %s\n\n",
                std::string(rep.k->name).c_str(), bound_of(*rep.k, cfg).ulp, bound_of(*rep.k, cfg).rel_other,
                fmt_g(rep.max_sum_rel).c_str(),
                rep.stab.stable ? "bitwise stable over 3 runs" : ("NOT bitwise stable: " + rep.stab.detail).c_str(),
                rep.stab.thread_counts.empty() ? "" : " x threads 1,2,3", rep.seconds,
                rep.pass ? "PASS" : "FAIL");
  }
  {
    const auto agg = aggregate(s.peer);
    for (const auto& [fam, a] : agg) print_row(peer::kName, fam, a, "peer");
    std::printf("%-18s the usual PyTorch/torchvision formula in float32 (reference point, not pass/fail)\n\n",
                peer::kName);
  }
  if (!s.cross.empty()) {
    std::printf("cross-verification:\n");
    for (const auto& c : s.cross)
      std::printf("  %-10s vs %-10s %-13s max diff %s ulp, %s rel  %s%s%s\n", std::string(c.a->name).c_str(),
                  std::string(c.b->name).c_str(), c.bitwise ? "bit for bit" : "within bounds",
                  fmt_g(c.max_diff_ulp).c_str(), fmt_g(c.max_diff_rel).c_str(), c.pass ? "PASS" : "FAIL",
                  c.pass ? "" : ": ", c.first_mismatch.c_str());
    std::printf("\n");
    for (const auto& c : s.cross) all_pass = all_pass && c.pass;
  }
  // A compact view of error vs |x| (t = 1, loss ULP) at a few magnitudes.
  std::printf("loss error vs |x| (gamma %g, alpha %g, t = 1, max ULP in a bin around |x|; inf = wrong/0):\n  %-18s",
              s.ex_gamma, s.ex_alpha, "|x|");
  const std::size_t shown[] = {0, 16, 24, 32, 36, 38, 40, 44, 48, 56};
  for (std::size_t p : shown) std::printf(" %8.3g", s.abs_x[p]);
  std::printf("\n");
  for (const auto& se : s.series) {
    if (se.t != 1) continue;
    std::printf("  %-18s", se.name.c_str());
    for (std::size_t p : shown) std::printf(" %8s", fmt_g(se.loss_ulp[p]).c_str());
    std::printf("\n");
  }
  std::printf("\nMPFR truth %.1f s, total %.1f s. %s\n", s.truth_seconds, s.seconds,
              all_pass ? "PASS: every kernel within its declared bound"
                       : "FAIL: some kernel is outside its declared bound (see above)");

  if (!cfg.json.empty() && !write_json(cfg.json, sampled_json(cfg, s, all_pass))) return 2;
  return all_pass ? 0 : 1;
}

}  // namespace fv
