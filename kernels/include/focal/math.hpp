// The per-element focal loss and its gradient, in the stable form: the double reference. The
// scalar kernel and the CUDA kernels' double path instantiate it with T = double (element.hpp),
// the SIMD kernels with T = xsimd::batch<double, Arch> (soft targets, non-integer gamma) and their
// fast tier with batch<float, Arch>; binary targets at gamma 0..4 take the float-float element
// (focal/ff.hpp) in the accurate kernels. Every operation goes
// through the policy `Ops` (exp, log1p, pow, select, ...), so the same source serves scalars
// and vectors; the code is branch-free for that reason.
//
// Why this form: the common formula (p_t = p t + (1-p)(1-t), then 1 - p_t) cancels to 0 for
// |x| > 16.6 in fp32 where the true loss is e.g. 1.77e-23 (x = 17, t = 1). Here, for binary
// targets with z = x (t = 1) or -x (t = 0), every quantity comes from e = exp(-|z|) in (0, 1]
// without a subtraction:
//   r = 1 / (1 + e),  1 - p_t = sigmoid(-z) = (z >= 0 ? e r : r),  p_t = (z >= 0 ? r : e r)
//   CE = -log p_t = softplus(-z) = max(-z, 0) + log1p(e)
//   FL = a_t (1-p_t)^gamma CE
//   dFL/dz = -a_t (1-p_t)^gamma (gamma p_t CE + (1 - p_t))      (both terms >= 0)
// and dFL/dx = dFL/dz * (2t - 1). The torchvision gradient
//   a_t (gamma (1-p_t)^(gamma-1) (1-2t) p (1-p) CE + (1-p_t)^gamma (p - t))
// reduces to this for t in {0, 1}, with no (1-p_t)^(gamma-1) that could be 0^(negative).
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define FOCAL_HD __host__ __device__
#else
#define FOCAL_HD
#endif

