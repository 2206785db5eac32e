// focal-verify: how accurate is each kernel on this machine, and where does it break?
//
//   focal-verify [--quick | --full | --exhaustive] [--kernels a,b,...] [--gamma g1,g2,...]
//                [--alpha a1,a2,...] [--json FILE] [--verbose]
//
// --quick / --full: every available kernel (or --kernels) on the same case families (typical,
//   uniform, extreme, special, soft, labels in the LabelInput layout), for each gamma and alpha;
//   per element loss and gradient against the MPFR oracle (ULP per verify/ulp.hpp), PASS/FAIL
//   against each kernel's own declared bound; every kernel's sum against the exact sum of its
//   own outputs; bitwise stability of sums and outputs across runs (and OMP thread counts 1,2,3
//   for backend "openmp"); cross-verification between kernels (bit for bit where declared,
//   otherwise within the sum of the two bounds); a peer row, the usual PyTorch/torchvision
//   formula in float32 (not pass/fail); and the error-vs-|x| series for plots.
// --exhaustive: every float32 bit pattern as x, t = 0 and t = 1, gamma 2 (or --gamma), alpha
//   0.25 (or --alpha), default kernels scalar and the dispatch pick, against the fast double
//   reference (verify/reference/fast_reference.hpp), multithreaded, progress on stderr.
//
// Exit status: 0 every kernel within its bound, 1 some kernel failed, 2 bad usage.
#include <algorithm>
#include <atomic>
#include <cfloat>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "cases.hpp"
#include "check.hpp"
#include "focal/focal.hpp"
#include "peer/torch_formula.hpp"
#include "reference/fast_reference.hpp"
#include "reference/mpfr_reference.hpp"
#include "ulp.hpp"
#include "focal_support/machine.hpp"
#include "focal_support/version.hpp"

#ifdef _OPENMP
#include <omp.h>
#else  // built without OpenMP: one thread
inline int omp_get_max_threads() { return 1; }
inline int omp_get_thread_num() { return 0; }
inline void omp_set_num_threads(int) {}
#endif

#ifndef FOCAL_GIT_REV
#define FOCAL_GIT_REV "unknown"
#endif
#ifndef FOCAL_SOURCE_DIR
#define FOCAL_SOURCE_DIR ""
#endif

namespace fv {

using namespace focal;
using verify::DenseCases;
using verify::Stats;
using verify::Truth;
using Clock = std::chrono::steady_clock;
namespace peer = focal::verify::peer;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// ------------------------------------------------------------------------------------------
// Command line
// ------------------------------------------------------------------------------------------
enum class Mode { quick, full, exhaustive };
const char* to_string(Mode m) {
  return m == Mode::quick ? "quick" : m == Mode::full ? "full" : "exhaustive";
}

struct Config {
  Mode mode = Mode::quick;
  std::vector<std::string> kernel_names;  // empty: default set
  std::vector<float> gammas;
  std::vector<float> alphas;
  std::string json;
  bool verbose = false;
  double bound_scale = 1.0;
};

// Every kernel's declared bound, times --bound-scale (1 normally; < 1 only to show that the
// checks can fail).
double g_bound_scale = 1.0;
ErrorBound bound_of(const KernelInfo& k) {
  return {k.bound.ulp * g_bound_scale, k.bound.rel_other * g_bound_scale};
}

const char* kUsage =
    "usage: focal-verify [--quick | --full | --exhaustive] [--kernels a,b,...]\n"
    "                    [--gamma g1,g2,...] [--alpha a1,a2,...] [--json FILE] [--verbose]\n"
    "  --quick       a few hundred thousand inputs per kernel (default)\n"
    "  --full        millions of inputs per kernel\n"
    "  --exhaustive  every float32 logit, t = 0 and 1 (default gamma 2, alpha 0.25,\n"
    "                kernels scalar + the dispatch pick); OMP_NUM_THREADS sets the threads\n"
    "  --kernels     kernels to verify (default: every available one)\n"
    "  --gamma       gammas in [0, 8] (default 0,0.5,1,2,3,5; exhaustive: 2)\n"
    "  --alpha       alphas, <= 1, negative = no balancing (default 0.25,-1; exhaustive: 0.25)\n"
    "  --json FILE   write every number as JSON\n"
    "  --verbose     one table row per family, gamma and alpha (default: per family)\n"
    "  --bound-scale S  judge against S x each declared bound, S in (0, 1] (self-test: the\n"
    "                checks must fail when the bounds are tighter than the kernels)\n"
    "  --machine-id  print this machine's id (the results/<id>/ folder name) and exit\n"
    "  --version     print the version and exit\n"
    "exit status: 0 all kernels within their bounds, 1 a kernel failed, 2 bad usage\n";

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, ','))
    if (!cur.empty()) out.push_back(cur);
  return out;
}

