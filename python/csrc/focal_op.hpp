// Shared by the op's files: the parsed arguments and the per-device entry points.
#pragma once

#include <ATen/ATen.h>
#include <c10/util/Optional.h>

#include <cstdint>
#include <string>
#include <tuple>

#include <focal/focal.hpp>

namespace focal_torch {

// One call of focal_kernels::forward, checked: contiguous tensors of the right dtypes, the
// layout chosen from the targets' dtype, the reduction parsed.
struct Call {
  at::Tensor logits;   // float32 (or float16/bfloat16: see dtype), contiguous
  at::Tensor targets;  // dense: uint8; soft: float32; labels: int32 (all contiguous)
  enum class Layout { dense, soft, labels } layout;
  std::int64_t num_classes;  // labels only
  focal::Dtype dtype;        // the logits': fp32, or fp16/bf16 (dense and labels layouts only)
  focal::Options options;
  bool torch_mean;     // torchvision's mean: NaN over an empty input
  c10::optional<std::string> kernel;
  bool with_grad;
};

// Per-element outputs for a call (empty tensors when not requested) and the result tensor.
struct Out {
  at::Tensor loss;  // reduction none: per-element loss (logits' shape, float32); else undefined
  at::Tensor grad;  // with_grad: d(result)/d(logits), logits' shape and dtype; else an empty tensor
};

// The forward op on host tensors (focal_op_cpu.cpp) and on CUDA tensors (focal_op_cuda.cpp):
// returns the reduced value (sum for reduction none) and fills `out`.
double run_cpu(const Call& call, Out& out);
double run_cuda(const Call& call, Out& out);

// focal::invalid_argument -> ValueError, focal::unavailable_kernel -> RuntimeError: the
// message travels unchanged.
[[noreturn]] void rethrow_focal_error();

}  // namespace focal_torch
