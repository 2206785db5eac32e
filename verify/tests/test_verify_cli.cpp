// focal-verify end to end: clear errors (exit 2) on bad usage, PASS (exit 0) with a JSON report
// that carries the keys the summary scripts read, FAIL (exit 1) when judged against bounds
// tighter than the kernels achieve, and the exhaustive mode on bit-pattern slices.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <vector>
#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <map>
#include <string>

#include "focal/focal.hpp"
#include "focal/version.hpp"
#include "check.hpp"
#include "reference/fast_reference.hpp"
#include "focal_support/json.hpp"
#include "focal_support/machine.hpp"

namespace {

using focal::support::Json;

std::string bin_dir() {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  std::string p(buf, n > 0 ? std::size_t(n) : 0);
  return p.substr(0, p.rfind('/'));
}

struct Ran {
  int status;
  std::string out;
};

Ran run(const std::string& args, const std::string& env = "") {
  const std::string tmp = testing::TempDir() + "focal_verify_out.txt";
  const std::string cmd = env + " '" + bin_dir() + "/focal-verify' " + args + " > '" + tmp + "' 2>&1";
  const int rc = std::system(cmd.c_str());
  std::ifstream f(tmp);
  std::stringstream ss;
  ss << f.rdbuf();
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, ss.str()};
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(VerifyCli, BadUsageIsExit2WithAMessage) {
  struct Case {
    const char* args;
    const char* says;
  } cases[] = {{"--kernels no_such_kernel", "expected one of"},
               {"--gamma -1", "--gamma"},
               {"--gamma 9", "[0, 8]"},
               {"--gamma two", "expected a number"},
               {"--gamma 1,,2", "--gamma: empty item in the list '1,,2'"},
               {"--kernels scalar,", "--kernels: empty item"},
               {"--alpha 2", "--alpha"},
               {"--frobnicate", "unknown argument '--frobnicate'"},
               {"--quick --full", "choose one"},
               {"--json", "needs a value"},
               {"--bound-scale 0", "--bound-scale"}};
  // A kernel asked for by name that cannot run here is an error too (not a silent skip).
  for (const auto& k : focal::kernels())
    if (!k.is_available()) {
      const auto r = run("--kernels " + std::string(k.name));
      EXPECT_EQ(r.status, 2) << r.out;
      EXPECT_NE(r.out.find("not available"), std::string::npos) << r.out;
    }
  for (const auto& c : cases) {
    const auto r = run(c.args);
    EXPECT_EQ(r.status, 2) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.says), std::string::npos) << c.args << "\n" << r.out;
  }
}

