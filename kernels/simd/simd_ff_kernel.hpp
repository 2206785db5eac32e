// The loops of the accurate SIMD kernels for binary targets (dense u8 and class labels) at
// integer gamma 0..4: the float-float element (focal/ff.hpp) in float lanes, 16 logits per
// AVX-512 vector, 8 per AVX2. Included only by the per-target units (simd_avx2.cpp,
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

  template <bool kGrad>
  static void store(const math::LossGrad<F>& v, float* loss, float* grad, Sum& sum) {
    if (loss) v.loss.store_unaligned(loss);
    if constexpr (kGrad) v.grad.store_unaligned(grad);
    sum.add(G::widen(v.loss));
  }
  template <bool kGrad, class E>
  static void finish(const E& el, F x, M pos, float* loss, float* grad, Sum& sum) {
    store<kGrad>(el.template binary<kGrad>(x, pos), loss, grad, sum);
  }

  // Fewer than N elements: padded copies (x = 0, t = 0), only the real lanes are kept.
  template <bool kGrad, class E>
  static void partial(const E& el, const float* x, M pos, std::size_t count, float* loss,
                      float* grad, Sum& sum) {
    alignas(64) float xb[N] = {}, lb[N], gb[N];
    for (std::size_t k = 0; k < count; ++k) xb[k] = x[k];
    const auto v = el.template binary<kGrad>(F::load_aligned(xb), pos);
    v.loss.store_aligned(lb);
    v.grad.store_aligned(gb);
    for (std::size_t k = 0; k < count; ++k) {
      sum.add_scalar(lb[k]);
      if (loss) loss[k] = lb[k];
      if (kGrad) grad[k] = gb[k];
    }
  }

  template <bool kGrad, class E>
  [[gnu::flatten]] static Partial dense_loop(const E& el, const float* x, const std::uint8_t* t,
                                             std::size_t n, float* loss, float* grad) {
    Sum sum;
    M bad(false);
    std::size_t i = 0;
    // Two vectors per iteration, interleaved op by op on AVX-512 (binary_pair, simd_ff_ops.hpp).
    const auto el2 = pair_element(el);
    for (; i + 2 * N <= n; i += 2 * N) {
      __builtin_prefetch(x + i + kPrefetch);
      __builtin_prefetch(t + i + kPrefetch);
      const F x0 = G::load(x + i), x1 = G::load(x + i + N);
      const M p0 = G::load_targets(t + i, bad), p1 = G::load_targets(t + i + N, bad);
      const auto v = binary_pair<kGrad>(el, el2, {x0, x1}, {p0, p1});
      store<kGrad>({v.loss.a, v.grad.a}, loss ? loss + i : nullptr, grad ? grad + i : nullptr, sum);
      store<kGrad>({v.loss.b, v.grad.b}, loss ? loss + i + N : nullptr,
                   grad ? grad + i + N : nullptr, sum);
    }
    for (; i + N <= n; i += N)
      finish<kGrad>(el, G::load(x + i), G::load_targets(t + i, bad), loss ? loss + i : nullptr,
                    grad ? grad + i : nullptr, sum);
    if (i < n) {
      alignas(64) std::uint8_t tb[N < 16 ? 16 : N] = {};
      for (std::size_t k = 0; k < n - i; ++k) tb[k] = t[i + k];
      partial<kGrad>(el, x + i, G::load_targets(tb, bad), n - i, loss ? loss + i : nullptr,
                     grad ? grad + i : nullptr, sum);
    }
    return Partial{sum.value(), n, xsimd::any(bad)};
  }

  // Lane j of the vector at class k is positive iff j == label - k: the float-lane kernel's mask.
  static M positive(std::int64_t label, std::size_t k) { return Kernel<Arch, float>::positive(label, k); }

  template <bool kGrad, class E>
  [[gnu::flatten]] static Partial labels_loop(const E& el, const float* x,
                                              const std::int32_t* labels, std::size_t rows,
                                              std::size_t c, float* loss_all, float* grad_all) {
    Sum sum;
    std::uint64_t count = 0;
    const auto el2 = pair_element(el);
    for (std::size_t r = 0; r < rows; ++r) {
      const std::size_t base = r * c;
      const std::int32_t label = labels[r];
      float* loss = loss_all ? loss_all + base : nullptr;
      float* grad = grad_all ? grad_all + base : nullptr;
      if (label < 0) {  // ignored anchor: zeros, not counted
        zero_row<Arch>(loss, grad, c);
        continue;
      }
      count += c;
      std::size_t k = 0;
      for (; k + 2 * N <= c; k += 2 * N) {  // pairs, as in dense_loop
        __builtin_prefetch(x + base + k + kPrefetch);
        const auto v = binary_pair<kGrad>(el, el2, {G::load(x + base + k), G::load(x + base + k + N)},
                                          {positive(label, k), positive(label, k + N)});
        store<kGrad>({v.loss.a, v.grad.a}, loss ? loss + k : nullptr, grad ? grad + k : nullptr, sum);
        store<kGrad>({v.loss.b, v.grad.b}, loss ? loss + k + N : nullptr,
                     grad ? grad + k + N : nullptr, sum);
      }
      for (; k + N <= c; k += N) {
        __builtin_prefetch(x + base + k + kPrefetch);
        finish<kGrad>(el, G::load(x + base + k), positive(label, k), loss ? loss + k : nullptr,
                      grad ? grad + k : nullptr, sum);
      }
      if (k < c)
        partial<kGrad>(el, x + base + k, positive(label, k), c - k, loss ? loss + k : nullptr,
                       grad ? grad + k : nullptr, sum);
    }
    return Partial{sum.value(), count, false};
  }

  // The entry points: the float-float loops at integer gamma, the double kernel otherwise.
  static Partial dense(const float* x, const std::uint8_t* t, std::size_t n, const Args& a) {
    Partial p;
    if (with_element(a, [&](const auto& el) {
          p = a.grad ? dense_loop<true>(el, x, t, n, a.loss, a.grad)
                     : dense_loop<false>(el, x, t, n, a.loss, a.grad);
        }))
      return p;
    return Kernel<Arch, double>::dense(x, t, n, a);
  }

  static Partial labels(const float* x, const std::int32_t* labels, std::size_t rows,
                        std::size_t c, const Args& a) {
    Partial p;
    if (with_element(a, [&](const auto& el) {
          p = a.grad ? labels_loop<true>(el, x, labels, rows, c, a.loss, a.grad)
                     : labels_loop<false>(el, x, labels, rows, c, a.loss, a.grad);
        }))
      return p;
    return Kernel<Arch, double>::labels(x, labels, rows, c, a);
  }
};

}  // namespace focal::simd
