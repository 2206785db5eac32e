// Half-precision logits (fp16, bf16) through any registered fp32 kernel: the generic path.
// The logits are converted exactly to float in bounded chunks (whole rows for the labels
// layout), each chunk goes through the public fp32 entry point with the chosen kernel (so it is
// validated, run and flagged exactly as fp32 input is), the chunk sums are added compensated,
// and the fp32 gradient is rounded to the half dtype (nearest even). Per-backend fused loaders
// (F16C in the SIMD loops, half2 loads on the GPU) can replace this later behind the same API.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "focal/detail/sum.hpp"
#include "focal/focal.hpp"

namespace focal {
namespace {

// Elements per chunk: two float buffers of this size (logits, gradient) stay in L2, and a chunk
// is large enough that a multi-threaded kernel's fork/join cost is small beside it.
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
  if (checked_dtype(dtype) == Dtype::bf16) {
    std::uint32_t b = std::uint32_t{h} << 16;
    if ((b & 0x7fffffffu) > 0x7f800000u) b |= 0x00400000u;  // NaN: quiet, payload kept
    return bits_float(b);
  }
  const std::uint32_t sign = std::uint32_t{h & 0x8000u} << 16;
  const std::uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  if (e == 0x1f) return bits_float(sign | 0x7f800000u | (m << 13) | (m ? 0x00400000u : 0u));
  if (e == 0) {  // zero or subnormal: m * 2^-24, exact in float (normal there)
    const float v = static_cast<float>(m) * 0x1p-24f;
    return bits_float(sign | float_bits(v));
  }
  return bits_float(sign | ((e + 112u) << 23) | (m << 13));  // rebias 15 -> 127
}

std::uint16_t float_to_half(float v, Dtype dtype) {
  const std::uint32_t b = float_bits(v);
  if (checked_dtype(dtype) == Dtype::bf16) {
    if ((b & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((b >> 16) | 0x40u);
    // Round to nearest even on the low 16 bits; a carry moves into the exponent (up to inf).
    return static_cast<std::uint16_t>((b + 0x7fffu + ((b >> 16) & 1u)) >> 16);
  }
  const std::uint16_t sign = static_cast<std::uint16_t>((b >> 16) & 0x8000u);
  const std::uint32_t a = b & 0x7fffffffu;
  if (a > 0x7f800000u) return sign | 0x7e00u | static_cast<std::uint16_t>((a >> 13) & 0x3ffu);
  if (a >= 0x477ff000u) return sign | 0x7c00u;  // >= 65520 (halfway past 65504): inf
  if (a >= 0x38800000u) {                       // normal fp16 (>= 2^-14): drop 13 bits, RNE
    const std::uint32_t r = a - (112u << 23);
    return sign | static_cast<std::uint16_t>((r + 0xfffu + ((r >> 13) & 1u)) >> 13);
  }
  if (a <= 0x33000000u) return sign;  // <= 2^-25 (a tie at 2^-25 goes to even: 0)
  // Subnormal fp16: the value in units of 2^-24 is m * 2^(e - 126), rounded to nearest even.
  const std::uint32_t e = a >> 23, m = (a & 0x7fffffu) | 0x800000u;
  const std::uint32_t s = 126u - e;  // 14..24
  std::uint32_t q = m >> s;
  const std::uint32_t rem = m & ((1u << s) - 1u), halfway = 1u << (s - 1);
  if (rem > halfway || (rem == halfway && (q & 1u))) ++q;  // q may reach 0x400: the least normal
  return sign | static_cast<std::uint16_t>(q);
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

  const std::size_t buf_n = std::min(n, lay.per_chunk);
  std::vector<float> x(buf_n);  // zeroed: validate() may look at it before the first chunk
  std::vector<float> g(outputs.grad.empty() && !outputs.grad_half.empty() ? buf_n : 0);
  const std::uint64_t count =
      dense ? n : check_labels(*label, options, x, lay.per_chunk / label->num_classes);
  const Options copt = chunk_options(options, count);

  detail::CompensatedSum sum;
  std::uint64_t counted = 0;
  for (std::size_t off = 0; off < n; off += lay.per_chunk) {
    const std::size_t len = std::min(lay.per_chunk, n - off);
    const std::span<float> xs(x.data(), len);
    for (std::size_t i = 0; i < len; ++i) xs[i] = half_to_float(lay.logits[off + i], lay.dtype);
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
      for (std::size_t i = 0; i < len; ++i)
        outputs.grad_half[off + i] = float_to_half(out.grad[i], lay.dtype);
  }

  Result res;
  res.sum = sum.value();
  res.count = counted;
  res.value = reduce(options, res.sum, res.count);
  res.kernel = &kernel;
  return res;
}

Result focal_loss(const HalfInput& input, const Options& options, const Outputs& outputs) {
  return focal_loss(best_kernel(), input, options, outputs);
}

}  // namespace focal
