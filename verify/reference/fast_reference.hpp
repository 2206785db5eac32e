// A fast reference for binary targets (t = 0 or 1), fast enough to check every float32 logit
// (focal-verify --exhaustive: 2^33 elements per kernel), and accurate to far below a float ULP.
//
// Independent of the kernels: it does not use focal/math.hpp and evaluates a different
// arrangement of the definition (log domain: every factor is exp of a sum of non-negative
// terms), in double. The error argument is in fast_reference.cpp; test_fast_reference.cpp
// checks it against the MPFR oracle (<= 1e-3 float ULP).
#pragma once

#include "reference/mpfr_reference.hpp"

namespace focal::verify {

// Truth for logit x, binary target (positive: t = 1), alpha (< 0: no balancing), gamma >= 0,
// grad multiplied by grad_scale. Same fields and conventions as reference(); grad_scale_term
// equals |grad_exact| (binary-target gradients are measured in their own ULP).
// Non-finite x is delegated to the MPFR oracle (a handful of bit patterns).
Truth fast_reference(float x, bool positive, float alpha, float gamma, double grad_scale = 1.0);

// The same in two steps, for callers that need many (t, alpha, gamma) at one x (the exhaustive
// run): the part that depends on x only (four of the transcendental calls, shared by t = 0 and
// t = 1), then the rest. fast_reference(x, ...) is exactly these two steps, so both give the
// same bits. Finite x only.
struct FastReferenceX {
  double sp_pos;  // softplus(x)  = -log(1 - sigmoid(x))
  double sp_neg;  // softplus(-x) = -log sigmoid(x)
  double e_pos;   // exp(-softplus(x))  = 1 - sigmoid(x)
  double e_neg;   // exp(-softplus(-x)) = sigmoid(x)
};
FastReferenceX fast_reference_x(float x);
Truth fast_reference(const FastReferenceX& px, bool positive, float alpha, float gamma,
                     double grad_scale = 1.0);

}  // namespace focal::verify
