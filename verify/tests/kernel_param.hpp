// Every suite runs on every registered kernel; one that this machine cannot run (a CUDA kernel
// without a GPU, AVX-512 on an older CPU) is skipped with the reason.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "focal/focal.hpp"

namespace focal::testing {

inline std::vector<std::string> kernel_names() {
  std::vector<std::string> v;
  for (const auto& k : kernels()) v.emplace_back(k.name);
  return v;
}

class PerKernel : public ::testing::TestWithParam<std::string> {
 protected:
  const KernelInfo& kernel() const { return find_kernel(GetParam()); }
  void SetUp() override {
    const std::string why = kernel().unavailable_reason();
    if (!why.empty()) GTEST_SKIP() << "kernel " << GetParam() << " unavailable here: " << why;
  }
};

inline std::string param_name(const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
}

// f() must throw focal::invalid_argument whose message mentions `needle` (the argument's name).
template <class F>
void expect_error(F&& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning '" << needle << "'";
  } catch (const invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
        << "message '" << e.what() << "' does not mention '" << needle << "'";
  }
}

}  // namespace focal::testing

#define FOCAL_INSTANTIATE_PER_KERNEL(Suite)                                            \
  INSTANTIATE_TEST_SUITE_P(AllKernels, Suite,                                          \
                           ::testing::ValuesIn(::focal::testing::kernel_names()),      \
                           ::focal::testing::param_name)
