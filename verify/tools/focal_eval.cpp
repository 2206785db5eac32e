// focal-eval: try any kernel by hand.
//   focal-eval --list | --version
//   focal-eval [--kernel NAME] [--layout dense|soft|labels [--classes C]] [--alpha A] [--gamma G]
//              [--dtype fp32|fp16|bf16] [--sum]  < lines "x t"
// --list: NAME available|unavailable BACKEND ISA ulp=U,rel=R [# why unavailable]
// Prints "loss grad" per input line (%.9g), or with --sum one line "sum count" (%.17g).
// --dtype fp16|bf16 (half logits: dense or labels, dense by default): each logit is rounded to the
// dtype (nearest even; a note on stderr for each one that changes) and grad is the half gradient
// (Outputs::grad_half) printed as a number.
// The kernel that ran is reported on stderr. Bad input or a failed write: a message naming the
// problem and exit 1 (2 for a bad command line).
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "focal/focal.hpp"
#include "focal_support/version.hpp"
#include "half_io.hpp"
#include "text_io.hpp"

namespace {

constexpr const char* kTool = "focal-eval";

int usage(std::FILE* f, int code) {
  std::fprintf(f,
               "usage: focal-eval --list | --version | --help\n"
               "       focal-eval [--kernel NAME] [--layout dense|soft|labels] [--classes C]\n"
               "                  [--alpha A] [--gamma G] [--dtype fp32|fp16|bf16] [--sum] < input\n"
               "input: one 'x t' per line (decimal or hex floats, inf, nan; '#' comments)\n"
               "layouts (which input the kernel gets):\n"
               "  soft    fp32 targets, t in [0, 1] (default)\n"
               "  dense   u8 targets, t must be 0 or 1\n"
               "  labels  class labels: rows of C = --classes lines, t 0 or 1, at most one 1 per\n"
               "          row (its index is the row's label; none: background)\n"
               "dtype (of the logits): fp32 (default), or fp16 / bf16 with dense (their default) or\n"
               "  labels: each x rounded to nearest (a note on stderr if it changes), t 0 or 1,\n"
               "  grad printed in the dtype\n"
               "output: 'loss grad' per line (%%.9g), or with --sum 'sum count' (%%.17g)\n"
               "defaults: best available kernel (FOCAL_KERNEL overrides), soft, alpha 0.25, gamma 2\n"
               "exit: 0 ok, 1 bad input or a failed write, 2 bad command line\n");
  return code;
}

enum class Layout { dense, soft, labels };

bool parse_layout(const std::string& s, Layout* out) {
  if (s == "dense") *out = Layout::dense;
  else if (s == "soft") *out = Layout::soft;
  else if (s == "labels") *out = Layout::labels;
  else return false;
  return true;
}

[[noreturn]] void input_error(long lineno, const std::string& what) {
  std::fprintf(stderr, "%s: line %ld: %s\n", kTool, lineno, what.c_str());
  std::exit(1);
}

struct Lines {
  std::vector<float> x, t;
  std::vector<std::uint16_t> x_half;  // --dtype fp16|bf16: the logits' bits (x: their values)
  std::vector<long> line_of;
};

// Reads every 'x t' line; t must lie in [0, 1] (and be 0 or 1 unless the layout is soft, which
// half logits never are).
Lines read_lines(Layout layout, focal::Dtype dtype) {
  const std::string dname(focal::to_string(dtype));
  Lines in;
  std::string line;
  std::vector<std::string> tok;
  long lineno = 0;
  while (std::getline(std::cin, line)) {
    ++lineno;
    std::string why = focal::tools::split_line(line, &tok);
    if (!why.empty()) input_error(lineno, why);
    if (focal::tools::is_blank_or_comment(line)) continue;
    if (tok.size() != 2)
      input_error(lineno, "expected 'x t' (two floats), got " + std::to_string(tok.size()) +
                              " fields: '" + line + "'");
    float x, t;
    if (dtype == focal::Dtype::fp32) {
      if (!(why = focal::tools::parse_float(tok[0], &x)).empty())
        input_error(lineno, "logit x = '" + tok[0] + "': " + why);
    } else {
      std::uint16_t bits;
      bool exact;
      if (!(why = focal::tools::parse_half(tok[0], dtype, &bits, &exact)).empty())
        input_error(lineno, "logit x = '" + tok[0] + "': " + why);
      x = focal::half_to_float(bits, dtype);
      in.x_half.push_back(bits);
      if (!exact)
        std::fprintf(stderr, "%s: line %ld: x = %s is not exactly representable in %s; "
                     "rounded to nearest: %.9g\n", kTool, lineno, tok[0].c_str(), dname.c_str(), x);
    }
    if (!(why = focal::tools::parse_float(tok[1], &t)).empty())
      input_error(lineno, "target t = '" + tok[1] + "': " + why);
    if (!(t >= 0.0f && t <= 1.0f))
      input_error(lineno, "target t = " + tok[1] + ": expected a value in [0, 1]");
    if (dtype != focal::Dtype::fp32 && t != 0.0f && t != 1.0f)
      input_error(lineno, "target t = " + tok[1] + ": --dtype " + dname + " takes targets 0 or 1");
    if (layout != Layout::soft && t != 0.0f && t != 1.0f)
      input_error(lineno, "target t = " + tok[1] + ": expected 0 or 1 with --layout " +
                              (layout == Layout::dense ? "dense" : "labels"));
    in.x.push_back(x);
    in.t.push_back(t);
    in.line_of.push_back(lineno);
  }
  if (std::cin.bad() || std::ferror(stdin)) {  // cin synced with stdio: a read error sets stdin's error flag, not cin's badbit
    std::fprintf(stderr, "%s: reading stdin failed\n", kTool);
    std::exit(1);
  }
  return in;
}

// Rows of `classes` binary targets -> one label per row (the index of its 1, or C: background).
std::vector<std::int32_t> to_labels(const Lines& in, std::size_t classes) {
  if (in.x.size() % classes != 0) {
    std::fprintf(stderr,
                 "%s: --layout labels: %zu input lines is not a whole number of rows of "
                 "--classes %zu\n",
                 kTool, in.x.size(), classes);
    std::exit(1);
  }
  std::vector<std::int32_t> labels(in.x.size() / classes, std::int32_t(classes));
  for (std::size_t i = 0; i < in.x.size(); ++i) {
    if (in.t[i] != 1.0f) continue;
    auto& label = labels[i / classes];
    if (label != std::int32_t(classes))
      input_error(in.line_of[i], "a second t = 1 in the row of lines " +
                                     std::to_string(in.line_of[i / classes * classes]) +
                                     "..: --layout labels takes at most one positive per row");
    label = std::int32_t(i % classes);
  }
  return labels;
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<std::string> kernel_name;
  focal::Options opt;
  std::optional<Layout> layout_arg;
  focal::Dtype dtype = focal::Dtype::fp32;
  long classes = 0;
  bool want_sum = false;
  bool list = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* what) -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s: %s needs a value (%s)\n", kTool, a.c_str(), what);
        std::exit(2);
      }
      return argv[++i];
    };
    auto reject = [&](const std::string& v, const std::string& expected) {
      std::fprintf(stderr, "%s: %s: expected %s, got '%s'\n", kTool, a.c_str(), expected.c_str(),
                   v.c_str());
      std::exit(2);
    };
    if (a == "--list") {
      list = true;
    } else if (a == "--kernel") {
      kernel_name = value("a kernel name, see --list");
      if (kernel_name->empty()) reject("", "a kernel name (see --list)");
    } else if (a == "--layout") {
      const std::string v = value("dense, soft or labels");
      Layout l;
      if (!parse_layout(v, &l)) reject(v, "dense, soft or labels");
      layout_arg = l;
    } else if (a == "--dtype") {
      const std::string v = value("fp32, fp16 or bf16");
      if (!focal::tools::parse_dtype(v, &dtype)) reject(v, "fp32, fp16 or bf16");
    } else if (a == "--classes") {
      const std::string v = value("a number of classes");
      char* end = nullptr;
      errno = 0;
      classes = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || errno || classes < 1 || classes > INT32_MAX)
        reject(v, "a number of classes in [1, 2^31-1]");
    } else if (a == "--alpha" || a == "--gamma") {
      const std::string v = value("a number");
      float f;
      const std::string why = focal::tools::parse_float(v, &f);
      if (!why.empty()) reject(v, "a number (" + why + ")");
      (a == "--alpha" ? opt.alpha : opt.gamma) = f;
    } else if (a == "--sum") {
      want_sum = true;
    } else if (a == "--help" || a == "-h") {
      usage(stdout, 0);
      return focal::tools::finish_output(kTool);
    } else if (a == "--version") {
      std::printf("%s\n", focal::support::version_line(kTool).c_str());
      return focal::tools::finish_output(kTool);
    } else {
      std::fprintf(stderr, "%s: unknown argument '%s'\n", kTool, a.c_str());
      return usage(stderr, 2);
    }
  }
  const bool half = dtype != focal::Dtype::fp32;
  const std::string dname(focal::to_string(dtype));
  // Half logits come with 0/1 targets only (HalfDenseInput, HalfLabelInput): dense by default.
  const Layout layout = layout_arg.value_or(half ? Layout::dense : Layout::soft);
  if (half && layout == Layout::soft) {
    std::fprintf(stderr,
                 "%s: --dtype %s goes with --layout dense or labels (half logits take targets 0 or "
                 "1, not soft targets)\n",
                 kTool, dname.c_str());
    return 2;
  }
  if ((layout == Layout::labels) != (classes > 0)) {
    std::fprintf(stderr, "%s: --classes C goes with --layout labels, and labels needs it\n", kTool);
    return 2;
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
      return focal::tools::finish_output(kTool);
    }
    const focal::KernelInfo& kernel =
        kernel_name ? focal::find_kernel(*kernel_name) : focal::best_kernel();

    const Lines in = read_lines(layout, dtype);
    const std::size_t n = in.x.size();
    std::vector<float> loss(want_sum ? 0 : n), grad(want_sum ? 0 : n);
    std::vector<std::uint16_t> grad_half(half && !want_sum ? n : 0);
    const focal::Outputs out = half ? focal::Outputs{.loss = loss, .grad = {}, .grad_half = grad_half}
                                    : focal::Outputs{loss, grad};
    std::vector<std::uint8_t> u8;
    std::vector<std::int32_t> labels;
    focal::Result r;
    switch (layout) {
      case Layout::soft:
        r = focal::focal_loss(kernel, focal::SoftInput{in.x, in.t}, opt, out);
        break;
      case Layout::dense:
        for (float t : in.t) u8.push_back(t == 1.0f);
        r = half ? focal::focal_loss(kernel, focal::HalfDenseInput{in.x_half, u8, dtype}, opt, out)
                 : focal::focal_loss(kernel, focal::DenseInput{in.x, u8}, opt, out);
        break;
      case Layout::labels:
        labels = to_labels(in, std::size_t(classes));
        r = half ? focal::focal_loss(
                       kernel,
                       focal::HalfLabelInput{in.x_half, labels, std::size_t(classes), dtype}, opt,
                       out)
                 : focal::focal_loss(
                       kernel, focal::LabelInput{in.x, labels, std::size_t(classes)}, opt, out);
        break;
    }
    for (std::size_t i = 0; i < grad_half.size(); ++i)
      grad[i] = focal::half_to_float(grad_half[i], dtype);
    std::fprintf(stderr, "%s: kernel %.*s, alpha %g, gamma %g, %zu %s inputs\n", kTool,
                 int(r.kernel->name.size()), r.kernel->name.data(), opt.alpha, opt.gamma, n,
                 dname.c_str());
    if (want_sum) {
      std::printf("%.17g %llu\n", r.sum, static_cast<unsigned long long>(r.count));
    } else {
      for (std::size_t i = 0; i < n; ++i) std::printf("%.9g %.9g\n", loss[i], grad[i]);
    }
    return focal::tools::finish_output(kTool);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", kTool, e.what());
    return 1;
  }
}
