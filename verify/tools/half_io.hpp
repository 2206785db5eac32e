// focal-eval --dtype: the dtype word and a logit token read as an fp16/bf16 value, with the same
// strictness as text_io.hpp (a whole token; no silent inf from a finite value, no silent 0 from a
// nonzero one) and one rounding, to nearest even, from the decimal to the half dtype.
#pragma once

#include <cfenv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "focal/focal.hpp"

namespace focal::tools {

// "fp32", "fp16" or "bf16" (focal::to_string's words) -> the dtype; false for anything else.
inline bool parse_dtype(const std::string& s, Dtype* out) {
  for (Dtype d : {Dtype::fp32, Dtype::fp16, Dtype::bf16})
    if (s == to_string(d)) {
      *out = d;
      return true;
    }
  return false;
}

// The token read in the current rounding mode (glibc's strtof honours it).
inline float strtof_rounded(const std::string& token, int mode, char** end) {
  const int saved = std::fegetround();
  std::fesetround(mode);
  const float v = std::strtof(token.c_str(), end);
  std::fesetround(saved);
  return v;
}

// Parses a whole token (decimal or hex, inf, nan) as a logit of the half dtype `d`, rounded to
// nearest even once: the decimal is read to float rounded to odd (truncated, last bit set if
// inexact), and float keeps 13+ bits more than either half format (16+ at bf16's subnormals), so
// rounding that float to nearest even gives the half nearest the decimal itself, ties included.
// Returns "" on success (*exact: no rounding happened), else what is wrong with the token.
inline std::string parse_half(const std::string& token, Dtype d, std::uint16_t* out, bool* exact) {
  if (token.empty()) return "an empty value";
  if (token.find('\0') != std::string::npos) return "a NUL byte inside the number";
  char* end = nullptr;
  const float lo = strtof_rounded(token, FE_DOWNWARD, &end);
  if (end == token.c_str() || *end != '\0') return "not a number";
  const float hi = strtof_rounded(token, FE_UPWARD, &end);
  float f = lo;
  *exact = lo == hi || std::isnan(lo);
  if (!*exact) {
    f = std::fabs(lo) < std::fabs(hi) ? lo : hi;  // toward zero
    std::uint32_t b;
    std::memcpy(&b, &f, sizeof b);
    b |= 1u;  // round to odd
    std::memcpy(&f, &b, sizeof f);
  }
  *out = float_to_half(f, d);
  const float v = half_to_float(*out, d);
  *exact = *exact && (v == f || std::isnan(v));
  const std::string name(to_string(d));
  char limit[32];
  if (std::isinf(v) && !(*exact)) {
    std::snprintf(limit, sizeof limit, "%.9g", half_to_float(d == Dtype::fp16 ? 0x7bff : 0x7f7f, d));
    return "out of " + name + " range (it would round to inf; the largest " + name + " is " +
           limit + "; write inf for infinity)";
  }
  if (v == 0.0f && !(*exact)) {
    std::snprintf(limit, sizeof limit, "%.3g", half_to_float(0x0001, d));
    return "a nonzero value below " + name + "'s smallest (" + limit +
           "): it would read as 0 (write 0 for 0)";
  }
  return "";
}

}  // namespace focal::tools
