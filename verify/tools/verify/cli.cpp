#include "cli.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "focal_support/lists.hpp"
#include "focal_support/machine.hpp"
#include "focal_support/version.hpp"
#include "../text_io.hpp"

namespace fv {

using focal::KernelInfo;

const char* to_string(Mode m) {
  return m == Mode::quick ? "quick" : m == Mode::full ? "full" : "exhaustive";
}

const char* const kUsage =
    "usage: focal-verify [--quick | --full] [--kernels a,b,...] [--gamma g1,...] [--alpha a1,...]\n"
    "                    [--json FILE] [--verbose] [--bound-scale S]\n"
    "       focal-verify --exhaustive [--kernels a,b,...] [--gamma g1,...] [--alpha a1,...]\n"
    "                    [--threads N] [--range LO:HI[,LO:HI...]] [--out DIR] [--json FILE]\n"
    "       focal-verify --machine-id | --version | --help\n"
    "Every kernel against the MPFR oracle (ULP per verify/ulp.hpp), judged against its own\n"
    "declared bound (ULP at gamma 0..4, relative otherwise), and against each other.\n"
    "  --quick       a few hundred thousand inputs per kernel (default mode)\n"
    "  --full        millions of inputs per kernel\n"
    "  --exhaustive  every float32 bit pattern as x, t = 0 and 1, against the fast double\n"
    "                reference (checked against MPFR by test_fast_reference), which is\n"
    "                evaluated once per x and shared by every kernel and gamma\n"
    "  --kernels     kernels to verify (default: every registered one; exhaustive: scalar and\n"
    "                the dispatch pick); a named kernel that cannot run here is an error\n"
    "  --gamma, --gammas  gammas in [0, 8] (default 0,0.5,1,2,3,5; exhaustive: 2)\n"
    "  --alpha, --alphas  alphas, finite and <= 1, negative = no balancing\n"
    "                (default 0.25,-1; exhaustive: 0.25)\n"
    "  --json FILE   write every number as one JSON file\n"
    "  --verbose     one table row per family, gamma and alpha (default: per family)\n"
    "  --bound-scale S  judge against S x each declared bound, S in (0, 1] (self-test: the\n"
    "                checks must fail when the bounds are tighter than the kernels)\n"
    "exhaustive only:\n"
    "  --threads N   worker threads (default: every CPU this process may use)\n"
    "  --range LO:HI only the bit patterns LO <= bits < HI (decimal or 0x hex, HI <= 0x100000000;\n"
    "                several ranges comma-separated); the results then say \"exhaustive\": false\n"
    "  --out DIR     write DIR/<kernel>-gamma<g>[-alpha<a>][-partial].json and .md per kernel,\n"
    "                gamma and alpha (e.g. results/<machine-id>/exhaustive; -partial: a --range\n"
    "                run, so a slice never replaces a whole run's files); DIR must exist\n"
    "progress: lines on stderr (also into a log file): per gamma and alpha (--quick/--full),\n"
    "          about every 10 s with the ETA (--exhaustive)\n"
    "  --machine-id  print this machine's id (the results/<id>/ folder name) and exit\n"
    "  --version     print the version and exit\n"
    "exit status: 0 every kernel within its bound, 1 some kernel failed a check (listed in the\n"
    "             report), 2 bad usage or an error (e.g. a file that cannot be written)\n";

namespace {

std::vector<std::string> split(const std::string& flag, const std::string& s) {
  try {
    return focal::support::split_list(s);
  } catch (const std::invalid_argument& e) {
    throw UsageError(flag + ": " + e.what());
  }
}

float parse_number(const std::string& flag, const std::string& s) {
  char* end = nullptr;
  const float v = std::strtof(s.c_str(), &end);
  if (s.empty() || *end != '\0') throw UsageError(flag + ": expected a number, got '" + s + "'");
  return v;
}

std::uint64_t parse_bits(const std::string& s) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 0);
  if (s.empty() || s[0] == '-' || *end != '\0' || errno == ERANGE || v > kAllBits)
    throw UsageError("--range: expected bit patterns 0..0x100000000 as LO:HI, got '" + s + "'");
  return v;
}

std::vector<BitRange> parse_ranges(const std::string& arg) {
  std::vector<BitRange> rs;
  for (const auto& part : split("--range", arg)) {
    const auto colon = part.find(':');
    if (colon == std::string::npos)
      throw UsageError("--range: expected LO:HI (e.g. 0x3f800000:0x3f810000), got '" + part + "'");
    const BitRange r{parse_bits(part.substr(0, colon)), parse_bits(part.substr(colon + 1))};
    if (r.lo >= r.hi) throw UsageError("--range: expected LO < HI, got '" + part + "'");
    rs.push_back(r);
  }
  std::sort(rs.begin(), rs.end(), [](const BitRange& a, const BitRange& b) { return a.lo < b.lo; });
  for (std::size_t i = 1; i < rs.size(); ++i)
    if (rs[i].lo < rs[i - 1].hi) throw UsageError("--range: ranges overlap ('" + arg + "')");
  return rs;
}

}  // namespace

