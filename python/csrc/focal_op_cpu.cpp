// focal_kernels::forward on host tensors: one call of focal::focal_loss (the registry's best
// kernel, or the one named by `kernel`).
#include <span>

#include "focal_op.hpp"

namespace focal_torch {

namespace {

// float16/bfloat16 logits: the library's half path (bits + dtype; gradient in the same dtype).
double run_half(const Call& call, Out& out, const focal::KernelInfo& k) {
  const std::size_t n = static_cast<std::size_t>(call.logits.numel());
  const std::span<const std::uint16_t> x(static_cast<const std::uint16_t*>(call.logits.data_ptr()), n);
  const std::size_t nt = static_cast<std::size_t>(call.targets.numel());
  focal::HalfInput input;
  if (call.layout == Call::Layout::labels)
    input = focal::HalfLabelInput{x, {call.targets.data_ptr<std::int32_t>(), nt},
                                  static_cast<std::size_t>(call.num_classes), call.dtype};
  else
    input = focal::HalfDenseInput{x, {call.targets.data_ptr<std::uint8_t>(), nt}, call.dtype};
  focal::Outputs outputs;
  if (out.loss.defined()) outputs.loss = {out.loss.data_ptr<float>(), n};
  if (call.with_grad) outputs.grad_half = {static_cast<std::uint16_t*>(out.grad.data_ptr()), n};
  return focal::focal_loss(k, input, call.options, outputs).value;
}

}  // namespace

double run_cpu(const Call& call, Out& out) {
  if (call.dtype != focal::Dtype::fp32) {
    try {
      return run_half(call, out, call.kernel ? focal::find_kernel(*call.kernel) : focal::best_kernel());
    } catch (const focal::invalid_argument&) {
      rethrow_focal_error();
    } catch (const focal::unavailable_kernel&) {
      rethrow_focal_error();
    }
  }
  const std::size_t n = static_cast<std::size_t>(call.logits.numel());
  const std::span<const float> x(call.logits.data_ptr<float>(), n);
  const std::size_t nt = static_cast<std::size_t>(call.targets.numel());
  focal::Input input;
  switch (call.layout) {
    case Call::Layout::dense:
      input = focal::DenseInput{x, {call.targets.data_ptr<std::uint8_t>(), nt}};
      break;
    case Call::Layout::soft:
      input = focal::SoftInput{x, {call.targets.data_ptr<float>(), nt}};
      break;
    case Call::Layout::labels:
      input = focal::LabelInput{x, {call.targets.data_ptr<std::int32_t>(), nt},
                                static_cast<std::size_t>(call.num_classes)};
      break;
  }
  focal::Outputs outputs;
  if (out.loss.defined()) outputs.loss = {out.loss.data_ptr<float>(), n};
  if (call.with_grad) outputs.grad = {out.grad.data_ptr<float>(), n};
  try {
    const focal::KernelInfo& k = call.kernel ? focal::find_kernel(*call.kernel) : focal::best_kernel();
    return focal::focal_loss(k, input, call.options, outputs).value;
  } catch (const focal::invalid_argument&) {
    rethrow_focal_error();
  } catch (const focal::unavailable_kernel&) {
    rethrow_focal_error();
  }
}

}  // namespace focal_torch
