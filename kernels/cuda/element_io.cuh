// Device code shared by every CUDA kernel: read, evaluate and write one element (heads, tails,
// misaligned inputs, cuda_cub_device) or one 16-element chunk with 16-byte loads (the bulk of
// cuda_warp, cuda_cub, cuda_warp_fast). Each returns what it adds to the thread's Acc.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "dispatch.hpp"

namespace focal::cuda_detail {

__device__ __forceinline__ void store(const OutView& o, std::size_t i, math::LossGrad<float> v) {
  if (o.loss) o.loss[i] = v.loss;
  if (o.grad) o.grad[i] = v.grad;
}

// One element, read and written one by one.
template <class El>
__device__ __forceinline__ Acc one(const DenseView& in, const El& el, const OutView& o,
                                   std::size_t i) {
  const std::uint8_t t = in.t[i];
  const auto v = el.binary(in.x[i], t != 0);
  store(o, i, v);
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
template <class El>
__device__ __forceinline__ Acc one(const LabelView& in, const El& el, const OutView& o,
                                   std::size_t i) {
  const std::size_t row = i / in.classes;
  const std::size_t k = i - row * in.classes;
  const std::int32_t label = in.labels[row];
  if (label < 0) {  // ignored anchor: 0, 0, not counted
    store(o, i, {0.0f, 0.0f});
    return {0.0, 0ull, 0u};
  }
  const auto v = el.binary(in.x[i], std::size_t(label) == k);
  store(o, i, v);
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
__device__ __forceinline__ void store_chunk(float* out, std::size_t i, const float (&v)[kChunk]) {
  float4* p = reinterpret_cast<float4*>(out + i);
#pragma unroll
  for (int g = 0; g < 4; ++g)
    __stcs(p + g, make_float4(v[4 * g], v[4 * g + 1], v[4 * g + 2], v[4 * g + 3]));
}
__device__ __forceinline__ Acc finish_chunk(const OutView& o, std::size_t i,
                                            const float (&loss)[kChunk],
                                            const float (&grad)[kChunk], std::uint64_t count,
                                            unsigned bad) {
  const double s = sum_floats(loss);  // float-float: no FP64 per element
  if (o.loss) store_chunk(o.loss, i, loss);
  if (o.grad) store_chunk(o.grad, i, grad);
  return {s, count, bad};
}

template <class El>
__device__ __forceinline__ Acc chunk(const DenseView& in, const El& el, const OutView& o,
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
  return finish_chunk(o, i, loss, grad, kChunk, bad);
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
template <class El>
__device__ __forceinline__ Acc chunk(const LabelView& in, const El& el, const OutView& o,
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
  return finish_chunk(o, i, loss, grad, count, bad);
}

}  // namespace focal::cuda_detail
