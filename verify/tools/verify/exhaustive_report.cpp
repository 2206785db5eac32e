// The --exhaustive report: a block per kernel, gamma and alpha plus a table on stdout; --json
// (everything in one file); --out DIR (one JSON and one markdown file per kernel and gamma, the
// layout of results/<machine-id>/exhaustive/).
#include <cinttypes>
#include <cstdio>
#include <fstream>

#include "exhaustive.hpp"
#include "focal/version.hpp"
#include "focal_support/machine.hpp"
#include "focal_support/version.hpp"
#include "report.hpp"

namespace fv {

using namespace focal;
using focal::support::short_float;

namespace {

std::string hex_bits(std::uint64_t b) {
  char s[24];
  std::snprintf(s, sizeof s, "0x%08llx", (unsigned long long)b);
  return s;
}

std::string what_range(const Config& cfg, const Exhaustive& e) {
  if (cfg.exhaustive_all()) return "every float32 x (2^32 bit patterns)";
  std::string s = std::to_string(e.patterns) + " x bit patterns in";
  for (const auto& r : cfg.ranges) s += " [" + hex_bits(r.lo) + ", " + hex_bits(r.hi) + ")";
  return s + " (NOT exhaustive)";
}

Json header(const Config& cfg, const Exhaustive& e) {
  Json j = run_header(cfg, 0);
  j["date"] = e.date;
  j["threads"] = e.threads;
  j["exhaustive"] = cfg.exhaustive_all();
  j["ranges"] = Json::array();
  for (const auto& r : cfg.ranges) j["ranges"].push_back({hex_bits(r.lo), hex_bits(r.hi)});
  j["patterns"] = e.patterns;
  j["reference"] = "fast double reference (verify/reference/fast_reference.cpp), checked against "
                   "MPFR by test_fast_reference";
  j["seconds"] = e.seconds;
  j["reference_thread_seconds"] = e.reference_seconds;
  return j;
}

Json stats_with_bits(const verify::Stats& s) {
  Json j = stats_json(s);
  j["worst"]["bits"] = hex_bits(s.worst.index);
  return j;
}

Json entry(const ExhaustiveResult& r) {
  Json j;
  j["gamma"] = short_float(r.gamma);
  j["alpha"] = short_float(r.alpha);
  j["t"] = {0, 1};
  j["n"] = r.loss.n;
  j["loss"] = stats_with_bits(r.loss);
  j["grad"] = stats_with_bits(r.grad);
  j["over_bound"] = r.over;
  j["over_bound_list_cap"] = kOverCap;
  j["over_bound_list"] = Json::array();
  for (const auto& o : r.list)
    j["over_bound_list"].push_back({{"bits", hex_bits(o.bits)},
                                    {"x", short_float(o.x_of())},
                                    {"t", o.t},
                                    {"what", o.what},
                                    {"expected", o.expected},
                                    {"got", short_float(o.got)},
                                    {"ulp", o.ulp},
                                    {"failure", verify::to_string(o.failure)}});
  j["kernel_thread_seconds"] = r.kernel_seconds;
  j["pass"] = r.pass;
  return j;
}

std::string file_stem(const Config& cfg, const ExhaustiveResult& r) {
  char b[128];
  std::snprintf(b, sizeof b, "%s-gamma%g", std::string(r.k->name).c_str(), r.gamma);
  std::string s = b;
  if (r.alpha != 0.25f) {
    std::snprintf(b, sizeof b, "-alpha%g", r.alpha);
    s += b;
  }
  return cfg.exhaustive_all() ? s : s + "-partial";  // a slice never replaces a whole run's file
}

std::string worst_md(const verify::Stats& s) {
  char b[200];
  std::snprintf(b, sizeof b, "x = %a (%.9g, bits %s), t = %g: expected %.9g, got %.9g%s%s", s.worst.x,
                s.worst.x, hex_bits(s.worst.index).c_str(), s.worst.t, s.worst.expected, s.worst.got,
                s.worst.failure == verify::Failure::none ? "" : ", ",
                s.worst.failure == verify::Failure::none ? "" : verify::to_string(s.worst.failure));
  return b;
}

std::string markdown(const Config& cfg, const Exhaustive& e, const ExhaustiveResult& r) {
  const auto& m = focal::support::machine();
  const auto b = bound_of(*r.k, cfg);
  std::string s;
  char l[512];
  std::snprintf(l, sizeof l, "# Exhaustive check: `%s`, gamma %g, alpha %g\n\n", std::string(r.k->name).c_str(),
                r.gamma, r.alpha);
  s += l;
  std::snprintf(l, sizeof l,
                "%s, t = 0 and 1: %zu results each for loss and gradient, against the fast double "
                "reference (verify/reference/fast_reference.cpp, checked against MPFR by "
                "test_fast_reference).\n\n",
                what_range(cfg, e).c_str(), r.loss.n);
  s += l;
  std::snprintf(l, sizeof l,
                "focal-verify %s (git %s), %s, machine `%s` (%s, %u cores), %u threads, %.0f s for "
                "the whole run (%zu kernels x %zu gammas x %zu alphas).\n\n",
                std::string(focal::version()).c_str(), std::string(focal::support::git_rev()).c_str(),
                e.date.c_str(), m.id.c_str(), m.cpu.c_str(), m.cores, e.threads, e.seconds, e.ks.size(),
                cfg.gammas.size(), cfg.alphas.size());
  s += l;
  s += "| | max ULP | mean ULP | max rel | special failures | worst input |\n|---|---|---|---|---|---|\n";
  for (const auto& [what, st] : {std::pair<const char*, const verify::Stats*>{"loss", &r.loss}, {"grad", &r.grad}}) {
    std::snprintf(l, sizeof l, "| %s | %s | %s | %s | %zu | %s |\n", what, fmt_g(st->max_ulp).c_str(),
                  fmt_g(st->mean_ulp()).c_str(), fmt_g(st->max_rel).c_str(), st->special_failures,
                  worst_md(*st).c_str());
    s += l;
  }
  std::snprintf(l, sizeof l, "\nDeclared bound: %g ULP (gamma 0..4), relative %.2g otherwise. **%" PRIu64
                " results over the bound: %s.**\n", b.ulp, b.rel_other, r.over, r.pass ? "PASS" : "FAIL");
  s += l;
  if (!r.list.empty()) {
    s += "\n| bits | x | t | | expected | got | ULP |\n|---|---|---|---|---|---|---|\n";
    for (std::size_t i = 0; i < r.list.size() && i < 20; ++i) {
      const auto& o = r.list[i];
      std::snprintf(l, sizeof l, "| %s | %.9g | %d | %s | %.9g | %.9g | %s |\n", hex_bits(o.bits).c_str(),
                    o.x_of(), o.t, o.what, o.expected, o.got,
                    o.failure == verify::Failure::none ? fmt_g(o.ulp).c_str() : verify::to_string(o.failure));
      s += l;
    }
    if (r.list.size() > 20) s += "\n(the first " + std::to_string(r.list.size()) + " are in the JSON file)\n";
  }
  return s;
}

bool write_text(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp);
    f << text;
    f.close();
    if (!f) {
      std::fprintf(stderr, "focal-verify: cannot write '%s'\n", tmp.c_str());
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::fprintf(stderr, "focal-verify: cannot write '%s'\n", path.c_str());
    return false;
  }
  return true;
}

}  // namespace

