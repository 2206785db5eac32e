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

  // ---- the dense loop: the main path in stages over blocks of pairs -------------------------
  // The element's main path is one ~150-cycle dependency chain per vector; run back to back,
  // the chains of consecutive vectors fill the out-of-order scheduler and the FP pipes idle. So
  // a block of kStagePairs pairs (two vectors interleaved op by op, PairOps) runs stage 1 (exp)
  // for every pair, then stage 2, then stage 3 and the stores, with the values in between in
  // memory (exact: the same bits as ff::Element::main). Measured in bench/NOTES.md.
  static constexpr std::size_t kStagePairs = 4;
  using P = Pair<F>;
  using PM = Pair<M>;
  static P load_pair(const float* p) { return {F::load_aligned(p), F::load_aligned(p + N)}; }
  static void store_pair(const P& v, float* p) {
    v.a.store_aligned(p);
    v.b.store_aligned(p + N);
  }
  static PM pair_targets(const std::uint8_t* t, M& bad) {
    return {G::load_targets(t, bad), G::load_targets(t + N, bad)};
  }
  template <bool kGrad, class Src>
  static void store_pair_out(const math::LossGrad<P>& v, const Out& o, Sum& sum) {
    store<kGrad, Src>({v.loss.a, v.grad.a}, o, sum);
    store<kGrad, Src>({v.loss.b, v.grad.b}, o.at(N), sum);
  }

  // kStagePairs pairs from x, t, in order (the sum adds in the order of the unstaged loop). A
  // pair with a lane outside the main path (|z| > 80, NaN) is computed whole in stage 1.
  template <bool kGrad, bool kExactW, class Src, class E2>
  static void staged_block(const E2& el2, const typename Src::T* x, const std::uint8_t* t,
                           const Out& o, Sum& sum, M& bad) {
    constexpr std::size_t L = 2 * N, B = kStagePairs;
    alignas(64) float zb[B][L], e_hi[B][L], e_lo[B][L];  // whole pairs: loss, grad in e_hi, e_lo
    alignas(64) float mid[B][kGrad ? 6 : 4][L];
    bool whole[B];
    for (std::size_t b = 0; b < B; ++b) {
      __builtin_prefetch(x + b * L + kPrefetch);
      __builtin_prefetch(t + b * L + kPrefetch);
      const P xv{Src::load(x + b * L), Src::load(x + b * L + N)};
      const PM pos = pair_targets(t + b * L, bad);
      const P z = E2::signed_z(xv, pos);
      whole[b] = !E2::Lanes::all(E2::in_main(z));
      if (whole[b]) {
        const auto v = el2.template binary<kGrad>(xv, pos);
        store_pair(v.loss, e_hi[b]);
        store_pair(v.grad, e_lo[b]);
        continue;
      }
      const auto e = E2::stage_exp(z);
      store_pair(z, zb[b]);
      store_pair(e.hi, e_hi[b]);
      store_pair(e.lo, e_lo[b]);
    }
    for (std::size_t b = 0; b < B; ++b) {
      if (whole[b]) continue;
      const auto m = E2::template stage_mid<kGrad>(load_pair(zb[b]),
                                                   {load_pair(e_hi[b]), load_pair(e_lo[b])});
      store_pair(m.q.hi, mid[b][0]);
      store_pair(m.q.lo, mid[b][1]);
      store_pair(m.ce.hi, mid[b][2]);
      store_pair(m.ce.lo, mid[b][3]);
      if constexpr (kGrad) {
        store_pair(m.pt.hi, mid[b][4]);
        store_pair(m.pt.lo, mid[b][5]);
      }
    }
    for (std::size_t b = 0; b < B; ++b) {
      math::LossGrad<P> v;
      if (whole[b]) {
        v = {load_pair(e_hi[b]), load_pair(e_lo[b])};
      } else {
        M unused(false);  // bad targets were collected in stage 1
        const PM pos = pair_targets(t + b * L, unused);
        typename E2::Mid m;
        m.q = {load_pair(mid[b][0]), load_pair(mid[b][1])};
        m.ce = {load_pair(mid[b][2]), load_pair(mid[b][3])};
        if constexpr (kGrad) m.pt = {load_pair(mid[b][4]), load_pair(mid[b][5])};
        v = el2.template stage_end<kGrad, kExactW>(el2.template weight<kExactW>(pos), m);
        if constexpr (kGrad) v.grad = E2::grad_dx(v.grad, pos);
      }
      store_pair_out<kGrad, Src>(v, o.at(b * L), sum);
    }
  }

  template <bool kGrad, class Src, class E>
  [[gnu::flatten]] static Partial dense_loop(const E& el, const typename Src::T* x,
                                             const std::uint8_t* t, std::size_t n, const Out& o) {
    Sum sum;
    M bad(false);
    std::size_t i = 0;
    const auto el2 = pair_element(el);
    // The exact-weight choice once per call (Element::binary makes it per call of its own, and
    // only for the loss alone: there a second copy of the gradient loop cost 10% in the labels
    // loop; here the staged stage 3 with the gradient gains ~3%, bench/NOTES.md).
    auto blocks = [&]<bool kExactW>() {
      for (; i + kStagePairs * 2 * N <= n; i += kStagePairs * 2 * N)
        staged_block<kGrad, kExactW, Src>(el2, x + i, t + i, o.at(i), sum, bad);
    };
    if (ff::kExactWeightCopy<Ops> && el.exact_w)
      blocks.template operator()<true>();
    else
      blocks.template operator()<false>();
    for (; i + 2 * N <= n; i += 2 * N) {
      const auto v = el2.template binary<kGrad>(P{Src::load(x + i), Src::load(x + i + N)},
                                                pair_targets(t + i, bad));
      store_pair_out<kGrad, Src>(v, o.at(i), sum);
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

  // Lane j of the vector at class k is positive iff j == label - k.
  static M positive(std::int64_t label, std::size_t k) { return positive_lanes<F>(label, k); }

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
        const auto v = el2.template binary<kGrad>(
            P{Src::load(x + base + k), Src::load(x + base + k + N)},
            PM{positive(label, k), positive(label, k + N)});
        store_pair_out<kGrad, Src>(v, o.at(k), sum);
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
    return Kernel<Arch>::dense(x, t, n, a);
  }

  static Partial labels(const float* x, const std::int32_t* labels, std::size_t rows,
                        std::size_t c, const Args& a) {
    Partial p;
    if (with_element(a, [&](const auto& el) {
          p = run_labels<FloatSrc<Arch>>(el, x, labels, rows, c, a);
        }))
      return p;
    return Kernel<Arch>::labels(x, labels, rows, c, a);
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
