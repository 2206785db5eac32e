// focal-kernels public API: sigmoid focal loss (Lin et al., torchvision semantics) over
// caller-owned memory, computed by any kernel of the registry.
//
//   FL(x, t) = a_t * (1 - p_t)^gamma * CE(x, t),   p = sigmoid(x)
//   CE = -(t log p + (1-t) log(1-p)),  1 - p_t = t (1-p) + (1-t) p,
//   a_t = t alpha + (1-t)(1-alpha)  (alpha < 0: a_t = 1),  0^0 = 1.
//
// The per-element math lives in focal/math.hpp (one definition for every backend).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>

#include "focal/export.hpp"

FOCAL_API_BEGIN  // exported from a shared build (focal/export.hpp)
namespace focal {

// ---------------------------------------------------------------------------------------------
// Errors. Every bad input is reported as invalid_argument naming the argument and what was
// expected; asking for a kernel this machine cannot run is unavailable_kernel.
// ---------------------------------------------------------------------------------------------
struct invalid_argument : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};
struct unavailable_kernel : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// ---------------------------------------------------------------------------------------------
// Inputs: views over caller memory (host memory; CUDA kernels copy in and out, see
// focal/cuda.hpp for device-resident entry points).
// ---------------------------------------------------------------------------------------------

// Dense layout, binary targets: targets[i] must be 0 or 1.
struct DenseInput {
  std::span<const float> logits;
  std::span<const std::uint8_t> targets;
};

// Dense layout, soft targets: targets[i] in [0, 1] (0 and 1 take the binary path exactly).
struct SoftInput {
  std::span<const float> logits;
  std::span<const float> targets;
};

// Class-label layout (RetinaNet): logits[N * num_classes] row-major, labels[N].
// label in [0, C): that class positive, the other C-1 negative; label == C: background (all
// negative); label < 0: ignored (loss 0, gradient 0, not counted). label > C is an error, and so
// is labels.size() * num_classes overflowing size_t.
struct LabelInput {
  std::span<const float> logits;
  std::span<const std::int32_t> labels;
  std::size_t num_classes = 0;
};

using Input = std::variant<DenseInput, SoftInput, LabelInput>;

// Number of logits (elements) an input covers.
std::size_t element_count(const Input& in);

// Half-precision logits (mixed-precision training), dense u8 targets or class labels. The
// logits are IEEE binary16 (fp16) or bfloat16 (bf16) bit patterns; `dtype` says which (it must
// be set: the default fp32 is rejected). Each logit is converted exactly to float and goes
// through the fp32 kernel's element, so the loss is within that kernel's declared bound of the
// exact loss at the half value. Kernels with a fused path (KernelInfo::run_half: avx2, avx512,
// openmp, cuda_warp, cuda_cub, cuda_cub_device at gamma 0..4) load the halves in their own loop
// (F16C, 16-byte loads of 8 halves on the GPU; bf16 by a shift); otherwise the
// driver (kernels/half.cpp) converts in bounded chunks (whole rows for labels) and runs the
// chosen fp32 kernel on each. Both give the same bits.
enum class Dtype : std::uint8_t { fp32, fp16, bf16 };
std::string_view to_string(Dtype d);  // "fp32", "fp16", "bf16"

struct HalfDenseInput {
  std::span<const std::uint16_t> logits;  // fp16 or bf16 bits, per `dtype`
  std::span<const std::uint8_t> targets;  // 0 or 1, one per logit
  Dtype dtype = Dtype::fp32;
};

struct HalfLabelInput {
  std::span<const std::uint16_t> logits;  // rows x num_classes, fp16 or bf16 bits
  std::span<const std::int32_t> labels;   // as LabelInput
  std::size_t num_classes = 0;
  Dtype dtype = Dtype::fp32;
};

using HalfInput = std::variant<HalfDenseInput, HalfLabelInput>;
std::size_t element_count(const HalfInput& in);

// Exact half -> float (NaN stays NaN with its payload, quiet bit set for bf16 as for fp16).
float half_to_float(std::uint16_t bits, Dtype dtype);
// float -> half, round to nearest even; overflow gives +-inf, NaN a quiet NaN.
std::uint16_t float_to_half(float v, Dtype dtype);

// Optional per-element outputs: an empty span means "not requested"; otherwise the size must
// equal the number of logits. Ignored elements get 0 in both.
// Aliasing: an output may be exactly the logits (in place: loss.data() == logits.data() or
// grad.data() == logits.data(); with half logits grad_half.data() == logits.data()); any other
// overlap -- partial with the logits, a float output over half logits, any with the targets or
// labels, or between outputs -- is an invalid_argument. Bad dense/soft target values are found in
// the kernel's pass (no second pass over the targets), so a call that throws for them has already
// written its outputs: in place, the logits are then gone; call throw_if_bad_targets() first when
// they must survive a bad target.
//   loss[i]: the unreduced loss of element i;
//   grad[i]: d(reduced loss)/d logits[i] (so it already carries 1/count or 1/normalizer).
//   grad_half[i]: the same gradient in the logits' dtype (half inputs only; an error with fp32
//     logits): the fp32 gradient rounded to nearest even. A double rounding, so not always
//     correctly rounded: within 0.5 + B 2^-13 fp16 ULP (2^-16 bf16) of the exact gradient for a
//     kernel bound of B float ULP (test_half). grad and grad_half may both be requested.
// With half inputs the loss stays fp32 (as the sum and the fp32 gradient on request).
struct Outputs {
  std::span<float> loss;
  std::span<float> grad;
  std::span<std::uint16_t> grad_half = {};  // (initialized: Outputs{loss, grad} stays warning-free)
};

