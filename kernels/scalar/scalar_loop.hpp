// Internal: the scalar loop over every layout, one element at a time, shared by the "scalar"
// (double element) and "scalar_ff" (float-float element) kernels. El has binary(x, positive)
// and soft(x, t) returning rounded LossGrad<float>. Sum: Neumaier-compensated double over the
// rounded fp32 losses.
#pragma once

#include <cmath>

#include "focal/detail/sum.hpp"
#include "focal/focal.hpp"
#include "focal/math.hpp"
#include "../layouts.hpp"

namespace focal::scalar {

inline void store(const Outputs& out, std::size_t i, math::LossGrad<float> v) {
  if (!out.loss.empty()) out.loss[i] = v.loss;
  if (!out.grad.empty()) out.grad[i] = v.grad;
}

template <class El>
Partial run_with(const Input& in, const El& el, const Outputs& out) {
  detail::CompensatedSum sum;
  Partial part;
  auto one = [&](std::size_t i, math::LossGrad<float> v) {
    sum.add(v.loss);
    store(out, i, v);
  };
  visit_layout(
      in,
      [&](const DenseInput& d) {
        for (std::size_t i = 0; i < d.logits.size(); ++i) {
          part.bad_target |= d.targets[i] > 1;
          one(i, el.binary(d.logits[i], d.targets[i] != 0));
        }
        part.count = d.logits.size();
      },
      [&](const SoftInput& s) {
        for (std::size_t i = 0; i < s.logits.size(); ++i) {
          const float t = s.targets[i];
          if (!(t >= 0.0f && t <= 1.0f)) {  // flagged (NaN too), not summed
            part.bad_target = true;
            store(out, i, {NAN, NAN});
            continue;
          }
          one(i, el.soft(s.logits[i], t));
        }
        part.count = s.logits.size();
      },
      [&](const LabelInput& l) {
        const std::size_t c = l.num_classes;
        for (std::size_t row = 0; row < l.labels.size(); ++row) {
          const std::int32_t label = l.labels[row];
          const std::size_t base = row * c;
          if (label < 0) {  // ignored anchor
            for (std::size_t k = 0; k < c; ++k) store(out, base + k, {0.0f, 0.0f});
            continue;
          }
          for (std::size_t k = 0; k < c; ++k)
            one(base + k, el.binary(l.logits[base + k], std::size_t(label) == k));
          part.count += c;
        }
      });
  part.sum = sum.value();
  return part;
}

}  // namespace focal::scalar
