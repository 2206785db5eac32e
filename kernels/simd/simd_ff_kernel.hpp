// The loops of the accurate SIMD kernels for binary targets (dense u8 and class labels) at
// integer gamma 0..4: the float-float element (focal/ff.hpp) in float lanes, 16 logits per
// AVX-512 vector, 8 per AVX2, from fp32 logits or (fused) from fp16/bf16 logits through the
// loaders of simd_half_io.hpp (Src). Included only by the per-target units (simd_avx2.cpp,
// simd_avx512.cpp). Other gamma and soft targets take the double-lane kernel (simd_kernel.hpp).
//
// Every lane computes the bits of ff::ScalarOps' element (the "scalar_ff" kernel): the loops add
// only loads, target masks and stores. The sum adds the rounded fp32 losses in double lanes
// (BlockSum, as the double kernel does), so it is the same for any n split.
#pragma once

#include <cstddef>
#include <cstdint>

#include "focal/ff.hpp"
#include "simd_ff_ops.hpp"
#include "simd_half_io.hpp"
#include "simd_kernel.hpp"

namespace focal::simd {

template <class Arch>
struct FFKernel {
  using Ops = FFOps<Arch>;
  using F = typename Ops::F;
  using M = typename Ops::M;
  using G = Glue<Arch, float>;
  using Sum = BlockSum<Arch>;
  static constexpr std::size_t N = F::size;
  static constexpr std::size_t kPrefetch = 1024;  // logits ahead (4 KiB), as the double kernel

  template <int K>
  using El = ff::Element<Ops, K>;

  // Calls f(element) for gamma in {0..4}; false (f not called) for other gamma.
  template <class Fn>
  static bool with_element(const Args& a, Fn&& fn) {
    const ff::Constants c = ff::make_constants(a.alpha_param, a.grad_scale);
    return ff::with_int_gamma(a.gamma, [&]<int K>() { fn(El<K>::make(c)); });
  }

  // Where one vector's results go (null: not requested); grad_half only with half logits.
  struct Out {
    float* loss;
    float* grad;
    std::uint16_t* grad_half;
    Out at(std::size_t i) const {
      return {loss ? loss + i : nullptr, grad ? grad + i : nullptr,
              grad_half ? grad_half + i : nullptr};
    }
  };

  template <bool kGrad, class Src>
  static void store(const math::LossGrad<F>& v, const Out& o, Sum& sum) {
    if (o.loss) v.loss.store_unaligned(o.loss);
    if constexpr (kGrad) {
      if (o.grad) v.grad.store_unaligned(o.grad);
      if constexpr (Src::kHalf)
        if (o.grad_half) Src::store(v.grad, o.grad_half);
    }
    sum.add(G::widen(v.loss));
  }

  // Fewer than N elements: padded copies (x = 0, t = 0), only the real lanes are kept.
  template <bool kGrad, class Src, class E>
  static void partial(const E& el, const typename Src::T* x, M pos, std::size_t count,
                      const Out& o, Sum& sum) {
    alignas(64) typename Src::T xb[N] = {};
    alignas(64) float lb[N], gb[N];
    alignas(64) std::uint16_t hb[N];
    for (std::size_t k = 0; k < count; ++k) xb[k] = x[k];
    const auto v = el.template binary<kGrad>(Src::load(xb), pos);
    v.loss.store_aligned(lb);
    v.grad.store_aligned(gb);
    if constexpr (Src::kHalf) Src::store(v.grad, hb);
    for (std::size_t k = 0; k < count; ++k) {
      sum.add_scalar(lb[k]);
      if (o.loss) o.loss[k] = lb[k];
      if (kGrad && o.grad) o.grad[k] = gb[k];
      if (kGrad && Src::kHalf && o.grad_half) o.grad_half[k] = hb[k];
    }
  }

  template <bool kGrad, class Src, class E>
  [[gnu::flatten]] static Partial dense_loop(const E& el, const typename Src::T* x,
                                             const std::uint8_t* t, std::size_t n, const Out& o) {
    Sum sum;
    M bad(false);
    std::size_t i = 0;
    // Two vectors per iteration, interleaved op by op on AVX-512 (binary_pair, simd_ff_ops.hpp).
    const auto el2 = pair_element(el);
    for (; i + 2 * N <= n; i += 2 * N) {
      __builtin_prefetch(x + i + kPrefetch);
      __builtin_prefetch(t + i + kPrefetch);
      const F x0 = Src::load(x + i), x1 = Src::load(x + i + N);
      const M p0 = G::load_targets(t + i, bad), p1 = G::load_targets(t + i + N, bad);
      const auto v = binary_pair<kGrad>(el, el2, {x0, x1}, {p0, p1});
      store<kGrad, Src>({v.loss.a, v.grad.a}, o.at(i), sum);
      store<kGrad, Src>({v.loss.b, v.grad.b}, o.at(i + N), sum);
    }
    for (; i + N <= n; i += N)
      store<kGrad, Src>(el.template binary<kGrad>(Src::load(x + i), G::load_targets(t + i, bad)),
                        o.at(i), sum);
    if (i < n) {
      alignas(64) std::uint8_t tb[N < 16 ? 16 : N] = {};
      for (std::size_t k = 0; k < n - i; ++k) tb[k] = t[i + k];
      partial<kGrad, Src>(el, x + i, G::load_targets(tb, bad), n - i, o.at(i), sum);
    }
    return Partial{sum.value(), n, xsimd::any(bad)};
  }

