#include "mpfr_reference.hpp"

#include <mpfr.h>

#include <cmath>
#include <limits>

namespace focal::verify {
namespace {

constexpr mpfr_prec_t kPrec = 192;

// RAII scratch registers, one set per thread.
struct Num {
  mpfr_t v;
  Num() { mpfr_init2(v, kPrec); }
  ~Num() { mpfr_clear(v); }
  Num(const Num&) = delete;
  Num& operator=(const Num&) = delete;
  operator mpfr_ptr() { return v; }
};

void widen_exponent_range() {
  static const bool done = [] {
    mpfr_set_emin(mpfr_get_emin_min());
    mpfr_set_emax(mpfr_get_emax_max());
    return true;
  }();
  (void)done;
}

}  // namespace

Truth reference(float xf, float tf, float alphaf, float gammaf, double grad_scale) {
  widen_exponent_range();
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  if (std::isnan(xf) || std::isnan(tf)) return {kNaN, kNaN, NAN, NAN, kNaN};

  thread_local Num x, t, u, a, g, p, p1, ce, q, qg, tmp, tmp2, term1, term2, loss, grad;
  mpfr_set_flt(x, xf, MPFR_RNDN);
  mpfr_set_flt(t, tf, MPFR_RNDN);
  mpfr_ui_sub(u, 1, t, MPFR_RNDN);  // 1 - t, exact at this precision
  mpfr_set_flt(g, gammaf, MPFR_RNDN);
  if (alphaf < 0) {
    mpfr_set_ui(a, 1, MPFR_RNDN);
  } else {  // a_t = t alpha + (1-t)(1-alpha)
    mpfr_set_flt(tmp, alphaf, MPFR_RNDN);
    mpfr_mul(a, t, tmp, MPFR_RNDN);
    mpfr_ui_sub(tmp, 1, tmp, MPFR_RNDN);
    mpfr_fma(a, u, tmp, a, MPFR_RNDN);
  }

  bool pce_zero = false;  // p (1-p) CE is 0 in the limit (x = +-inf)
  if (std::isinf(xf)) {
    // Limits of the definition at x = +-inf.
    const bool plus = xf > 0;
    mpfr_set_ui(p, plus ? 1 : 0, MPFR_RNDN);
    mpfr_set_ui(p1, plus ? 0 : 1, MPFR_RNDN);
    // CE = t log1p(e^-x) + (1-t) log1p(e^x): the term whose weight is nonzero and whose
    // softplus is infinite decides.
    const bool inf_ce = plus ? (tf < 1.0f) : (tf > 0.0f);
    if (inf_ce) mpfr_set_inf(ce, 1); else mpfr_set_zero(ce, 1);
    pce_zero = true;
  } else {
    // p = 1 / (1 + e^-x) and 1 - p = 1 / (1 + e^x), both directly (no 1 - p).
    mpfr_neg(tmp, x, MPFR_RNDN);
    mpfr_exp(tmp, tmp, MPFR_RNDN);
    mpfr_add_ui(tmp2, tmp, 1, MPFR_RNDN);
    mpfr_ui_div(p, 1, tmp2, MPFR_RNDN);
    mpfr_exp(tmp, x, MPFR_RNDN);
    mpfr_add_ui(tmp2, tmp, 1, MPFR_RNDN);
    mpfr_ui_div(p1, 1, tmp2, MPFR_RNDN);
    // -log p = log1p(e^-x) and -log(1-p) = log1p(e^x), written as max(+-x, 0) + log1p(e^-|x|)
    // because e^|x| overflows even MPFR's exponent range for |x| near FLT_MAX.
    mpfr_abs(tmp, x, MPFR_RNDN);
    mpfr_neg(tmp, tmp, MPFR_RNDN);
    mpfr_exp(tmp, tmp, MPFR_RNDN);
    mpfr_log1p(tmp, tmp, MPFR_RNDN);
    if (xf < 0) {
      mpfr_sub(term1, tmp, x, MPFR_RNDN);  // -x + log1p(e^-|x|)
      mpfr_set(term2, tmp, MPFR_RNDN);
    } else {
      mpfr_set(term1, tmp, MPFR_RNDN);
      mpfr_add(term2, tmp, x, MPFR_RNDN);
    }
    mpfr_mul(ce, t, term1, MPFR_RNDN);
    mpfr_fma(ce, u, term2, ce, MPFR_RNDN);
  }
  // 1 - p_t = t (1-p) + (1-t) p
  mpfr_mul(q, t, p1, MPFR_RNDN);
  mpfr_fma(q, u, p, q, MPFR_RNDN);
  mpfr_pow(qg, q, g, MPFR_RNDN);  // pow(0, 0) = 1

  // loss = a_t q^gamma CE, with 0 * inf = 0 (a zero weight carries nothing).
  mpfr_mul(tmp, a, qg, MPFR_RNDN);
  if (mpfr_zero_p(tmp)) mpfr_set_zero(loss, 1); else mpfr_mul(loss, tmp, ce, MPFR_RNDN);

  // term1 = a_t gamma q^(gamma-1) (1-2t) p (1-p) CE ; term2 = a_t q^gamma (p - t),
  // p - t = (1-t) p - t (1-p).
  if (pce_zero || mpfr_zero_p(g)) {
    mpfr_set_zero(term1, 1);
  } else {
    mpfr_mul(tmp, p, p1, MPFR_RNDN);
    if (mpfr_zero_p(tmp)) {
      mpfr_set_zero(term1, 1);
    } else {
      mpfr_mul(tmp, tmp, ce, MPFR_RNDN);
      mpfr_sub_ui(tmp2, g, 1, MPFR_RNDN);
      mpfr_pow(tmp2, q, tmp2, MPFR_RNDN);
      mpfr_mul(tmp, tmp, tmp2, MPFR_RNDN);
      mpfr_mul(tmp, tmp, g, MPFR_RNDN);
      mpfr_mul_ui(tmp2, t, 2, MPFR_RNDN);
      mpfr_ui_sub(tmp2, 1, tmp2, MPFR_RNDN);
      mpfr_mul(tmp, tmp, tmp2, MPFR_RNDN);
      mpfr_mul(term1, tmp, a, MPFR_RNDN);
    }
  }
  mpfr_mul(tmp, u, p, MPFR_RNDN);
  mpfr_mul(tmp2, t, p1, MPFR_RNDN);
  mpfr_sub(tmp, tmp, tmp2, MPFR_RNDN);
  mpfr_mul(tmp, tmp, qg, MPFR_RNDN);
  mpfr_mul(term2, tmp, a, MPFR_RNDN);
  mpfr_add(grad, term1, term2, MPFR_RNDN);
  mpfr_mul_d(grad, grad, grad_scale, MPFR_RNDN);
  mpfr_mul_d(term1, term1, grad_scale, MPFR_RNDN);
  mpfr_mul_d(term2, term2, grad_scale, MPFR_RNDN);

  Truth r;
  r.loss_exact = mpfr_get_d(loss, MPFR_RNDN);
  r.grad_exact = mpfr_get_d(grad, MPFR_RNDN);
  r.loss_float = mpfr_get_flt(loss, MPFR_RNDN);
  r.grad_float = mpfr_get_flt(grad, MPFR_RNDN);
  r.grad_scale_term = std::fmax(std::fmax(std::fabs(mpfr_get_d(term1, MPFR_RNDN)),
                                          std::fabs(mpfr_get_d(term2, MPFR_RNDN))),
                                std::fabs(r.grad_exact));
  return r;
}

double exact_sum(std::span<const float> values) {
  widen_exponent_range();
  // Floats span 2^-149 .. 2^128: a 320-bit accumulator holds any sum of < 2^40 of them exactly.
  mpfr_t acc;
  mpfr_init2(acc, 320);
  mpfr_set_zero(acc, 1);
  for (float v : values) mpfr_add_d(acc, acc, v, MPFR_RNDN);
  const double r = mpfr_get_d(acc, MPFR_RNDN);
  mpfr_clear(acc);
  return r;
}

}  // namespace focal::verify