Config parse(int argc, char** argv) {
  Config c;
  int modes = 0;
  bool exhaustive_flags = false;
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
      c.kernel_names = split(a, value());
    } else if (a == "--gamma" || a == "--gammas") {
      for (const auto& g : split(a, value())) {
        const float v = parse_number(a, g);
        if (!(v >= 0.0f && v <= 8.0f))
          throw UsageError(a + ": expected values in [0, 8], got '" + g + "'");
        c.gammas.push_back(v);
      }
    } else if (a == "--alpha" || a == "--alphas") {
      for (const auto& s : split(a, value())) {
        const float v = parse_number(a, s);
        if (!(v <= 1.0f) || !std::isfinite(v))
          throw UsageError(a + ": expected finite values <= 1, got '" + s + "'");
        c.alphas.push_back(v);
      }
    } else if (a == "--json") {
      c.json = value();
      if (c.json.empty()) throw UsageError("--json: expected a file name");
    } else if (a == "--out") {
      c.out_dir = value(), exhaustive_flags = true;
      if (c.out_dir.empty()) throw UsageError("--out: expected a directory");
    } else if (a == "--range") {
      c.ranges = parse_ranges(value()), exhaustive_flags = true;
    } else if (a == "--threads") {
      const std::string v = value();
      char* end = nullptr;
      const long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 1 || n > 1024)
        throw UsageError("--threads: expected a count in 1..1024, got '" + v + "'");
      c.threads = unsigned(n), exhaustive_flags = true;
    } else if (a == "--bound-scale") {
      const std::string v = value();
      c.bound_scale = parse_number("--bound-scale", v);
      if (!(c.bound_scale > 0.0 && c.bound_scale <= 1.0))
        throw UsageError("--bound-scale: expected a value in (0, 1], got '" + v + "'");
    } else if (a == "--verbose") {
      c.verbose = true;
    } else if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      std::exit(focal::tools::finish_output("focal-verify") ? 2 : 0);
    } else if (a == "--version") {
      std::printf("%s\n", focal::support::version_line("focal-verify").c_str());
      std::exit(focal::tools::finish_output("focal-verify") ? 2 : 0);
    } else if (a == "--machine-id") {
      std::printf("%s\n", focal::support::machine().id.c_str());
      std::exit(focal::tools::finish_output("focal-verify") ? 2 : 0);
    } else {
      throw UsageError("unknown argument '" + a + "'");
    }
  }
  if (modes > 1) throw UsageError("choose one of --quick, --full, --exhaustive");
  if (exhaustive_flags && c.mode != Mode::exhaustive)
    throw UsageError("--out, --range and --threads apply to --exhaustive only");
  for (const auto& n : c.kernel_names) {
    const KernelInfo* k = nullptr;
    try {
      k = &focal::find_kernel(n);
    } catch (const focal::invalid_argument& e) {
      throw UsageError(std::string("--kernels: ") + e.what());
    }
    // Asked for by name: not being able to run it is an error, not a silent skip.
    if (const std::string why = k->unavailable_reason(); !why.empty())
      throw UsageError("--kernels: kernel '" + n + "' is not available on this machine: " + why);
  }
  auto unique = [](const std::vector<float>& v, const char* flag) {
    for (std::size_t i = 0; i < v.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (v[i] == v[j]) throw UsageError(std::string(flag) + ": " + std::to_string(v[i]) + " listed twice");
  };
  unique(c.gammas, "--gamma");
  unique(c.alphas, "--alpha");
  const bool ex = c.mode == Mode::exhaustive;
  if (c.gammas.empty())
    c.gammas = ex ? std::vector<float>{2.0f} : std::vector<float>{0.0f, 0.5f, 1.0f, 2.0f, 3.0f, 5.0f};
  if (c.alphas.empty()) c.alphas = ex ? std::vector<float>{0.25f} : std::vector<float>{0.25f, -1.0f};
  return c;
}

std::vector<const KernelInfo*> selected(const Config& c) {
  std::vector<const KernelInfo*> v;
  if (!c.kernel_names.empty()) {
    for (const auto& n : c.kernel_names) {
      const KernelInfo* k = &focal::find_kernel(n);
      if (std::find(v.begin(), v.end(), k) == v.end()) v.push_back(k);  // each once
    }
  } else if (c.mode == Mode::exhaustive) {
    v.push_back(&focal::find_kernel("scalar"));
    if (focal::best_kernel().name != "scalar") v.push_back(&focal::best_kernel());
  } else {
    for (const auto& k : focal::kernels()) v.push_back(&k);
  }
  return v;
}

focal::ErrorBound bound_of(const KernelInfo& k, const Config& c) {
  return {k.bound.ulp * c.bound_scale, k.bound.rel_other * c.bound_scale};
}

}  // namespace fv
