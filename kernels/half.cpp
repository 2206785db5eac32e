// Half-precision logits (fp16, bf16) through any registered fp32 kernel: the generic path.
// The logits are converted exactly to float in bounded chunks (whole rows for the labels
// layout), each chunk goes through the public fp32 entry point with the chosen kernel (so it is
// validated, run and flagged exactly as fp32 input is), the chunk sums are added compensated,
// and the fp32 gradient is rounded to the half dtype (nearest even). A kernel with fused
// loaders (KernelInfo::run_half) runs the whole input itself instead, where it covers the case;
// its conversions are these, bit for bit (test_half_fused).
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "focal/detail/sum.hpp"
#include "focal/focal.hpp"
#include "overlap.hpp"

namespace focal {
namespace {

// Elements per chunk: two float buffers of this size (logits, gradient) stay in L2, and a chunk
// is large enough that a multi-threaded kernel's fork/join cost is small beside it. The labels
// layout takes whole rows, so a row wider than this is a chunk of its own.
constexpr std::size_t kChunk = std::size_t{1} << 17;

std::uint32_t float_bits(float v) {
  std::uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

float bits_float(std::uint32_t b) {
  float v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

// The element conversions. Branch-free (bit masks), so the chunk loops below vectorize (SSE2
// baseline). They stay exact under flush-to-zero / denormals-are-zero: an fp16 subnormal is made
// from an integer (a normal float), and a float subnormal goes to fp16 0 either way.
inline float from_fp16(std::uint16_t h) {
  const std::uint32_t sign = std::uint32_t{h & 0x8000u} << 16;
  const std::uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  const std::uint32_t normal = ((h & 0x7fffu) << 13) + (112u << 23);  // rebias 15 -> 127
  const std::uint32_t sub = float_bits(static_cast<float>(m) * 0x1p-24f);  // exact, normal float
  const std::uint32_t special = 0x7f800000u | (m << 13) | (m ? 0x00400000u : 0u);  // NaN: quiet
  const std::uint32_t is_sub = 0u - (e == 0), is_special = 0u - (e == 0x1f);  // all-ones masks
  return bits_float(sign | (sub & is_sub) | (special & is_special) |
                    (normal & ~(is_sub | is_special)));
}

inline float from_bf16(std::uint16_t h) {
  const std::uint32_t b = std::uint32_t{h} << 16;
  return bits_float(b | ((b & 0x7fffffffu) > 0x7f800000u ? 0x00400000u : 0u));  // NaN: quiet
}

inline std::uint16_t to_fp16(float v) {
  const std::uint32_t b = float_bits(v), a = b & 0x7fffffffu;
  const std::uint32_t sign = (b >> 16) & 0x8000u;
  // Normal fp16 (>= 2^-14): rebias and drop 13 bits, to nearest even (a carry may reach inf,
  // which the overflow test below decides anyway).
  const std::uint32_t r = a - (112u << 23);
  const std::uint32_t normal = (r + 0xfffu + ((r >> 13) & 1u)) >> 13;
  // Below 2^-14: adding 0.5 (whose ULP is 2^-24, the fp16 subnormal spacing) rounds |v| to
  // nearest even in the hardware's default mode; the low bits are then the fp16 pattern (up to
  // 0x400, the least normal).
  const std::uint32_t sub = float_bits(bits_float(a) + 0.5f) - 0x3f000000u;
  const std::uint32_t nan = 0x7e00u | ((a >> 13) & 0x3ffu);  // quiet, top payload bits
  // Masks, not branches: >= 65520 (65504 + half its ULP) is inf, then normal, else subnormal.
  const std::uint32_t is_nan = 0u - (a > 0x7f800000u), is_inf = 0u - (a >= 0x477ff000u);
  const std::uint32_t is_normal = 0u - (a >= 0x38800000u);
  const std::uint32_t finite = (normal & is_normal) | (sub & ~is_normal);
  const std::uint32_t out = (nan & is_nan) | (0x7c00u & is_inf & ~is_nan) | (finite & ~is_inf);
  return static_cast<std::uint16_t>(sign | out);
}

inline std::uint16_t to_bf16(float v) {
  const std::uint32_t b = float_bits(v);
  // Round to nearest even on the low 16 bits; a carry moves into the exponent (up to inf).
  const std::uint32_t rounded = (b + 0x7fffu + ((b >> 16) & 1u)) >> 16;
  return static_cast<std::uint16_t>((b & 0x7fffffffu) > 0x7f800000u ? (b >> 16) | 0x40u : rounded);
}

void to_float(const std::uint16_t* in, float* out, std::size_t n, Dtype d) {
  if (d == Dtype::bf16)
    for (std::size_t i = 0; i < n; ++i) out[i] = from_bf16(in[i]);
  else
    for (std::size_t i = 0; i < n; ++i) out[i] = from_fp16(in[i]);
}

void to_half(const float* in, std::uint16_t* out, std::size_t n, Dtype d) {
  if (d == Dtype::bf16)
    for (std::size_t i = 0; i < n; ++i) out[i] = to_bf16(in[i]);
  else
    for (std::size_t i = 0; i < n; ++i) out[i] = to_fp16(in[i]);
}

[[noreturn]] void bad(const std::string& argument, const std::string& expected,
                      const std::string& got) {
  throw invalid_argument("focal: argument '" + argument + "': expected " + expected + ", got " +
                         got);
}

Dtype checked_dtype(Dtype d) {
  if (d != Dtype::fp16 && d != Dtype::bf16)
    bad("input.dtype", "fp16 or bf16 for half logits (fp32 logits go in DenseInput/LabelInput)",
        d == Dtype::fp32 ? "fp32" : std::to_string(static_cast<int>(d)));
  return d;
}

void check_output(const char* name, std::size_t size, std::size_t n) {
  if (size != 0 && size != n)
    bad(name, "empty or one value per logit (" + std::to_string(n) + ")",
        std::to_string(size) + " values");
}

// The label values are checked by validate() (one definition of the rule), a chunk of rows at a
// time; its message indexes the chunk, so a failing chunk is re-checked row by row and the
// message's index replaced by the row's index in the whole input.
std::uint64_t check_labels(const HalfLabelInput& l, const Options& options,
                           std::span<const float> scratch, std::size_t rows_per_chunk) {
  const std::size_t c = l.num_classes, rows = l.labels.size();
  std::uint64_t count = 0;
  for (std::size_t r0 = 0; r0 < rows; r0 += rows_per_chunk) {
    const std::size_t nr = std::min(rows_per_chunk, rows - r0);
    try {
      count += validate(LabelInput{scratch.first(nr * c), l.labels.subspan(r0, nr), c}, options, {})
                   .count;
    } catch (const invalid_argument&) {
      for (std::size_t r = r0; r < r0 + nr; ++r) {
        try {
          validate(LabelInput{scratch.first(c), l.labels.subspan(r, 1), c}, options, {});
        } catch (const invalid_argument& e) {
          std::string m = e.what();
          const std::string local = "labels[0]";
          if (const auto at = m.find(local); at != std::string::npos)
            m.replace(at, local.size(), "labels[" + std::to_string(r) + "]");
          throw invalid_argument(m);
        }
      }
      throw;
    }
  }
  return count;
}

// The per-chunk options: the gradient scale must be the whole input's (mean: 1/count), which
// the normalizer reduction gives exactly (validate() computes 1.0 / normalizer).
Options chunk_options(const Options& o, std::uint64_t count) {
  Options c = o;
  if (o.reduction == Reduction::mean) {
    c.reduction = count > 0 ? Reduction::normalizer : Reduction::sum;
    c.normalizer = static_cast<double>(count);
  }
  return c;
}

struct Layout {
  std::span<const std::uint16_t> logits;
  Dtype dtype;
  std::size_t per_chunk;  // elements per chunk (whole rows for labels)
};

}  // namespace

std::string_view to_string(Dtype d) {
  switch (d) {
    case Dtype::fp32: return "fp32";
    case Dtype::fp16: return "fp16";
    case Dtype::bf16: return "bf16";
  }
  return "?";
}

float half_to_float(std::uint16_t h, Dtype dtype) {
  return checked_dtype(dtype) == Dtype::bf16 ? from_bf16(h) : from_fp16(h);
}

std::uint16_t float_to_half(float v, Dtype dtype) {
  return checked_dtype(dtype) == Dtype::bf16 ? to_bf16(v) : to_fp16(v);
}

std::size_t element_count(const HalfInput& in) {
  return std::visit([](const auto& v) { return v.logits.size(); }, in);
}

Result focal_loss(const KernelInfo& kernel, const HalfInput& input, const Options& options,
                  const Outputs& outputs) {
  std::string why;
  if (!kernel.available(&why))
    throw unavailable_kernel("focal: kernel '" + std::string(kernel.name) +
                             "' is not available on this machine: " + why);
  const auto* dense = std::get_if<HalfDenseInput>(&input);
  const auto* label = std::get_if<HalfLabelInput>(&input);
  const std::size_t n = element_count(input);

  // Options (and num_classes) by the fp32 rules, then the half input's own shape.
  if (dense) {
    validate(DenseInput{}, options, {});
    if (dense->targets.size() != n)
      bad("targets", "one target per logit (" + std::to_string(n) + ")",
          std::to_string(dense->targets.size()) + " targets");
  } else {
    validate(LabelInput{{}, {}, label->num_classes}, options, {});
    const std::size_t c = label->num_classes;
    if (n % c != 0 || n / c != label->labels.size())
      bad("logits", "labels.size() * num_classes = " + std::to_string(label->labels.size()) +
                        " * " + std::to_string(c) + " logits",
          std::to_string(n) + " logits");
  }
  const Layout lay = dense ? Layout{dense->logits, checked_dtype(dense->dtype), kChunk}
                           : Layout{label->logits, checked_dtype(label->dtype),
                                    std::max<std::size_t>(1, kChunk / label->num_classes) *
                                        label->num_classes};
  check_output("outputs.loss", outputs.loss.size(), n);
  check_output("outputs.grad", outputs.grad.size(), n);
  check_output("outputs.grad_half", outputs.grad_half.size(), n);
  {
    using overlap::Range;
    overlap::check(Range(lay.logits), dense ? Range(dense->targets) : Range(label->labels),
                   dense ? "targets" : "labels",
                   {{"outputs.loss", Range(outputs.loss), false},
                    {"outputs.grad", Range(outputs.grad), false},
                    {"outputs.grad_half", Range(outputs.grad_half), true}});
  }

  const std::size_t buf_n = std::min(n, lay.per_chunk);
  std::vector<float> x(buf_n);  // zeroed: validate() may look at it before the first chunk
  const std::uint64_t count =
      dense ? n : check_labels(*label, options, x, lay.per_chunk / label->num_classes);
  const Options copt = chunk_options(options, count);
  auto result = [&](double total, std::uint64_t counted) {
    Result res;
    res.sum = total;
    res.count = counted;
    res.value = reduce(options, res.sum, res.count);
    res.kernel = &kernel;
    return res;
  };

  // The kernel's fused loaders, where it has them for this case.
  if (kernel.run_half) {
    Partial part;
    if (kernel.run_half(input, validate(DenseInput{}, copt, {}).params, outputs, &part)) {
      // Labels were validated above (a label flag is nothing to report, as for fp32 labels in
      // api.cpp); only dense targets are checked by the kernels.
      if (part.bad_target && dense) throw_if_bad_targets(DenseInput{{}, dense->targets});
      return result(part.sum, part.count);
    }
  }

  // Otherwise: convert a chunk, run the fp32 kernel on it.
  std::vector<float> g(outputs.grad.empty() && !outputs.grad_half.empty() ? buf_n : 0);
  detail::CompensatedSum sum;
  std::uint64_t counted = 0;
  for (std::size_t off = 0; off < n; off += lay.per_chunk) {
    const std::size_t len = std::min(lay.per_chunk, n - off);
    const std::span<float> xs(x.data(), len);
    to_float(lay.logits.data() + off, xs.data(), len, lay.dtype);
    Outputs out;
    if (!outputs.loss.empty()) out.loss = outputs.loss.subspan(off, len);
    if (!outputs.grad.empty()) out.grad = outputs.grad.subspan(off, len);
    else if (!outputs.grad_half.empty()) out.grad = std::span<float>(g.data(), len);
    Result r;
    if (dense) {
      try {
        r = focal_loss(kernel, DenseInput{xs, dense->targets.subspan(off, len)}, copt, out);
      } catch (const invalid_argument&) {
        throw_if_bad_targets(DenseInput{{}, dense->targets});  // the index in the whole input
        throw;
      }
    } else {
      const std::size_t c = label->num_classes;
      r = focal_loss(kernel, LabelInput{xs, label->labels.subspan(off / c, len / c), c}, copt,
                     out);
    }
    sum.add(r.sum);
    counted += r.count;
    if (!outputs.grad_half.empty())
      to_half(out.grad.data(), outputs.grad_half.data() + off, len, lay.dtype);
  }

  return result(sum.value(), counted);
}

Result focal_loss(const HalfInput& input, const Options& options, const Outputs& outputs) {
  return focal_loss(best_kernel(), input, options, outputs);
}

}  // namespace focal
