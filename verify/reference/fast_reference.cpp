// Fast binary-target reference in double (see fast_reference.hpp).
//
// Formulation. With z = x for t = 1 and z = -x for t = 0 (exact in double), and
// sp(v) = softplus(v) = log(1 + e^v) = max(v, 0) + log1p(e^-|v|):
//   CE        = -log p_t   = sp(-z)
//   1 - p_t   = sigmoid(-z) = exp(-sp(z))      so  (1 - p_t)^gamma = exp(-gamma sp(z))
//   p_t       = exp(-sp(-z)) = exp(-CE)
//   FL        = a_t exp(-gamma sp(z)) CE
//   dFL/dz    = -a_t exp(-gamma sp(z)) (gamma p_t CE + (1 - p_t))
//   dFL/dx    = (2t - 1) dFL/dz
// (The kernels use the algebraic form r = 1/(1+e), q = e r; this uses the log domain, so a
// shared mistake would have to be made twice in different ways.)
//
// Error argument (u = 2^-53, glibc's exp/log1p are within 1 ulp = 2u in double, so each call
// contributes <= 2u relative plus the propagated input error):
//  * e = exp(-|z|): |z| exact, so rel err <= 2u. (For |z| > 708, e is a subnormal double and
//    loses relative precision, but then every quantity built on e is < 1e-300 and rounds to
//    0 in float, or is added to |z| >= 708 where it is invisible; see below.)
//  * log1p(e): d log1p(e)/de * e / log1p(e) = e / ((1+e) log1p(e)) <= 1, so the 2u of e
//    propagates as <= 2u, plus 2u for log1p, plus u rounding: <= 5u.
//  * sp(+-z) = max(+-z, 0) + log1p(e): a sum of two non-negative terms, each with rel err <= 5u,
//    plus one rounding: <= 6u. So CE and sp(z) carry <= 6u relative error, no cancellation.
//  * exp(-gamma sp(z)): the argument gamma sp(z) has relative error <= 7u (one more rounding
//    for the product; gamma is a float, exact in double), i.e. absolute error <= 7u gamma sp(z),
//    which exp turns into relative error <= 7u gamma sp(z) + 2u. The loss is a nonzero float
//    only when (1-p_t)^gamma CE >= 2^-150. If z <= 0, sp(z) <= log 2; if z > 0, CE <= log 2
//    and so gamma sp(z) <= 150 ln 2 + ln ln 2 < 104. Hence wherever the float result is
//    nonzero, this factor's relative error is <= 7u * 104 + 2u < 730u.
//  * FL = a_t * (that) * CE: a_t is exact or one rounding (1 - alpha, exact for float alpha in
//    [0,1]), two products: total rel err <= 730u + 6u + 3u < 740u ~ 8.2e-14, which is
//    8.2e-14 / 2^-24 < 1.4e-6 float ULP for normal float results (and less in the subnormal
//    range, whose ULP is absolute).
//  * p_t = exp(-CE): rel err <= 6u CE + 2u. In gamma p_t CE + (1 - p_t) both terms are >= 0.
//    For CE <= 1 (z >= -0.54), p_t's rel err is <= 8u. For CE > 1, 1 - p_t >= 1 - 1/e > 0.63
//    and the absolute error of gamma p_t CE is <= gamma (6u CE + 2u) CE e^-CE <= gamma 8u * 0.6
//    (max of CE^2 e^-CE is 0.54 at CE = 2), relative to the sum >= 0.63: <= 8u gamma. So the
//    bracket has rel err <= (8u + 6u)(gamma+1) + 2 roundings; for gamma <= 8: < 140u. With the
//    factor above (730u) and two products: dFL/dz rel err < 900u ~ 1e-13 (< 2e-6 float ULP).
//  * grad_scale multiplication: one more rounding.
// So both results are within ~2e-6 float ULP of the truth (the test asserts <= 1e-3 against
// MPFR over random, swept and special inputs), and where the true float result is 0 (both
// underflow), the reference is < 2^-150 + tiny, so the ULP measure stays exact.
// Non-finite x (2^24 bit patterns: +-inf and the NaNs) is delegated to the MPFR oracle, which
// handles the limits and returns at once for NaN.
#include "reference/fast_reference.hpp"

#include <cmath>

namespace focal::verify {

FastReferenceX fast_reference_x(float xf) {
  const double x = double(xf);
  const double l1p = std::log1p(std::exp(-std::fabs(x)));
  const double sp_pos = std::fmax(x, 0.0) + l1p;
  const double sp_neg = std::fmax(-x, 0.0) + l1p;
  return {sp_pos, sp_neg, std::exp(-sp_pos), std::exp(-sp_neg)};
}

Truth fast_reference(const FastReferenceX& px, bool positive, float alpha, float gamma,
                     double grad_scale) {
  // z = x (t = 1) or -x (t = 0): softplus(z) and softplus(-z) swap with the target.
  const double a_t = alpha < 0.0f ? 1.0 : (positive ? double(alpha) : 1.0 - double(alpha));
  const double g = double(gamma);
  const double sp_z = positive ? px.sp_pos : px.sp_neg;  // softplus(z)  = -log(1 - p_t)
  const double ce = positive ? px.sp_neg : px.sp_pos;    // softplus(-z) = -log p_t
  const double q = positive ? px.e_pos : px.e_neg;       // 1 - p_t
  const double p_t = positive ? px.e_neg : px.e_pos;
  // (1-p_t)^gamma, 0^0 = 1; for gamma 1 the same exp(-sp_z) as q (-1 * s == -s exactly).
  const double q_g = g == 0.0 ? 1.0 : g == 1.0 ? q : std::exp(-g * sp_z);
  const double w = a_t * q_g;
  const double loss = w == 0.0 ? 0.0 : w * ce;
  // p_t * CE: exp(-CE) underflows to 0 long before CE overflows, so no 0 * inf here.
  const double dz = -(w * (g * (p_t * ce) + q));
  const double dx = (positive ? dz : -dz) * grad_scale;
  Truth r;
  r.loss_exact = loss;
  r.grad_exact = dx;
  r.loss_float = float(loss);
  r.grad_float = float(dx);
  r.grad_scale_term = std::fabs(dx);
  return r;
}

Truth fast_reference(float xf, bool positive, float alpha, float gamma, double grad_scale) {
  if (!std::isfinite(xf)) return reference(xf, positive ? 1.0f : 0.0f, alpha, gamma, grad_scale);
  return fast_reference(fast_reference_x(xf), positive, alpha, gamma, grad_scale);
}

}  // namespace focal::verify
