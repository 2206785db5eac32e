// CUDA-only checks on a GPU (each skips with the reason when there is none): bitwise
// identical sums over 10 runs, per-element results identical across the three CUDA kernels and
// the device-pointer API at every pointer misalignment (fp32 and half logits), device-side
// error flags. Accuracy
// against MPFR is the generic suites' job (they run every registered kernel, these too).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <random>

#include "check.hpp"
#if FOCAL_HAVE_CUDA
#include "focal/cuda.hpp"
#endif

namespace focal::testing {
namespace {

#if !FOCAL_HAVE_CUDA
TEST(CudaDevice, NotBuilt) { GTEST_SKIP() << "built without CUDA (FOCAL_CUDA=OFF or no nvcc)"; }
#else

class CudaDevice : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!cuda::available(&why)) GTEST_SKIP() << "no usable GPU: " << why;
  }
};

// The double-element kernels (bitwise identical per element), and every CUDA kernel.
const char* const kNames[] = {"cuda_warp", "cuda_cub", "cuda_cub_device"};
const char* const kAll[] = {"cuda_warp", "cuda_cub", "cuda_cub_device", "cuda_warp_fast"};
struct Pair {
  cuda::Reducer reducer;
  const char* name;
};
const Pair kPairs[] = {{cuda::Reducer::warp, "cuda_warp"},
                       {cuda::Reducer::cub_block, "cuda_cub"},
                       {cuda::Reducer::cub_device, "cuda_cub_device"},
                       {cuda::Reducer::warp_fast, "cuda_warp_fast"}};

struct Dense {
  std::vector<float> x;
  std::vector<std::uint8_t> t;
};
Dense random_dense(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-20.0f, 20.0f);
  Dense d{std::vector<float>(n), std::vector<std::uint8_t>(n)};
  for (std::size_t i = 0; i < n; ++i) {
    d.x[i] = u(rng);
    d.t[i] = std::uint8_t(rng() & 1);
  }
  return d;
}

std::string hex(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a", v);
  return buf;
}

bool same_bits(std::span<const float> a, std::span<const float> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size_bytes()) == 0;
}

// 10 runs per kernel on 2^22 + 7 logits (several blocks per SM, a tail): identical sums, and
// each sum within 1e-12 of the exact sum of the kernel's own fp32 losses.
TEST_F(CudaDevice, TenRunsGiveBitwiseIdenticalSums) {
  const std::size_t n = (std::size_t(1) << 22) + 7;
  const auto seed = verify::process_seed();
  const Dense d = random_dense(n, seed + 31);
  for (const char* name : kAll) {
    const auto& k = find_kernel(name);
    std::vector<float> loss(n);
    const Result first = focal_loss(k, DenseInput{d.x, d.t}, Options{}, {loss, {}});
    const double exact = verify::exact_sum(loss);
    EXPECT_LE(std::fabs(first.sum - exact), 1e-12 * exact) << name;
    std::printf("[ sums ] %s n=%zu run 1: %s (exact %s)\n", name, n, hex(first.sum).c_str(),
                hex(exact).c_str());
    for (int run = 2; run <= 10; ++run) {
      const Result r = focal_loss(k, DenseInput{d.x, d.t});
      EXPECT_EQ(hex(r.sum), hex(first.sum)) << name << " run " << run;
      EXPECT_EQ(r.count, n) << name;
    }
  }
}

// The same element code in all three kernels: per-element outputs bitwise identical, on all
// layouts; sums agree within 1e-12 (their summation orders differ).
TEST_F(CudaDevice, KernelsAgreeBitwisePerElement) {
  const auto seed = verify::process_seed();
  const std::size_t n = 100003;
  const Dense d = random_dense(n, seed + 32);
  const auto soft = verify::soft(n, seed + 33);
  const auto labels = verify::labels(1201, 80, seed + 34);
  for (float gamma : {2.0f, 0.5f}) {
    Options opt;
    opt.gamma = gamma;
    opt.reduction = Reduction::mean;
    const std::vector<Input> inputs = {DenseInput{d.x, d.t}, SoftInput{soft.x, soft.t},
                                       LabelInput{labels.logits, labels.labels, 80}};
    for (const Input& in : inputs) {
      const std::size_t m = element_count(in);
      std::vector<float> ref_loss(m), ref_grad(m);
      const Result ref = focal_loss(find_kernel(kNames[0]), in, opt, {ref_loss, ref_grad});
      for (const char* name : kNames) {
        std::vector<float> loss(m), grad(m);
        verify::poison(loss);
        verify::poison(grad);
        const Result r = focal_loss(find_kernel(name), in, opt, {loss, grad});
        EXPECT_TRUE(same_bits(loss, ref_loss)) << name << " layout " << in.index();
        EXPECT_TRUE(same_bits(grad, ref_grad)) << name << " layout " << in.index();
        EXPECT_EQ(r.count, ref.count) << name;
        EXPECT_LE(std::fabs(r.sum - ref.sum), 1e-12 * std::fabs(ref.sum)) << name;
      }
    }
  }
}

