// Compensated (Neumaier) summation in double: the error of a sum of n terms stays ~2 ulp(double)
// instead of growing with n, so kernel sums meet "exact sum of the fp32 losses within 1e-12"
// for any n. Used per element by the scalar kernel and per block by the vector kernels.
#pragma once

#include <cmath>

namespace focal::detail {

// Tag: an unused type that makes each instantiation distinct. Code compiled with extra ISA flags
// (the AVX2/AVX-512 translation units) uses BasicCompensatedSum<its arch> so the linker can never
// pick that AVX-encoded copy of these inline functions for baseline code.
template <class Tag = void>
class BasicCompensatedSum {
 public:
  void add(double v) {
    const double t = sum_ + v;
    // Whichever operand is larger in magnitude is the one whose low bits survive in t.
    comp_ += std::fabs(sum_) >= std::fabs(v) ? (sum_ - t) + v : (v - t) + sum_;
    sum_ = t;
  }
  double value() const {
    // inf/NaN terms make comp_ NaN; the plain sum carries the right special value then.
    return std::isfinite(sum_) ? sum_ + comp_ : sum_;
  }

 private:
  double sum_ = 0.0;
  double comp_ = 0.0;
};

using CompensatedSum = BasicCompensatedSum<>;

}  // namespace focal::detail