float parse_number(const std::string& flag, const std::string& s) {
  char* end = nullptr;
  const float v = std::strtof(s.c_str(), &end);
  if (s.empty() || *end != '\0')
    throw UsageError(flag + ": expected a number, got '" + s + "'");
  return v;
}

Config parse(int argc, char** argv) {
  Config c;
  int modes = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw UsageError(a + " needs a value");
      return argv[++i];
    };
    if (a == "--quick") {
      c.mode = Mode::quick, ++modes;
    } else if (a == "--full") {
      c.mode = Mode::full, ++modes;
    } else if (a == "--exhaustive") {
      c.mode = Mode::exhaustive, ++modes;
    } else if (a == "--kernels") {
      c.kernel_names = split(value());
      if (c.kernel_names.empty()) throw UsageError("--kernels: expected a comma-separated list");
    } else if (a == "--gamma") {
      for (const auto& g : split(value())) {
        const float v = parse_number("--gamma", g);
        if (!(v >= 0.0f && v <= 8.0f))
          throw UsageError("--gamma: expected values in [0, 8], got '" + g + "'");
        c.gammas.push_back(v);
      }
      if (c.gammas.empty()) throw UsageError("--gamma: expected a comma-separated list");
    } else if (a == "--alpha") {
      for (const auto& s : split(value())) {
        const float v = parse_number("--alpha", s);
        if (!(v <= 1.0f) || !std::isfinite(v))
          throw UsageError("--alpha: expected finite values <= 1, got '" + s + "'");
        c.alphas.push_back(v);
      }
      if (c.alphas.empty()) throw UsageError("--alpha: expected a comma-separated list");
    } else if (a == "--json") {
      c.json = value();
    } else if (a == "--bound-scale") {
      const std::string v = value();
      c.bound_scale = parse_number("--bound-scale", v);
      if (!(c.bound_scale > 0.0 && c.bound_scale <= 1.0))
        throw UsageError("--bound-scale: expected a value in (0, 1], got '" + v + "'");
    } else if (a == "--verbose") {
      c.verbose = true;
    } else if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (a == "--version") {
      std::printf("%s\n", focal::support::version_line("focal-verify").c_str());
      std::exit(0);
    } else if (a == "--machine-id") {
      std::printf("%s\n", focal::support::machine().id.c_str());
      std::exit(0);
    } else {
      throw UsageError("unknown argument '" + a + "'");
    }
  }
  if (modes > 1) throw UsageError("choose one of --quick, --full, --exhaustive");
  for (const auto& n : c.kernel_names) {
    const KernelInfo* k = nullptr;
    try {
      k = &find_kernel(n);
    } catch (const focal::invalid_argument& e) {
      throw UsageError(std::string("--kernels: ") + e.what());
    }
    // Asked for by name: not being able to run it is an error, not a silent skip.
    if (const std::string why = k->unavailable_reason(); !why.empty())
      throw UsageError("--kernels: kernel '" + n + "' is not available on this machine: " + why);
  }
  if (c.gammas.empty())
    c.gammas = c.mode == Mode::exhaustive ? std::vector<float>{2.0f}
                                          : std::vector<float>{0.0f, 0.5f, 1.0f, 2.0f, 3.0f, 5.0f};
  if (c.alphas.empty())
    c.alphas = c.mode == Mode::exhaustive ? std::vector<float>{0.25f} : std::vector<float>{0.25f, -1.0f};
  return c;
}

// ------------------------------------------------------------------------------------------
// JSON (a small writer: no NaN/Infinity literals, non-finite numbers become null)
// ------------------------------------------------------------------------------------------
class Json {
 public:
  Json& raw(const std::string& s) {
    comma();
    out_ += s;
    return *this;
  }
  Json& key(const std::string& k) {
    comma();
    out_ += quote(k) + ":";
    fresh_ = true;
    return *this;
  }
  Json& str(const std::string& s) { return raw(quote(s)); }
  Json& num(double v) {
    if (!std::isfinite(v)) return raw("null");
    char b[40];
    std::snprintf(b, sizeof b, "%.9g", v);
    return raw(b);
  }
  Json& exact(double v) {  // doubles that must round-trip
    if (!std::isfinite(v)) return raw("null");
    char b[40];
    std::snprintf(b, sizeof b, "%.17g", v);
    return raw(b);
  }
  Json& integer(long long v) { return raw(std::to_string(v)); }
  Json& boolean(bool v) { return raw(v ? "true" : "false"); }
  Json& open(char c) {
    comma();
    out_ += c;
    fresh_ = true;
    return *this;
  }
  Json& close(char c) {
    out_ += c;
    fresh_ = false;
    return *this;
  }
  const std::string& text() const { return out_; }

