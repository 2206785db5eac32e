// The portable float-float kernel ("scalar_ff"): the element of focal/ff.hpp one float at a time,
// with ff::ScalarOps -- the very code the CUDA kernels run on the device, and the bits every SIMD
// lane of avx2/avx512 computes. Binary targets (dense u8, class labels) at gamma 0..4; soft
// targets and other gamma go to the double reference ("scalar"), whose bound this kernel shares.
// Declared: 1 ULP for gamma 0..4 (exhaustively measured <= 0.75, results/*/exhaustive/),
// relative 1.2e-7 otherwise.
#include "../backends.hpp"
#include "focal/detail/sum.hpp"
#include "focal/ff.hpp"
#include "scalar_double.hpp"

namespace focal {
namespace {

template <class E>
Partial run_binary(const Input& in, const E& el, const Outputs& out) {
  detail::CompensatedSum sum;
  Partial part;
  const bool want_loss = !out.loss.empty(), want_grad = !out.grad.empty();
  auto one = [&](std::size_t i, float x, bool positive) {
    const auto v = el.template binary<true>(x, positive);
    sum.add(v.loss);
    if (want_loss) out.loss[i] = v.loss;
    if (want_grad) out.grad[i] = v.grad;
  };
  if (const auto* d = std::get_if<DenseInput>(&in)) {
    for (std::size_t i = 0; i < d->logits.size(); ++i) {
      part.bad_target |= d->targets[i] > 1;
      one(i, d->logits[i], d->targets[i] != 0);
    }
    part.count = d->logits.size();
  } else {
    const auto& l = std::get<LabelInput>(in);
    const std::size_t c = l.num_classes;
    for (std::size_t row = 0; row < l.labels.size(); ++row) {
      const std::int32_t label = l.labels[row];
      const std::size_t base = row * c;
      if (label < 0) {  // ignored anchor
        for (std::size_t k = 0; k < c; ++k) {
          if (want_loss) out.loss[base + k] = 0.0f;
          if (want_grad) out.grad[base + k] = 0.0f;
        }
        continue;
      }
      for (std::size_t k = 0; k < c; ++k) one(base + k, l.logits[base + k], std::size_t(label) == k);
      part.count += c;
    }
  }
  part.sum = sum.value();
  return part;
}

Partial scalar_ff_run(const Input& in, const Params& p, const Outputs& out) {
  if (!std::holds_alternative<SoftInput>(in)) {
    const ff::Constants c = ff::make_constants(p.alpha, p.grad_scale);
    Partial part;
    if (ff::with_int_gamma(p.gamma, [&]<int K>() {
          part = run_binary(in, ff::Element<ff::ScalarOps, K>::make(c), out);
        }))
      return part;
  }
  return scalar_double_run(in, p, out);
}

bool always(std::string*) { return true; }

const KernelInfo kScalarFF[] = {{
    .name = "scalar_ff",
    .backend = "scalar",
    .isa = "x86-64",
    .bound = {.ulp = 1.0, .rel_other = 1.2e-7},
    .bitwise_equal_to = "",
    .priority = 1,
    .available = always,
    .run = scalar_ff_run,
}};

}  // namespace

std::span<const KernelInfo> backends::scalar_ff_kernels() { return kScalarFF; }

}  // namespace focal
