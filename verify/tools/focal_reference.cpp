// focal-reference: the MPFR oracle on the command line.
//   focal-reference [--alpha A] [--gamma G] < "x t" lines          -> "loss grad" (%.9g, truth)
//   focal-reference --check ULP [--alpha A] [--gamma G] < "x t loss grad" lines
//       -> max ULP error of the given results and the worst line; exit 1 if over ULP.
// With --check the bound is in ULP for gamma 0..4, else relative.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>

#include "check.hpp"
#include "reference/mpfr_reference.hpp"
#include "ulp.hpp"

namespace {
bool num(const char* s, double* out) {
  char* end = nullptr;
  *out = std::strtod(s, &end);
  return end != s && *end == '\0';
}
}  // namespace

int main(int argc, char** argv) {
  double alpha = 0.25, gamma = 2.0, bound = -1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    double* dst = a == "--alpha" ? &alpha : a == "--gamma" ? &gamma : a == "--check" ? &bound : nullptr;
    if (!dst || i + 1 >= argc || !num(argv[i + 1], dst)) {
      std::fprintf(stderr, "usage: focal-reference [--check ULP] [--alpha A] [--gamma G]  (bad argument '%s')\n",
                   a.c_str());
      return 2;
    }
    ++i;
  }
  const bool check = bound >= 0;
  focal::verify::Stats sl, sg;
  std::string line;
  long lineno = 0;
  while (std::getline(std::cin, line)) {
    ++lineno;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::istringstream in(line);
    std::string xs, ts, ls, gs, extra;
    in >> xs >> ts;
    if (check) in >> ls >> gs;
    double x, t, l = 0, g = 0;
    if (!num(xs.c_str(), &x) || !num(ts.c_str(), &t) ||
        (check && (!num(ls.c_str(), &l) || !num(gs.c_str(), &g))) || (in >> extra)) {
      std::fprintf(stderr, "focal-reference: line %ld: expected '%s', got '%s'\n", lineno,
                   check ? "x t loss grad" : "x t", line.c_str());
      return 1;
    }
    const auto tr = focal::verify::reference(float(x), float(t), float(alpha), float(gamma));
    if (!check) {
      std::printf("%.9g %.9g\n", tr.loss_float, tr.grad_float);
      continue;
    }
    const bool binary = t == 0.0 || t == 1.0;
    sl.add(lineno, float(x), float(t), float(l), tr.loss_exact, tr.loss_float, tr.loss_exact, false);
    sg.add(lineno, float(x), float(t), float(g), tr.grad_exact, tr.grad_float,
           binary ? tr.grad_exact : tr.grad_scale_term, false);
  }
  if (!check) return 0;
  const focal::ErrorBound b{bound, bound};
  const bool ok = sl.passes(b, float(gamma)) && sg.passes(b, float(gamma));
  std::printf("%s\n%s\n%s (bound %g %s, %zu lines)\n", sl.describe("loss").c_str(),
              sg.describe("grad").c_str(), ok ? "PASS" : "FAIL", bound,
              focal::verify::integer_gamma(float(gamma)) ? "ulp" : "relative", sl.n);
  return ok ? 0 : 1;
}
