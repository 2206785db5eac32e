// Compensated (Neumaier) summation in double: the error of a sum of n terms stays ~2 ulp(double)
// instead of growing with n, so kernel sums meet "exact sum of the fp32 losses within 1e-12"
// for any n. Used per element by the scalar kernel and per block by the vector kernels.
#pragma once

#include <cmath>

namespace focal::detail {

class CompensatedSum {
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

}  // namespace focal::detail