namespace focal::math {

template <class T>
struct LossGrad {
  T loss;
  T grad;  // dFL/dx
};

// The balancing weight: alpha for positives, 1 - alpha for negatives, 1 when alpha < 0.
// Computed once per call (not per element) by the caller.
struct Alpha {
  float pos;  // a_t for t = 1
  float neg;  // a_t for t = 0
};
FOCAL_HD inline Alpha balance(float alpha) {
  return alpha < 0.0f ? Alpha{1.0f, 1.0f} : Alpha{alpha, 1.0f - alpha};
}

// (1-p_t)^gamma. Gamma is fixed for a whole call, so kernels pick the power once:
// IntPow<K> multiplies (no pow error, 0^0 = 1), GeneralPow calls Ops::pow (which must give
// pow(0, 0) = 1).
template <int K>
struct IntPow {
  template <class T>
  FOCAL_HD T operator()(T q) const {
    static_assert(K >= 0 && K <= 4, "IntPow covers gamma 0..4");
    if constexpr (K == 0) {
      return T(1);
    } else if constexpr (K == 1) {
      return q;
    } else if constexpr (K == 2) {
      return q * q;
    } else if constexpr (K == 3) {
      return q * q * q;
    } else {
      const T q2 = q * q;
      return q2 * q2;
    }
  }
};
template <class Ops, class T>
struct GeneralPow {
  T gamma;
  FOCAL_HD T operator()(T q) const { return Ops::pow(q, gamma); }
};

// Calls f(pow) with the cheapest power functor for this gamma: IntPow<0..4> or GeneralPow.
template <class Ops, class T, class F>
FOCAL_HD inline decltype(auto) with_pow(float gamma, F&& f) {
  if (gamma == 0.0f) return f(IntPow<0>{});
  if (gamma == 1.0f) return f(IntPow<1>{});
  if (gamma == 2.0f) return f(IntPow<2>{});
  if (gamma == 3.0f) return f(IntPow<3>{});
  if (gamma == 4.0f) return f(IntPow<4>{});
  return f(GeneralPow<Ops, T>{T(gamma)});
}

// The loss w * CE with w = a_t (1-p_t)^gamma, as the exact product: when w is 0 the result is 0
// (also against CE = +inf: a zero weight carries nothing, 0 * inf = 0), except that
//  - a NaN input stays NaN (whatever alpha is), and
//  - a weight that is 0 only because (1-p_t)^gamma underflowed (a_t > 0; 1 - p_t > 0 wherever
//    CE is infinite) times CE = +inf is +inf, as the exact product is.
// Elsewhere w * CE is already right (w = 0 times a finite CE is 0).
template <class Ops, class T>
FOCAL_HD inline T weighted_ce(T w, T ce, T a_t, T x, T big) {
  const T zero(0);
  // !(x == x), not x != x: xsimd's != is the ordered compare (false for NaN).
  const auto keep_ce = (!(x == x)) | ((a_t > zero) & (ce > big));  // CE is NaN or +inf there
  return Ops::select(w == zero, Ops::select(keep_ce, ce, zero), w * ce);
}

// Binary target. z = x for t = 1, -x for t = 0; a_t the balancing weight of that target.
// Returns the loss and dFL/dz (multiply by 2t - 1 for dFL/dx).
// Limits: z = -inf gives loss +inf (a_t > 0) and dFL/dz = -a_t; z = +inf gives 0 and 0;
// a_t = 0 gives 0 and 0 for every non-NaN z (also +-inf); NaN gives NaN for every a_t.
template <class Ops, class Pow, class T>
FOCAL_HD inline LossGrad<T> binary(T z, T a_t, T gamma, Pow pow_q) {
  const T zero(0), one(1);
  const T e = Ops::exp(-Ops::abs(z));  // in (0, 1]; 0 only for |z| = inf (or underflow)
  const T r = Ops::recip(one + e);
  const T er = e * r;
  const auto z_pos = z >= zero;
  const T q = Ops::select(z_pos, er, r);    // 1 - p_t
  const T pt = Ops::select(z_pos, r, er);   // p_t
  const T ce = Ops::max(-z, zero) + Ops::log1p(e);  // -log p_t, +inf only for z = -inf
  const T w = a_t * pow_q(q);
  const T big = Ops::largest(z);
  // p_t * CE -> 0 as z -> -inf (e^z |z|); only z = -inf itself gives 0 * inf, so clamp CE.
  const T pt_ce = pt * Ops::min(ce, big);
  const T loss = weighted_ce<Ops>(w, ce, a_t, z, big);
  const T dz = -(w * (gamma * pt_ce + q));
  return {loss, dz};
}

// Soft target t in (0, 1) (also exact at 0 and 1, but binary() is cheaper there).
// p = sigmoid(x) and 1 - p = sigmoid(-x) are both computed directly; CE and 1 - p_t are sums of
// non-negative terms, so only the gradient (a true zero crossing) can cancel.
// Returns the loss and dFL/dx.
template <class Ops, class Pow, class T>
FOCAL_HD inline LossGrad<T> soft(T x, T t, T alpha_pos, T alpha_neg, T gamma, Pow pow_q) {
  const T zero(0), one(1);
  const T u = one - t;
  const T e = Ops::exp(-Ops::abs(x));
  const T r = Ops::recip(one + e);
  const T er = e * r;
  const auto x_pos = x >= zero;
  const T p = Ops::select(x_pos, r, er);   // sigmoid(x)
  const T p1 = Ops::select(x_pos, er, r);  // 1 - p
  const T l1p = Ops::log1p(e);
  const T sp_pos = Ops::max(x, zero) + l1p;   // softplus(x)  = -log(1-p)
  const T sp_neg = Ops::max(-x, zero) + l1p;  // softplus(-x) = -log p
  // Weights that are exactly 0 must not meet an infinite softplus (x = +-inf).
  const T ce = Ops::select(t == zero, zero, t * sp_neg) + Ops::select(u == zero, zero, u * sp_pos);
  const T q = t * p1 + u * p;  // 1 - p_t
  const T a_t = t * alpha_pos + u * alpha_neg;
  const T qg = pow_q(q);
  const T w = a_t * qg;
  const T big = Ops::largest(x);
  const T loss = weighted_ce<Ops>(w, ce, a_t, x, big);
  // gamma (1-p_t)^(gamma-1) (1-2t) p (1-p) CE: p (1-p) CE -> 0 as |x| -> inf, and
  // (1-p_t)^(gamma-1) = qg / q needs q > 0 (q = 0 only at t in {0,1} with |x| = inf).
  const T pq = p * p1;
  // Multiply before dividing: (..) * qg / q overflows only if the true term does.
  const T term1 = Ops::select((pq == zero) | (q == zero), zero,
                              gamma * (one - t - t) * pq * Ops::min(ce, big) * qg / q);
  // p - t: for |x| >= 1, u p - t p1 (p and p1 are accurate and stay >= 0.23 apart from 1/2, so
  // only the true zero crossing p = t cancels). For |x| < 1, where p and 1 - p both approach 1/2,
  // that form loses everything near t = 1/2 (p - t = x/4 there: measured 4080 ULP at x = 1e-10,
  // and 0 below 1e-16); instead p - t = r ((1 - 2t) + t c) for x >= 0 and r ((1 - 2t) - u c)
  // for x < 0, with c = 1 - e = -expm1(-|x|): 1 - 2t is exact here (t >= 2^-29 wherever the
  // result is small), so again only the true crossing cancels. c comes from e where that is
  // accurate enough (|x| >= 2^-10: relative error < 2^10 eps) and from its series below
  // (relative truncation error a^4/5! < 2^-46).
  const T a = Ops::abs(x);
  const T c_series = a * (one - a * (T(0.5) - a * (T(1.0 / 6) - a * T(1.0 / 24))));
  const T c = Ops::select(a < T(0x1p-10), c_series, one - e);
  const T p_minus_t =
      Ops::select(a < one, r * ((one - t - t) + Ops::select(x_pos, t * c, -(u * c))),
                  u * p - t * p1);
  const T term2 = qg * p_minus_t;
  // w = 0 (a_t = 0 or underflow): the exact gradient is 0 (both terms carry the weight), and
  // NaN stays NaN.
  const T grad = Ops::select((w == zero) & (x == x), zero, a_t * (term1 + term2));
  return {loss, grad};
}

}  // namespace focal::math
