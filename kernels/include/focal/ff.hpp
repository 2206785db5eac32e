// The float-float element: the focal loss and dFL/dz of a binary target at integer gamma 0..4,
// in float lanes, within 1 ULP over every float32 x. One source for every backend: the scalar
// kernel ("scalar_ff") and the CUDA kernels instantiate it with ScalarOps below (host and device),
// the SIMD kernels with their xsimd lane ops (kernels/simd/simd_ff_ops.hpp).
//
// Why float-float: in plain float the error of q = 1 - p_t is multiplied by gamma in q^gamma, and
// no ordering stays within a few ULP at gamma 4; double lanes halve the width of every vector and
// are scarce on GPUs. Here every quantity is an unevaluated sum hi + lo of two floats, built with
// error-free transformations (two_prod by FMA, fast_two_sum), and rounded to float once at the end.
//
// Only IEEE basic operations (+ - * / with round to nearest), FMA, integer and bit operations and
// five 16-entry tables are used -- no libm, no approximate-reciprocal instructions -- so every
// instantiation computes the same bits (verify/tests/test_ff_element.cpp checks it lane by lane).
// Ops must not contract or reorder: the kernels are compiled with -ffp-contract=off (host) and
// --fmad=false (CUDA). Locals are deliberately not const: GCC 12's scalar replacement gives up on
// a const aggregate built by a constructor (an xsimd batch, a PairOps pair) and keeps it in
// memory, which put ~100 dead 64-byte stores into the paired AVX-512 loop.
//
// The math, for z = x (t = 1) or -x (t = 0), a_t the balancing weight, K = gamma:
//   e = exp(-|z|), r = 1/(1+e); q = 1 - p_t = (z >= 0 ? e r : r), p_t = (z >= 0 ? r : e r)
//   CE = max(-z, 0) + log1p(e);  FL = a_t q^K CE;  dFL/dz = -a_t q^K (K p_t CE + q)
// Main path, |z| <= 80 (e is a normal float there):
//   exp:   n = round(16 a / ln2), a - n ln2/16 = r_hi + r_lo (r_hi exact by FMA), 2^(j/16) from a
//          table whose rounding error is folded into r_lo, exp(r) = 1 + r + r^2 P(r):
//          relative error < 2^-32 (main path: 2^-33.9 of a dropped r_lo r^2/2 term, below).
//   1/d:   correctly rounded division, then the residual 1 - d r_hi (two FMAs) gives r_lo.
//   log1p: j = round(15 e), (1 + e) inv_j = 1 + f with f's high part exact (Sterbenz), |f| <= 1/30,
//          log1p(e) = -log(inv_j) + f + f^2 Q(f): relative error < 2^-28.2 (Q's 2^-29.9 and
//          the roundings of f^2 and Q(f), up to 2^-25 f each).
//   The weight is a_t 2^P (exact, P >= 64, see Constants), so the products that build a
//   subnormal loss stay normal; the result is rounded once to float and scaled back by 2^-P (a
//   second rounding only when the result is subnormal: <= 0.75 ULP there).
//   Loss and gradient: the parts' errors (q, p_t < 2^-32; CE < 2^-28.1; each asserted by
//   verify/tests/test_ff_parts.cpp) and ~10 float-float products (2^-44 each) add up to < 2^-27.7
//   relative before the one rounding: <= 0.5 ULP + 2^-27.7 relative; 0.75 ULP for subnormal
//   results. Measured over every float32 x: results/<machine>/exhaustive/.
// Tail, |z| > 80 or NaN (rare; exact limits, no cancellation):
//   z < -80: FL = a_t |z| (1 + O(e)), dFL/dz = -a_t (1 + O(e)) with e < 2^-115;
//   z >  80: FL = a_t e^{-(K+1)z} (1 + O(e)), dFL/dz = -(K+1) FL, by the same exp core on the
//            float-float argument (K+1) z, scaled by 2^N in two exact steps.
// The gradient scale s (1, 1/count or 1/normalizer) must be 2^E m with E in [-62, 40]
// (focal::validate enforces the normalizer's range); m is applied as a float-float factor.
#pragma once

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "focal/ff_constants.hpp"
#include "focal/math.hpp"

