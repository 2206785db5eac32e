// Device code shared by every CUDA kernel: read, evaluate and write one element (heads, tails,
// misaligned inputs, cuda_cub_device) or one 16-element chunk with 16-byte loads (the bulk of
// cuda_warp, cuda_cub, cuda_warp_fast). Each returns what it adds to the thread's Acc.
// Dense and label views take float or half logits (X = Half<D>: the fused half loaders, two
// 16-byte loads per chunk, converted in registers by half_io.hpp; the gradient also written
// rounded to the dtype when o.grad_half is set). The element is the same for both.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "dispatch.hpp"

namespace focal::cuda_detail {

// The logit at i, as float.
__device__ __forceinline__ float logit(const float* x, std::size_t i) { return x[i]; }
template <Dtype D>
__device__ __forceinline__ float logit(const Half<D>* x, std::size_t i) {
  return from_half<D>(x[i].bits);
}

template <class X = float>
__device__ __forceinline__ void store(const OutView& o, std::size_t i, math::LossGrad<float> v) {
  if (o.loss) o.loss[i] = v.loss;
  if (o.grad) o.grad[i] = v.grad;
  if constexpr (is_half_v<X>)
    if (o.grad_half) o.grad_half[i] = to_half<X::dtype>(v.grad);
}

// One element, read and written one by one.
template <class X, class El>
__device__ __forceinline__ Acc one(const BasicDenseView<X>& in, const El& el, const OutView& o,
                                   std::size_t i) {
  const std::uint8_t t = in.t[i];
  const auto v = el.binary(logit(in.x, i), t != 0);
  store<X>(o, i, v);
  return {double(v.loss), 1ull, t > 1 ? 1u : 0u};
}
template <class El>
__device__ __forceinline__ Acc one(const SoftView& in, const El& el, const OutView& o,
                                   std::size_t i) {
  const float t = in.t[i];
  if (!(t >= 0.0f && t <= 1.0f)) {  // NaN too: flagged, not summed, outputs NaN
    store(o, i, {__int_as_float(0x7fc00000), __int_as_float(0x7fc00000)});
    return {0.0, 1ull, 1u};
  }
  const auto v = el.soft(in.x[i], t);
  store(o, i, v);
  return {double(v.loss), 1ull, 0u};
}
template <class X, class El>
__device__ __forceinline__ Acc one(const BasicLabelView<X>& in, const El& el, const OutView& o,
                                   std::size_t i) {
  const std::size_t row = i / in.classes;
  const std::size_t k = i - row * in.classes;
  const std::int32_t label = in.labels[row];
  if (label < 0) {  // ignored anchor: 0, 0, not counted
    store<X>(o, i, {0.0f, 0.0f});
    return {0.0, 0ull, 0u};
  }
  const auto v = el.binary(logit(in.x, i), std::size_t(label) == k);
  store<X>(o, i, v);
  return {double(v.loss), 1ull, std::uint32_t(label) > in.classes ? 1u : 0u};
}

// 16 elements from 16-byte aligned index i: all loads are issued before the first use (5
// vector loads for dense u8, 8 for soft), the 16 losses are summed locally first.
__device__ __forceinline__ void load_logits(const float* x, std::size_t i, float (&v)[kChunk]) {
  const float4* p = reinterpret_cast<const float4*>(x + i);
#pragma unroll
  for (int g = 0; g < 4; ++g) {
    const float4 f = __ldcs(p + g);  // streamed: read once, evict first
    v[4 * g] = f.x;
    v[4 * g + 1] = f.y;
    v[4 * g + 2] = f.z;
    v[4 * g + 3] = f.w;
  }
}
// 16 halves: two 16-byte loads of 8 halves each, converted exactly to float (half_io.hpp).
template <Dtype D>
__device__ __forceinline__ void load_logits(const Half<D>* x, std::size_t i, float (&v)[kChunk]) {
  const uint4* p = reinterpret_cast<const uint4*>(x + i);
  const uint4 a = __ldcs(p), b = __ldcs(p + 1);  // both issued before the first use
  const std::uint32_t wa[4] = {a.x, a.y, a.z, a.w}, wb[4] = {b.x, b.y, b.z, b.w};
  unpack_halves<D>(wa, v);
  unpack_halves<D>(wb, v + 8);
}
template <Dtype D>
__device__ __forceinline__ void store_half_chunk(std::uint16_t* out, std::size_t i,
                                                 const float (&v)[kChunk]) {
  uint4* p = reinterpret_cast<uint4*>(out + i);
  std::uint32_t wa[4], wb[4];
  pack_halves<D>(v, wa);
  pack_halves<D>(v + 8, wb);
  __stcs(p, make_uint4(wa[0], wa[1], wa[2], wa[3]));
  __stcs(p + 1, make_uint4(wb[0], wb[1], wb[2], wb[3]));
}
__device__ __forceinline__ void store_chunk(float* out, std::size_t i, const float (&v)[kChunk]) {
  float4* p = reinterpret_cast<float4*>(out + i);
#pragma unroll
  for (int g = 0; g < 4; ++g)
    __stcs(p + g, make_float4(v[4 * g], v[4 * g + 1], v[4 * g + 2], v[4 * g + 3]));
}
template <class X = float>
__device__ __forceinline__ Acc finish_chunk(const OutView& o, std::size_t i,
                                            const float (&loss)[kChunk],
                                            const float (&grad)[kChunk], std::uint64_t count,
                                            unsigned bad) {
  const double s = sum_floats(loss);  // float-float: no FP64 per element
  if (o.loss) store_chunk(o.loss, i, loss);
  if (o.grad) store_chunk(o.grad, i, grad);
  if constexpr (is_half_v<X>)
    if (o.grad_half) store_half_chunk<X::dtype>(o.grad_half, i, grad);
  return {s, count, bad};
}

template <class X, class El>
__device__ __forceinline__ Acc chunk(const BasicDenseView<X>& in, const El& el, const OutView& o,
                                     std::size_t i) {
  float x[kChunk];
  load_logits(in.x, i, x);
  const uint4 t4 = __ldcs(reinterpret_cast<const uint4*>(in.t + i));
  const unsigned words[4] = {t4.x, t4.y, t4.z, t4.w};
  float loss[kChunk], grad[kChunk];
  unsigned bad = 0;
#pragma unroll
  for (int j = 0; j < int(kChunk); ++j) {
    const unsigned t = (words[j / 4] >> (8 * (j % 4))) & 0xffu;
    bad |= t > 1 ? 1u : 0u;
    const auto v = el.binary(x[j], t != 0);
    loss[j] = v.loss;
    grad[j] = v.grad;
  }
  return finish_chunk<X>(o, i, loss, grad, kChunk, bad);
}
template <class El>
__device__ __forceinline__ Acc chunk(const SoftView& in, const El& el, const OutView& o,
                                     std::size_t i) {
  float x[kChunk], t[kChunk];
  load_logits(in.x, i, x);
  load_logits(in.t, i, t);
  float loss[kChunk], grad[kChunk];
  unsigned bad = 0;
  const float qnan = __int_as_float(0x7fc00000);
#pragma unroll
  for (int j = 0; j < int(kChunk); ++j) {
    const bool ok = t[j] >= 0.0f && t[j] <= 1.0f;
    bad |= ok ? 0u : 1u;
    const auto v = el.soft(x[j], ok ? t[j] : 0.0f);
    loss[j] = ok ? v.loss : qnan;
    grad[j] = ok ? v.grad : qnan;
  }
  // Flagged elements are not summed (their loss slot holds NaN): sum the valid ones only.
  if (bad) {
    double s = 0.0;
#pragma unroll
    for (int j = 0; j < int(kChunk); ++j) s += t[j] >= 0.0f && t[j] <= 1.0f ? double(loss[j]) : 0.0;
    if (o.loss) store_chunk(o.loss, i, loss);
    if (o.grad) store_chunk(o.grad, i, grad);
    return {s, kChunk, 1u};
  }
  return finish_chunk(o, i, loss, grad, kChunk, 0u);
}
template <class X, class El>
__device__ __forceinline__ Acc chunk(const BasicLabelView<X>& in, const El& el, const OutView& o,
                                     std::size_t i) {
  float x[kChunk];
  load_logits(in.x, i, x);
  std::size_t row = i / in.classes;
  std::uint32_t k = std::uint32_t(i - row * in.classes);
  std::int32_t label = __ldg(in.labels + row);
  float loss[kChunk], grad[kChunk];
  std::uint64_t count = 0;
  unsigned bad = 0;
#pragma unroll
  for (int j = 0; j < int(kChunk); ++j) {
    if (label < 0) {
      loss[j] = 0.0f;
      grad[j] = 0.0f;
    } else {
      const auto v = el.binary(x[j], std::uint32_t(label) == k);
      loss[j] = v.loss;
      grad[j] = v.grad;
      ++count;
      bad |= std::uint32_t(label) > in.classes ? 1u : 0u;
    }
    if (j + 1 < int(kChunk) && ++k == in.classes) {  // next row (never past the chunk's last)
      k = 0;
      label = __ldg(in.labels + ++row);
    }
  }
  return finish_chunk<X>(o, i, loss, grad, count, bad);
}

}  // namespace focal::cuda_detail
