#include "cases.hpp"

#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>
#include <stdexcept>

namespace focal::verify {

bool DenseCases::binary() const {
  for (float v : t)
    if (v != 0.0f && v != 1.0f) return false;
  return true;
}

std::vector<std::uint8_t> DenseCases::targets_u8() const {
  std::vector<std::uint8_t> u(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) u[i] = t[i] != 0.0f;
  return u;
}

std::uint64_t fresh_seed() {
  if (const char* s = std::getenv("FOCAL_SEED"); s && *s) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(s, &end, 0);
    if (*end != '\0') throw std::invalid_argument("FOCAL_SEED: expected an integer, got '" + std::string(s) + "'");
    return v;
  }
  std::random_device rd;
  return (std::uint64_t(rd()) << 32) ^ rd();
}

std::uint64_t process_seed() {
  static const std::uint64_t seed = [] {
    const auto s = fresh_seed();
    std::printf("[ seed     ] FOCAL_SEED=%llu\n", static_cast<unsigned long long>(s));
    return s;
  }();
  return seed;
}

DenseCases typical(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> noise(0.0f, 2.0f);
  std::uniform_int_distribution<int> pos(0, 999);
  DenseCases c{"typical", {}, {}};
  c.x.resize(n);
  c.t.resize(n);
  const float bias = -std::log(99.0f);
  for (std::size_t i = 0; i < n; ++i) {
    const bool positive = pos(rng) == 0;
    c.t[i] = positive ? 1.0f : 0.0f;
    c.x[i] = bias + noise(rng) + (positive ? 3.0f : 0.0f);
  }
  return c;
}

DenseCases uniform(std::size_t n, std::uint64_t seed, float lim) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> x(-lim, lim);
  std::bernoulli_distribution t(0.5);
  DenseCases c{"uniform", {}, {}};
  for (std::size_t i = 0; i < n; ++i) {
    c.x.push_back(x(rng));
    c.t.push_back(t(rng) ? 1.0f : 0.0f);
  }
  return c;
}

DenseCases sweep(float lo, float hi, std::size_t points) {
  DenseCases c{"sweep", {}, {}};
  const double l0 = std::log(double(lo)), l1 = std::log(double(hi));
  for (std::size_t i = 0; i < points; ++i) {
    const double a = points > 1 ? l0 + (l1 - l0) * double(i) / double(points - 1) : l0;
    const float m = float(std::exp(a));
    for (float s : {1.0f, -1.0f})
      for (float t : {0.0f, 1.0f}) {
        c.x.push_back(s * m);
        c.t.push_back(t);
      }
  }
  return c;
}

DenseCases extreme(std::size_t points, std::uint64_t seed) {
  DenseCases c = sweep(8.0f, 1e4f, points);
  c.family = "extreme";
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> la(std::log(15.0), std::log(1e4));
  for (std::size_t i = 0; i < points; ++i) {
    const float m = float(std::exp(la(rng)));
    for (float s : {1.0f, -1.0f})
      for (float t : {0.0f, 1.0f}) {
        c.x.push_back(s * m);
        c.t.push_back(t);
      }
  }
  return c;
}

DenseCases special() {
  constexpr float inf = std::numeric_limits<float>::infinity();
  const float xs[] = {0.0f, -0.0f, inf, -inf, std::numeric_limits<float>::quiet_NaN(),
                      std::numeric_limits<float>::denorm_min(), -std::numeric_limits<float>::denorm_min(),
                      1e-40f, -1e-40f, FLT_MIN, -FLT_MIN, FLT_MAX, -FLT_MAX, 1e-30f, -1e-30f,
                      88.376f, -88.376f, 88.7228f, -88.7228f, 89.0f, -89.0f, 103.0f, -103.0f,
                      103.98f, -103.98f, 104.0f, -104.0f, 16.6f, -16.6f, 17.0f, -17.0f,
                      1e38f, -1e38f, 0.5f, -0.5f, 1.0f, -1.0f};
  DenseCases c{"special", {}, {}};
  for (float x : xs)
    for (float t : {0.0f, 1.0f}) {
      c.x.push_back(x);
      c.t.push_back(t);
    }
  return c;
}

DenseCases soft(std::size_t n, std::uint64_t seed, float lim) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> x(-lim, lim);
  std::uniform_real_distribution<float> t(0.0f, 1.0f);
  DenseCases c{"soft", {}, {}};
  for (std::size_t i = 0; i < n; ++i) {
    c.x.push_back(x(rng));
    c.t.push_back(t(rng));
  }
  constexpr float inf = std::numeric_limits<float>::infinity();
  const float tt[] = {std::numeric_limits<float>::denorm_min(), 1e-30f, 1e-7f, 0.25f, 0.5f,
                      0.75f, 1.0f - 1e-7f, 0.99999994f};
  const float xx[] = {-inf, -FLT_MAX, -1e4f, -100.0f, -20.0f, -1.0f, -0.0f, 0.0f, 1.0f, 20.0f,
                      100.0f, 1e4f, FLT_MAX, inf};
  for (float a : tt)
    for (float b : xx) {
      c.x.push_back(b);
      c.t.push_back(a);
    }
  return c;
}

LabelCases labels(std::size_t rows, std::size_t num_classes, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> noise(0.0f, 2.0f);
  std::uniform_int_distribution<int> kind(0, 99);
  std::uniform_int_distribution<int> cls(0, int(num_classes) - 1);
  LabelCases l{{}, {}, num_classes};
  l.logits.resize(rows * num_classes);
  l.labels.resize(rows);
  const float bias = -std::log(99.0f);
  for (auto& v : l.logits) v = bias + noise(rng);
  for (auto& lab : l.labels) {
    const int k = kind(rng);
    lab = k < 5 ? -1 : (k < 6 ? cls(rng) : int(num_classes));
  }
  return l;
}

DenseCases expand(const LabelCases& l) {
  DenseCases c{"labels", {}, {}};
  for (std::size_t r = 0; r < l.labels.size(); ++r) {
    if (l.labels[r] < 0) continue;
    for (std::size_t k = 0; k < l.num_classes; ++k) {
      c.x.push_back(l.logits[r * l.num_classes + k]);
      c.t.push_back(std::size_t(l.labels[r]) == k ? 1.0f : 0.0f);
    }
  }
  return c;
}

}  // namespace focal::verify