namespace focal::ff {

template <class F>
struct FF {
  F hi, lo;
};

// ---- error-free transformations and float-float products (unnormalized results) ------------
template <class Ops, class F>
FOCAL_HD inline FF<F> two_prod(F a, F b) {
  F p = a * b;
  return {p, Ops::fms(a, b, p)};
}
// Exact when |a| >= |b| (or a == 0).
template <class Ops, class F>
FOCAL_HD inline FF<F> fast_two_sum(F a, F b) {
  F s = a + b;
  return {s, b - (s - a)};
}
// Exact sum of two non-negative floats (ordered by max/min first).
template <class Ops, class F>
FOCAL_HD inline FF<F> two_sum_nonneg(F a, F b) {
  return fast_two_sum<Ops>(Ops::max(a, b), Ops::min(a, b));
}
// (a.hi + a.lo)(b.hi + b.lo) without the lo*lo term: relative error <= ~2^-45.
template <class Ops, class F>
FOCAL_HD inline FF<F> mul(FF<F> a, FF<F> b) {
  F p = a.hi * b.hi;
  return {p, Ops::fms(a.hi, b.hi, p) + Ops::fma(a.lo, b.hi, a.hi * b.lo)};
}
template <class Ops, class F>
FOCAL_HD inline FF<F> mul(FF<F> a, F b) {
  F p = a.hi * b;
  return {p, Ops::fma(a.lo, b, Ops::fms(a.hi, b, p))};
}
// mul(w, b) for a weight w whose low part is known to be 0 (kExact) and b.hi >= 0, b finite: the
// same bits as mul(w, b) (fma(0, b.hi, y) = y, except y = -0 -> +0, and fms(...) + (+-0) agree
// since an exact zero fms is +0), one fma fewer.
template <bool kExact, class Ops, class F>
FOCAL_HD inline FF<F> mul_w(FF<F> w, FF<F> b) {
  if constexpr (kExact) {
    F p = w.hi * b.hi;
    return {p, Ops::fms(w.hi, b.hi, p) + w.hi * b.lo};
  } else {
    return mul<Ops>(w, b);
  }
}
template <class Ops, class F>
FOCAL_HD inline FF<F> sqr(FF<F> a) {
  F p = a.hi * a.hi;
  return {p, Ops::fma(a.hi + a.hi, a.lo, Ops::fms(a.hi, a.hi, p))};
}
template <class Ops, class F>
FOCAL_HD inline F round(FF<F> a) {
  return a.hi + a.lo;
}

// 2^n as a float for integer lanes n in [-126, 127].
template <class Ops, class I>
FOCAL_HD inline auto pow2(I n) {
  return Ops::from_bits((n + I(127)) << 23);
}

// ---- exp: e^(a + a_lo) = 2^k (m.hi + m.lo), m normalized, for a in [-160, 0] ----------------
template <class Ops>
struct Exp {
  FF<typename Ops::F> m;
  typename Ops::I k;
  typename Ops::I k23;  // k << 23 (mod 2^32), the exponent field's increment
};

// kLow = false: a_lo is ignored (0), which saves an addition on the main path.
template <class Ops, bool kLow>
FOCAL_HD inline Exp<Ops> exp_core(typename Ops::F a, typename Ops::F a_lo) {
  using F = typename Ops::F;
  using I = typename Ops::I;
  using namespace constants;
  // 1.5 * 2^23: t's low mantissa bits hold n = round(16 a / ln2), n & 15 indexes the table.
  F shift(12582912.0f);
  F t = Ops::fma(a, F(kExpScale), shift);
  F n = t - shift;
  // Exact: n ln2hi is a multiple of 2^-28, a of 2^-29 (|a| >= ln2/32 when n != 0), and the
  // difference is below 2^-5, so it fits in 24 bits.
  F r_hi = Ops::fnma(n, F(kLn2Over16Hi), a);
  F r_lo = Ops::fnma(n, F(kLn2Over16Lo), Ops::template lookup<Table::exp2_err>(t));
  if constexpr (kLow) r_lo = r_lo + a_lo;
  F T = Ops::template lookup<Table::exp2>(t);
  F p = Ops::fma(Ops::fma(F(kExpP2), r_hi, F(kExpP1)), r_hi, F(kExpP0));
  // exp(r_hi + r_lo) - 1 - r_hi = s = r_hi^2 P(r_hi) + r_lo (1 + r_hi + r_hi^2/2) + O(2^-36).
  // The tail's a_lo makes |r_lo| reach 2^-17 there, so all of s is kept. On the main path
  // (|a| <= 80, kLow = false) |r_lo| = |err_j - n ln2lo| <= 2^-24.3 + 1847 * 2^-32.9 < 2^-21.8,
  // so r_lo r_hi^2/2 < 2^-33.9 is dropped: s = r_hi (r_hi P + r_lo) + r_lo, two FMAs.
  F s;
  if constexpr (kLow) {
    F g = r_hi * Ops::fma(r_hi, F(0.5f), F(1.0f));
    s = Ops::fma(r_hi * r_hi, p, Ops::fma(r_lo, g, r_lo));
  } else {
    s = Ops::fma(r_hi, Ops::fma(r_hi, p, r_lo), r_lo);
  }
  // e = T (1 + u), u = r_hi + s as float-float: e_hi = RN(T + T u_hi) by one FMA, e_lo = its
  // rounding error (T - e_hi is exact, Sterbenz; the FMA rounds that error to 24 bits) plus
  // T u_lo (|u_lo| <= ulp(u_hi)/2 <= 2^-30). So |e_lo| <= ulp(e_hi)/2 + 2^-30 e: normalized
  // but for a 2^-6 fraction of an ulp, which keeps the dropped lo*lo products below 2^-47.
  FF<F> u = fast_two_sum<Ops>(r_hi, s);
  F e_hi = Ops::fma(T, u.hi, T);
  FF<F> e{e_hi, Ops::fma(T, u.lo, Ops::fma(T, u.hi, T - e_hi))};
  I k = (Ops::bits(t) - Ops::bits(shift)) >> 4;  // floor(n / 16)
  // bits(t) = bits(shift) + n, bits(shift) = 0x4b400000 = 16 * 0x4b40000, and 0x4b40000 << 23
  // vanishes mod 2^32: so (bits(t) >> 4) << 23 = k << 23 without the subtraction.
  return {e, k, (Ops::bits(t) >> 4) << 23};
}

// ---- log1p(e) for e = e.hi + e.lo in [0, 1] ----------------------------------------------------
template <class Ops, class F>
FOCAL_HD inline FF<F> log1p(FF<F> e) {
  using namespace constants;
  F tj = Ops::fma(e.hi, F(15.0f), F(12582912.0f));  // low bits: j = round(15 e)
  F inv = Ops::template lookup<Table::log_inv>(tj);
  F c = F(1.0f) - inv;  // exact (inv in [1/2, 1])
  FF<F> P = two_prod<Ops>(e.hi, inv);
  // (1 + e) inv - 1 = f: P.hi in [c/2, 2c] for j >= 1 (and c = 0 for j = 0), so P.hi - c is exact.
  F f = P.hi - c;
  F f_lo = Ops::fma(e.lo, inv, P.lo);
  F qp = Ops::fma(F(kLog1pQ3), f, F(kLog1pQ2));
  qp = Ops::fma(Ops::fma(qp, f, F(kLog1pQ1)), f, F(kLog1pQ0));
  // log1p(f + f_lo) = f + f^2 Q(f) + f_lo (1 - f) + O(f_lo f^2)
  F rest = Ops::fma(f * f, qp, Ops::fnma(f_lo, f, f_lo));
  FF<F> s = fast_two_sum<Ops>(Ops::template lookup<Table::log_hi>(tj), f);
  // Left unnormalized (|lo| <= 2^-5 |hi| when j = 0): CE's two_sum and the products absorb it.
  return {s.hi, s.lo + (rest + Ops::template lookup<Table::log_lo>(tj))};
}

// w q^K for K in 1..4, w a weight of 2^P or more: the weight goes in before q^K can leave the
// normal range (q^2 >= 2^-95 whenever a result can be nonzero, q^4 may not be).
template <int K, bool kExactW, class Ops, class F>
FOCAL_HD inline FF<F> weighted_pow(FF<F> w, FF<F> q) {
  static_assert(K >= 1 && K <= 4, "weighted_pow covers gamma 1..4");
  if constexpr (K == 1) return mul_w<kExactW, Ops>(w, q);
  if constexpr (K == 2) return mul<Ops>(mul_w<kExactW, Ops>(w, q), q);
  if constexpr (K == 3) return mul<Ops>(mul_w<kExactW, Ops>(w, sqr<Ops>(q)), q);
  if constexpr (K == 4) {
    FF<F> q2 = sqr<Ops>(q);
    return mul<Ops>(mul_w<kExactW, Ops>(w, q2), q2);
  }
}

// ---- per-call constants --------------------------------------------------------------------
// What the element needs of alpha and the gradient scale, computed once per call on the host.
// The weight carries 2^P, P = 64 + max(E, 0), so that every product that builds a nonzero float
// result stays a normal float even when the gradient scale 2^E m later enlarges it; the loss is
// multiplied back by 2^-P, the gradient by 2^(E - P). P <= 104 keeps the largest weighted
// values (a_t |z| <= 81, gradient <= 325 before m) below float's overflow.
struct Constants {
  float w_hi[2], w_lo[2];  // a_t 2^P as float-float, [0]: t = 0, [1]: t = 1 (1 - alpha exact)
  float a_hi[2], a_lo[2];  // a_t itself (the tail's loss a_t |z| must not overflow)
  float s_hi, s_lo;        // gradient scale = 2^E (s_hi + s_lo), s_hi in [1, 2)
  float loss_pow2;         // 2^-P
  float grad_pow2;         // 2^(E - P)
  bool scaled;             // s_hi + s_lo != 1 (else that product is skipped)
  bool exact_w;            // w_lo[0] == w_lo[1] == 0 (e.g. alpha 0.25): the lighter products
};

// The gradient scale's exponent range the element supports (focal::validate enforces it).
inline constexpr int kMinScaleExp = -62, kMaxScaleExp = 40;

// alpha <= 1 (alpha < 0: a_t = 1); grad_scale = 2^E m, m in [1, 2), E in [-62, 40].
inline Constants make_constants(float alpha, double grad_scale) {
  Constants c{};
  int e = 0;
  const double m = std::frexp(grad_scale, &e) * 2.0;  // grad_scale = m 2^(e-1)
  const int E = e - 1, P = 64 + (E > 0 ? E : 0);
  for (int t = 0; t < 2; ++t) {
    const double a = alpha < 0.0f ? 1.0 : t ? double(alpha) : 1.0 - double(alpha);  // exact
    c.a_hi[t] = float(a);
    c.a_lo[t] = float(a - double(c.a_hi[t]));
    c.w_hi[t] = std::ldexp(c.a_hi[t], P);
    c.w_lo[t] = std::ldexp(c.a_lo[t], P);
  }
  c.s_hi = float(m);
  c.s_lo = float(m - double(c.s_hi));
  c.loss_pow2 = std::ldexp(1.0f, -P);
  c.grad_pow2 = std::ldexp(1.0f, E - P);
  c.scaled = !(m == 1.0);
  c.exact_w = c.w_lo[0] == 0.0f && c.w_lo[1] == 0.0f;
  return c;
}

// Whether Element::binary keeps a second loop body for exact weights (Ops::kExactWeightCopy; yes
// when Ops does not say).
template <class Ops>
inline constexpr bool kExactWeightCopy = true;
template <class Ops>
  requires requires { Ops::kExactWeightCopy; }
inline constexpr bool kExactWeightCopy<Ops> = Ops::kExactWeightCopy;

// ---- the element -------------------------------------------------------------------------------
// Ops: F (float lanes), I (int32 lanes), M (lane mask) and fma, fms, fnma, min, max, abs, select, bits,
// from_bits, neg (sign flip, also of zeros), neg_abs (-|a|), is_nan, lookup<Table>(carrier: index in the low 4 bits of its bit pattern), all, none.
// For the same bits everywhere, min/max must return their second operand when the first is not
// strictly smaller/larger (x86 minps/maxps semantics); no NaN reaches them on the main path.
template <class Ops, int K>
struct Element {
  using Lanes = Ops;
  using F = typename Ops::F;
  using I = typename Ops::I;
  using M = typename Ops::M;
  static_assert(K >= 0 && K <= 4, "the float-float element covers gamma 0..4");

