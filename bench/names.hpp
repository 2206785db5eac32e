// The one definition of what focal-bench writes, shared by focal_bench.cpp (CPU) and
// cuda_bench.cu (CUDA): benchmark names, layout words, argument names, counters and the bytes a
// benchmark counts. scripts/lib/names.py reads these names (its test lists focal-bench's
// benchmarks and parses every one, so a change here that the scripts miss fails a test).
//
// Names (Google Benchmark named arguments):
//   focal_sum/<kernel>/<layout>/n:<n>[/threads:<k>]   loss sum only (no per-element output)
//   focal_grad/<kernel>/<layout>/n:<n>[/threads:<k>]  sum + fp32 gradient written, one pass
//   probe_read/n:<n>, probe_copy/n:<n>                CPU memory ceilings over the dense input's bytes
//   probe_cuda_read/n:<n>, probe_cuda_copy/n:<n>      the same on the GPU
// Google Benchmark appends /real_time (CPU) or /manual_time (CUDA, CUDA-event timing).
// Counters: items_per_second = logits per second; bytes_per_second = the bytes the op must move
// (moved_bytes below); frac_read / frac_copy = bytes_per_second over the probe's at the same n;
// bytes_per_logit = the bytes moved per logit (5 for dense fp32 sum, 3 for dense fp16 sum, ...).
#pragma once

#include <cstddef>
#include <string>

namespace focal::bench {

inline constexpr const char* kOpSum = "focal_sum";
inline constexpr const char* kOpGrad = "focal_grad";

inline constexpr const char* kProbeRead = "probe_read";          // sums the dense input's bytes
inline constexpr const char* kProbeCopy = "probe_copy";          // copies n fp32 (read + write)
inline constexpr const char* kProbeCudaRead = "probe_cuda_read";  // cub::DeviceReduce over 5n bytes
inline constexpr const char* kProbeCudaCopy = "probe_cuda_copy";  // device-to-device copy of 5n bytes
// Host <-> device transfers for a caller whose data is on the host (pinned memory): the dense
// input's 5n bytes up, an fp32 gradient's 4n bytes down (scripts/choose-kernel --data host).
inline constexpr const char* kProbeCudaH2D = "probe_cuda_h2d";
inline constexpr const char* kProbeCudaD2H = "probe_cuda_d2h";

inline constexpr const char* kArgN = "n";              // logits per call
inline constexpr const char* kArgThreads = "threads";  // OpenMP threads (openmp kernels only)

inline constexpr const char* kCounterFracRead = "frac_read";
inline constexpr const char* kCounterFracCopy = "frac_copy";
inline constexpr const char* kCounterBytesPerLogit = "bytes_per_logit";  // moved_bytes / logits

// The labels layout: RetinaNet's COCO head, 80 classes (n / 80 rows of logits + one int32
// label per row).
inline constexpr std::size_t kLabelClasses = 80;

// Input layouts; the *_fp16 / *_bf16 ones take half logits (focal::HalfDenseInput /
// HalfLabelInput) and write the gradient in the logits' dtype.
enum class Layout { dense, soft, labels, dense_fp16, dense_bf16, labels_fp16, labels_bf16 };
inline constexpr Layout kLayouts[] = {Layout::dense,       Layout::soft,       Layout::labels,
                                      Layout::dense_fp16,  Layout::dense_bf16, Layout::labels_fp16,
                                      Layout::labels_bf16};
// focal-bench's default set (soft and the half labels layouts on request).
inline constexpr Layout kDefaultLayouts[] = {Layout::dense, Layout::labels, Layout::dense_fp16,
                                             Layout::dense_bf16};

// The same word on every backend.
inline const char* layout_word(Layout l) {
  switch (l) {
    case Layout::dense: return "dense";
    case Layout::soft: return "soft";
    case Layout::labels: return "labels_c80";
    case Layout::dense_fp16: return "dense_fp16";
    case Layout::dense_bf16: return "dense_bf16";
    case Layout::labels_fp16: return "labels_c80_fp16";
    case Layout::labels_bf16: return "labels_c80_bf16";
  }
  return "?";
}
// Layout from its word; false when the word is unknown.
inline bool parse_layout(const std::string& word, Layout* out) {
  for (Layout l : kLayouts)
    if (word == layout_word(l)) {
      *out = l;
      return true;
    }
  return false;
}
// "dense, soft, labels_c80, ...": for messages.
inline std::string layout_words() {
  std::string s;
  for (Layout l : kLayouts) s += std::string(s.empty() ? "" : ", ") + layout_word(l);
  return s;
}

inline bool is_labels(Layout l) {
  return l == Layout::labels || l == Layout::labels_fp16 || l == Layout::labels_bf16;
}
inline bool is_half(Layout l) {
  return l == Layout::dense_fp16 || l == Layout::dense_bf16 || l == Layout::labels_fp16 ||
         l == Layout::labels_bf16;
}
inline bool is_bf16(Layout l) { return l == Layout::dense_bf16 || l == Layout::labels_bf16; }

// Logits actually used for n wanted: the labels layout keeps whole rows.
inline std::size_t layout_logits(Layout l, std::size_t n) {
  return is_labels(l) ? n / kLabelClasses * kLabelClasses : n;
}

// Bytes one call must move for `logits` logits: each input byte read once, the gradient (when
// written, in the logits' type) once. Per logit: the logit (4 B fp32, 2 B half) + its target
// (1 B u8 dense, 4 B fp32 soft, one 4 B label per 80 logits).
inline double moved_bytes(Layout l, std::size_t logits, bool grad) {
  const double n = double(logits), logit = is_half(l) ? 2.0 : 4.0;
  const double target = l == Layout::soft ? 4.0 * n
                        : is_labels(l)    ? 4.0 * double(logits / kLabelClasses)
                                          : n;
  return logit * n + target + (grad ? logit * n : 0.0);
}

// "focal_sum/avx512/dense": the benchmark family; Google Benchmark adds "/n:<n>[/threads:<k>]".
inline std::string kernel_family(bool grad, const std::string& kernel, Layout l) {
  return std::string(grad ? kOpGrad : kOpSum) + "/" + kernel + "/" + layout_word(l);
}

}  // namespace focal::bench
