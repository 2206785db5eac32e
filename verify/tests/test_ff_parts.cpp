// The float-float element's parts (focal/ff.hpp), each at the error bound its comment states,
// against MPFR (128 bits): one table of part x domain x bound (SLEEF style). The whole element
// is bounded by the exhaustive run and test_ff_element; these bounds are what its error budget
// (< 2^-27.7 relative before the one rounding) is built from, so a change that loosens one part fails
// here by name even where the final rounding would still hide it in the sampled outputs.
#include <gtest/gtest.h>
#include <mpfr.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>

#include "cases.hpp"
#include "focal/ff.hpp"

namespace focal::testing {
namespace {

using Ops = ff::ScalarOps;
using FFf = ff::FF<float>;

// |(hi + lo) - truth| / |truth|, all in MPFR (the float-float sum is exact at 128 bits).
class Mp {
 public:
  Mp() { mpfr_inits2(128, v_, w_, static_cast<mpfr_ptr>(nullptr)); }
  ~Mp() { mpfr_clears(v_, w_, static_cast<mpfr_ptr>(nullptr)); }
  Mp(const Mp&) = delete;
  Mp& operator=(const Mp&) = delete;
  double rel_error(FFf got, const std::function<void(mpfr_ptr)>& truth) {
    truth(v_);
    mpfr_set_flt(w_, got.hi, MPFR_RNDN);
    mpfr_add_d(w_, w_, double(got.lo), MPFR_RNDN);
    mpfr_sub(w_, w_, v_, MPFR_RNDN);
    mpfr_div(w_, w_, v_, MPFR_RNDN);
    return std::fabs(mpfr_get_d(w_, MPFR_RNDN));
  }