  static std::string quote(const std::string& s) {
    std::string q = "\"";
    for (char ch : s) {
      if (ch == '"' || ch == '\\') {
        q += '\\';
        q += ch;
      } else if (static_cast<unsigned char>(ch) < 0x20) {
        char b[8];
        std::snprintf(b, sizeof b, "\\u%04x", ch);
        q += b;
      } else {
        q += ch;
      }
    }
    return q + "\"";
  }

 private:
  void comma() {
    if (!fresh_ && !out_.empty()) out_ += ',';
    fresh_ = false;
  }
  std::string out_;
  bool fresh_ = true;
};

void write_stats(Json& j, const Stats& s) {
  j.open('{');
  j.key("max_ulp").num(s.max_ulp).key("mean_ulp").num(s.mean_ulp()).key("max_rel").num(s.max_rel);
  j.key("special_failures").integer(static_cast<long long>(s.special_failures));
  j.key("worst").open('{');
  j.key("x").num(s.worst.x).key("t").num(s.worst.t).key("expected").exact(s.worst.expected);
  j.key("got").num(s.worst.got).key("ulp").num(s.worst.ulp);
  j.key("failure").str(verify::to_string(s.worst.failure));
  j.close('}');
  j.close('}');
}

// ------------------------------------------------------------------------------------------
// Machine description
// ------------------------------------------------------------------------------------------
using focal::support::Machine;
const Machine& machine() { return focal::support::machine(); }

void write_header(Json& j, Mode mode, const Config& c, const Machine& m, std::uint64_t seed) {
  j.key("tool").str("focal-verify").key("mode").str(to_string(mode)).key("git_rev").str(FOCAL_GIT_REV);
  j.key("machine").open('{').key("id").str(m.id).key("cpu").str(m.cpu).key("cores").integer(m.cores).close('}');
  j.key("dispatch").str(std::string(best_kernel().name));
  j.key("seed").raw(std::to_string(seed));
  j.key("bound_scale").num(c.bound_scale);
  j.key("gammas").open('[');
  for (float g : c.gammas) j.num(g);
  j.close(']');
  j.key("alphas").open('[');
  for (float a : c.alphas) j.num(a);
  j.close(']');
}

void write_kernel_header(Json& j, const KernelInfo& k) {
  j.key("name").str(std::string(k.name)).key("backend").str(std::string(k.backend));
  j.key("isa").str(std::string(k.isa));
  j.key("available").boolean(k.is_available());
  if (!k.is_available()) j.key("unavailable_reason").str(k.unavailable_reason());
  j.key("bound").open('{').key("ulp").num(bound_of(k).ulp).key("rel_other").num(bound_of(k).rel_other).close('}');
  j.key("bitwise_equal_to").str(std::string(k.bitwise_equal_to));
}

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text << "\n";
  f.close();
  if (!f) {
    std::fprintf(stderr, "focal-verify: cannot write --json file '%s'\n", path.c_str());
    return false;
  }
  return true;
}

// The kernels to verify: --kernels, else every registered one (unavailable ones are listed
// as skipped with the reason).
std::vector<const KernelInfo*> selected(const Config& c) {
  std::vector<const KernelInfo*> v;
  if (!c.kernel_names.empty()) {
    for (const auto& n : c.kernel_names) v.push_back(&find_kernel(n));
  } else if (c.mode == Mode::exhaustive) {
    v.push_back(&find_kernel("scalar"));
    if (best_kernel().name != "scalar") v.push_back(&best_kernel());
  } else {
    for (const auto& k : kernels()) v.push_back(&k);
  }
  return v;
}

// Stats of several parts combined (the worst input: the first special failure, else the
// largest ULP error).
void merge(Stats& into, const Stats& s) {
  if (s.n == 0) return;
  const bool worse = into.n == 0 ||
                     (into.worst.failure == verify::Failure::none &&
                      (s.worst.failure != verify::Failure::none || s.worst.ulp > into.worst.ulp));
  if (worse) into.worst = s.worst;
  into.n += s.n;
  into.max_ulp = std::max(into.max_ulp, s.max_ulp);
  into.sum_ulp += s.sum_ulp;
  into.max_rel = std::max(into.max_rel, s.max_rel);
  into.special_failures += s.special_failures;
}

