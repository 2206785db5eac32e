// The element: one logit and its target in, the float loss and gradient out. One header for
// every kernel that evaluates one element at a time: the scalar reference ("scalar": the double
// element, DoubleElement), "scalar_ff" and the accurate CUDA kernels (Element), the CUDA fast tier
// (FastElement). Everything here is __host__ __device__ (FOCAL_HD) on purpose: the CUDA kernels
// run it on the GPU, and verify/tests/test_cuda_math.cpp compiles the very same source on the
// host and checks it against MPFR and against the scalar reference, so the element math is
// tested on every machine, GPU or not.
//
// Precision: binary targets (dense u8, labels, soft t in {0, 1}) at gamma 0..4 use the
// float-float element of focal/ff.hpp with ff::ScalarOps -- float arithmetic only, the same bits
// as every avx2/avx512 lane (<= 1 ULP, exhaustively measured on the host). Soft targets strictly
// inside (0, 1) and other gamma use math.hpp in double, rounded to float once, exactly as the
// scalar reference does (it is DoubleElement).
#pragma once

#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "focal/focal.hpp"
#include "focal/ff.hpp"
#include "focal/math.hpp"

namespace focal::element {

// The declared per-element bound of the accurate element (scalar, scalar_ff, cuda_warp, cuda_cub,
// cuda_cub_device): the final rounding to float (0.5 ULP) plus the double evaluation's error
// (< 1e-13 relative, i.e. < 1e-5 ULP), and <= 1 ULP measured for the float-float path. See
// kernels/cuda/NOTES.md.
inline constexpr ErrorBound kDeclaredBound{.ulp = 1.0, .rel_other = 1.2e-7};

// The Ops policy of math.hpp in double. On the device these are CUDA's double functions
// (documented max error: exp 1 ulp, log1p 1 ulp, pow 2 ulp -- of double, i.e. ~2^-52
// relative), on the host the C library's. No multiply-add is contracted (--fmad=false for nvcc,
// -ffp-contract=off for the host): the operation sequence is the same on both.
struct DoubleOps {
  FOCAL_HD static double exp(double v) { return ::exp(v); }
  FOCAL_HD static double log1p(double v) { return ::log1p(v); }
  FOCAL_HD static double pow(double b, double e) { return ::pow(b, e); }  // pow(0, 0) = 1
  FOCAL_HD static double abs(double v) { return ::fabs(v); }
  FOCAL_HD static double recip(double v) { return 1.0 / v; }
  FOCAL_HD static double min(double a, double b) { return a < b ? a : b; }
  FOCAL_HD static double max(double a, double b) { return a > b ? a : b; }
  FOCAL_HD static double select(bool c, double a, double b) { return c ? a : b; }
  FOCAL_HD static double largest(double) { return DBL_MAX; }
};

// The float Ops of the fast tier ("cuda_warp_fast"): CUDA's accurate float functions on the
// device (documented max error: expf 2 ulp, log1pf 1 ulp, powf 4 ulp; IEEE division), the C
// library's on the host. No __expf-style intrinsics.
struct FloatOps {
  FOCAL_HD static float exp(float v) { return ::expf(v); }
  FOCAL_HD static float log1p(float v) { return ::log1pf(v); }
  FOCAL_HD static float pow(float b, float e) { return ::powf(b, e); }  // powf(0, 0) = 1
  FOCAL_HD static float abs(float v) { return ::fabsf(v); }
  FOCAL_HD static float recip(float v) { return 1.0f / v; }
  FOCAL_HD static float min(float a, float b) { return a < b ? a : b; }
  FOCAL_HD static float max(float a, float b) { return a > b ? a : b; }
  FOCAL_HD static float select(bool c, float a, float b) { return c ? a : b; }
  FOCAL_HD static float largest(float) { return FLT_MAX; }
};

// (1-p_t)^gamma with the power chosen at run time (gamma is uniform over a launch, so the
// branch costs nothing on a warp). The same operation sequence as math::IntPow<0..4> and
// math::GeneralPow, so results equal math::with_pow's bit for bit; one kernel instantiation
// instead of six keeps nvcc's compile time down.
template <class Ops, class T>
struct RuntimePowT {
  int k;  // 0..4: integer power by multiplication; -1: Ops::pow
  T gamma;
  FOCAL_HD T operator()(T q) const {
    switch (k) {
      case 0: return T(1);
      case 1: return q;
      case 2: return q * q;
      case 3: return q * q * q;
      case 4: {
        const T q2 = q * q;
        return q2 * q2;
      }
      default: return Ops::pow(q, gamma);
    }
  }
  static RuntimePowT for_gamma(float gamma) {
    for (int k = 0; k <= 4; ++k)
      if (gamma == float(k)) return {k, T(gamma)};
    return {-1, T(gamma)};
  }
};

// The element of math.hpp with Ops in T. The gradient scale is applied in double and rounded once.
template <class Ops, class T>
struct BasicElement {
  math::Alpha a;
  T gamma;
  double grad_scale;
  RuntimePowT<Ops, T> pow;

