// The half formats (fp16, bf16) by arithmetic, for checks: decoding, spacing and correct
// rounding written with ldexp/nearbyint from the format parameters, independently of the
// library's bit-level conversions (focal::half_to_float, focal::float_to_half) that they check.
#pragma once

#include <cmath>
#include <cstdint>

#include "focal/focal.hpp"

namespace focal::verify {

struct HalfFormat {
  int mbits, ebits;  // stored significand bits, exponent bits
};
inline HalfFormat half_format(Dtype d) { return d == Dtype::fp16 ? HalfFormat{10, 5} : HalfFormat{7, 8}; }

// The value of a bit pattern (NaN for every NaN pattern).
inline double half_decode(std::uint16_t h, Dtype d) {
  const auto [mbits, ebits] = half_format(d);
  const int bias = (1 << (ebits - 1)) - 1;
  const unsigned e = (h >> mbits) & ((1u << ebits) - 1), m = h & ((1u << mbits) - 1);
  double v;
  if (e == (1u << ebits) - 1) v = m ? NAN : INFINITY;
  else if (e == 0) v = std::ldexp(double(m), 1 - bias - mbits);
  else v = std::ldexp(double(m + (1u << mbits)), int(e) - bias - mbits);
  return (h & 0x8000u) ? -v : v;
}

// Spacing of the format at |v| (the subnormal spacing below the least normal).
inline double half_ulp(double v, Dtype d) {
  const auto [mbits, ebits] = half_format(d);
  const int emin = 2 - (1 << (ebits - 1));  // -14, -126
  v = std::fabs(v);
  if (v < std::ldexp(1.0, emin)) return std::ldexp(1.0, emin - mbits);
  int e;
  std::frexp(v, &e);
  return std::ldexp(1.0, e - 1 - mbits);
}

// v correctly rounded to the format (nearest, ties to even), +-inf past the overflow threshold.
inline double half_round(double v, Dtype d) {
  if (!std::isfinite(v)) return v;
  const auto [mbits, ebits] = half_format(d);
  const double q = half_ulp(v, d);
  const double r = std::nearbyint(v / q) * q;  // default rounding mode: ties to even
  const double max = std::ldexp(2.0 - std::ldexp(1.0, -mbits), (1 << (ebits - 1)) - 1);
  return std::fabs(r) > max ? std::copysign(INFINITY, v) : r;
}

}  // namespace focal::verify
