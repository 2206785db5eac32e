// One ULP definition for every check. The error of a float result is measured against the
// high-precision value (as SLEEF does): |got - exact| / ulp(exact), where ulp(v) is the spacing
// of floats at |v| (2^-149 in the subnormal range). Special values are failures of their own
// kind rather than large numbers.
#pragma once

#include <bit>
#include <cfloat>
#include <cstdint>
#include <cmath>
#include <limits>

namespace focal::verify {

// Spacing of float32 numbers at magnitude |v|: 2^(e - 23) for |v| in [2^e, 2^(e+1)), floored at
// 2^-149 (the subnormal spacing, below FLT_MIN) and capped at 2^104 (the spacing at FLT_MAX,
// for |v| >= FLT_MAX); NaN for NaN. Read from the double's exponent bits: the exhaustive check
// calls this ~10^11 times (verify/tests/test_ulp.cpp pins it to known values).
inline double float_ulp(double v) {
  v = std::fabs(v);
  if (!(v >= FLT_MIN)) return v != v ? v : 0x1p-149;
  if (v >= FLT_MAX) return 0x1p104;
  const std::uint64_t exp_bits = std::bit_cast<std::uint64_t>(v) >> 52;  // biased e (sign is 0)
  return std::bit_cast<double>((exp_bits - 23) << 52);                 // 2^(e - 23), normal
}

// 1 / float_ulp(v), exactly (a power of two): multiplying by it gives the same bits as dividing
// by float_ulp(v), at a fraction of the cost. Finite v only.
inline double float_ulp_inverse(double v) {
  v = std::fabs(v);
  if (!(v >= FLT_MIN)) return 0x1p149;
  if (v >= FLT_MAX) return 0x1p-104;
  const std::uint64_t exp_bits = std::bit_cast<std::uint64_t>(v) >> 52;
  return std::bit_cast<double>((2046 - (exp_bits - 23)) << 52);  // 2^(23 - e)
}

enum class Failure {
  none,
  missing_nan,      // the truth is NaN, the result is not
  spurious_nan,     // a NaN where the truth is a number
  wrong_inf,        // the truth overflows float (inf) and the result differs, or vice versa
  nonzero_for_zero, // the truth is exactly 0, the result is not
  flushed_to_zero,  // the truth rounds to a nonzero float, the result is 0
};

inline const char* to_string(Failure f) {
  switch (f) {
    case Failure::none: return "ok";
    case Failure::missing_nan: return "missing NaN";
    case Failure::spurious_nan: return "spurious NaN";
    case Failure::wrong_inf: return "wrong inf";
    case Failure::nonzero_for_zero: return "nonzero where truth is 0";
    case Failure::flushed_to_zero: return "flushed to 0";
  }
  return "?";
}

struct UlpError {
  double ulp = 0;  // fractional ULPs; +inf when failure != none
  Failure failure = Failure::none;
};

// got: the kernel's result; exact: the truth (double-rounded high-precision value);
// exact_float: the truth correctly rounded to float; scale: the magnitude whose ULP is the
// unit (|exact| normally; the larger term for a gradient that crosses zero).
inline UlpError ulp_error(float got, double exact, float exact_float, double scale) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  if (std::isnan(exact)) return std::isnan(got) ? UlpError{} : UlpError{kInf, Failure::missing_nan};
  if (std::isnan(got)) return {kInf, Failure::spurious_nan};
  if (std::isinf(exact_float) || std::isinf(got))
    return got == exact_float ? UlpError{} : UlpError{kInf, Failure::wrong_inf};
  if (exact == 0.0 && scale == 0.0)
    return got == 0.0f ? UlpError{} : UlpError{kInf, Failure::nonzero_for_zero};
  // A 0 where the truth is a normal float is always a failure. A subnormal truth may be 0 at a
  // zero crossing of a soft-target gradient (measured in ULPs of its larger term), so there 0 is
  // a failure only when the value is measured against itself.
  if (got == 0.0f && exact_float != 0.0f &&
      (std::fabs(exact) >= FLT_MIN || scale == std::fabs(exact)))
    return {kInf, Failure::flushed_to_zero};
  return {std::fabs(double(got) - exact) / float_ulp(scale), Failure::none};
}

inline UlpError ulp_error(float got, double exact, float exact_float) {
  return ulp_error(got, exact, exact_float, exact);
}

}  // namespace focal::verify
