#include "check.hpp"

#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace focal::verify {

void poison(std::span<float> v) {
  float p;
  std::memcpy(&p, &kPoisonBits, sizeof p);
  for (float& f : v) f = p;
}

bool is_poison(float v) {
  std::uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b == kPoisonBits;
}

std::vector<Truth> references(const DenseCases& c, float alpha, float gamma, double grad_scale) {
  std::vector<Truth> out(c.x.size());
  const long n = long(c.x.size());
#pragma omp parallel for schedule(dynamic, 256)
  for (long i = 0; i < n; ++i) out[i] = reference(c.x[i], c.t[i], alpha, gamma, grad_scale);
  return out;
}

double relative_error(float got, double exact, double scale) {
  const double err = std::fabs(double(got) - exact), s = std::fabs(scale);
  if (s >= double(FLT_MIN)) return err / s;
  // Below FLT_MIN no float is relatively accurate: forgive the unavoidable final rounding (half
  // the spacing 2^-149) and measure the rest against the value itself, so a subnormal result
  // that is wrong by more than its rounding shows as a large relative error.
  const double rest = std::fmax(0.0, err - 0x1p-150);
  return rest == 0.0 ? 0.0 : rest / s;
}

void Stats::add(std::size_t i, float x, float t, float got, double exact, float exact_float,
                double scale, bool unwritten) {
  UlpError e = unwritten ? UlpError{INFINITY, Failure::spurious_nan}
                         : ulp_error(got, exact, exact_float, scale);
  ++n;
  double rel = 0;
  if (e.failure != Failure::none) {
    ++special_failures;
    rel = INFINITY;
  } else {
    sum_ulp += e.ulp;
    rel = relative_error(got, exact, scale);
  }
  if (rel > max_rel) max_rel = rel;
  if (e.failure == Failure::none && e.ulp > max_ulp) max_ulp = e.ulp;
  // The worst input: the first special failure, else the largest ULP error.
  const bool worse = worst.failure == Failure::none &&
                     (n == 1 || e.failure != Failure::none || e.ulp > worst.ulp);
  if (worse) worst = {i, x, t, exact, got, e.ulp, e.failure};
}

bool Stats::passes(const ErrorBound& b, float gamma) const {
  if (special_failures) return false;
  return integer_gamma(gamma) ? max_ulp <= b.ulp : max_rel <= b.rel_other;
}

std::string Stats::describe(const char* what) const {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "%s: max %.3g ulp, mean %.3g ulp, max rel %.3g, %zu special failures; worst "
                "[%zu] x=%a (%.9g) t=%.9g expected %.9g got %.9g (%s)",
                what, max_ulp, mean_ulp(), max_rel, special_failures, worst.index, worst.x,
                worst.x, worst.t, worst.expected, worst.got, to_string(worst.failure));
  return buf;
}

bool integer_gamma(float gamma) {
  return gamma == 0.0f || gamma == 1.0f || gamma == 2.0f || gamma == 3.0f || gamma == 4.0f;
}

Measurement measure(const KernelInfo& kernel, const DenseCases& c, const Options& opt,
                    std::span<const Truth> truth) {
  Measurement m;
  const std::size_t n = c.x.size();
  m.loss_out.resize(n);
  m.grad_out.resize(n);
  poison(m.loss_out);
  poison(m.grad_out);
  const Outputs out{m.loss_out, m.grad_out};
  if (c.binary()) {
    const auto u8 = c.targets_u8();
    m.result = focal_loss(kernel, DenseInput{c.x, u8}, opt, out);
  } else {
    m.result = focal_loss(kernel, SoftInput{c.x, c.t}, opt, out);
  }
  const bool binary = c.binary();
  for (std::size_t i = 0; i < n; ++i) {
    const Truth& tr = truth[i];
    m.loss.add(i, c.x[i], c.t[i], m.loss_out[i], tr.loss_exact, tr.loss_float, tr.loss_exact,
               is_poison(m.loss_out[i]));
    // Binary targets: both gradient terms share a sign, so the gradient's own ULP is the unit.
    const double gscale = binary ? tr.grad_exact : tr.grad_scale_term;
    m.grad.add(i, c.x[i], c.t[i], m.grad_out[i], tr.grad_exact, tr.grad_float, gscale,
               is_poison(m.grad_out[i]));
  }
  return m;
}

}  // namespace focal::verify