TEST(VerifyCli, QuickPassesAndWritesTheJsonSchema) {
  const std::string json = testing::TempDir() + "focal_verify_quick.json";
  const auto r = run("--quick --kernels scalar --gamma 2,0.5 --alpha 0.25 --json '" + json + "'");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("PASS"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("torch_formula_fp32"), std::string::npos) << r.out;
  // Progress lines on stderr even when it is not a terminal (here: a file).
  EXPECT_NE(r.out.find("[focal-verify quick] alpha 0.25 gamma 2 done"), std::string::npos) << r.out;
  const std::string text = slurp(json);
  // Valid JSON only: no NaN/Infinity literals.
  EXPECT_EQ(text.find(": NaN"), std::string::npos);
  EXPECT_EQ(text.find("Infinity"), std::string::npos);
  const Json j = Json::parse(text);
  EXPECT_EQ(j["tool"], "focal-verify");
  EXPECT_EQ(j["mode"], "quick");
  EXPECT_EQ(j["version"], std::string(focal::version()));
  for (const char* key : {"git_rev", "machine", "dispatch", "seed", "gammas", "alphas", "kernels", "peer",
                          "cross", "error_vs_x", "seconds", "pass"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["machine"]["id"], focal::support::machine().id);
  ASSERT_EQ(j["kernels"].size(), 1u);
  const Json& k = j["kernels"][0];
  EXPECT_EQ(k["name"], "scalar");
  EXPECT_EQ(k["bound"]["ulp"].get<double>(), focal::find_kernel("scalar").bound.ulp);
  bool labels = false, special = false;
  std::map<std::string, int> half;  // half family -> entries (one per gamma)
  for (const Json& f : k["families"]) {
    labels = labels || f["family"] == "labels";
    special = special || f["family"] == "special";
    // The half families: every 4th half pattern (and every inf/NaN) x t = 0, 1 in --quick, with
    // the gradient in the dtype measured against its bound.
    if (f["family"] == "half_fp16" || f["family"] == "half_bf16") {
      ++half[f["family"]];
      ASSERT_TRUE(f.contains("grad_half")) << f.dump();
      EXPECT_GT(f["n"].get<double>(), 2 * 65536 / 4);
      EXPECT_EQ(f["grad_half"]["failures"], 0) << f.dump();
      EXPECT_LE(f["grad_half"]["max_half_ulp"].get<double>(),
                f["grad_half"]["bound_half_ulp"].get<double>());
      EXPECT_GT(f["grad_half"]["max_half_ulp"].get<double>(), 0.25);  // it measures
    } else {
      EXPECT_FALSE(f.contains("grad_half")) << f.dump();
    }
    for (const char* part : {"loss", "grad"}) {
      EXPECT_TRUE(f[part]["max_ulp"].is_number()) << f.dump();
      EXPECT_TRUE(f[part]["worst"].contains("x")) << f.dump();
    }
    // gamma 2 has a ULP bound: scalar is within it, and measurably above 0 (the checker measures).
    if (f["gamma"] == 2 && f["family"] == "uniform") {
      EXPECT_LE(f["loss"]["max_ulp"].get<double>(), 1.0);
      EXPECT_GT(f["loss"]["max_ulp"].get<double>(), 0.1);
    }
  }
  EXPECT_TRUE(labels && special);
  EXPECT_EQ(half, (std::map<std::string, int>{{"half_bf16", 2}, {"half_fp16", 2}}));
  EXPECT_EQ(k["sum"]["bitwise_stable"], true);
  EXPECT_EQ(k["pass"], true);
  EXPECT_FALSE(j["error_vs_x"]["abs_x"].empty());
  EXPECT_FALSE(j["error_vs_x"]["series"][0]["loss_ulp"].empty());
  EXPECT_EQ(j["pass"], true);
}

TEST(VerifyCli, VersionAndMachineId) {
  const auto v = run("--version");
  EXPECT_EQ(v.status, 0);
  EXPECT_EQ(v.out.rfind("focal-verify " + std::string(focal::version()) + " (git ", 0), 0u) << v.out;
  const auto m = run("--machine-id", "env -u FOCAL_MACHINE_ID");
  EXPECT_EQ(m.status, 0);
  EXPECT_EQ(m.out, focal::support::machine().id + "\n");
  const auto h = run("--help");
  EXPECT_EQ(h.status, 0);
  for (const char* flag : {"--exhaustive", "--range", "--threads", "--out", "--gammas", "exit status"})
    EXPECT_NE(h.out.find(flag), std::string::npos) << flag;
}

TEST(VerifyCli, FailsWhenTheBoundIsTighterThanTheKernel) {
  // scalar's errors reach ~0.5 ULP; against 0.1 x its 1-ULP bound it must fail, exit 1.
  const auto r = run("--quick --kernels scalar --gamma 2 --alpha 0.25 --bound-scale 0.1");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("FAIL"), std::string::npos) << r.out;
}

TEST(VerifyCli, ExhaustiveBadUsage) {
  struct Case {
    const char* args;
    const char* says;
  } cases[] = {{"--exhaustive --range 5", "LO:HI"},
               {"--exhaustive --range 9:5", "LO < HI"},
               {"--exhaustive --range 0:0x100000001", "0x100000000"},
               {"--exhaustive --range -1:5", "--range"},
               {"--exhaustive --range 0:10,5:20", "overlap"},
               {"--exhaustive --threads 0", "--threads"},
               {"--exhaustive --threads two", "--threads"},
               {"--exhaustive --gammas 2,2", "twice"},
               {"--exhaustive --out /nonexistent/dir", "not a directory"},
               {"--exhaustive --json /nonexistent/dir/x.json", "cannot write"},
               {"--quick --range 0:5", "--exhaustive only"},
               {"--quick --threads 2", "--exhaustive only"}};
  for (const auto& c : cases) {
    const auto r = run(c.args);
    EXPECT_EQ(r.status, 2) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.says), std::string::npos) << c.args << "\n" << r.out;
  }
}

