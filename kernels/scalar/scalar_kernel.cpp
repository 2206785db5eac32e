// The scalar reference kernel (name "scalar").
//
// Evaluates focal/math.hpp in double (element::DoubleElement of kernels/element.hpp, the element
// the CUDA kernels and scalar_ff take for soft targets and gamma outside 0..4) and rounds each
// result to float once, so every loss and gradient is within 0.5 ULP + 2^-28 ULP of the
// correctly rounded float value: declared bound 1 ULP for every gamma in [0, 8] (relative
// 1.2e-7), over the whole float32 range of x, for binary and soft targets (soft-target gradient: ULP of the larger of its two terms).
// Double has the range to hold every intermediate whose float result is representable, so
// subnormal results are neither flushed nor do large ones overflow early.
// Sum: Neumaier-compensated double over the rounded fp32 losses (relative error ~1e-16).
#include <cmath>

#include "../backends.hpp"
#include "../element.hpp"
#include "focal/detail/sum.hpp"

namespace focal {
namespace {

inline void store(const Outputs& out, std::size_t i, math::LossGrad<float> v) {
  if (!out.loss.empty()) out.loss[i] = v.loss;
  if (!out.grad.empty()) out.grad[i] = v.grad;
}

Partial run_with(const Input& in, const element::DoubleElement& el, const Outputs& out) {
  detail::CompensatedSum sum;
  Partial part;
  if (const auto* d = std::get_if<DenseInput>(&in)) {
    for (std::size_t i = 0; i < d->logits.size(); ++i) {
      const std::uint8_t t = d->targets[i];
      part.bad_target |= t > 1;
      const auto v = el.binary(d->logits[i], t != 0);
      sum.add(v.loss);
      store(out, i, v);
    }
    part.count = d->logits.size();
  } else if (const auto* s = std::get_if<SoftInput>(&in)) {
    for (std::size_t i = 0; i < s->logits.size(); ++i) {
      const float t = s->targets[i];
      if (!(t >= 0.0f && t <= 1.0f)) {
        part.bad_target = true;
        store(out, i, {NAN, NAN});
        continue;
      }
      const auto v = el.soft(s->logits[i], t);
      sum.add(v.loss);
      store(out, i, v);
    }
    part.count = s->logits.size();
  } else {
    const auto& l = std::get<LabelInput>(in);
    const std::size_t c = l.num_classes;
    for (std::size_t row = 0; row < l.labels.size(); ++row) {
      const std::int32_t label = l.labels[row];
      const std::size_t base = row * c;
      if (label < 0) {  // ignored anchor
        for (std::size_t k = 0; k < c; ++k) store(out, base + k, {0.0f, 0.0f});
        continue;
      }
      for (std::size_t k = 0; k < c; ++k) {
        const auto v = el.binary(l.logits[base + k], std::size_t(label) == k);
        sum.add(v.loss);
        store(out, base + k, v);
      }
      part.count += c;
    }
  }
  part.sum = sum.value();
  return part;
}

Partial scalar_run(const Input& in, const Params& p, const Outputs& out) {
  return run_with(in, element::DoubleElement::make(p.alpha, p.gamma, p.grad_scale), out);
}

bool always(std::string*) { return true; }

const KernelInfo kScalar[] = {{
    .name = "scalar",
    .backend = "scalar",
    .isa = "x86-64",
    .bound = element::kDeclaredBound,
    .bitwise_equal_to = "",
    .priority = 0,
    .available = always,
    .run = scalar_run,
}};

}  // namespace

std::span<const KernelInfo> backends::scalar_kernels() { return kScalar; }

}  // namespace focal
