// The SIMD kernel body: one template over xsimd::batch<double, Arch>, compiled once per target
// (simd_avx2.cpp, simd_avx512.cpp) with that target's flags. Included ONLY by those files.
//
// Per element it evaluates focal/math.hpp through VecOps (simd_ops.hpp) in double lanes and
// rounds the loss and the gradient to float once: error <= 0.5 ULP + (gamma+1) 2^-34 + 2^-28
// relative before that rounding (see simd_ops.hpp), over the whole float range of x, subnormal
// results included. Dense u8, soft f32 and class-label layouts.
//
// Sum: each lane accumulates the rounded fp32 losses in double over a block of kBlockVectors
// vectors (<= 512 terms per lane: relative error <= 512 * 2^-53 < 6e-14, all terms >= 0),
// the block's lanes are added in a fixed order, and blocks are combined by compensated
// (Neumaier) summation, so the sum is within ~1e-13 of the exact sum of the fp32 losses for any
// n and is the same whether or not outputs are requested.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "focal/detail/sum.hpp"
#include "focal/focal.hpp"
#include "focal/math.hpp"
#include "simd_entry.hpp"
#include "simd_ops.hpp"

namespace focal::simd {

// Block-wise sum of rounded losses in double lanes (see the header comment).
template <class Arch>
class BlockSum {
  using D = xsimd::batch<double, Arch>;
  static constexpr std::size_t kBlockVectors = 512;

 public:
  void add(D v) {
    acc_ += v;
    if (++vectors_ == kBlockVectors) flush();
  }
  void add_scalar(double v) { blocks_.add(v); }  // tails: one term at a time
  double value() {
    flush();
    return blocks_.value();
  }

 private:
  void flush() {
    if (vectors_ == 0) return;
    blocks_.add(xsimd::hadd(acc_));
    acc_ = D(0.0);
    vectors_ = 0;
  }
  D acc_ = D(0.0);
  std::size_t vectors_ = 0;
  detail::BasicCompensatedSum<Arch> blocks_;
};

// An ignored class-label row (label < 0): its requested outputs are 0. A template on Arch, like
// every inline function here, so the AVX2 and AVX-512 units never share one compiled copy.
template <class Arch>
void zero_row(float* loss, float* grad, std::size_t c, std::uint16_t* grad_half = nullptr) {
  for (std::size_t k = 0; k < c; ++k) {
    if (loss) loss[k] = 0.0f;
    if (grad) grad[k] = 0.0f;
    if (grad_half) grad_half[k] = 0;  // +0 in fp16 and bf16
  }
}

// Lane j of the vector at class k is positive iff j == label - k: a small exact number (clamped
// to [-1, N]) in float or double lanes and for any number of classes.
template <class B>
auto positive_lanes(std::int64_t label, std::size_t k) {
  using T = typename B::value_type;
  constexpr std::size_t N = B::size;
  alignas(64) T iota[N];
  for (std::size_t j = 0; j < N; ++j) iota[j] = T(j);
  std::int64_t j = label - std::int64_t(k);
  j = j < -1 ? -1 : j > std::int64_t(N) ? std::int64_t(N) : j;
  return B::load_aligned(iota) == B(T(j));
}

// The double-lane kernel (avx2, avx512 at other gamma and for soft targets).
template <class Arch>
class Kernel {
  using Real = double;
  using Ops = VecOps<Arch>;
  using SoftOps = VecOps<Arch, true>;
  using G = Glue<Arch, Real>;
  using B = typename Ops::B;
  using M = typename Ops::M;
  static constexpr std::size_t N = B::size;
  using Sum = BlockSum<Arch>;

 public:
  template <class Pow>
  struct Element {
    B a_pos, a_neg, gamma, scale;
    Pow pow;

