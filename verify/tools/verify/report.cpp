#include "report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "focal/version.hpp"
#include "focal_support/machine.hpp"
#include "focal_support/version.hpp"

namespace fv {

using focal::support::short_float;

std::string fmt_g(double v, const char* f) {
  if (std::isinf(v)) return "inf";
  char b[40];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

Json run_header(const Config& c, std::uint64_t seed) {
  const auto& m = focal::support::machine();
  Json j;
  j["tool"] = "focal-verify";
  j["version"] = std::string(focal::version());
  j["mode"] = to_string(c.mode);
  j["git_rev"] = std::string(focal::support::git_rev());
  j["machine"] = {{"id", m.id}, {"cpu", m.cpu}, {"cores", m.cores}, {"gpu", m.gpu}};
  j["dispatch"] = std::string(focal::best_kernel().name);
  j["seed"] = seed;
  j["bound_scale"] = c.bound_scale;
  j["gammas"] = Json::array();
  for (float g : c.gammas) j["gammas"].push_back(short_float(g));
  j["alphas"] = Json::array();
  for (float a : c.alphas) j["alphas"].push_back(short_float(a));
  return j;
}

Json kernel_header(const focal::KernelInfo& k, const Config& c) {
  Json j;
  j["name"] = std::string(k.name);
  j["backend"] = std::string(k.backend);
  j["isa"] = std::string(k.isa);
  j["available"] = k.is_available();
  if (!k.is_available()) j["unavailable_reason"] = k.unavailable_reason();
  const auto b = bound_of(k, c);
  j["bound"] = {{"ulp", b.ulp}, {"rel_other", b.rel_other}};
  j["bitwise_equal_to"] = std::string(k.bitwise_equal_to);
  return j;
}

Json stats_json(const focal::verify::Stats& s) {
  Json j;
  j["max_ulp"] = s.max_ulp;
  j["mean_ulp"] = s.mean_ulp();
  j["max_rel"] = s.max_rel;
  j["special_failures"] = s.special_failures;
  j["worst"] = {{"x", short_float(s.worst.x)},
                {"t", short_float(s.worst.t)},
                {"expected", s.worst.expected},
                {"got", short_float(s.worst.got)},
                {"ulp", s.worst.ulp},
                {"failure", focal::verify::to_string(s.worst.failure)}};
  return j;
}

void merge(focal::verify::Stats& into, const focal::verify::Stats& s) {
  using focal::verify::Failure;
  if (s.n == 0) return;
  const bool worse = into.n == 0 || (into.worst.failure == Failure::none &&
                                     (s.worst.failure != Failure::none || s.worst.ulp > into.worst.ulp));
  if (worse) into.worst = s.worst;
  into.n += s.n;
  into.max_ulp = std::max(into.max_ulp, s.max_ulp);
  into.sum_ulp += s.sum_ulp;
  into.max_rel = std::max(into.max_rel, s.max_rel);
  into.special_failures += s.special_failures;
}

bool write_json(const std::string& path, const Json& doc) {
  try {
    focal::support::write_json_file(path, doc);
    return true;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "focal-verify: %s\n", e.what());
    return false;
  }
}

}  // namespace fv