  F w_hi[2], w_lo[2], a_hi[2], a_lo[2], s_hi, s_lo, loss_pow2, grad_pow2;
  bool scaled, exact_w;

  FOCAL_HD static Element make(const Constants& c) {
    return {{F(c.w_hi[0]), F(c.w_hi[1])}, {F(c.w_lo[0]), F(c.w_lo[1])},
            {F(c.a_hi[0]), F(c.a_hi[1])}, {F(c.a_lo[0]), F(c.a_lo[1])},
            F(c.s_hi), F(c.s_lo), F(c.loss_pow2), F(c.grad_pow2), c.scaled, c.exact_w};
  }

  // Loss and dFL/dx (scaled) of x with target pos (t = 1) or not (t = 0), both rounded to float.
  // kGrad = false: the gradient's arithmetic is skipped (grad is 0).
  template <bool kGrad>
  FOCAL_HD math::LossGrad<F> binary(F x, M pos) const {
    // The exact-weight copy only for the loss alone (with the gradient it saves nothing
    // measurable, and the second copy of the larger loop body cost 10% in the labels loop), and
    // not where Ops says kExactWeightCopy = false (AVX2: 3% slower with it).
    if constexpr (!kGrad && kExactWeightCopy<Ops>)
      if (exact_w) return binary_w<kGrad, true>(x, pos);
    return binary_w<kGrad, false>(x, pos);
  }

