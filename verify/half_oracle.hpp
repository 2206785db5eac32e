// The half formats (fp16, bf16) by arithmetic, for checks: decoding, spacing and correct
// rounding written with ldexp/nearbyint from the format parameters, independently of the
// library's bit-level conversions (focal::half_to_float, focal::float_to_half) that they check.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

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

// A float's bit pattern and back.
inline std::uint32_t float_bits(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}
inline float bits_float(std::uint32_t b) {
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}

// The floats on which a float -> half conversion is checked (each with its negation): every
// value of the format, every midpoint to its upper neighbour with one float either side, a prime
// stride over all float bit patterns, every float near fp16's least normal 2^-14 and overflow
// threshold 65520, a fine stride below the least normal, and NaNs with payloads.
inline std::vector<float> half_rounding_inputs(Dtype d) {
  std::vector<float> in;
  for (std::uint32_t h = 0; h < 65536; ++h) {
    const double v = half_decode(std::uint16_t(h), d);
    in.push_back(float(v));
    const double next = half_decode(std::uint16_t(h + 1), d);
    if ((h & 0x7fffu) == 0x7fffu || !std::isfinite(v) || !std::isfinite(next)) continue;
    const float mid = float((v + next) / 2);  // exact in float
    in.push_back(mid);
    in.push_back(std::nextafter(mid, 0.0f));
    in.push_back(std::nextafter(mid, 2 * mid));
  }
  for (std::uint64_t b = 0; b < (std::uint64_t{1} << 32); b += 65521)  // prime stride
    in.push_back(bits_float(std::uint32_t(b)));
  for (std::uint32_t b = 0; b < 0x38900000u; b += 4099) in.push_back(bits_float(b));
  for (std::uint32_t b = 0x477fe000u; b < 0x47801000u; ++b) in.push_back(bits_float(b));
  for (std::uint32_t b = 0x387fe000u; b < 0x38801000u; ++b) in.push_back(bits_float(b));
  in.push_back(65519.996f);
  in.push_back(65520.0f);
  in.push_back(bits_float(0x7fc00000u));  // quiet NaN, signalling NaNs with payloads
  in.push_back(bits_float(0x7f800001u));
  in.push_back(bits_float(0x7fbfe000u));
  const std::size_t n = in.size();
  for (std::size_t i = 0; i < n; ++i) in.push_back(-in[i]);
  return in;
}

}  // namespace focal::verify
