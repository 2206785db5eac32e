// focal-reference: the MPFR oracle on the command line.
//   focal-reference [--alpha A] [--gamma G] < "x t" lines          -> "loss grad" (%.9g, truth)
//   focal-reference --check BOUND [--alpha A] [--gamma G] < "x t loss grad" lines
//       -> max error of the given results and the worst line; exit 1 if over BOUND.
//   focal-reference --version | --help
// With --check the bound is in ULP for gamma 0..4, else relative. alpha and gamma must be what
// the library accepts (focal::validate), t in [0, 1]. Exit: 0 ok (PASS), 1 bad input, a failed
// check, no lines to check or a failed write, 2 bad command line.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "check.hpp"
#include "focal/focal.hpp"
#include "focal_support/version.hpp"
#include "reference/mpfr_reference.hpp"
#include "text_io.hpp"
#include "ulp.hpp"

namespace {

constexpr const char* kTool = "focal-reference";

int usage(std::FILE* f, int code) {
  std::fprintf(f,
               "usage: focal-reference [--alpha A] [--gamma G] < 'x t' lines\n"
               "       focal-reference --check BOUND [--alpha A] [--gamma G] < 'x t loss grad' lines\n"
               "       focal-reference --version | --help\n"
               "BOUND: ULP for gamma in {0,1,2,3,4}, else relative error (>= 0)\n"
               "exit: 0 ok, 1 bad input / check failed / nothing to check / write failed, 2 usage\n");
  return code;
}

[[noreturn]] void input_error(long lineno, const std::string& what) {
  std::fprintf(stderr, "%s: line %ld: %s\n", kTool, lineno, what.c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  float alpha = 0.25f, gamma = 2.0f;
  double bound = 0;
  bool check = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      usage(stdout, 0);
      return focal::tools::finish_output(kTool);
    }
    if (a == "--version") {
      std::printf("%s\n", focal::support::version_line(kTool).c_str());
      return focal::tools::finish_output(kTool);
    }
    if (a != "--alpha" && a != "--gamma" && a != "--check") {
      std::fprintf(stderr, "%s: unknown argument '%s'\n", kTool, a.c_str());
      return usage(stderr, 2);
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s: %s needs a value\n", kTool, a.c_str());
      return 2;
    }
    const std::string v = argv[++i];
    float f;
    const std::string why = focal::tools::parse_float(v, &f);
    if (!why.empty()) {
      std::fprintf(stderr, "%s: %s: expected a number, got '%s' (%s)\n", kTool, a.c_str(),
                   v.c_str(), why.c_str());
      return 2;
    }
    if (a == "--alpha") {
      alpha = f;
    } else if (a == "--gamma") {
      gamma = f;
    } else {
      const double d = std::strtod(v.c_str(), nullptr);  // the bound in double, as declared
      if (!(d >= 0.0 && std::isfinite(d))) {
        std::fprintf(stderr, "%s: --check: expected a finite bound >= 0, got '%s'\n", kTool,
                     v.c_str());
        return 2;
      }
      bound = d;
      check = true;
    }
  }
  // The library's own validation, so the oracle accepts exactly what the kernels accept.
  try {
    focal::validate(focal::DenseInput{}, focal::Options{.alpha = alpha, .gamma = gamma}, {});
  } catch (const focal::invalid_argument& e) {
    std::fprintf(stderr, "%s: %s\n", kTool, e.what());
    return 2;
  }

  focal::verify::Stats sl, sg;
  std::string line;
  std::vector<std::string> tok;
  long lineno = 0;
  const std::size_t fields = check ? 4 : 2;
  while (std::getline(std::cin, line)) {
    ++lineno;
    std::string why = focal::tools::split_line(line, &tok);
    if (!why.empty()) input_error(lineno, why);
    if (focal::tools::is_blank_or_comment(line)) continue;
    if (tok.size() != fields)
      input_error(lineno, std::string("expected '") + (check ? "x t loss grad" : "x t") +
                              "', got '" + line + "'");
    float v[4];
    static const char* const kNames[] = {"x", "t", "loss", "grad"};
    for (std::size_t k = 0; k < fields; ++k)
      if (!(why = focal::tools::parse_float(tok[k], &v[k])).empty())
        input_error(lineno, std::string(kNames[k]) + " = '" + tok[k] + "': " + why);
    const float x = v[0], t = v[1];
    if (!(t >= 0.0f && t <= 1.0f))
      input_error(lineno, "target t = " + tok[1] + ": expected a value in [0, 1]");
    const auto tr = focal::verify::reference(x, t, alpha, gamma);
    if (!check) {
      std::printf("%.9g %.9g\n", tr.loss_float, tr.grad_float);
      continue;
    }
    const bool binary = t == 0.0f || t == 1.0f;
    sl.add(lineno, x, t, v[2], tr.loss_exact, tr.loss_float, tr.loss_exact, false);
    sg.add(lineno, x, t, v[3], tr.grad_exact, tr.grad_float,
           binary ? tr.grad_exact : tr.grad_scale_term, false);
  }
  if (std::cin.bad() || std::ferror(stdin)) {  // cin synced with stdio: a read error sets stdin's error flag, not cin's badbit
    std::fprintf(stderr, "%s: reading stdin failed\n", kTool);
    return 1;
  }
  if (!check) return focal::tools::finish_output(kTool);
  if (sl.n == 0) {
    std::fprintf(stderr, "%s: --check: no 'x t loss grad' lines to check\n", kTool);
    return 1;
  }
  const focal::ErrorBound b{bound, bound};
  const bool ok = sl.passes(b, gamma) && sg.passes(b, gamma);
  std::printf("%s\n%s\n%s (bound %g %s, %zu lines)\n", sl.describe("loss").c_str(),
              sg.describe("grad").c_str(), ok ? "PASS" : "FAIL", bound,
              focal::verify::integer_gamma(gamma) ? "ulp" : "relative", sl.n);
  const int written = focal::tools::finish_output(kTool);
  return ok ? written : 1;
}
