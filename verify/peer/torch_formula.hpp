// The peer row of focal-verify: the usual PyTorch / torchvision sigmoid_focal_loss formula,
// evaluated in float32 as that code does, with the gradient torch autograd produces for it.
// A reference point for users (where the common formula breaks at extreme p_t), not a kernel:
//
//   p = sigmoid(x)
//   ce = BCE-with-logits(x, t) = max(x, 0) - x t + log1p(exp(-|x|))
//   p_t = p t + (1 - p)(1 - t)
//   loss = ce * (1 - p_t)^gamma ;  alpha >= 0: loss = alpha_t * loss,
//   alpha_t = alpha t + (1 - alpha)(1 - t)
//
// CE is the log1p form above (as the issue specifies; torch 1.13's own BCE-with-logits
// evaluates log(exp(-m) + exp(-x - m)), m = max(-x, 0), which is less accurate still for small
// CE). The chain below was checked against torch 1.13 autograd on 20000 random inputs where the
// two CE forms agree: loss within 3e-7, gradient within 3e-5 relative (soft-target gradients
// near their zero crossing), i.e. the same float evaluation up to exp/sigmoid rounding.
//
// In float, 1 - p_t cancels to 0 once p rounds to 1 (|x| > 16.6), so the loss and gradient
// become 0 where the truth is e.g. 1.8e-23, and are already 37% off at |x| = 15.
#pragma once

#include <cmath>

namespace focal::verify::peer {

inline constexpr const char* kName = "torch_formula_fp32";

struct LossGrad {
  float loss, grad;
};

// Evaluated step by step in float (no contraction: the tool is built without -ffast-math and
// the baseline x86-64 target has no FMA).
inline LossGrad torch_formula(float x, float t, float alpha, float gamma) {
  // forward
  const float p = 1.0f / (1.0f + std::exp(-x));                                   // torch.sigmoid
  const float ce = std::fmax(x, 0.0f) - x * t + std::log1p(std::exp(-std::fabs(x)));  // BCE w/ logits
  const float pt = p * t + (1.0f - p) * (1.0f - t);
  const float one_minus_pt = 1.0f - pt;
  const float m = std::pow(one_minus_pt, gamma);  // torch.pow, pow(0, 0) = 1
  const float ce_m = ce * m;
  const bool balanced = alpha >= 0.0f;
  const float alpha_t = balanced ? alpha * t + (1.0f - alpha) * (1.0f - t) : 1.0f;
  const float loss = balanced ? alpha_t * ce_m : ce_m;

  // backward (autograd's chain for the graph above, seed 1)
  const float g_ce_m = balanced ? alpha_t : 1.0f;
  const float g_ce = g_ce_m * m;
  const float g_m = g_ce_m * ce;
  // pow backward: grad * gamma * base^(gamma - 1); 0 for exponent 0 (as torch special-cases).
  const float g_omp = gamma == 0.0f ? 0.0f : g_m * gamma * std::pow(one_minus_pt, gamma - 1.0f);
  const float g_pt = -g_omp;                                   // 1 - p_t
  const float g_p = g_pt * t + -(g_pt * (1.0f - t));           // p t + (1 - p)(1 - t)
  const float g_x_sigmoid = g_p * (1.0f - p) * p;              // sigmoid backward: g (1 - y) y
  const float g_x_bce = g_ce * (p - t);                        // BCE-with-logits backward: (sigmoid(x) - t) g
  return {loss, g_x_bce + g_x_sigmoid};
}

}  // namespace focal::verify::peer
