// The driver: validates every argument once, runs the chosen kernel, reduces.
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>

#include "focal/ff.hpp"
#include "focal/focal.hpp"
#include "layouts.hpp"
#include "overlap.hpp"

namespace focal {
namespace {

[[noreturn]] void bad(const std::string& argument, const std::string& expected,
                      const std::string& got) {
  throw invalid_argument("focal: argument '" + argument + "': expected " + expected + ", got " +
                         got);
}

std::string fmt(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

void check_no_overlap(const Input& input, const Outputs& outputs) {
  using overlap::Range;
  const Range logits = std::visit([](const auto& v) { return Range(v.logits); }, input);
  const Range other = std::visit(
      [](const auto& v) {
        if constexpr (requires { v.labels; })
          return Range(v.labels);
        else
          return Range(v.targets);
      },
      input);
  overlap::check(logits, other, std::holds_alternative<LabelInput>(input) ? "labels" : "targets",
                 {{"outputs.loss", Range(outputs.loss), true},
                  {"outputs.grad", Range(outputs.grad), true}});
}

// The gradient scale (1/count or 1/normalizer) must be a normal number with exponent in
// [ff::kMinScaleExp, ff::kMaxScaleExp] = [-62, 40]: the float-float element carries it as an
// exponent in that range (focal/ff.hpp, Constants), so normalizer is in [2^-40, 2^62].
constexpr double kMinNormalizer = 0x1p-40;
constexpr double kMaxNormalizer = 0x1p62;
static_assert(kMinNormalizer == 1.0 / double(1ull << ff::kMaxScaleExp) &&
              kMaxNormalizer == double(1ull << -ff::kMinScaleExp));
constexpr float kMaxGamma = 8.0f;  // the range whose accuracy is verified (ErrorBound)

}  // namespace

std::size_t element_count(const Input& in) {
  return std::visit([](const auto& v) { return v.logits.size(); }, in);
}

Checked validate(const Input& input, const Options& options, const Outputs& outputs) {
  if (std::isnan(options.alpha) || options.alpha > 1.0f)
    bad("alpha", "a value <= 1 (alpha < 0 disables balancing)", fmt(options.alpha));
  if (!(options.gamma >= 0.0f && options.gamma <= kMaxGamma))
    bad("gamma", "a value in [0, 8] (the range whose accuracy is verified)", fmt(options.gamma));

  // One target per logit (dense and soft); the counted elements.
  auto paired = [&](const auto& v) -> std::uint64_t {
    if (v.targets.size() != v.logits.size())
      bad("targets", "one target per logit (" + std::to_string(v.logits.size()) + ")",
          std::to_string(v.targets.size()) + " targets");
    return v.logits.size();
  };
  const std::uint64_t count = visit_layout(input, paired, paired, [&](const LabelInput& l) {
    const std::size_t c = l.num_classes;
    if (c == 0 || c > static_cast<std::size_t>(INT32_MAX))
      bad("num_classes", "a number of classes in [1, 2^31-1]", std::to_string(c));
    std::size_t n = 0;
    if (__builtin_mul_overflow(l.labels.size(), c, &n))
      bad("labels", "labels.size() * num_classes to fit in size_t",
          std::to_string(l.labels.size()) + " labels * " + std::to_string(c) + " classes");
    if (l.logits.size() != n)
      bad("logits", "labels.size() * num_classes = " + std::to_string(l.labels.size()) + " * " +
                        std::to_string(c) + " logits",
          std::to_string(l.logits.size()) + " logits");
    std::uint64_t rows = 0;
    for (std::size_t i = 0; i < l.labels.size(); ++i) {
      const std::int32_t lab = l.labels[i];
      if (lab > static_cast<std::int64_t>(c))
        bad("labels[" + std::to_string(i) + "]",
            "a class in [0, " + std::to_string(c - 1) + "], " + std::to_string(c) +
                " (background) or < 0 (ignored)",
            std::to_string(lab));
      rows += lab >= 0;
    }
    return std::uint64_t(rows * c);
  });

  const std::size_t n = element_count(input);
  if (!outputs.loss.empty() && outputs.loss.size() != n)
    bad("outputs.loss", "empty or one value per logit (" + std::to_string(n) + ")",
        std::to_string(outputs.loss.size()) + " values");
  if (!outputs.grad.empty() && outputs.grad.size() != n)
    bad("outputs.grad", "empty or one value per logit (" + std::to_string(n) + ")",
        std::to_string(outputs.grad.size()) + " values");
  if (!outputs.grad_half.empty())  // its dtype is the logits': only half inputs (half.cpp)
    bad("outputs.grad_half",
        "empty with fp32 logits (a half gradient needs HalfDenseInput or HalfLabelInput)",
        std::to_string(outputs.grad_half.size()) + " values");
  check_no_overlap(input, outputs);

  double scale = 1.0;
  switch (options.reduction) {
    case Reduction::none:
    case Reduction::sum:
      break;
    case Reduction::mean:
      // 1/count is in range for every count a machine can hold; checked all the same.
      if (count > static_cast<std::uint64_t>(kMaxNormalizer))
        bad("input", "at most 2^62 counted elements for Reduction::mean", std::to_string(count));
      scale = count > 0 ? 1.0 / static_cast<double>(count) : 0.0;
      break;
    case Reduction::normalizer:
      if (!(options.normalizer >= kMinNormalizer && options.normalizer <= kMaxNormalizer))
        bad("normalizer", "a value in [2^-40, 2^62] (about 9.1e-13 to 4.6e18)",
            fmt(options.normalizer));
      scale = 1.0 / options.normalizer;
      break;
    default:
      bad("reduction", "none, sum, mean or normalizer",
          std::to_string(static_cast<int>(options.reduction)));
  }
  return {Params{options.alpha, options.gamma, scale}, count};
}

void throw_if_bad_targets(const Input& input) {
  visit_layout(
      input,
      [](const DenseInput& d) {
        for (std::size_t i = 0; i < d.targets.size(); ++i)
          if (d.targets[i] > 1)
            bad("targets[" + std::to_string(i) + "]", "0 or 1", std::to_string(d.targets[i]));
      },
      [](const SoftInput& s) {
        for (std::size_t i = 0; i < s.targets.size(); ++i) {
          const float t = s.targets[i];
          if (!(t >= 0.0f && t <= 1.0f))
            bad("targets[" + std::to_string(i) + "]", "a value in [0, 1]", fmt(t));
        }
      },
      [](const LabelInput&) {});  // labels are checked by validate()
}

double reduce(const Options& options, double sum, std::uint64_t count) {
  switch (options.reduction) {
    case Reduction::mean:
      return count > 0 ? sum / static_cast<double>(count) : 0.0;
    case Reduction::normalizer:
      return sum / options.normalizer;
    default:
      return sum;
  }
}

Result focal_loss(const KernelInfo& kernel, const Input& input, const Options& options,
                  const Outputs& outputs) {
  std::string why;
  if (!kernel.available(&why))
    throw unavailable_kernel("focal: kernel '" + std::string(kernel.name) +
                             "' is not available on this machine: " + why);
  const Checked checked = validate(input, options, outputs);
  const Partial part = kernel.run(input, checked.params, outputs);
  if (part.bad_target) throw_if_bad_targets(input);
  Result r;
  r.sum = part.sum;
  r.count = part.count;
  r.value = reduce(options, part.sum, part.count);
  r.kernel = &kernel;
  return r;
}

Result focal_loss(const Input& input, const Options& options, const Outputs& outputs) {
  return focal_loss(best_kernel(), input, options, outputs);
}

}  // namespace focal