    // Binary targets (pos: t = 1). Loss and dFL/dx (scaled), in double.
    math::LossGrad<B> binary(B x, M pos) const {
      const B z = xsimd::select(pos, x, -x);
      const B a_t = xsimd::select(pos, a_pos, a_neg);
      const auto r = math::binary<Ops>(z, a_t, gamma, pow);
      return {r.loss, xsimd::select(pos, r.grad, -r.grad) * scale};
    }
    // Soft targets; t in {0, 1} take the binary path as in the scalar kernel. `bad` gets
    // lanes with t outside [0, 1] or NaN, whose outputs are NaN.
    math::LossGrad<B> soft(B x, B t, M& bad) const {
      const M ok = (t >= B(0.0)) & (t <= B(1.0));
      bad = bad | !ok;
      const M one = t == B(1.0);
      const M exact = one | (t == B(0.0));
      const auto b = binary(x, one);
      const auto s = math::soft<SoftOps>(x, t, a_pos, a_neg, gamma, pow);
      const B nan(Real(__builtin_nan("")));
      return {xsimd::select(ok, xsimd::select(exact, b.loss, s.loss), nan),
              xsimd::select(ok, xsimd::select(exact, b.grad, s.grad * scale), nan)};
    }
  };

  // Writes the rounded results and adds the rounded loss to the sum. kGrad = false: no gradient
  // requested, so the compiler drops its arithmetic (the loss and the sum are the same code).
  template <bool kGrad = true>
  static void finish(const math::LossGrad<B>& v, float* loss, float* grad, Sum& sum) {
    sum.add(G::widen(G::round_store(v.loss, loss)));
    if constexpr (kGrad) {
      if (grad) G::store_rounded(v.grad, grad);
    }
  }
  // The first `count` lanes of a padded vector (the tails): only the real lanes are summed and
  // stored.
  static void finish_lanes(const math::LossGrad<B>& v, std::size_t count, float* loss, float* grad,
                           Sum& sum) {
    alignas(64) float lb[N], gb[N];
    G::store_rounded(v.loss, lb);
    G::store_rounded(v.grad, gb);
    for (std::size_t k = 0; k < count; ++k) {
      sum.add_scalar(lb[k]);
      if (loss) loss[k] = lb[k];
      if (grad) grad[k] = gb[k];
    }
  }

  template <class Pow>
  static Element<Pow> element(const Args& a, Pow pow) {
    return {B(Real(a.alpha.pos)), B(Real(a.alpha.neg)), B(Real(a.gamma)), B(Real(a.grad_scale)),
            pow};
  }

  // Runs f(pow) with the power functor for this gamma (IntPow<0..4> or general).
  template <class F>
  static Partial with_element(const Args& a, F&& f) {
    return math::with_pow<Ops, B>(a.gamma, [&](auto pow) { return f(element(a, pow)); });
  }

  static constexpr std::size_t kPrefetch = 1024;  // logits (4 KiB of logits ahead)

  static Partial dense(const float* x, const std::uint8_t* t, std::size_t n, const Args& a) {
    return with_element(a, [&](const auto& el) {
      return a.grad ? dense_loop<true>(el, x, t, n, a) : dense_loop<false>(el, x, t, n, a);
    });
  }

  // The loops are flattened (everything they call inlined): GCC's inliner otherwise stops at
  // math::binary once the gradient-free copies exist, and a call per vector costs more than
  // dropping the gradient saves.
  template <bool kGrad, class El>
  [[gnu::flatten]] static Partial dense_loop(const El& el, const float* x, const std::uint8_t* t,
                                             std::size_t n, const Args& a) {
    float* const loss = a.loss;
    float* const grad = a.grad;
    Sum sum;
    M bad(false);
    std::size_t i = 0;
    // Pointers in locals: the float stores cannot alias them, so nothing reloads.
    for (; i + N <= n; i += N) {
      // Software prefetch kPrefetch logits ahead: at DRAM sizes the hardware prefetcher alone
      // left this compute-bound loop waiting on memory (bench/NOTES.md).
      __builtin_prefetch(x + i + kPrefetch);
      __builtin_prefetch(t + i + kPrefetch);
      const B xv = G::load(x + i);
      const M pos = G::load_targets(t + i, bad);
      finish<kGrad>(el.binary(xv, pos), loss ? loss + i : nullptr, grad ? grad + i : nullptr, sum);
    }
    if (i < n) {  // padded copies (padding: x = 0, t = 0; its loss is not added)
      alignas(64) float xb[N] = {};
      alignas(64) std::uint8_t tb[N < 16 ? 16 : N] = {};
      for (std::size_t k = 0; k < n - i; ++k) xb[k] = x[i + k], tb[k] = t[i + k];
      const M pos = G::load_targets(tb, bad);
      finish_lanes(el.binary(G::load(xb), pos), n - i, loss ? loss + i : nullptr,
                   grad ? grad + i : nullptr, sum);
    }
    return Partial{sum.value(), n, xsimd::any(bad)};
  }