// Bit-pattern slices where things happen: 0 and the smallest subnormals, FLT_MIN, around 1,
// xsimd's exp limit (~88.4) and the |x| > 80 paths, FLT_MAX / inf / the first NaNs, both signs.
const char* kSlices =
    "0x00000000:0x00001000,0x007ff000:0x00801000,0x3f7ff000:0x3f801000,0x42a00000:0x42a01000,"
    "0x42b0b000:0x42b0d000,0x7f7ff000:0x7f801100,0x80000000:0x80001000,0xbf7ff000:0xbf801000,"
    "0xc2b0b000:0xc2b0d000,0xff7ff000:0xff801100";
constexpr std::uint64_t kSlicePatterns = 3 * 0x1000 + 5 * 0x2000 + 2 * 0x2100;

TEST(VerifyCli, ExhaustiveSliceOnEveryAvailableKernel) {
  std::string names;
  std::size_t n = 0;
  for (const auto& k : focal::kernels())
    if (k.is_available()) names += (n++ ? "," : "") + std::string(k.name);
  char tmpl[] = "/tmp/focal_verify_ex_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = std::string(tmpl) + "/";
  const std::string json = dir + "all.json";
  const auto r = run("--exhaustive --kernels " + names + " --gammas 0,1,2,3,4,0.5 --alphas 0.25,-1 --threads 2 --range " +
                     kSlices + " --json '" + json + "' --out '" + dir + "'");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("NOT exhaustive"), std::string::npos) << r.out;
  const Json j = Json::parse(slurp(json));
  EXPECT_EQ(j["mode"], "exhaustive");
  EXPECT_EQ(j["exhaustive"], false);
  EXPECT_EQ(j["patterns"], kSlicePatterns);
  EXPECT_EQ(j["threads"], 2);
  ASSERT_EQ(j["kernels"].size(), n);
  for (const Json& k : j["kernels"]) {
    ASSERT_EQ(k["exhaustive"].size(), 12u) << k["name"];  // 6 gammas x 2 alphas
    for (const Json& e : k["exhaustive"]) {
      EXPECT_EQ(e["n"], 2 * kSlicePatterns) << k["name"];
      EXPECT_EQ(e["over_bound"], 0) << k["name"] << " " << e.dump();
      EXPECT_EQ(e["loss"]["special_failures"], 0) << k["name"];
      EXPECT_TRUE(e["loss"]["worst"]["bits"].is_string());
    }
    EXPECT_EQ(k["pass"], true);
  }
  // One JSON and one markdown file per kernel, gamma and alpha; a slice is marked partial.
  const Json one = Json::parse(slurp(dir + "scalar-gamma2-partial.json"));
  EXPECT_EQ(one["kernels"].size(), 1u);
  EXPECT_EQ(one["kernels"][0]["exhaustive"].size(), 1u);
  EXPECT_NE(slurp(dir + "scalar-gamma2-alpha-1-partial.md").find("# Exhaustive check: `scalar`, gamma 2, alpha -1"),
            std::string::npos);
  std::filesystem::remove_all(tmpl);
}

TEST(VerifyCli, ExhaustiveResultsDoNotDependOnTheThreadCount) {
  const std::string a = testing::TempDir() + "focal_verify_t1.json", b = testing::TempDir() + "focal_verify_t3.json";
  ASSERT_EQ(run(std::string("--exhaustive --kernels scalar --gammas 2 --threads 1 --range ") + kSlices + " --json " + a).status, 0);
  ASSERT_EQ(run(std::string("--exhaustive --kernels scalar --gammas 2 --threads 3 --range ") + kSlices + " --json " + b).status, 0);
  Json ja = Json::parse(slurp(a)), jb = Json::parse(slurp(b));
  EXPECT_EQ(ja["kernels"][0]["exhaustive"][0]["loss"], jb["kernels"][0]["exhaustive"][0]["loss"]);
  EXPECT_EQ(ja["kernels"][0]["exhaustive"][0]["grad"], jb["kernels"][0]["exhaustive"][0]["grad"]);
}