  // kExactW: w_lo is 0 (the same bits, fewer operations: mul_w).
  template <bool kGrad, bool kExactW>
  FOCAL_HD math::LossGrad<F> binary_w(F x, M pos) const {
    F z = signed_z(x, pos);
    FF<F> w = weight<kExactW>(pos);
    M in = in_main(z);
    math::LossGrad<F> v =
        Ops::all(in) ? main<kGrad, kExactW>(z, w) : rare<kGrad, kExactW>(z, w, pos, in);
    if constexpr (kGrad) v.grad = grad_dx(v.grad, pos);
    return v;
  }

  // The pieces of binary_w, for loops that run the main path in stages (see stage_exp).
  FOCAL_HD static F signed_z(F x, M pos) { return Ops::select(pos, x, Ops::neg(x)); }
  template <bool kExactW>
  FOCAL_HD FF<F> weight(M pos) const {
    return {Ops::select(pos, w_hi[1], w_hi[0]),
            kExactW ? F(0.0f) : Ops::select(pos, w_lo[1], w_lo[0])};
  }
  // |z| <= 80 (the main path's lanes), false for NaN; -|z| is exp's input.
  FOCAL_HD static M in_main(F z) { return Ops::neg_abs(z) >= F(-80.0f); }
  // main and tail return -dFL/dz; dFL/dx = pos ? dFL/dz : -dFL/dz.
  FOCAL_HD static F grad_dx(F g, M pos) { return Ops::select(pos, Ops::neg(g), g); }

