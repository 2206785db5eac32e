// The oracle: focal loss and gradient from the definition, in MPFR at 192 bits, independent
// of the kernels' stable form. Never derived from code under test.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace focal::verify {

// One element's truth. `*_exact` is the high-precision value rounded to double (29 bits more
// than float, enough to measure fractional ULPs); `*_float` is it correctly rounded to float.
struct Truth {
  double loss_exact;
  double grad_exact;
  float loss_float;
  float grad_float;
  // max(|gradient|, |larger term|) of the gradient  a_t [gamma (1-p_t)^(gamma-1) (1-2t) p (1-p) CE]  and
  // a_t [(1-p_t)^gamma (p - t)]: soft-target gradients are measured in ULPs of this.
  double grad_scale_term;
};

// Reference for one element: logit x, target t in [0,1], alpha (<0: no balancing), gamma >= 0,
// grad multiplied by grad_scale (as kernels do for mean/normalizer reductions).
Truth reference(float x, float t, float alpha, float gamma, double grad_scale = 1.0);

// Exact sum (192-bit MPFR accumulation) of float values, rounded to double.
double exact_sum(std::span<const float> values);

}  // namespace focal::verify