// ==========================================================================================
// --quick / --full
// ==========================================================================================
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
};

std::vector<Family> make_families(const Sizes& s, std::uint64_t seed) {
  std::vector<Family> f;
  f.push_back({"typical", verify::typical(s.typical, seed + 1), {}, {}});
  f.push_back({"uniform", verify::uniform(s.uniform, seed + 2), {}, {}});
  f.push_back({"extreme", verify::extreme(s.extreme_points, seed + 3), {}, {}});
  f.push_back({"special", verify::special(), {}, {}});
  f.push_back({"soft", verify::soft(s.soft, seed + 4), {}, {}});
  Family l{"labels", {}, verify::labels(s.label_rows, 80, seed + 5), {}};
  const auto& lc = *l.labels;
  l.cases.family = "labels";
  for (std::size_t r = 0; r < lc.labels.size(); ++r)
    for (std::size_t k = 0; k < lc.num_classes; ++k) {
      l.cases.x.push_back(lc.logits[r * lc.num_classes + k]);
      l.cases.t.push_back(lc.labels[r] >= 0 && std::size_t(lc.labels[r]) == k ? 1.0f : 0.0f);
      l.ignored.push_back(lc.labels[r] < 0);
    }
  f.push_back(std::move(l));
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
  double seconds = 0;
};

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

// Result of one (family, gamma, alpha) for a kernel.
struct FamilyResult {
  std::string family;
  float gamma, alpha;
  Stats loss, grad;
  bool count_ok = true;
  double sum_rel = 0;  // |kernel sum - exact sum of its outputs| / |exact|
  bool pass = true;
  double seconds = 0;
};

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

// Cross-verification of two kernels' outputs on one run.
struct Cross {
  const KernelInfo* a;
  const KernelInfo* b;
  bool bitwise;
  double max_diff_ulp = 0;  // integer gammas: |a - b| in ULPs of the truth
  double max_diff_rel = 0;  // every gamma: |a - b| relative to the truth
  std::size_t mismatches = 0;
  std::string first_mismatch;
  bool pass = true;
};

bool same_bits(float a, float b) {
  if (std::isnan(a) && std::isnan(b)) return true;  // NaN payloads are not part of the contract
  std::uint32_t x, y;
  std::memcpy(&x, &a, 4);
  std::memcpy(&y, &b, 4);
  return x == y;
}