  // Some lane has |z| > 80 or NaN: the tail, blended with the main path's lanes (vectors).
  template <bool kGrad, bool kExactW>
  FOCAL_HD math::LossGrad<F> rare(F z, FF<F> w, M pos, M in) const {
    if (Ops::none(in)) return tail<kGrad>(z, w, pos);
    auto a = main<kGrad, kExactW>(z, w);
    auto b = tail<kGrad>(z, w, pos);
    return {Ops::select(in, a.loss, b.loss), Ops::select(in, a.grad, b.grad)};
  }

  // |z| <= 80: three stages run back to back. The SIMD loops may instead run each stage over a
  // block of vectors and keep the values in between in memory (exact, so the same bits): many
  // short dependency chains the out-of-order core can overlap, where one element is a single
  // ~150-cycle chain that fills the scheduler (kernels/simd/simd_ff_kernel.hpp).
  template <bool kGrad, bool kExactW>
  FOCAL_HD math::LossGrad<F> main(F z, FF<F> w) const {
    return stage_end<kGrad, kExactW>(w, stage_mid<kGrad>(z, stage_exp(z)));
  }

  // Stage 1: e = exp(-|z|).
  FOCAL_HD static FF<F> stage_exp(F z) {
    Exp<Ops> ex = exp_core<Ops, false>(Ops::neg_abs(z), F(0.0f));
    // k in [-116, 0]: e.hi = m.hi 2^k stays a normal float, so adding k to its exponent field is
    // the product (e.lo may be subnormal or 0: multiplied).
    F scale = Ops::from_bits(ex.k23 + I(127 << 23));
    return {Ops::from_bits(Ops::bits(ex.m.hi) + ex.k23), ex.m.lo * scale};
  }