  static M positive(std::int64_t label, std::size_t k) { return positive_lanes<B>(label, k); }

  // One class-label row of c logits (label >= 0).
  template <bool kGrad, class El>
  [[gnu::flatten]] static void row(const El& el, const float* x, std::int64_t label, std::size_t c,
                                   float* loss, float* grad, Sum& sum) {
    std::size_t k = 0;
    for (; k + N <= c; k += N) {
      __builtin_prefetch(x + k + kPrefetch);
      finish<kGrad>(el.binary(G::load(x + k), positive(label, k)), loss ? loss + k : nullptr,
                    grad ? grad + k : nullptr, sum);
    }
    if (k < c) {
      alignas(64) float xb[N] = {};
      for (std::size_t j = 0; j < c - k; ++j) xb[j] = x[k + j];
      finish_lanes(el.binary(G::load(xb), positive(label, k)), c - k, loss ? loss + k : nullptr,
                   grad ? grad + k : nullptr, sum);
    }
  }

  static Partial soft(const float* x, const float* t, std::size_t n, const Args& a) {
    return with_element(a, [&](const auto& el) {
      Sum sum;
      M bad(false);
      std::size_t i = 0;
      for (; i + N <= n; i += N) {
        __builtin_prefetch(x + i + kPrefetch);
        __builtin_prefetch(t + i + kPrefetch);
        finish(el.soft(G::load(x + i), G::load(t + i), bad), a.loss ? a.loss + i : nullptr,
               a.grad ? a.grad + i : nullptr, sum);
      }
      if (i < n) {
        alignas(64) float xb[N] = {}, tb[N] = {}, lb[N], gb[N];
        for (std::size_t k = 0; k < n - i; ++k) xb[k] = x[i + k], tb[k] = t[i + k];
        const auto v = el.soft(G::load(xb), G::load(tb), bad);
        G::store_rounded(v.loss, lb);
        G::store_rounded(v.grad, gb);
        for (std::size_t k = 0; k < n - i; ++k) {
          sum.add_scalar(lb[k]);
          if (a.loss) a.loss[i + k] = lb[k];
          if (a.grad) a.grad[i + k] = gb[k];
        }
      }
      return Partial{sum.value(), n, xsimd::any(bad)};
    });
  }

  // Class labels: row by row; lane k of a row is positive iff k == label.
  static Partial labels(const float* x, const std::int32_t* labels, std::size_t rows, std::size_t c,
                        const Args& a) {
    return with_element(a, [&](const auto& el) {
      return a.grad ? labels_loop<true>(el, x, labels, rows, c, a)
                    : labels_loop<false>(el, x, labels, rows, c, a);
    });
  }

  template <bool kGrad, class El>
  [[gnu::flatten]] static Partial labels_loop(const El& el, const float* x,
                                              const std::int32_t* labels, std::size_t rows,
                                              std::size_t c, const Args& a) {
    Sum sum;
    std::uint64_t count = 0;
    for (std::size_t r = 0; r < rows; ++r) {
      const std::size_t base = r * c;
      const std::int32_t label = labels[r];
      float* loss = a.loss ? a.loss + base : nullptr;
      float* grad = a.grad ? a.grad + base : nullptr;
      if (label < 0) {  // ignored anchor: zeros, not counted
        zero_row<Arch>(loss, grad, c);
        continue;
      }
      count += c;
      row<kGrad>(el, x + base, label, c, loss, grad, sum);
    }
    return Partial{sum.value(), count, false};
  }
};

}  // namespace focal::simd
