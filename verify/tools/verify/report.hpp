// What the sampled and exhaustive reports share: the run header (tool, version, machine,
// dispatch), a kernel's identity and bound, Stats as JSON, number formatting.
#pragma once

#include <string>

#include "check.hpp"
#include "cli.hpp"
#include "focal/focal.hpp"
#include "focal_support/json.hpp"

namespace fv {

using focal::support::Json;

// "%.3g", or "inf" for an infinite value (a special-value failure).
std::string fmt_g(double v, const char* f = "%.3g");

// tool, version, mode, git_rev, machine {id, cpu, cores, gpu}, dispatch, seed, bound_scale,
// gammas, alphas.
Json run_header(const Config& c, std::uint64_t seed);

// name, backend, isa, available (+ unavailable_reason), bound {ulp, rel_other}, bitwise_equal_to.
Json kernel_header(const focal::KernelInfo& k, const Config& c);

// max_ulp, mean_ulp, max_rel, special_failures, worst {x, t, expected, got, ulp, failure}.
Json stats_json(const focal::verify::Stats& s);

// Stats of several parts combined (the worst input: the first special failure, else the
// largest ULP error).
void merge(focal::verify::Stats& into, const focal::verify::Stats& s);

// Writes `doc` to `path` (message on stderr naming the file on failure); false on failure.
bool write_json(const std::string& path, const Json& doc);

}  // namespace fv