void compare(Cross& c, const Family& f, float gamma, const Run& ra, const Run& rb,
             const std::vector<Truth>& truth) {
  const bool binary = f.cases.binary();
  const double ulp_allowed = bound_of(*c.a).ulp + bound_of(*c.b).ulp;
  const double rel_allowed = bound_of(*c.a).rel_other + bound_of(*c.b).rel_other;
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

// Bitwise stability of the sum and outputs: 3 runs (per thread count 1, 2, 3 for openmp).
struct Stability {
  bool stable = true;
  std::vector<int> thread_counts;
  std::string detail;
};

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

struct KernelReport {
  const KernelInfo* k;
  std::vector<FamilyResult> families;
  double max_sum_rel = 0;
  Stability stab;
  bool pass = true;
  double seconds = 0;
};

// error_vs_x: max error over a small bin around each |x| (both signs), per t.
struct Series {
  std::string name;
  int t;
  std::vector<double> loss_ulp, loss_rel, grad_ulp, grad_rel;
};

std::string fmt_g(double v, const char* f = "%.3g") {
  if (std::isinf(v)) return "inf";
  char b[40];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

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
  double max_rel_loss = 0, max_rel_grad = 0;
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

void write_family(Json& j, const FamilyResult& r, bool with_pass) {
  j.open('{');
  j.key("family").str(r.family).key("gamma").num(r.gamma).key("alpha").num(r.alpha);
  j.key("n").integer(static_cast<long long>(r.loss.n));
  j.key("loss");
  write_stats(j, r.loss);
  j.key("grad");
  write_stats(j, r.grad);
  if (with_pass) {
    j.key("sum_rel_err_vs_exact").num(r.sum_rel).key("count_ok").boolean(r.count_ok);
    j.key("seconds").num(r.seconds);
    j.key("pass").boolean(r.pass);
  }
  j.close('}');
}

int run_sampled(const Config& cfg) {
  const auto t_start = Clock::now();
  const std::uint64_t seed = verify::process_seed();
  const Machine mach = machine();
  const Sizes sz = sizes(cfg.mode);
  const auto fams = make_families(sz, seed);
  std::vector<const KernelInfo*> ks;
  std::printf("focal-verify %s | git %s | machine %s (%s, %u cores) | dispatch %s\n",
              to_string(cfg.mode), FOCAL_GIT_REV, mach.id.c_str(), mach.cpu.c_str(), mach.cores,
              std::string(best_kernel().name).c_str());
  for (const KernelInfo* k : selected(cfg)) {
    if (k->is_available()) {
      ks.push_back(k);
    } else {
      std::printf("  skipped %s: %s\n", std::string(k->name).c_str(), k->unavailable_reason().c_str());
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
          fr.pass = r.loss.passes(bound_of(*rep.k), gamma) && r.grad.passes(bound_of(*rep.k), gamma) &&
                    fr.count_ok && fr.sum_rel <= 1e-12;
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
          for (std::size_t b = a + 1; b < ks.size(); ++b) compare(cross[ci++], f, gamma, runs[a], runs[b], truth);
      }
      if (isatty(2))
        std::fprintf(stderr, "\r[focal-verify] alpha %g gamma %g done (%.0f s)   ", alpha, gamma,
                     seconds_since(t_start));
    }
  if (isatty(2)) std::fprintf(stderr, "\n");

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
  Family exf{"error_vs_x", {}, {}, {}};
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
              return std::fabs(double(got) - exact) / std::max(std::fabs(exact), double(FLT_MIN));
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

  // ---- text report ----
  print_header();
  bool all_pass = true;
  for (const auto& rep : reps) {
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
    std::printf("%-18s bound %g ulp (gamma 0..4), rel %.2g otherwise; sum max rel err vs exact %s; "
                "%s%s; kernel time %.2f s => %s\n\n",
                std::string(rep.k->name).c_str(), bound_of(*rep.k).ulp, bound_of(*rep.k).rel_other,
                fmt_g(rep.max_sum_rel).c_str(),
                rep.stab.stable ? "bitwise stable over 3 runs" : ("NOT bitwise stable: " + rep.stab.detail).c_str(),
                rep.stab.thread_counts.empty() ? "" : " x threads 1,2,3", rep.seconds,
                rep.pass ? "PASS" : "FAIL");
  }
  {
    const auto agg = aggregate(peer);
    for (const auto& [fam, a] : agg) print_row(peer::kName, fam, a, "peer");
    std::printf("%-18s the usual PyTorch/torchvision formula in float32 (reference point, not pass/fail)\n\n",
                peer::kName);
  }
  if (!cross.empty()) {
    std::printf("cross-verification:\n");
    for (const auto& c : cross)
      std::printf("  %-10s vs %-10s %-13s max diff %s ulp, %s rel  %s%s%s\n", std::string(c.a->name).c_str(),
                  std::string(c.b->name).c_str(), c.bitwise ? "bit for bit" : "within bounds",
                  fmt_g(c.max_diff_ulp).c_str(), fmt_g(c.max_diff_rel).c_str(), c.pass ? "PASS" : "FAIL",
                  c.pass ? "" : ": ", c.first_mismatch.c_str());
    std::printf("\n");
    for (const auto& c : cross) all_pass = all_pass && c.pass;
  }
  // A compact view of error vs |x| (t = 1, loss ULP) at a few magnitudes.
  std::printf("loss error vs |x| (gamma %g, alpha %g, t = 1, max ULP in a bin around |x|; inf = wrong/0):\n  %-18s",
              ex_gamma, ex_alpha, "|x|");
  const std::size_t shown[] = {0, 16, 24, 32, 36, 38, 40, 44, 48, 56};
  for (std::size_t p : shown) std::printf(" %8.3g", abs_x[p]);
  std::printf("\n");
  for (const auto& s : series) {
    if (s.t != 1) continue;
    std::printf("  %-18s", s.name.c_str());
    for (std::size_t p : shown) std::printf(" %8s", fmt_g(s.loss_ulp[p]).c_str());
    std::printf("\n");
  }
  const double total_s = seconds_since(t_start);
  std::printf("\nMPFR truth %.1f s, total %.1f s. %s\n", t_truth, total_s,
              all_pass ? "PASS: every kernel within its declared bound"
                       : "FAIL: some kernel is outside its declared bound (see above)");

  // ---- JSON ----
  if (!cfg.json.empty()) {
    Json j;
    j.open('{');
    write_header(j, cfg.mode, cfg, mach, seed);
    j.key("kernels").open('[');
    for (const auto& rep : reps) {
      j.open('{');
      write_kernel_header(j, *rep.k);
      j.key("families").open('[');
      for (const auto& r : rep.families) write_family(j, r, true);
      j.close(']');
      j.key("sum").open('{').key("max_rel_err_vs_exact").num(rep.max_sum_rel);
      j.key("bitwise_stable").boolean(rep.stab.stable);
      j.key("thread_counts").open('[');
      for (int t : rep.stab.thread_counts) j.integer(t);
      j.close(']');
      if (!rep.stab.stable) j.key("detail").str(rep.stab.detail);
      j.close('}');
      j.key("seconds").num(rep.seconds);
      j.key("pass").boolean(rep.pass);
      j.close('}');
    }
    for (const KernelInfo* k : selected(cfg))
      if (!k->is_available()) {
        j.open('{');
        write_kernel_header(j, *k);
        j.key("families").open('[').close(']').key("pass").raw("null");
        j.close('}');
      }
    j.close(']');
    j.key("peer").open('{').key("name").str(peer::kName).key("families").open('[');
    for (const auto& r : peer) write_family(j, r, false);
    j.close(']').close('}');
    j.key("cross").open('[');
    for (const auto& c : cross) {
      j.open('{').key("a").str(std::string(c.a->name)).key("b").str(std::string(c.b->name));
      j.key("kind").str(c.bitwise ? "bitwise" : "within_bounds").key("pass").boolean(c.pass);
      j.key("max_diff_ulp").num(c.max_diff_ulp).key("max_diff_rel").num(c.max_diff_rel);
      j.key("mismatches").integer(static_cast<long long>(c.mismatches));
      if (!c.pass) j.key("first_mismatch").str(c.first_mismatch);
      j.close('}');
    }
    j.close(']');
    j.key("error_vs_x").open('{').key("gamma").num(ex_gamma).key("alpha").num(ex_alpha);
    j.key("bin").str("max over 32 log-spaced |x| within +-1/32 decade of each point, both signs");
    j.key("abs_x").open('[');
    for (double v : abs_x) j.num(v);
    j.close(']').key("series").open('[');
    for (const auto& s : series) {
      j.open('{').key("name").str(s.name).key("t").integer(s.t);
      auto arr = [&j](const char* k, const std::vector<double>& v) {
        j.key(k).open('[');
        for (double d : v) j.num(d);  // inf (wrong special value / 0) -> null
        j.close(']');
      };
      arr("loss_ulp", s.loss_ulp);
      arr("loss_rel", s.loss_rel);
      arr("grad_ulp", s.grad_ulp);
      arr("grad_rel", s.grad_rel);
      j.close('}');
    }
    j.close(']').close('}');
    j.key("seconds").num(total_s);
    j.key("pass").boolean(all_pass);
    j.close('}');
    if (!write_file(cfg.json, j.text())) return 2;
  }
  return all_pass ? 0 : 1;
}

// ==========================================================================================
// --exhaustive
// ==========================================================================================
struct OverBound {
  std::uint32_t bits;
  float x;
  int t;
  const char* what;
  double expected;
  float got;
  double ulp;
  verify::Failure failure;
};

struct ExhaustiveResult {
  const KernelInfo* k;
  float gamma, alpha;
  Stats loss, grad;
  std::uint64_t over = 0;  // elements over the bound (loss or grad counted separately)
  std::vector<OverBound> list;
  double seconds = 0;
  bool pass = true;
};

constexpr std::size_t kOverCap = 1000;

int run_exhaustive(const Config& cfg) {
  const std::uint64_t seed = 0;
  const Machine mach = machine();
  std::vector<const KernelInfo*> ks;
  for (const KernelInfo* k : selected(cfg)) {
    if (k->is_available()) ks.push_back(k);
    else std::printf("  skipped %s: %s\n", std::string(k->name).c_str(), k->unavailable_reason().c_str());
  }
  const int threads = omp_get_max_threads();
  std::printf("focal-verify exhaustive | git %s | machine %s (%s, %u cores) | dispatch %s | %d threads\n",
              FOCAL_GIT_REV, mach.id.c_str(), mach.cpu.c_str(), mach.cores,
              std::string(best_kernel().name).c_str(), threads);
  std::printf("  every float32 bit pattern as x (2^32), t = 0 and 1, against the fast double reference\n");
  std::fflush(stdout);

  constexpr std::uint64_t kChunk = std::uint64_t(1) << 16;
  constexpr std::uint64_t kChunks = (std::uint64_t(1) << 32) / kChunk;
  // FOCAL_VERIFY_STRIDE=N checks only every N-th chunk of 2^16 bit patterns (a smoke test of
  // the exhaustive machinery; results are then not exhaustive and say so).
  std::uint64_t stride = 1;
  if (const char* s = std::getenv("FOCAL_VERIFY_STRIDE"); s && *s) {
    stride = std::strtoull(s, nullptr, 10);
    if (stride < 1 || stride > kChunks) throw UsageError("FOCAL_VERIFY_STRIDE: expected 1.." + std::to_string(kChunks));
    std::printf("  FOCAL_VERIFY_STRIDE=%llu: only every %llu-th chunk of 2^16 patterns (NOT exhaustive)\n",
                (unsigned long long)stride, (unsigned long long)stride);
  }
  const std::uint64_t todo = (kChunks + stride - 1) / stride;
  std::vector<ExhaustiveResult> results;
  for (float alpha : cfg.alphas)
    for (float gamma : cfg.gammas)
      for (const KernelInfo* k : ks) {
        ExhaustiveResult res{k, gamma, alpha, {}, {}, 0, {}, 0, true};
        const bool int_gamma = verify::integer_gamma(gamma);
        Options opt;
        opt.alpha = alpha;
        opt.gamma = gamma;
        opt.reduction = Reduction::sum;
        std::atomic<std::uint64_t> done{0};
        const auto t0 = Clock::now();
        auto last_print = t0;
#pragma omp parallel
        {
          Stats loss, grad;
          std::uint64_t over = 0;
          std::vector<OverBound> list;
          std::vector<float> x(kChunk), lo(kChunk), go(kChunk);
          std::vector<std::uint8_t> tv(kChunk);
#pragma omp for schedule(dynamic, 1)
          for (std::uint64_t c = 0; c < todo; ++c) {
            const std::uint64_t chunk = c * stride;
            const std::uint32_t base = static_cast<std::uint32_t>(chunk * kChunk);
            for (std::uint64_t i = 0; i < kChunk; ++i) {
              const std::uint32_t b = base + static_cast<std::uint32_t>(i);
              std::memcpy(&x[i], &b, 4);
            }
            for (int t : {0, 1}) {
              std::fill(tv.begin(), tv.end(), std::uint8_t(t));
              verify::poison(lo);
              verify::poison(go);
              (void)focal_loss(*k, DenseInput{x, tv}, opt, Outputs{lo, go});
              for (std::uint64_t i = 0; i < kChunk; ++i) {
                const Truth tr = verify::fast_reference(x[i], t == 1, alpha, gamma);
                const std::uint32_t b = base + static_cast<std::uint32_t>(i);
                auto check = [&](Stats& s, const char* what, float got, double exact, float exact_f) {
                  const bool unwritten = verify::is_poison(got);
                  s.add(b, x[i], float(t), got, exact, exact_f, exact, unwritten);
                  const auto e = unwritten ? verify::UlpError{INFINITY, verify::Failure::spurious_nan}
                                           : verify::ulp_error(got, exact, exact_f);
                  bool bad = e.failure != verify::Failure::none;
                  if (!bad) {
                    bad = int_gamma ? e.ulp > bound_of(*k).ulp
                                    : std::fabs(double(got) - exact) /
                                              std::max(std::fabs(exact), double(FLT_MIN)) >
                                          bound_of(*k).rel_other;
                  }
                  if (bad) {
                    ++over;
                    if (list.size() < kOverCap)
                      list.push_back({b, x[i], t, what, exact, got, e.ulp, e.failure});
                  }
                };
                check(loss, "loss", lo[i], tr.loss_exact, tr.loss_float);
                check(grad, "grad", go[i], tr.grad_exact, tr.grad_float);
              }
            }
            const auto d = done.fetch_add(1) + 1;
            if (omp_get_thread_num() == 0 && seconds_since(last_print) > 5.0) {
              last_print = Clock::now();
              const double el = seconds_since(t0);
              std::fprintf(stderr, "\r[exhaustive %s gamma %g alpha %g] %5.1f%%  %4.0f s, ETA %4.0f s   ",
                           std::string(k->name).c_str(), gamma, alpha, 100.0 * double(d) / double(todo), el,
                           el * (double(todo) / double(d) - 1.0));
            }
          }
#pragma omp critical
          {
            merge(res.loss, loss);
            merge(res.grad, grad);
            res.over += over;
            for (auto& o : list)
              if (res.list.size() < kOverCap * 4) res.list.push_back(o);
          }
        }
        std::sort(res.list.begin(), res.list.end(), [](const OverBound& a, const OverBound& b) {
          return a.bits != b.bits ? a.bits < b.bits : a.t < b.t;
        });
        if (res.list.size() > kOverCap) res.list.resize(kOverCap);
        res.seconds = seconds_since(t0);
        res.pass = res.over == 0;
        std::fprintf(stderr, "\r[exhaustive %s gamma %g alpha %g] done in %.0f s%40s\n",
                     std::string(k->name).c_str(), gamma, alpha, res.seconds, "");
        std::printf("\n%s gamma=%g alpha=%g: %" PRIu64 " elements (every float32 x, t = 0 and 1) in %.0f s\n",
                    std::string(k->name).c_str(), gamma, alpha, static_cast<std::uint64_t>(res.loss.n),
                    res.seconds);
        std::printf("  %s\n  %s\n", res.loss.describe("loss").c_str(), res.grad.describe("grad").c_str());
        std::printf("  bound %g ulp (rel %.2g for other gamma): %" PRIu64 " results over the bound => %s\n",
                    bound_of(*k).ulp, bound_of(*k).rel_other, res.over, res.pass ? "PASS" : "FAIL");
        for (std::size_t i = 0; i < res.list.size() && i < 20; ++i) {
          const auto& o = res.list[i];
          std::printf("    x=%a (%.9g, bits 0x%08x) t=%d %s expected %.9g got %.9g: %s ulp %s\n", o.x, o.x,
                      o.bits, o.t, o.what, o.expected, o.got, fmt_g(o.ulp).c_str(),
                      o.failure == verify::Failure::none ? "" : verify::to_string(o.failure));
        }
        if (res.list.size() > 20) std::printf("    ... (%zu listed in the JSON)\n", res.list.size());
        std::fflush(stdout);
        results.push_back(std::move(res));
      }

  bool all_pass = true;
  for (const auto& r : results) all_pass = all_pass && r.pass;
  if (!cfg.json.empty()) {
    Json j;
    j.open('{');
    write_header(j, Mode::exhaustive, cfg, mach, seed);
    j.key("threads").integer(threads);
    j.key("stride").integer(static_cast<long long>(stride));
    j.key("exhaustive").boolean(stride == 1);
    j.key("reference").str("fast double reference (verify/reference/fast_reference.cpp), "
                           "checked against MPFR by test_fast_reference");
    j.key("kernels").open('[');
    for (const KernelInfo* k : ks) {
      j.open('{');
      write_kernel_header(j, *k);
      j.key("exhaustive").open('[');
      bool kp = true;
      for (const auto& r : results) {
        if (r.k != k) continue;
        kp = kp && r.pass;
        j.open('{').key("gamma").num(r.gamma).key("alpha").num(r.alpha);
        j.key("t").open('[').integer(0).integer(1).close(']');
        j.key("n").integer(static_cast<long long>(r.loss.n));
        j.key("loss");
        write_stats(j, r.loss);
        j.key("grad");
        write_stats(j, r.grad);
        j.key("over_bound").integer(static_cast<long long>(r.over));
        j.key("over_bound_list_cap").integer(kOverCap);
        j.key("over_bound_list").open('[');
        for (const auto& o : r.list) {
          char b[16];
          std::snprintf(b, sizeof b, "0x%08x", o.bits);
          j.open('{').key("bits").str(b).key("x").num(o.x).key("t").integer(o.t).key("what").str(o.what);
          j.key("expected").exact(o.expected).key("got").num(o.got).key("ulp").num(o.ulp);
          j.key("failure").str(verify::to_string(o.failure)).close('}');
        }
        j.close(']');
        j.key("seconds").num(r.seconds).key("pass").boolean(r.pass).close('}');
      }
      j.close(']').key("pass").boolean(kp).close('}');
    }
    j.close(']');
    j.key("pass").boolean(all_pass);
    j.close('}');
    if (!write_file(cfg.json, j.text())) return 2;
  }
  std::printf("\n%s\n", all_pass ? "PASS: every result within its kernel's bound"
                                 : "FAIL: results over the bound (listed above)");
  return all_pass ? 0 : 1;
}

}  // namespace fv

int main(int argc, char** argv) {
  fv::Config cfg;
  try {
    cfg = fv::parse(argc, argv);
    fv::g_bound_scale = cfg.bound_scale;
  } catch (const fv::UsageError& e) {
    std::fprintf(stderr, "focal-verify: %s\n%s", e.what(), fv::kUsage);
    return 2;
  }
  try {
    return cfg.mode == fv::Mode::exhaustive ? fv::run_exhaustive(cfg) : fv::run_sampled(cfg);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "focal-verify: error: %s\n", e.what());
    return 2;
  }
}