// Device pointers at every misalignment (including pointers misaligned against each other,
// which take the element-by-element path): same bits as the host path.
TEST_F(CudaDevice, DevicePointersAtAnyAlignment) {
  const auto seed = verify::process_seed();
  const std::size_t n = 4099;
  const Dense d = random_dense(n, seed + 35);
  Options opt;
  opt.reduction = Reduction::mean;
  std::vector<float> probe_loss(n), probe_grad(n);
  const auto checked = validate(DenseInput{d.x, d.t}, opt, {probe_loss, probe_grad});
  cuda::DeviceMemory x(4 * n + 64), t(n + 64), loss(4 * n + 64), grad(4 * n + 64);
  for (const Pair& pair : kPairs) {
    // The host path of the same kernel is the reference (its alignment is always the best).
    std::vector<float> ref_loss(n), ref_grad(n);
    const Result ref = focal_loss(find_kernel(pair.name), DenseInput{d.x, d.t}, opt, {ref_loss, ref_grad});
    for (std::size_t xo : {0, 4, 8, 12})
      for (std::size_t to : {0, 1, 3, 5, 16})
        for (std::size_t oo : {0, 4}) {
          x.upload(d.x.data(), 4 * n, xo);
          t.upload(d.t.data(), n, to);
          const cuda::DenseDeviceInput in{x.as<float>(xo), t.as<std::uint8_t>(to), n};
          const cuda::DeviceOutputs out{loss.as<float>(oo), grad.as<float>(oo)};
          const Partial p = cuda::run(pair.reducer, in, checked.params, out);
          std::vector<float> l(n), g(n);
          loss.download(l.data(), 4 * n, oo);
          grad.download(g.data(), 4 * n, oo);
          const std::string where = std::string(pair.name) + " xo=" + std::to_string(xo) +
                                    " to=" + std::to_string(to) + " oo=" + std::to_string(oo);
          EXPECT_TRUE(same_bits(l, ref_loss)) << where;
          EXPECT_TRUE(same_bits(g, ref_grad)) << where;
          EXPECT_EQ(p.count, n) << where;
          EXPECT_FALSE(p.bad_target) << where;
          EXPECT_LE(std::fabs(p.sum - ref.sum), 1e-12 * ref.sum) << where;
        }
  }
}

