// Internal: the aliasing rule of focal.hpp (Outputs), one definition for fp32 inputs (api.cpp)
// and half inputs (half.cpp). Outputs may not overlap any input or each other, except the exact
// in-place use of the logits by an output of the logits' element size (the same first byte and,
// sizes being checked, the same extent): kernels read each logit before they write its results,
// but nothing promises an order between different elements, so a shifted overlap (or a wider
// element over narrower logits) would give kernel-dependent results.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>

#include "focal/focal.hpp"

namespace focal::overlap {

// Byte range of a span; empty spans occupy nothing.
struct Range {
  std::uintptr_t begin, end;
  template <class T>
  explicit Range(std::span<T> s)
      : begin(reinterpret_cast<std::uintptr_t>(s.data())), end(begin + s.size_bytes()) {}
  bool empty() const { return begin == end; }
  bool overlaps(const Range& o) const {
    return !empty() && !o.empty() && begin < o.end && o.begin < end;
  }
};

struct Output {
  const char* name;     // "outputs.loss", ...
  Range range;
  bool in_place_ok;     // same element size as the logits: exactly the logits is allowed
};

// Throws invalid_argument naming the first output that breaks the rule.
inline void check(Range logits, Range other, const char* other_name,
                  std::initializer_list<Output> outputs) {
  const std::string expected =
      "memory that overlaps no input and no other output (exactly the logits, in place, is "
      "allowed for an output of the logits' type)";
  auto bad = [&](const char* name, const std::string& got) {
    throw invalid_argument(std::string("focal: argument '") + name + "': expected " + expected +
                           ", got " + got);
  };
  for (const Output& o : outputs) {
    if (o.range.overlaps(logits) && !(o.in_place_ok && o.range.begin == logits.begin))
      bad(o.name, o.in_place_ok ? "a partial overlap with the logits"
                                : "an overlap with the logits (of another element type)");
    if (o.range.overlaps(other)) bad(o.name, std::string("an overlap with the ") + other_name);
  }
  for (auto a = outputs.begin(); a != outputs.end(); ++a)
    for (auto b = outputs.begin(); b != a; ++b)
      if (a->range.overlaps(b->range)) bad(a->name, std::string("an overlap with ") + b->name);
}

}  // namespace focal::overlap