  // Stage 2: q = 1 - p_t, CE and (gradient only) p_t.
  struct Mid {
    FF<F> q, ce, pt;
  };
  template <bool kGrad>
  FOCAL_HD static Mid stage_mid(F z, FF<F> e) {
    F one(1.0f), zero(0.0f);
    // r = 1/(1 + e): r_hi correctly rounded (a division: the same bits on every ISA), then
    // rho = 1 - (1 + e) r_hi = (1 - r_hi) - e_hi r_hi - e_lo r_hi. 1 - r_hi is exact (r_hi in
    // [1/2, 1]) and |rho| < 2^-22, so its two roundings cost < 2^-46: r_lo = r_hi rho.
    F r_hi = one / (one + e.hi);
    F rho = Ops::fnma(e.lo, r_hi, Ops::fnma(e.hi, r_hi, one - r_hi));
    FF<F> r{r_hi, r_hi * rho};
    FF<F> er = mul<Ops>(e, r);
    M zpos = z >= zero;
    Mid m;
    m.q = {Ops::select(zpos, er.hi, r.hi), Ops::select(zpos, er.lo, r.lo)};
    FF<F> l = log1p<Ops>(e);
    m.ce = two_sum_nonneg<Ops>(Ops::max(Ops::neg(z), zero), l.hi);
    m.ce.lo = m.ce.lo + l.lo;
    if constexpr (kGrad && K > 0)
      m.pt = {Ops::select(zpos, r.hi, er.hi), Ops::select(zpos, r.lo, er.lo)};
    else
      m.pt = {zero, zero};
    return m;
  }