 private:
  mpfr_t v_, w_;
};

struct Worst {
  double err = 0.0;
  std::string at;
  void report(const char* part) const {  // beside the bound in the test log
    std::printf("  %-28s worst relative error 2^%.2f at %s\n", part, std::log2(err), at.c_str());
  }
  void add(double e, const std::string& where) {
    if (std::isnan(err)) return;  // a NaN stays the worst (and fails every bound)
    if (!(e <= err)) err = e, at = where;
  }
};

std::string hex(float v) {
  char b[48];
  std::snprintf(b, sizeof b, "%a", double(v));
  return b;
}

// z in the main path (|z| <= 80): random floats, uniform and log-uniform magnitudes, and the
// ends of the range.
std::vector<float> main_path_z(std::uint64_t seed, int n) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> uni(-80.0f, 80.0f), expo(-40.0f, std::log2(80.0f));
  std::vector<float> z = {0.0f, -0.0f, 80.0f, -80.0f, 1e-30f, -1e-30f, 0x1p-149f, 0.5f, -0.5f};
  for (int i = 0; i < n; ++i) {
    z.push_back(uni(rng));
    const float m = std::exp2(expo(rng));
    z.push_back(rng() & 1 ? m : -m);
  }
  return z;
}

using Element = ff::Element<Ops, 2>;  // stage_exp and stage_mid do not depend on K

// exp(-|z|) on the main path: relative error < 2^-32 (ff.hpp, "exp"), and normalized but for a
// 2^-6 fraction of an ulp.
TEST(FFParts, ExpMainPathWithinItsBound) {
  Mp mp;
  Worst worst, norm;
  for (float z : main_path_z(verify::process_seed() + 1, 100000)) {
    const FFf e = Element::stage_exp(z);
    worst.add(mp.rel_error(e, [&](mpfr_ptr v) {
                mpfr_set_flt(v, -std::fabs(z), MPFR_RNDN);
                mpfr_exp(v, v, MPFR_RNDN);
              }),
              "z=" + hex(z));
    const double half_ulp = std::ldexp(1.0, std::ilogb(e.hi) - 24);
    norm.add(std::fabs(double(e.lo)) / half_ulp, "z=" + hex(z));
  }
  worst.report("exp, main path");
  EXPECT_LT(worst.err, 0x1p-32) << "worst at " << worst.at << ": 2^" << std::log2(worst.err);
  EXPECT_LE(norm.err, 1.0 + 0x1p-5) << "|e_lo| / (ulp(e_hi)/2) at " << norm.at;
}

// The tail's exp of a float-float argument a + a_lo, a in [-160, 0], |a_lo| <= ulp(a)/2
// (ff.hpp: exp_core with kLow): 2^k (m.hi + m.lo), relative error < 2^-32.
TEST(FFParts, ExpOfFloatFloatArgumentWithinItsBound) {
  Mp mp;
  Worst worst;
  std::mt19937_64 rng(verify::process_seed() + 2);
  std::uniform_real_distribution<float> uni(-160.0f, 0.0f), frac(-0.5f, 0.5f);
  for (int i = 0; i < 100000; ++i) {
    const float a = uni(rng);
    const float a_lo = frac(rng) * std::fabs(std::nextafter(a, -INFINITY) - a);
    const auto ex = ff::exp_core<Ops, true>(a, a_lo);
    worst.add(mp.rel_error(ex.m,
                           [&](mpfr_ptr v) {
                             mpfr_set_flt(v, a, MPFR_RNDN);
                             mpfr_add_d(v, v, double(a_lo), MPFR_RNDN);
                             mpfr_exp(v, v, MPFR_RNDN);
                             mpfr_mul_2si(v, v, -ex.k, MPFR_RNDN);  // compare the mantissa part
                           }),
              "a=" + hex(a) + " a_lo=" + hex(a_lo));
  }
  worst.report("exp, float-float argument");
  EXPECT_LT(worst.err, 0x1p-32) << "worst at " << worst.at << ": 2^" << std::log2(worst.err);
}

// log1p(e) for a normalized e = e.hi + e.lo in [0, 1] (ff.hpp, "log1p"): relative error
// < 2^-28.2.
TEST(FFParts, Log1pWithinItsBound) {
  Mp mp;
  Worst worst;
  for (float z : main_path_z(verify::process_seed() + 3, 100000)) {
    const FFf e = Element::stage_exp(z);  // the inputs log1p gets in the element
    worst.add(mp.rel_error(ff::log1p<Ops>(e),
                           [&](mpfr_ptr v) {
                             mpfr_set_flt(v, e.hi, MPFR_RNDN);
                             mpfr_add_d(v, v, double(e.lo), MPFR_RNDN);
                             mpfr_log1p(v, v, MPFR_RNDN);
                           }),
              "e=" + hex(e.hi) + "+" + hex(e.lo));
  }
  worst.report("log1p");
  EXPECT_LT(worst.err, std::exp2(-28.2))
      << "worst at " << worst.at << ": 2^" << std::log2(worst.err);
}

// Stage 2 as a whole, against MPFR from z itself: q = 1 - p_t and p_t (through e and 1/(1+e))
// within 2^-32, CE within 2^-28.1 (log1p's 2^-28.2 plus exp's share).
TEST(FFParts, QAndCrossEntropyWithinTheirBounds) {
  Mp mp;
  Worst wq, wpt, wce;
  for (float z : main_path_z(verify::process_seed() + 4, 100000)) {
    const auto m = Element::stage_mid<true>(z, Element::stage_exp(z));
    const std::string at = "z=" + hex(z);
    auto sigmoid = [&](mpfr_ptr v, float arg) {  // 1 / (1 + exp(-arg))
      mpfr_set_flt(v, -arg, MPFR_RNDN);
      mpfr_exp(v, v, MPFR_RNDN);
      mpfr_add_ui(v, v, 1, MPFR_RNDN);
      mpfr_ui_div(v, 1, v, MPFR_RNDN);
    };
    wq.add(mp.rel_error(m.q, [&](mpfr_ptr v) { sigmoid(v, -z); }), at);
    wpt.add(mp.rel_error(m.pt, [&](mpfr_ptr v) { sigmoid(v, z); }), at);
    wce.add(mp.rel_error(m.ce,
                         [&](mpfr_ptr v) {  // -log(p_t) = log1p(exp(-z))
                           mpfr_set_flt(v, -z, MPFR_RNDN);
                           mpfr_exp(v, v, MPFR_RNDN);
                           mpfr_log1p(v, v, MPFR_RNDN);
                         }),
            at);
  }
  wq.report("q");
  wpt.report("p_t");
  wce.report("CE");
  EXPECT_LT(wq.err, 0x1p-32) << "q, worst at " << wq.at << ": 2^" << std::log2(wq.err);
  EXPECT_LT(wpt.err, 0x1p-32) << "p_t, worst at " << wpt.at << ": 2^" << std::log2(wpt.err);
  EXPECT_LT(wce.err, std::exp2(-28.1)) << "CE, worst at " << wce.at << ": 2^" << std::log2(wce.err);
}

}  // namespace
}  // namespace focal::testing