enum class Reduction {
  none,        // value = sum; per-element results go to Outputs
  sum,         // value = sum of the loss over counted elements
  mean,        // value = sum / count   (0 when nothing is counted)
  normalizer,  // value = sum / Options::normalizer (RetinaNet: number of foreground anchors)
};

struct Options {
  float alpha = 0.25f;      // <= 1; alpha < 0 disables balancing
  float gamma = 2.0f;       // in [0, 8]: the range whose accuracy is verified (ErrorBound)
  Reduction reduction = Reduction::sum;
  // Used with Reduction::normalizer: in [2^-40, 2^62] (about 9.1e-13 to 4.6e18), so that the
  // gradient scale 1/normalizer is a normal number with exponent in [-62, 40], which the
  // accurate kernels rely on (focal/ff.hpp). (Reduction::mean's 1/count is in that range for
  // count <= 2^62.)
  double normalizer = 1.0;
};

struct KernelInfo;

struct Result {
  double value = 0;             // the reduced loss
  double sum = 0;               // sum of the per-element fp32 losses, accumulated in double
  std::uint64_t count = 0;      // elements that were not ignored
  const KernelInfo* kernel = nullptr;  // the kernel that ran
};

// ---------------------------------------------------------------------------------------------
// Kernel interface (what a backend implements). The driver validates everything first, so a
// kernel sees only checked sizes, alpha, gamma and labels; it reports bad *targets* (dense
// u8 != 0/1, soft outside [0,1] or NaN) through Partial::bad_target instead of checking in a
// separate pass, and the driver then locates and reports the first bad index.
// ---------------------------------------------------------------------------------------------
struct Params {
  float alpha;        // validated, <= 1
  float gamma;        // validated, in [0, 8]
  double grad_scale;  // 1, 1/count or 1/normalizer (0 or in [2^-62, 2^40]): applied to every
                      // gradient written
};

struct Partial {
  double sum = 0;
  std::uint64_t count = 0;
  bool bad_target = false;
};

using RunFn = Partial (*)(const Input& in, const Params& params, const Outputs& out);
// A kernel's fused half-precision path (optional): runs a validated half input with loads of
// the half logits inside its own loop. Returns false, having written nothing, for a case it
// does not fuse (the driver then converts the logits to fp32 in chunks and calls run).
using RunHalfFn = bool (*)(const HalfInput& in, const Params& params, const Outputs& out,
                           Partial* result);

// Declared accuracy, per element, for loss and gradient (gradient with soft targets: relative
// to the larger of its two terms, since it crosses zero).
struct ErrorBound {
  double ulp;        // max ULP vs the correctly rounded value, gamma in {0, 1, 2, 3, 4}
  double rel_other;  // max relative error for any other gamma in [0, 8]
};

struct KernelInfo {
  std::string_view name;     // stable: "scalar", "avx2", "avx512", "openmp", "cuda_warp", ...
  std::string_view backend;  // "scalar", "simd", "openmp", "cuda"
  std::string_view isa;      // "x86-64", "avx2+fma", "avx512f", "sm_90", ...
  ErrorBound bound;
  // Name of a kernel whose per-element outputs are bitwise identical to this one's (empty if
  // none); focal-verify checks such pairs bit for bit.
  std::string_view bitwise_equal_to;
  int priority;  // higher wins in best_kernel()
  bool (*available)(std::string* why_not);
  RunFn run;
  RunHalfFn run_half = nullptr;  // null: half inputs are converted by the driver (half.cpp)

  bool is_available() const { return available(nullptr); }
  std::string unavailable_reason() const;
};

// ---------------------------------------------------------------------------------------------
// Registry
// ---------------------------------------------------------------------------------------------
std::span<const KernelInfo> kernels();
// Throws invalid_argument (listing the known names) for an unknown name.
const KernelInfo& find_kernel(std::string_view name);
// FOCAL_KERNEL=<name> in the environment forces a kernel (an error if unknown or unavailable);
// otherwise the available kernel with the highest priority.
const KernelInfo& best_kernel();

// ---------------------------------------------------------------------------------------------
// The entry points: one pass computes the sum, the count, and the requested per-element
// outputs. Throws invalid_argument on bad input, unavailable_kernel if `kernel` cannot run.
// ---------------------------------------------------------------------------------------------
Result focal_loss(const KernelInfo& kernel, const Input& input, const Options& options = {},
                  const Outputs& outputs = {});
Result focal_loss(const Input& input, const Options& options = {}, const Outputs& outputs = {});
// Half-precision logits: the same contract (kernels/half.cpp).
Result focal_loss(const KernelInfo& kernel, const HalfInput& input, const Options& options = {},
                  const Outputs& outputs = {});
Result focal_loss(const HalfInput& input, const Options& options = {}, const Outputs& outputs = {});

// Checks everything the driver checks (all but the targets' values, which kernels flag) and
// returns the kernel parameters and the number of counted elements (for tools and backends
// that drive kernels themselves, e.g. benchmarks of device-resident data).
struct Checked {
  Params params;
  std::uint64_t count;
};
Checked validate(const Input& input, const Options& options, const Outputs& outputs);

// After a kernel set Partial::bad_target: throws invalid_argument naming the first bad target
// (index and value). Does nothing if every target is valid.
void throw_if_bad_targets(const Input& input);

// Final value of a reduction, given the kernel's sum and count.
double reduce(const Options& options, double sum, std::uint64_t count);

}  // namespace focal
FOCAL_API_END