int report_exhaustive(const Config& cfg, const Exhaustive& e) {
  bool all_pass = true;
  for (const auto& r : e.results) {
    all_pass = all_pass && r.pass;
    const auto b = bound_of(*r.k, cfg);
    std::printf("\n%s gamma=%g alpha=%g: %zu elements (%s, t = 0 and 1), kernel %.2f thread-s\n",
                std::string(r.k->name).c_str(), r.gamma, r.alpha, r.loss.n, what_range(cfg, e).c_str(),
                r.kernel_seconds);
    std::printf("  %s\n  %s\n", r.loss.describe("loss").c_str(), r.grad.describe("grad").c_str());
    std::printf("  bound %g ulp (rel %.2g for other gamma): %" PRIu64 " results over the bound => %s\n", b.ulp,
                b.rel_other, r.over, r.pass ? "PASS" : "FAIL");
    for (std::size_t i = 0; i < r.list.size() && i < 20; ++i) {
      const auto& o = r.list[i];
      std::printf("    x=%a (%.9g, bits %s) t=%d %s expected %.9g got %.9g: %s ulp %s\n", o.x_of(), o.x_of(),
                  hex_bits(o.bits).c_str(), o.t, o.what, o.expected, o.got, fmt_g(o.ulp).c_str(),
                  o.failure == verify::Failure::none ? "" : verify::to_string(o.failure));
    }
    if (r.list.size() > 20) std::printf("    ... (%zu listed in the JSON)\n", r.list.size());
  }
  std::printf("\n%-14s %6s %6s  %9s %9s  %10s  %s\n", "kernel", "gamma", "alpha", "loss ulp", "grad ulp",
              "over bound", "result");
  for (const auto& r : e.results)
    std::printf("%-14s %6g %6g  %9s %9s  %10" PRIu64 "  %s\n", std::string(r.k->name).c_str(), r.gamma, r.alpha,
                fmt_g(r.loss.max_ulp).c_str(), fmt_g(r.grad.max_ulp).c_str(), r.over, r.pass ? "PASS" : "FAIL");
  std::printf("\n%.0f s wall on %u threads (reference %.1f thread-s). %s\n", e.seconds, e.threads,
              e.reference_seconds,
              all_pass ? "PASS: every result within its kernel's bound"
                       : "FAIL: results over the bound (listed above)");
  std::fflush(stdout);

  bool wrote = true;
  auto kernel_json = [&](const KernelInfo* k, auto&& keep) {
    Json kj = kernel_header(*k, cfg);
    kj["exhaustive"] = Json::array();
    bool kp = true;
    for (const auto& r : e.results)
      if (r.k == k && keep(r)) {
        kj["exhaustive"].push_back(entry(r));
        kp = kp && r.pass;
      }
    kj["pass"] = kp;
    return kj;
  };
  if (!cfg.json.empty()) {
    Json j = header(cfg, e);
    j["kernels"] = Json::array();
    for (const KernelInfo* k : e.ks) j["kernels"].push_back(kernel_json(k, [](const ExhaustiveResult&) { return true; }));
    j["pass"] = all_pass;
    wrote = write_json(cfg.json, j) && wrote;
  }
  if (!cfg.out_dir.empty())
    for (const auto& r : e.results) {
      Json j = header(cfg, e);
      j["kernels"] = Json::array({kernel_json(r.k, [&](const ExhaustiveResult& o) { return &o == &r; })});
      j["pass"] = r.pass;
      const std::string stem = cfg.out_dir + "/" + file_stem(cfg, r);
      wrote = write_json(stem + ".json", j) && wrote;
      wrote = write_text(stem + ".md", markdown(cfg, e, r)) && wrote;
      if (wrote) std::printf("wrote %s.json and .md\n", stem.c_str());
    }
  if (!wrote) return 2;
  return all_pass ? 0 : 1;
}

}  // namespace fv