  // Stage 3: the weighted loss and -dFL/dz, rounded.
  template <bool kGrad, bool kExactW>
  FOCAL_HD math::LossGrad<F> stage_end(FF<F> w, const Mid& m) const {
    FF<F> wq = w;  // a_t 2^P q^K
    if constexpr (K > 0) wq = weighted_pow<K, kExactW, Ops>(w, m.q);
    math::LossGrad<F> v;
    v.loss = round<Ops>(mul_w<kExactW && K == 0, Ops>(wq, m.ce)) * loss_pow2;
    if constexpr (kGrad) {
      FF<F> g = m.q;  // K p_t CE + q
      if constexpr (K > 0) {
        FF<F> u = times_k(mul<Ops>(m.pt, m.ce));
        g = two_sum_nonneg<Ops>(u.hi, m.q.hi);
        g.lo = g.lo + (u.lo + m.q.lo);
      }
      v.grad = finish_grad(mul_w<kExactW && K == 0, Ops>(wq, g));  // -dFL/dz
    } else {
      v.grad = F(0.0f);
    }
    return v;
  }

  // |z| > 80, +-inf and NaN.
  template <bool kGrad>
  FOCAL_HD math::LossGrad<F> tail(F z, FF<F> w, M pos) const {
    F zero(0.0f), inf(INFINITY);
    F az = Ops::abs(z);
    M neg = z < zero;
    // z < -80: a_t |z|, exact product rounded once (|z| = inf: inf, or 0 when a_t = 0).
    FF<F> a{Ops::select(pos, a_hi[1], a_hi[0]), Ops::select(pos, a_lo[1], a_lo[0])};
    F zc = Ops::min(az, F(FLT_MAX));
    F loss_neg = Ops::select(az == inf, Ops::select(a.hi > zero, inf, zero),
                                   round<Ops>(mul<Ops>(a, zc)));
    // z > 80: a_t e^{-(K+1) z}. Arguments beyond 140 give 0 even at the largest scale 2^40.
    constexpr float k1 = float(K + 1);
    F wz = F(k1) * az;
    M capped = !(wz <= F(140.0f));
    F arg_hi = Ops::select(capped, F(140.0f), wz);
    F arg_lo = Ops::select(capped, zero, Ops::fms(F(k1), az, wz));
    Exp<Ops> ex = exp_core<Ops, true>(Ops::neg(arg_hi), Ops::neg(arg_lo));
    FF<F> wm = mul<Ops>(w, ex.m);  // a_t 2^P m
    F loss_pos = times_pow2(round<Ops>(wm) * loss_pow2, ex.k);
    math::LossGrad<F> v;
    v.loss = Ops::select(neg, loss_neg, loss_pos);
    if constexpr (kGrad) {
      F grad_neg = finish_grad(w);
      FF<F> gp = mul<Ops>(wm, F(k1));
      if (scaled) gp = mul<Ops>(gp, FF<F>{s_hi, s_lo});
      F grad_pos = times_pow2(round<Ops>(gp) * grad_pow2, ex.k);
      v.grad = Ops::select(neg, grad_neg, grad_pos);  // -dFL/dz
    } else {
      v.grad = zero;
    }
    // NaN in, NaN out: z + z is z's NaN made quiet (a signalling NaN must not come out).
    M nan = Ops::is_nan(z);
    F qnan = z + z;
    return {Ops::select(nan, qnan, v.loss), Ops::select(nan, Ops::neg(qnan), v.grad)};
  }

  // K u: exact for K = 1, 2, 4 (both parts doubled by additions, off the multiply pipes); K = 3
  // by a float-float product.
  FOCAL_HD static FF<F> times_k(FF<F> u) {
    if constexpr (K == 1) return u;
    if constexpr (K == 2 || K == 4) {
      u = {u.hi + u.hi, u.lo + u.lo};
      if constexpr (K == 4) u = {u.hi + u.hi, u.lo + u.lo};
      return u;
    }
    return mul<Ops>(u, F(float(K)));
  }

  // A weighted (2^P) float-float gradient times the gradient scale, rounded once.
  FOCAL_HD F finish_grad(FF<F> g) const {
    if (scaled) g = mul<Ops>(g, FF<F>{s_hi, s_lo});
    return round<Ops>(g) * grad_pow2;
  }