  // Lane j of the vector at class k is positive iff j == label - k: the float-lane kernel's mask.
  static M positive(std::int64_t label, std::size_t k) { return Kernel<Arch, float>::positive(label, k); }

  template <bool kGrad, class Src, class E>
  [[gnu::flatten]] static Partial labels_loop(const E& el, const typename Src::T* x,
                                              const std::int32_t* labels, std::size_t rows,
                                              std::size_t c, const Out& o_all) {
    Sum sum;
    std::uint64_t count = 0;
    const auto el2 = pair_element(el);
    for (std::size_t r = 0; r < rows; ++r) {
      const std::size_t base = r * c;
      const std::int32_t label = labels[r];
      const Out o = o_all.at(base);
      if (label < 0) {  // ignored anchor: zeros, not counted
        zero_row<Arch>(o.loss, o.grad, c, o.grad_half);
        continue;
      }
      count += c;
      std::size_t k = 0;
      for (; k + 2 * N <= c; k += 2 * N) {  // pairs, as in dense_loop
        __builtin_prefetch(x + base + k + kPrefetch);
        const auto v =
            binary_pair<kGrad>(el, el2, {Src::load(x + base + k), Src::load(x + base + k + N)},
                               {positive(label, k), positive(label, k + N)});
        store<kGrad, Src>({v.loss.a, v.grad.a}, o.at(k), sum);
        store<kGrad, Src>({v.loss.b, v.grad.b}, o.at(k + N), sum);
      }
      for (; k + N <= c; k += N) {
        __builtin_prefetch(x + base + k + kPrefetch);
        store<kGrad, Src>(el.template binary<kGrad>(Src::load(x + base + k), positive(label, k)),
                          o.at(k), sum);
      }
      if (k < c) partial<kGrad, Src>(el, x + base + k, positive(label, k), c - k, o.at(k), sum);
    }
    return Partial{sum.value(), count, false};
  }

  // The entry points: the float-float loops at integer gamma, the double kernel otherwise.
  static Partial dense(const float* x, const std::uint8_t* t, std::size_t n, const Args& a) {
    Partial p;
    if (with_element(a, [&](const auto& el) { p = run_dense<FloatSrc<Arch>>(el, x, t, n, a); }))
      return p;
    return Kernel<Arch, double>::dense(x, t, n, a);
  }

  static Partial labels(const float* x, const std::int32_t* labels, std::size_t rows,
                        std::size_t c, const Args& a) {
    Partial p;
    if (with_element(a, [&](const auto& el) {
          p = run_labels<FloatSrc<Arch>>(el, x, labels, rows, c, a);
        }))
      return p;
    return Kernel<Arch, double>::labels(x, labels, rows, c, a);
  }

  // Half logits: integer gamma 0..4 only (the caller checks ff::is_int_gamma; the driver
  // converts other gamma to fp32 itself).
  static Partial dense_half(const std::uint16_t* x, Dtype d, const std::uint8_t* t,
                            std::size_t n, const Args& a) {
    Partial p;
    with_element(a, [&](const auto& el) {
      p = d == Dtype::bf16 ? run_dense<HalfSrc<Arch, Dtype::bf16>>(el, x, t, n, a)
                           : run_dense<HalfSrc<Arch, Dtype::fp16>>(el, x, t, n, a);
    });
    return p;
  }

  static Partial labels_half(const std::uint16_t* x, Dtype d, const std::int32_t* labels,
                             std::size_t rows, std::size_t c, const Args& a) {
    Partial p;
    with_element(a, [&](const auto& el) {
      p = d == Dtype::bf16 ? run_labels<HalfSrc<Arch, Dtype::bf16>>(el, x, labels, rows, c, a)
                           : run_labels<HalfSrc<Arch, Dtype::fp16>>(el, x, labels, rows, c, a);
    });
    return p;
  }

 private:
  static Out out(const Args& a) { return {a.loss, a.grad, a.grad_half}; }
  static bool wants_grad(const Args& a) { return a.grad || a.grad_half; }

  template <class Src, class E>
  static Partial run_dense(const E& el, const typename Src::T* x, const std::uint8_t* t,
                           std::size_t n, const Args& a) {
    return wants_grad(a) ? dense_loop<true, Src>(el, x, t, n, out(a))
                         : dense_loop<false, Src>(el, x, t, n, out(a));
  }
  template <class Src, class E>
  static Partial run_labels(const E& el, const typename Src::T* x, const std::int32_t* labels,
                            std::size_t rows, std::size_t c, const Args& a) {
    return wants_grad(a) ? labels_loop<true, Src>(el, x, labels, rows, c, out(a))
                         : labels_loop<false, Src>(el, x, labels, rows, c, out(a));
  }
};

}  // namespace focal::simd
