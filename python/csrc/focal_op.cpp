// The focal_kernels torch library: the ops' schemas, argument checking, the autograd kernel and
// the device-independent glue. Per-device work is in focal_op_cpu.cpp / focal_op_cuda.cpp.
//
//   focal_kernels::sigmoid_focal_loss         torchvision's function (any shape, soft or 0/1 targets)
//   focal_kernels::sigmoid_focal_loss_labels  RetinaNet's class-label layout ([N, C], labels [N])
//   focal_kernels::forward                    both, below autograd: (loss, grad) in one pass
//
// Backward reuses the gradient that forward computed in the same pass (saved, scaled by
// grad_output); nothing is evaluated twice.
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/autograd.h>
#include <torch/library.h>

#include <exception>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "focal_op.hpp"

namespace focal_torch {
namespace {

using at::Tensor;
using OptStr = c10::optional<c10::string_view>;

template <class StringView>  // c10::string_view or std::string_view (the same type in newer torch)
std::string str(const StringView& s) {
  return std::string(s.data(), s.size());
}

std::string dtype_name(const Tensor& t) {
  switch (t.scalar_type()) {
    case at::kFloat: return "torch.float32";
    case at::kDouble: return "torch.float64";
    case at::kHalf: return "torch.float16";
    case at::kBFloat16: return "torch.bfloat16";
    case at::kLong: return "torch.int64";
    case at::kInt: return "torch.int32";
    case at::kShort: return "torch.int16";
    case at::kChar: return "torch.int8";
    case at::kByte: return "torch.uint8";
    case at::kBool: return "torch.bool";
    default: return std::string("torch.") + c10::toString(t.scalar_type());
  }
}

std::string shape(at::IntArrayRef s) {
  std::string r = "[";
  for (std::size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

// Labels come as int64 in torch; focal takes int32. Values are checked (> C is an error) before
// the conversion, and every negative value (ignored) is clamped to -1 so none wraps around.
Tensor labels_as_int32(const Tensor& labels, std::int64_t c) {
  if (labels.scalar_type() == at::kInt) return labels.contiguous();
  if (labels.numel() > 0) {
    const Tensor bad = (labels > c).nonzero();
    if (bad.size(0) > 0) {
      const std::int64_t i = bad[0][0].item<std::int64_t>();
      TORCH_CHECK_VALUE(false, "focal_kernels: argument 'labels[", i, "]': expected a class in [0, ", c - 1,
                        "], ", c, " (background) or < 0 (ignored), got ", labels[i].item<std::int64_t>());
    }
  }
  return labels.clamp_min(-1).to(at::kInt).contiguous();
}

}  // namespace

[[noreturn]] void rethrow_focal_error() {
  try {
    throw;
  } catch (const focal::invalid_argument& e) {
    TORCH_CHECK_VALUE(false, e.what());
  } catch (const focal::unavailable_kernel& e) {
    TORCH_CHECK(false, e.what());
  }
}

namespace {

// Checks everything but values (the library checks those) and builds the call: contiguous
// tensors of the library's types.
Call make_call(const Tensor& logits, const Tensor& targets, std::int64_t num_classes, double alpha,
               double gamma, c10::string_view reduction, c10::optional<double> normalizer,
               OptStr kernel, bool with_grad) {
  const bool labels = num_classes >= 0;
  const char* xname = labels ? "logits" : "inputs";
  const char* tname = labels ? "labels" : "targets";
  const auto xt = logits.scalar_type();
  TORCH_CHECK_TYPE(xt == at::kFloat || xt == at::kHalf || xt == at::kBFloat16, "focal_kernels: argument '",
                   xname, "': expected a torch.float32, torch.float16 or torch.bfloat16 tensor, got ",
                   dtype_name(logits), " (convert with .float())");
  TORCH_CHECK_VALUE(targets.device() == logits.device(), "focal_kernels: argument '", tname,
                    "': expected a tensor on ", logits.device(), " (the device of ", xname, "), got ",
                    targets.device());
  Call call;
  call.num_classes = num_classes;
  call.dtype = xt == at::kHalf ? focal::Dtype::fp16 : xt == at::kBFloat16 ? focal::Dtype::bf16 : focal::Dtype::fp32;
  call.kernel = kernel ? c10::optional<std::string>(str(*kernel)) : c10::nullopt;
  call.with_grad = with_grad;
  call.options.alpha = static_cast<float>(alpha);
  call.options.gamma = static_cast<float>(gamma);
  const std::string red = str(reduction);
  if (red == "none") call.options.reduction = focal::Reduction::none;
  else if (red == "sum") call.options.reduction = focal::Reduction::sum;
  else if (red == "mean") call.options.reduction = focal::Reduction::mean;
  else
    TORCH_CHECK_VALUE(false, "focal_kernels: argument 'reduction': expected 'none', 'mean' or 'sum', got '",
                      red, "'");
  call.torch_mean = !labels && red == "mean";
  if (normalizer) {
    TORCH_CHECK_VALUE(labels && red == "sum", "focal_kernels: argument 'normalizer': only with "
                      "reduction='sum' (the loss is then sum / normalizer), got reduction='", red, "'");
    call.options.reduction = focal::Reduction::normalizer;
    call.options.normalizer = *normalizer;
  }

  if (labels) {
    TORCH_CHECK_TYPE(targets.scalar_type() == at::kLong || targets.scalar_type() == at::kInt,
                     "focal_kernels: argument 'labels': expected a torch.int64 or torch.int32 tensor, got ",
                     dtype_name(targets));
    TORCH_CHECK_VALUE(logits.dim() == 2 && logits.size(1) >= 1, "focal_kernels: argument 'logits': "
                      "expected a [N, C] tensor with C >= 1, got shape ", shape(logits.sizes()));
    TORCH_CHECK_VALUE(targets.dim() == 1 && targets.size(0) == logits.size(0), "focal_kernels: argument "
                      "'labels': expected shape [", logits.size(0), "] (one label per row of logits), got ",
                      shape(targets.sizes()));
    call.layout = Call::Layout::labels;
  } else {
    const auto tt = targets.scalar_type();
    TORCH_CHECK_TYPE(tt == at::kFloat || tt == at::kBool || tt == at::kByte, "focal_kernels: argument "
                     "'targets': expected torch.float32 (soft or 0/1 targets) or torch.bool/torch.uint8 "
                     "(0/1 targets), got ", dtype_name(targets));
    // As torchvision (binary_cross_entropy_with_logits): no broadcasting.
    TORCH_CHECK_VALUE(targets.sizes() == logits.sizes(), "focal_kernels: argument 'targets': expected "
                      "the shape of inputs ", shape(logits.sizes()), ", got ", shape(targets.sizes()));
    call.layout = tt == at::kFloat ? Call::Layout::soft : Call::Layout::dense;
    // The library's half path takes 0/1 targets only (HalfDenseInput).
    TORCH_CHECK_TYPE(call.layout == Call::Layout::dense || call.dtype == focal::Dtype::fp32, "focal_kernels: "
                     "argument 'targets': with ", dtype_name(logits), " inputs expected torch.bool or "
                     "torch.uint8 0/1 targets, got ", dtype_name(targets), " (soft targets need float32 inputs)");
  }
  call.logits = logits.contiguous();
  switch (call.layout) {
    case Call::Layout::labels: call.targets = labels_as_int32(targets, logits.size(1)); break;
    case Call::Layout::dense:
      call.targets = (targets.scalar_type() == at::kBool ? targets.view(at::kByte) : targets).contiguous();
      break;
    case Call::Layout::soft: call.targets = targets.contiguous(); break;
  }
  return call;
}

using ForwardFn = std::tuple<Tensor, Tensor>(const Tensor&, const Tensor&, std::int64_t, double, double,
                                             c10::string_view, c10::optional<double>, OptStr, bool);

template <bool Cuda>
std::tuple<Tensor, Tensor> forward_impl(const Tensor& logits, const Tensor& targets, std::int64_t num_classes,
                                        double alpha, double gamma, c10::string_view reduction,
                                        c10::optional<double> normalizer, OptStr kernel, bool with_grad) {
  const Call call = make_call(logits, targets, num_classes, alpha, gamma, reduction, normalizer, kernel,
                              with_grad);
  // Results in the logits' dtype, as torchvision's (a half loss is the fp32 loss rounded once).
  const auto opts = logits.options();
  Out out;
  if (call.options.reduction == focal::Reduction::none) out.loss = at::empty(logits.sizes(), opts.dtype(at::kFloat));
  out.grad = with_grad ? at::empty(logits.sizes(), opts) : at::empty({0}, opts);
  double value = Cuda ? run_cuda(call, out) : run_cpu(call, out);
  if (call.options.reduction == focal::Reduction::none) return {out.loss.to(logits.scalar_type()), out.grad};
  if (call.torch_mean && logits.numel() == 0) value = std::numeric_limits<double>::quiet_NaN();  // torch's mean
  return {at::scalar_tensor(value, opts.dtype(at::kFloat)).to(logits.scalar_type()), out.grad};
}

// ---- autograd: forward once with the gradient, backward = saved gradient * grad_output ----
const c10::TypedOperatorHandle<ForwardFn>& forward_op() {
  static const auto op =
      c10::Dispatcher::singleton().findSchemaOrThrow("focal_kernels::forward", "").typed<ForwardFn>();
  return op;
}

struct FocalFunction : torch::autograd::Function<FocalFunction> {
  static Tensor forward(torch::autograd::AutogradContext* ctx, const Tensor& logits, const Tensor& targets,
                        std::int64_t num_classes, double alpha, double gamma, std::string reduction,
                        c10::optional<double> normalizer, c10::optional<std::string> kernel) {
    at::AutoDispatchBelowADInplaceOrView guard;
    const OptStr k = kernel ? OptStr(c10::string_view(*kernel)) : c10::nullopt;
    auto [loss, grad] = forward_op().call(logits, targets, num_classes, alpha, gamma,
                                          c10::string_view(reduction), normalizer, k, true);
    ctx->save_for_backward({grad});
    return loss;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    // The saved gradient is a constant of this pass: a second derivative through it would be
    // silently wrong (0), so it is refused.
    TORCH_CHECK(!at::GradMode::is_enabled(), "focal_kernels: the second derivative is not "
                "implemented (backward with create_graph=True)");
    const Tensor grad = ctx->get_saved_variables()[0];
    // reduction none: grad_output has the loss's shape; sum/mean: a scalar (broadcast).
    return {grad * grad_outputs[0], Tensor(), Tensor(), Tensor(), Tensor(), Tensor(), Tensor(), Tensor()};
  }
};

Tensor loss_autograd(const Tensor& logits, const Tensor& targets, std::int64_t num_classes, double alpha,
                     double gamma, c10::string_view reduction, c10::optional<double> normalizer, OptStr kernel) {
  const char* tname = num_classes >= 0 ? "labels" : "targets";
  TORCH_CHECK_VALUE(!targets.requires_grad(), "focal_kernels: argument '", tname, "': the gradient "
                    "with respect to the targets is not computed; pass targets.detach()");
  if (logits.requires_grad() && at::GradMode::is_enabled()) {
    c10::optional<std::string> k = kernel ? c10::optional<std::string>(str(*kernel)) : c10::nullopt;
    return FocalFunction::apply(logits, targets, num_classes, alpha, gamma, str(reduction), normalizer, k);
  }
  at::AutoDispatchBelowADInplaceOrView guard;
  return std::get<0>(forward_op().call(logits, targets, num_classes, alpha, gamma, reduction, normalizer,
                                       kernel, false));
}

// The user-facing ops: below autograd (inference, meta) they are the forward op without grad.
Tensor sfl_autograd(const Tensor& inputs, const Tensor& targets, double alpha, double gamma,
                    c10::string_view reduction, OptStr kernel) {
  return loss_autograd(inputs, targets, -1, alpha, gamma, reduction, c10::nullopt, kernel);
}
Tensor sfl_plain(const Tensor& inputs, const Tensor& targets, double alpha, double gamma,
                 c10::string_view reduction, OptStr kernel) {
  return std::get<0>(forward_op().call(inputs, targets, -1, alpha, gamma, reduction, c10::nullopt, kernel, false));
}
Tensor labels_autograd(const Tensor& logits, const Tensor& labels, double alpha, double gamma,
                       c10::string_view reduction, c10::optional<double> normalizer, OptStr kernel) {
  return loss_autograd(logits, labels, logits.dim() == 2 ? logits.size(1) : 0, alpha, gamma, reduction,
                       normalizer, kernel);
}
Tensor labels_plain(const Tensor& logits, const Tensor& labels, double alpha, double gamma,
                    c10::string_view reduction, c10::optional<double> normalizer, OptStr kernel) {
  return std::get<0>(forward_op().call(logits, labels, logits.dim() == 2 ? logits.size(1) : 0, alpha, gamma,
                                       reduction, normalizer, kernel, false));
}

// The registry: "name available|unavailable backend ulp", in the registry's order (ulp: the
// declared per-element bound for gamma 0..4).
std::vector<std::string> kernel_list() {
  std::vector<std::string> r;
  for (const focal::KernelInfo& k : focal::kernels())
    r.push_back(str(k.name) + (k.is_available() ? " available " : " unavailable ") + str(k.backend) + " " +
                std::to_string(k.bound.ulp));
  return r;
}

// The kernel the ops use when none is named (FOCAL_KERNEL, else the registry's best).
std::string best_kernel_name() {
  try {
    return str(focal::best_kernel().name);
  } catch (...) {
    rethrow_focal_error();
  }
}

}  // namespace

#ifndef FOCAL_TORCH_CUDA
double run_cuda(const Call&, Out&) {
  TORCH_CHECK(false, "focal_kernels: this build has no CUDA kernels (built without nvcc or against a "
              "CPU-only torch); move the tensors to the CPU or rebuild with CUDA");
}
#endif

}  // namespace focal_torch

TORCH_LIBRARY(focal_kernels, m) {
  m.def("kernels() -> str[]", &focal_torch::kernel_list);
  m.def("best_kernel() -> str", &focal_torch::best_kernel_name);
  m.def("forward(Tensor logits, Tensor targets, int num_classes, float alpha, float gamma, str reduction, "
        "float? normalizer, str? kernel, bool with_grad) -> (Tensor, Tensor)");
  m.def("sigmoid_focal_loss(Tensor inputs, Tensor targets, float alpha=0.25, float gamma=2., "
        "str reduction=\"none\", *, str? kernel=None) -> Tensor");
  m.def("sigmoid_focal_loss_labels(Tensor logits, Tensor labels, float alpha=0.25, float gamma=2., "
        "str reduction=\"sum\", float? normalizer=None, *, str? kernel=None) -> Tensor");
}

TORCH_LIBRARY_IMPL(focal_kernels, CPU, m) { m.impl("forward", &focal_torch::forward_impl<false>); }
TORCH_LIBRARY_IMPL(focal_kernels, CUDA, m) { m.impl("forward", &focal_torch::forward_impl<true>); }
TORCH_LIBRARY_IMPL(focal_kernels, Autograd, m) {
  m.impl("sigmoid_focal_loss", &focal_torch::sfl_autograd);
  m.impl("sigmoid_focal_loss_labels", &focal_torch::labels_autograd);
}
TORCH_LIBRARY_IMPL(focal_kernels, CompositeExplicitAutograd, m) {
  m.impl("sigmoid_focal_loss", &focal_torch::sfl_plain);
  m.impl("sigmoid_focal_loss_labels", &focal_torch::labels_plain);
}