  // v 2^k for k in [-203, 0], rounded once when the result is not 0: 2^k in two normal halves,
  // and v 2^(k/2) is exact whenever v 2^k >= 2^-150 (it is then >= 2^(-150 + 57)). v itself is
  // exact or, when it is below 2^-126, so small that v 2^k (k <= -115 here) rounds to 0.
  FOCAL_HD static F times_pow2(F v, I k) {
    I k1 = k >> 1;
    return (v * pow2<Ops>(k1)) * pow2<Ops>(k - k1);
  }
};

// ---- scalar lanes (the scalar_ff kernel on the host, the CUDA kernels on the device) ----------
#if defined(__CUDACC__)
// The tables in constant memory for the device (host code reads constants::kTables).
static __constant__ float kTablesDevice[constants::kTableCount][16] = {FOCAL_FF_TABLES};
#endif

struct ScalarOps {
  using F = float;
  using I = std::int32_t;
  using M = bool;
  FOCAL_HD static F fma(F a, F b, F c) {
#if defined(__CUDA_ARCH__)
    return __fmaf_rn(a, b, c);
#else
    return std::fma(a, b, c);
#endif
  }
  FOCAL_HD static F fms(F a, F b, F c) { return fma(a, b, -c); }   // a b - c, one rounding
  FOCAL_HD static F fnma(F a, F b, F c) { return fma(-a, b, c); }  // c - a b, one rounding
  FOCAL_HD static F min(F a, F b) { return a < b ? a : b; }
  FOCAL_HD static F max(F a, F b) { return a > b ? a : b; }
  FOCAL_HD static F abs(F a) { return from_bits(bits(a) & 0x7fffffff); }
  FOCAL_HD static F neg(F a) { return from_bits(bits(a) ^ I(0x80000000u)); }
  FOCAL_HD static F neg_abs(F a) { return from_bits(bits(a) | I(0x80000000u)); }
  FOCAL_HD static F select(M m, F a, F b) { return m ? a : b; }
  FOCAL_HD static M is_nan(F a) { return a != a; }
  FOCAL_HD static bool all(M m) { return m; }
  FOCAL_HD static bool none(M m) { return !m; }
  FOCAL_HD static I bits(F v) {
#if defined(__CUDA_ARCH__)
    return __float_as_int(v);
#else
    I i;
    std::memcpy(&i, &v, sizeof i);
    return i;
#endif
  }
  FOCAL_HD static F from_bits(I i) {
#if defined(__CUDA_ARCH__)
    return __int_as_float(i);
#else
    F v;
    std::memcpy(&v, &i, sizeof v);
    return v;
#endif
  }
  template <constants::Table T>
  FOCAL_HD static F lookup(F carrier) {
#if defined(__CUDA_ARCH__)
    return kTablesDevice[int(T)][bits(carrier) & 15];
#else
    return constants::kTables[int(T)][bits(carrier) & 15];
#endif
  }
};

// Calls f(std::integral_constant-like K) for gamma in {0..4}; returns false for other gamma
// (those take the double element).
template <class F>
inline bool with_int_gamma(float gamma, F&& f) {
  if (gamma == 0.0f) return f.template operator()<0>(), true;
  if (gamma == 1.0f) return f.template operator()<1>(), true;
  if (gamma == 2.0f) return f.template operator()<2>(), true;
  if (gamma == 3.0f) return f.template operator()<3>(), true;
  if (gamma == 4.0f) return f.template operator()<4>(), true;
  return false;
}

// True for the gamma with_int_gamma covers (the float-float element's): 0, 1, 2, 3, 4.
inline bool is_int_gamma(float gamma) {
  return gamma >= 0.0f && gamma <= 4.0f && gamma == float(int(gamma));  // NaN: false
}

}  // namespace focal::ff