// Half logits on the device (the fused loaders) at every misalignment of the logits (2-byte
// steps), targets, fp32 outputs and half gradient: the same bits as the kernel's fp32 path on
// the logits converted on the host (the driver's path), both dtypes, the accurate reducers.
TEST_F(CudaDevice, HalfDevicePointersAtAnyAlignment) {
  const auto seed = verify::process_seed();
  const std::size_t n = 4099;
  const Dense d = random_dense(n, seed + 36);
  Options opt;
  opt.reduction = Reduction::mean;
  std::vector<float> probe_loss(n), probe_grad(n);
  const auto checked = validate(DenseInput{d.x, d.t}, opt, {probe_loss, probe_grad});
  cuda::DeviceMemory x(2 * n + 64), t(n + 64), loss(4 * n + 64), grad(4 * n + 64), gh(2 * n + 64);
  for (Dtype dt : {Dtype::fp16, Dtype::bf16}) {
    std::vector<std::uint16_t> hx(n);
    std::vector<float> xf(n);
    for (std::size_t i = 0; i < n; ++i) {
      hx[i] = float_to_half(d.x[i], dt);
      xf[i] = half_to_float(hx[i], dt);
    }
    for (const Pair& pair : kPairs) {
      if (pair.reducer == cuda::Reducer::warp_fast) {  // fp32 logits only
        const cuda::HalfDenseDeviceInput in{x.as<std::uint16_t>(), t.as<std::uint8_t>(), n, dt};
        EXPECT_THROW(cuda::run(pair.reducer, in, checked.params), invalid_argument);
        continue;
      }
      std::vector<float> ref_loss(n), ref_grad(n);
      const Result ref =
          focal_loss(find_kernel(pair.name), DenseInput{xf, d.t}, opt, {ref_loss, ref_grad});
      std::vector<std::uint16_t> ref_gh(n);
      for (std::size_t i = 0; i < n; ++i) ref_gh[i] = float_to_half(ref_grad[i], dt);
      for (std::size_t xo : {0, 2, 6, 14})
        for (std::size_t to : {0, 1, 3, 16})
          for (std::size_t oo : {0, 4})
            for (std::size_t ho : {0, 2, 6}) {
              x.upload(hx.data(), 2 * n, xo);
              t.upload(d.t.data(), n, to);
              const cuda::HalfDenseDeviceInput in{x.as<std::uint16_t>(xo), t.as<std::uint8_t>(to),
                                                  n, dt};
              const cuda::DeviceOutputs out{loss.as<float>(oo), grad.as<float>(oo),
                                            gh.as<std::uint16_t>(ho)};
              const Partial p = cuda::run(pair.reducer, in, checked.params, out);
              std::vector<float> l(n), g(n);
              std::vector<std::uint16_t> h(n);
              loss.download(l.data(), 4 * n, oo);
              grad.download(g.data(), 4 * n, oo);
              gh.download(h.data(), 2 * n, ho);
              const std::string where = std::string(pair.name) + " " + std::string(to_string(dt)) +
                                        " xo=" + std::to_string(xo) + " to=" + std::to_string(to) +
                                        " oo=" + std::to_string(oo) + " ho=" + std::to_string(ho);
              EXPECT_TRUE(same_bits(l, ref_loss)) << where;
              EXPECT_TRUE(same_bits(g, ref_grad)) << where;
              EXPECT_TRUE(h == ref_gh) << where;
              EXPECT_EQ(p.count, n) << where;
              EXPECT_FALSE(p.bad_target) << where;
              EXPECT_LE(std::fabs(p.sum - ref.sum), 1e-12 * ref.sum) << where;
            }
    }
  }
  // Errors: a half input of dtype fp32, a half gradient with fp32 logits.
  const cuda::HalfDenseDeviceInput fp32{x.as<std::uint16_t>(), t.as<std::uint8_t>(), n,
                                        Dtype::fp32};
  EXPECT_THROW(cuda::run(cuda::Reducer::warp, fp32, checked.params), invalid_argument);
  const cuda::DenseDeviceInput in32{loss.as<float>(), t.as<std::uint8_t>(), n};
  const cuda::DeviceOutputs half_out{nullptr, nullptr, gh.as<std::uint16_t>()};
  EXPECT_THROW(cuda::run(cuda::Reducer::warp, in32, checked.params, half_out), invalid_argument);
  // A label > C in half labels: flagged on the device.
  const std::vector<std::int32_t> labels = {0, 2, -1, 3, 4};
  cuda::DeviceMemory dl(4 * labels.size());
  dl.upload(labels.data(), 4 * labels.size());
  const cuda::HalfLabelDeviceInput hl{x.as<std::uint16_t>(), dl.as<std::int32_t>(), 5, 3,
                                      Dtype::bf16};
  for (const Pair& pair : kPairs) {
    if (pair.reducer == cuda::Reducer::warp_fast) continue;
    const Partial p = cuda::run(pair.reducer, hl, Params{0.25f, 2.0f, 1.0});
    EXPECT_TRUE(p.bad_target) << pair.name;
    EXPECT_EQ(p.count, 4u * 3u) << pair.name;
  }
}

TEST_F(CudaDevice, DeviceApiChecksAndFlags) {
  const std::size_t rows = 5, classes = 3;
  std::vector<float> x(rows * classes, 0.5f);
  std::vector<std::int32_t> labels = {0, 2, -1, 3, 4};  // 4 > C: only the kernel can see it
  cuda::DeviceMemory dx(4 * x.size()), dl(4 * rows);
  dx.upload(x.data(), 4 * x.size());
  dl.upload(labels.data(), 4 * rows);
  const cuda::LabelDeviceInput in{dx.as<float>(), dl.as<std::int32_t>(), rows, classes};
  for (const Pair& pair : kPairs) {
    const Partial p = cuda::run(pair.reducer, in, Params{0.25f, 2.0f, 1.0});
    EXPECT_TRUE(p.bad_target) << pair.name;
    EXPECT_EQ(p.count, 4 * classes) << pair.name;
  }
  EXPECT_THROW(cuda::run(cuda::Reducer::warp, in, Params{0.25f, -1.0f, 1.0}), invalid_argument);
  EXPECT_THROW(cuda::run(cuda::Reducer::warp, in, Params{2.0f, 2.0f, 1.0}), invalid_argument);
  EXPECT_THROW(dx.upload(x.data(), 4 * x.size() + 4), invalid_argument);
}

#endif  // FOCAL_HAVE_CUDA

}  // namespace
}  // namespace focal::testing
