// focal-eval: try any kernel by hand.
//   focal-eval --list
//   focal-eval [--kernel NAME] [--alpha A] [--gamma G] [--sum] [--dtype fp32|fp16|bf16]  < lines "x t"
// --list: NAME available|unavailable BACKEND ISA ulp=U,rel=R [# why unavailable]
// Prints "loss grad" per input line (%.9g), or with --sum one line "sum count" (%.17g).
// The kernel that ran is reported on stderr. --dtype fp16|bf16: the logits are rounded to that
// dtype (nearest even; a note on stderr for each one that changes), targets must be 0 or 1, and
// grad is the half gradient (Outputs::grad_half) printed as a number.
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
               "       focal-eval [--kernel NAME] [--alpha A] [--gamma G] [--sum]\n"
               "                  [--dtype fp32|fp16|bf16] < input\n"
               "input: one 'x t' per line (decimal or hex floats); t in [0, 1]\n"
               "output: 'loss grad' per line (%%.9g), or with --sum 'sum count'\n"
               "defaults: best available kernel (FOCAL_KERNEL overrides), alpha 0.25, gamma 2\n");
  return code;
}

// A decimal logit rounded to a half dtype: parsed as double, rounded to float with round-to-odd,
// then to the half dtype with round-to-nearest-even; as float keeps 13+ bits more than the half
// formats, the two steps give the nearest half to the double.
std::uint16_t round_to_dtype(double v, focal::Dtype d) {
  float f = static_cast<float>(v);
  if (std::isfinite(v) && double(f) != v) {
    if (std::fabs(double(f)) > std::fabs(v)) f = std::nextafter(f, 0.0f);
    std::uint32_t b;
    std::memcpy(&b, &f, sizeof b);
    b |= 1u;  // round to odd: the inexact result's last bit set
    std::memcpy(&f, &b, sizeof f);
  }
  return focal::float_to_half(f, d);
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
  focal::Dtype dtype = focal::Dtype::fp32;
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
    } else if (a == "--dtype") {
      const std::string v = value("fp32, fp16 or bf16");
      bool known = false;
      for (auto d : {focal::Dtype::fp32, focal::Dtype::fp16, focal::Dtype::bf16})
        if (v == focal::to_string(d)) dtype = d, known = true;
      if (!known) {
        std::fprintf(stderr, "focal-eval: --dtype: expected fp32, fp16 or bf16, got '%s'\n", v.c_str());
        return 2;
      }
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
    std::vector<std::uint16_t> xh;  // --dtype fp16|bf16: the logits' bits
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
      if (dtype != focal::Dtype::fp32) {
        if (t != 0.0f && t != 1.0f) {
          std::fprintf(stderr, "focal-eval: line %ld: target t = %s: --dtype %s takes targets 0 or 1\n",
                       lineno, tbuf, std::string(focal::to_string(dtype)).c_str());
          return 1;
        }
        const double xd = std::strtod(xbuf, nullptr);
        xh.push_back(round_to_dtype(xd, dtype));
        x = focal::half_to_float(xh.back(), dtype);
        if (double(x) != xd && !(std::isnan(x) && std::isnan(xd)))
          std::fprintf(stderr, "focal-eval: line %ld: x = %s is not exactly representable in %s; "
                       "rounded to nearest: %.9g\n", lineno, xbuf,
                       std::string(focal::to_string(dtype)).c_str(), x);
      }
      xs.push_back(x);
      ts.push_back(t);
      line_of.push_back(lineno);
    }

    std::vector<float> loss(want_sum ? 0 : xs.size()), grad(want_sum ? 0 : xs.size());
    std::vector<std::uint8_t> t8(ts.begin(), ts.end());
    std::vector<std::uint16_t> grad_h(dtype == focal::Dtype::fp32 ? 0 : grad.size());
    const focal::Result r =
        dtype == focal::Dtype::fp32
            ? focal::focal_loss(kernel, focal::SoftInput{xs, ts}, opt, focal::Outputs{loss, grad})
            : focal::focal_loss(kernel, focal::HalfDenseInput{xh, t8, dtype}, opt,
                                focal::Outputs{.loss = loss, .grad_half = grad_h});
    for (std::size_t i = 0; i < grad_h.size(); ++i) grad[i] = focal::half_to_float(grad_h[i], dtype);
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
