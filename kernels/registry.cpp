// The kernel registry: every backend's kernels in one table, look-up by name, and the
// best-available choice (with the FOCAL_KERNEL override).
#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "backends.hpp"
#include "focal/focal.hpp"

namespace focal {
namespace {

const std::vector<KernelInfo>& table() {
  static const std::vector<KernelInfo> all = [] {
    std::vector<KernelInfo> v;
    auto add = [&v](std::span<const KernelInfo> ks) { v.insert(v.end(), ks.begin(), ks.end()); };
    add(backends::scalar_kernels());
    add(backends::scalar_ff_kernels());
#if FOCAL_HAVE_SIMD
    add(backends::simd_kernels());
#endif
#if FOCAL_HAVE_OPENMP
    add(backends::openmp_kernels());
#endif
#if FOCAL_HAVE_CUDA
    add(backends::cuda_kernels());
#endif
    return v;
  }();
  return all;
}

std::string known_names() {
  std::string s;
  for (const auto& k : table()) {
    if (!s.empty()) s += ", ";
    s += k.name;
  }
  return s;
}

}  // namespace

std::string KernelInfo::unavailable_reason() const {
  std::string why;
  return available(&why) ? std::string() : why;
}

std::span<const KernelInfo> kernels() { return table(); }

const KernelInfo& find_kernel(std::string_view name) {
  for (const auto& k : table())
    if (k.name == name) return k;
  throw invalid_argument("focal: argument 'kernel': expected one of " + known_names() +
                         ", got '" + std::string(name) + "'");
}

const KernelInfo& best_kernel() {
  if (const char* forced = std::getenv("FOCAL_KERNEL"); forced && *forced) {
    const KernelInfo* k = nullptr;
    try {
      k = &find_kernel(forced);
    } catch (const invalid_argument&) {
      throw invalid_argument("focal: environment FOCAL_KERNEL: expected one of " + known_names() +
                             ", got '" + forced + "'");
    }
    std::string why;
    if (!k->available(&why))
      throw unavailable_kernel("focal: FOCAL_KERNEL=" + std::string(forced) +
                               " is not available on this machine: " + why);
    return *k;
  }
  const KernelInfo* best = nullptr;
  for (const auto& k : table())
    if ((!best || k.priority > best->priority) && k.is_available()) best = &k;
  return *best;  // scalar is always available
}

}  // namespace focal