  static BasicElement make(float alpha, float gamma, double grad_scale) {
    return {math::balance(alpha), T(gamma), grad_scale, RuntimePowT<Ops, T>::for_gamma(gamma)};
  }

  FOCAL_HD math::LossGrad<float> binary(float x, bool positive) const {
    const T z = positive ? T(x) : -T(x);
    const T a_t = positive ? T(a.pos) : T(a.neg);
    const auto r = math::binary<Ops>(z, a_t, gamma, pow);
    const T dx = positive ? r.grad : -r.grad;
    return {float(r.loss), float(double(dx) * grad_scale)};
  }
  // t must be in [0, 1] (the caller flags the others).
  FOCAL_HD math::LossGrad<float> soft(float x, float t) const {
    if (t == 0.0f || t == 1.0f) return binary(x, t == 1.0f);
    const auto r = math::soft<Ops>(T(x), T(t), T(a.pos), T(a.neg), gamma, pow);
    return {float(r.loss), float(double(r.grad) * grad_scale)};
  }
};

using RuntimePow = RuntimePowT<DoubleOps, double>;
using DoubleElement = BasicElement<DoubleOps, double>;

// The accurate element (cuda_warp, cuda_cub, cuda_cub_device): float-float at gamma 0..4
// (gamma is uniform over a launch, so the switch costs nothing on a warp), double otherwise.
struct Element {
  ff::Constants c;
  int k;  // 0..4: float-float element of that gamma; -1: the double element
  DoubleElement d;

  static Element make(float alpha, float gamma, double grad_scale) {
    int k = -1;
    for (int g = 0; g <= 4; ++g)
      if (gamma == float(g)) k = g;
    return {ff::make_constants(alpha, grad_scale), k, DoubleElement::make(alpha, gamma, grad_scale)};
  }

  template <int K>
  FOCAL_HD math::LossGrad<float> ff_binary(float x, bool positive) const {
    return ff::Element<ff::ScalarOps, K>::make(c).template binary<true>(x, positive);
  }
  FOCAL_HD math::LossGrad<float> binary(float x, bool positive) const {
    switch (k) {
      case 0: return ff_binary<0>(x, positive);
      case 1: return ff_binary<1>(x, positive);
      case 2: return ff_binary<2>(x, positive);
      case 3: return ff_binary<3>(x, positive);
      case 4: return ff_binary<4>(x, positive);
      default: return d.binary(x, positive);
    }
  }
  // t must be in [0, 1] (the caller flags the others).
  FOCAL_HD math::LossGrad<float> soft(float x, float t) const {
    if (t == 0.0f || t == 1.0f) return binary(x, t == 1.0f);
    return d.soft(x, t);
  }
};

// The fast tier's element (cuda_warp_fast): binary targets (dense u8, labels, soft t in {0,1})
// with |x| < 80 in float; larger |x| and soft targets strictly inside (0, 1) in double, since math::soft in float loses
// thousands of ULPs in the gradient's cancellation at gamma >= 3 (measured on the host).
struct FastElement {
  BasicElement<FloatOps, float> f;
  DoubleElement d;
  // A gradient scale above 1 can lift a float intermediate that underflowed back into the
  // normal range: then every element takes the double path.
  bool scaled_up;
  static FastElement make(float alpha, float gamma, double grad_scale) {
    return {BasicElement<FloatOps, float>::make(alpha, gamma, grad_scale),
            DoubleElement::make(alpha, gamma, grad_scale), grad_scale > 1.0};
  }
  // |x| >= 80: e = exp(-|x|) approaches the subnormal range (< 2^-126 from |x| = 87.3), where
  // float keeps too few bits of it (results near 2^-149 then round to 0: measured on the
  // host). Rare on real logits, so the branch costs nothing on average.
  FOCAL_HD math::LossGrad<float> binary(float x, bool positive) const {
    return ::fabsf(x) < 80.0f && !scaled_up ? f.binary(x, positive) : d.binary(x, positive);
  }
  FOCAL_HD math::LossGrad<float> soft(float x, float t) const {
    if (t == 0.0f || t == 1.0f) return binary(x, t == 1.0f);
    return d.soft(x, t);
  }
};

// The fast tier's declared bound, from CUDA's documented errors (NOTES.md): at gamma 4 the
// error of e = expf(-|z|) (2 ulp) and of the three roundings that make q reach q^4 four times,
// plus log1pf, the products and subnormal intermediates: <= ~17 ULP; declared 24 ULP, and
// relative 4e-6 for other gamma up to 8 (powf 4 ulp plus gamma times q's error).
inline constexpr ErrorBound kFastDeclaredBound{.ulp = 24.0, .rel_other = 4e-6};

}  // namespace focal::element
