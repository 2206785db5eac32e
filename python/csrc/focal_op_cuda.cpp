// focal_kernels::forward on CUDA tensors: the device-pointer API (focal/cuda.hpp) enqueued on
// torch's current stream, reading and writing the tensors in place (no host copies). The sum
// comes back through the library's workspace, which waits for that stream.
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include <map>
#include <memory>
#include <string>

#include <focal/cuda.hpp>

#include "focal_op.hpp"

namespace focal_torch {
namespace {

focal::cuda::Reducer reducer_for(const c10::optional<std::string>& kernel) {
  if (!kernel || *kernel == "cuda_warp") return focal::cuda::Reducer::warp;
  if (*kernel == "cuda_cub") return focal::cuda::Reducer::cub_block;
  if (*kernel == "cuda_cub_device") return focal::cuda::Reducer::cub_device;
  if (*kernel == "cuda_warp_fast") return focal::cuda::Reducer::warp_fast;
  TORCH_CHECK_VALUE(false, "focal_kernels: argument 'kernel': the inputs are on a CUDA device: expected "
                    "'cuda_warp', 'cuda_cub', 'cuda_cub_device' or 'cuda_warp_fast', got '", *kernel, "'");
}

// One workspace per device and thread (a workspace serves one computation at a time).
focal::cuda::Workspace& workspace(int device) {
  thread_local std::map<int, std::unique_ptr<focal::cuda::Workspace>> all;
  auto& w = all[device];
  if (!w) w = std::make_unique<focal::cuda::Workspace>();
  return *w;
}

// The first bad target, found on the device with torch ops (only after the kernel flagged one).
[[noreturn]] void report_bad_target(const Call& call) {
  const at::Tensor t = call.targets.flatten();
  at::Tensor bad;
  std::string expected;
  switch (call.layout) {
    case Call::Layout::dense: bad = t > 1; expected = "0 or 1"; break;
    case Call::Layout::soft: bad = (t >= 0).logical_and(t <= 1).logical_not(); expected = "a value in [0, 1]"; break;
    case Call::Layout::labels:
      bad = t > call.num_classes;
      expected = "a class in [0, " + std::to_string(call.num_classes - 1) + "], " +
                 std::to_string(call.num_classes) + " (background) or < 0 (ignored)";
      break;
  }
  const at::Tensor idx = bad.nonzero();
  TORCH_CHECK(idx.size(0) > 0, "focal_kernels: the CUDA kernel flagged a bad target but none was found");
  const std::int64_t i = idx[0][0].item<std::int64_t>();
  const char* name = call.layout == Call::Layout::labels ? "labels" : "targets";
  TORCH_CHECK_VALUE(false, "focal_kernels: argument '", name, "[", i, "]': expected ", expected, ", got ",
                    t[i].item().toDouble());
}

}  // namespace

double run_cuda(const Call& call, Out& out) {
  TORCH_CHECK_TYPE(call.dtype == focal::Dtype::fp32, "focal_kernels: argument 'inputs': float16/bfloat16 "
                   "logits are not supported on CUDA yet (the library's half path is host-only); use .float()");
  const c10::cuda::CUDAGuard guard(call.logits.device());
  const int device = call.logits.device().index();
  const auto stream = reinterpret_cast<focal::cuda::Stream>(c10::cuda::getCurrentCUDAStream(device).stream());
  const std::size_t n = static_cast<std::size_t>(call.logits.numel());
  const float* x = call.logits.data_ptr<float>();
  focal::cuda::DeviceInput input;
  std::uint64_t count = n;
  switch (call.layout) {
    case Call::Layout::dense:
      input = focal::cuda::DenseDeviceInput{x, call.targets.data_ptr<std::uint8_t>(), n};
      break;
    case Call::Layout::soft:
      input = focal::cuda::SoftDeviceInput{x, call.targets.data_ptr<float>(), n};
      break;
    case Call::Layout::labels: {
      const std::size_t rows = static_cast<std::size_t>(call.targets.numel());
      input = focal::cuda::LabelDeviceInput{x, call.targets.data_ptr<std::int32_t>(), rows,
                                            static_cast<std::size_t>(call.num_classes)};
      count = static_cast<std::uint64_t>((call.targets >= 0).sum().item<std::int64_t>()) *
              static_cast<std::uint64_t>(call.num_classes);
      break;
    }
  }
  try {
    // alpha, gamma, normalizer as the host driver checks them; the gradient scale from the count.
    focal::Options host = call.options;
    if (host.reduction == focal::Reduction::mean) host.reduction = focal::Reduction::sum;
    focal::Params params = focal::validate(focal::DenseInput{}, host, {}).params;
    if (call.options.reduction == focal::Reduction::mean) params.grad_scale = count ? 1.0 / double(count) : 0.0;
    focal::cuda::DeviceOutputs outputs;
    if (out.loss.defined()) outputs.loss = out.loss.data_ptr<float>();
    if (call.with_grad) outputs.grad = out.grad.data_ptr<float>();
    focal::cuda::Workspace& ws = workspace(device);
    ws.enqueue(reducer_for(call.kernel), input, params, outputs, stream);
    const focal::Partial part = ws.result(stream);
    if (part.bad_target) report_bad_target(call);
    return focal::reduce(call.options, part.sum, part.count);
  } catch (const focal::invalid_argument&) {
    rethrow_focal_error();
  } catch (const focal::unavailable_kernel&) {
    rethrow_focal_error();
  } catch (const focal::cuda_error& e) {
    TORCH_CHECK(false, "focal_kernels: CUDA: ", e.what());
  }
}

}  // namespace focal_torch
