// focal-eval: try any kernel by hand.
//   focal-eval --list
//   focal-eval [--kernel NAME] [--alpha A] [--gamma G] [--sum]  < lines "x t"
// --list: NAME available|unavailable BACKEND ISA ulp=U,rel=R [# why unavailable]
// Prints "loss grad" per input line (%.9g), or with --sum one line "sum count" (%.17g).
// The kernel that ran is reported on stderr.
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "focal/focal.hpp"

namespace {

int usage(std::FILE* f, int code) {
  std::fprintf(f,
               "usage: focal-eval --list\n"
               "       focal-eval [--kernel NAME] [--alpha A] [--gamma G] [--sum] < input\n"
               "input: one 'x t' per line (decimal or hex floats); t in [0, 1]\n"
               "output: 'loss grad' per line (%%.9g), or with --sum 'sum count'\n"
               "defaults: best available kernel (FOCAL_KERNEL overrides), alpha 0.25, gamma 2\n");
  return code;
}

// Whole-token float parse; false if anything is left over or nothing parsed.
bool parse_float(const char* s, float* out) {
  char* end = nullptr;
  errno = 0;
  const float v = std::strtof(s, &end);
  if (end == s) return false;
  while (*end == ' ' || *end == '\t' || *end == '\r') ++end;
  if (*end != '\0') return false;
  *out = v;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string kernel_name;
  focal::Options opt;
  bool want_sum = false;
  bool list = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* what) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "focal-eval: %s needs a value (%s)\n", a.c_str(), what);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--list") {
      list = true;
    } else if (a == "--kernel") {
      kernel_name = value("a kernel name, see --list");
    } else if (a == "--alpha" || a == "--gamma") {
      const char* v = value("a number");
      float f;
      if (!parse_float(v, &f)) {
        std::fprintf(stderr, "focal-eval: %s: expected a number, got '%s'\n", a.c_str(), v);
        return 2;
      }
      (a == "--alpha" ? opt.alpha : opt.gamma) = f;
    } else if (a == "--sum") {
      want_sum = true;
    } else if (a == "--help" || a == "-h") {
      return usage(stdout, 0);
    } else {
      std::fprintf(stderr, "focal-eval: unknown argument '%s'\n", a.c_str());
      return usage(stderr, 2);
    }
  }

  try {
    if (list) {
      for (const auto& k : focal::kernels()) {
        const std::string why = k.unavailable_reason();
        std::printf("%-16.*s %-11s %-7.*s %-10.*s ulp=%g,rel=%g%s%s\n",
                    int(k.name.size()), k.name.data(), why.empty() ? "available" : "unavailable",
                    int(k.backend.size()), k.backend.data(), int(k.isa.size()), k.isa.data(),
                    k.bound.ulp, k.bound.rel_other, why.empty() ? "" : "  # ", why.c_str());
      }
      return 0;
    }
    const focal::KernelInfo& kernel =
        kernel_name.empty() ? focal::best_kernel() : focal::find_kernel(kernel_name);

    std::vector<float> xs, ts;
    std::vector<long> line_of;
    std::string line;
    long lineno = 0;
    while (std::getline(std::cin, line)) {
      ++lineno;
      const auto first = line.find_first_not_of(" \t\r");
      if (first == std::string::npos || line[first] == '#') continue;  // blank or comment
      char xbuf[128], tbuf[128], extra[2];
      float x, t;
      const int got = std::sscanf(line.c_str(), "%127s %127s %1s", xbuf, tbuf, extra);
      if (got != 2 || !parse_float(xbuf, &x) || !parse_float(tbuf, &t)) {
        std::fprintf(stderr, "focal-eval: line %ld: expected 'x t' (two floats), got '%s'\n",
                     lineno, line.c_str());
        return 1;
      }
      if (!(t >= 0.0f && t <= 1.0f)) {
        std::fprintf(stderr, "focal-eval: line %ld: target t = %s: expected a value in [0, 1]\n",
                     lineno, tbuf);
        return 1;
      }
      xs.push_back(x);
      ts.push_back(t);
      line_of.push_back(lineno);
    }

    std::vector<float> loss(want_sum ? 0 : xs.size()), grad(want_sum ? 0 : xs.size());
    const focal::Result r =
        focal::focal_loss(kernel, focal::SoftInput{xs, ts}, opt, focal::Outputs{loss, grad});
    std::fprintf(stderr, "focal-eval: kernel %.*s, alpha %g, gamma %g, %zu inputs\n",
                 int(r.kernel->name.size()), r.kernel->name.data(), opt.alpha, opt.gamma,
                 xs.size());
    if (want_sum) {
      std::printf("%.17g %llu\n", r.sum, static_cast<unsigned long long>(r.count));
    } else {
      for (std::size_t i = 0; i < xs.size(); ++i) std::printf("%.9g %.9g\n", loss[i], grad[i]);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "focal-eval: %s\n", e.what());
    return 1;
  }
}
