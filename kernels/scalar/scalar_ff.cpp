// The portable float-float kernel ("scalar_ff"): the CUDA kernels' element (element::Element
// of kernels/element.hpp) compiled for the host and run one element at a time. Binary targets
// (dense u8, class labels, soft t in {0, 1}) at gamma 0..4 use the float-float element of
// focal/ff.hpp with ff::ScalarOps -- the bits every avx2/avx512 lane computes; soft targets strictly inside (0, 1)
// and other gamma use math.hpp in double, as the scalar reference does.
// Declared: 1 ULP for gamma 0..4 (exhaustively measured, results/*/exhaustive/), relative 1.2e-7
// otherwise. It runs on any x86-64 (std::fma is exact in software too); it exists to make the
// CUDA element testable, and verifiable bit for bit, on every machine.
#include "../backends.hpp"
#include "../element.hpp"
#include "focal/detail/sum.hpp"

namespace focal {
namespace {

// Two clones, chosen at load time: with FMA instructions where the CPU has them, else std::fma in
// software (exact either way, so both give the same bits; the FMA clone is ~3x faster). flatten:
// the float-float helpers inline into the element loop.
[[gnu::flatten]] __attribute__((target_clones("fma", "default")))
Partial scalar_ff_run(const Input& in, const Params& p, const Outputs& out) {
  const auto el = element::Element::make(p.alpha, p.gamma, p.grad_scale);
  detail::CompensatedSum sum;
  Partial part;
  const bool want_loss = !out.loss.empty(), want_grad = !out.grad.empty();
  auto store = [&](std::size_t i, math::LossGrad<float> v) {
    if (want_loss) out.loss[i] = v.loss;
    if (want_grad) out.grad[i] = v.grad;
  };
  if (const auto* d = std::get_if<DenseInput>(&in)) {
    for (std::size_t i = 0; i < d->logits.size(); ++i) {
      part.bad_target |= d->targets[i] > 1;
      const auto v = el.binary(d->logits[i], d->targets[i] != 0);
      sum.add(v.loss);
      store(i, v);
    }
    part.count = d->logits.size();
  } else if (const auto* s = std::get_if<SoftInput>(&in)) {
    for (std::size_t i = 0; i < s->logits.size(); ++i) {
      const float t = s->targets[i];
      if (!(t >= 0.0f && t <= 1.0f)) {
        part.bad_target = true;
        store(i, {NAN, NAN});
        continue;
      }
      const auto v = el.soft(s->logits[i], t);
      sum.add(v.loss);
      store(i, v);
    }
    part.count = s->logits.size();
  } else {
    const auto& l = std::get<LabelInput>(in);
    const std::size_t c = l.num_classes;
    for (std::size_t row = 0; row < l.labels.size(); ++row) {
      const std::int32_t label = l.labels[row];
      const std::size_t base = row * c;
      if (label < 0) {  // ignored anchor
        for (std::size_t k = 0; k < c; ++k) store(base + k, {0.0f, 0.0f});
        continue;
      }
      for (std::size_t k = 0; k < c; ++k) {
        const auto v = el.binary(l.logits[base + k], std::size_t(label) == k);
        sum.add(v.loss);
        store(base + k, v);
      }
      part.count += c;
    }
  }
  part.sum = sum.value();
  return part;
}

bool always(std::string*) { return true; }

const KernelInfo kScalarFF[] = {{
    .name = "scalar_ff",
    .backend = "scalar",
    .isa = "x86-64",
    .bound = element::kDeclaredBound,
    .bitwise_equal_to = "",
    .priority = 1,
    .available = always,
    .run = scalar_ff_run,
}};

}  // namespace

std::span<const KernelInfo> backends::scalar_ff_kernels() { return kScalarFF; }

}  // namespace focal