TEST(VerifyCli, ExhaustiveListsTheInputsOverATighterBound) {
  // scalar reaches ~0.5 ULP near x = 1: against 0.2 x its 1-ULP bound, inputs are over it.
  const std::string json = testing::TempDir() + "focal_verify_ex_tight.json";
  const auto tight = run("--exhaustive --kernels scalar --bound-scale 0.2 --range 0x3f800000:0x3f802000 --json '" +
                         json + "'");
  EXPECT_EQ(tight.status, 1) << tight.out;
  EXPECT_NE(tight.out.find("FAIL"), std::string::npos);
  const Json j = Json::parse(slurp(json));
  const Json& e = j["kernels"][0]["exhaustive"][0];
  EXPECT_GT(e["over_bound"].get<std::uint64_t>(), 0u);
  ASSERT_FALSE(e["over_bound_list"].empty());
  const Json& first = e["over_bound_list"][0];
  EXPECT_EQ(first["bits"].get<std::string>().rfind("0x3f80", 0), 0u) << first.dump();
  EXPECT_GT(first["ulp"].get<double>(), 0.2);
  EXPECT_EQ(j["pass"], false);
}

// The exhaustive mode's own tally (a short path for the common case) measures exactly as the
// one definition, verify::Stats::add, does: same counts, max ULP, mean, max rel, worst error.
TEST(VerifyCli, ExhaustiveMeasuresAsStatsAdd) {
  const std::string json = testing::TempDir() + "focal_verify_ex_stats.json";
  const struct {
    std::uint32_t lo, hi;
  } ranges[] = {{0x00000000, 0x00000400}, {0x3f800000, 0x3f802000}, {0x7f7fff00, 0x7f800100},
                {0xc1f60000, 0xc1f61000},   // x ~ -30.75: subnormal losses (t = 0)
                {0xc2b0b000, 0xc2b0c000}};  // sorted, each within one chunk of the tool
  std::string arg;
  for (const auto& r : ranges) arg += (arg.empty() ? "" : ",") + std::to_string(r.lo) + ":" + std::to_string(r.hi);
  ASSERT_EQ(run("--exhaustive --kernels scalar --gammas 2 --threads 1 --range " + arg + " --json " + json).status, 0);
  const Json e = Json::parse(slurp(json))["kernels"][0]["exhaustive"][0];
  // The same elements in the same order (range by range, t = 0 then 1), through Stats::add.
  focal::verify::Stats loss, grad;
  const auto& k = focal::find_kernel("scalar");
  focal::Options opt;  // alpha 0.25, gamma 2
  for (const auto& r : ranges) {
    std::vector<float> x(r.hi - r.lo), lo(x.size()), go(x.size());
    for (std::uint32_t b = r.lo; b < r.hi; ++b) std::memcpy(&x[b - r.lo], &b, 4);
    for (int t : {0, 1}) {
      const std::vector<std::uint8_t> tv(x.size(), std::uint8_t(t));
      (void)focal::focal_loss(k, focal::DenseInput{x, tv}, opt, focal::Outputs{lo, go});
      for (std::size_t i = 0; i < x.size(); ++i) {
        const auto tr = focal::verify::fast_reference(x[i], t == 1, opt.alpha, opt.gamma);
        loss.add(r.lo + i, x[i], float(t), lo[i], tr.loss_exact, tr.loss_float, tr.loss_exact, false);
        grad.add(r.lo + i, x[i], float(t), go[i], tr.grad_exact, tr.grad_float, tr.grad_exact, false);
      }
    }
  }
  for (const auto& [name, s] : {std::pair<const char*, const focal::verify::Stats*>{"loss", &loss}, {"grad", &grad}}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(e["n"].get<std::size_t>(), s->n);
    EXPECT_EQ(e[name]["max_ulp"].get<double>(), s->max_ulp);
    EXPECT_EQ(e[name]["mean_ulp"].get<double>(), s->mean_ulp());
    EXPECT_EQ(e[name]["max_rel"].get<double>(), s->max_rel);
    EXPECT_EQ(e[name]["special_failures"].get<std::size_t>(), s->special_failures);
    EXPECT_EQ(e[name]["worst"]["ulp"].get<double>(), s->worst.ulp);
    EXPECT_GT(s->max_ulp, 0.3);  // (not a vacuous comparison)
  }
}

}  // namespace
