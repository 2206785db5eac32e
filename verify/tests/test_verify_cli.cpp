// focal-verify end to end: clear errors (exit 2) on bad usage, PASS (exit 0) with a JSON report
// that carries the keys the summary scripts read, FAIL (exit 1) when judged against bounds
// tighter than the kernels achieve, and the exhaustive machinery on a strided sample.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "focal/focal.hpp"

namespace {

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
  const std::string j = slurp(json);
  for (const char* key : {"\"tool\":\"focal-verify\"", "\"mode\":\"quick\"", "\"git_rev\"", "\"machine\"",
                          "\"dispatch\"", "\"kernels\"", "\"families\"", "\"family\":\"labels\"",
                          "\"family\":\"special\"", "\"max_ulp\"", "\"worst\"", "\"sum\"",
                          "\"bitwise_stable\":true", "\"peer\"", "\"cross\"", "\"error_vs_x\"",
                          "\"abs_x\"", "\"loss_ulp\"", "\"pass\":true"})
    EXPECT_NE(j.find(key), std::string::npos) << key;
  // Valid JSON only: no NaN/Infinity literals.
  EXPECT_EQ(j.find("nan"), std::string::npos);
  EXPECT_EQ(j.find("inf\""), std::string::npos);
  EXPECT_EQ(j.find("Infinity"), std::string::npos);
}

TEST(VerifyCli, FailsWhenTheBoundIsTighterThanTheKernel) {
  // scalar's errors reach ~0.5 ULP; against 0.1 x its 1-ULP bound it must fail, exit 1.
  const auto r = run("--quick --kernels scalar --gamma 2 --alpha 0.25 --bound-scale 0.1");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("FAIL"), std::string::npos) << r.out;
}

TEST(VerifyCli, ExhaustiveMachineryOnAStridedSample) {
  const std::string json = testing::TempDir() + "focal_verify_ex.json";
  const auto r = run("--exhaustive --kernels scalar --json '" + json + "'", "FOCAL_VERIFY_STRIDE=4096");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("NOT exhaustive"), std::string::npos) << r.out;
  const std::string j = slurp(json);
  EXPECT_NE(j.find("\"mode\":\"exhaustive\""), std::string::npos);
  EXPECT_NE(j.find("\"exhaustive\":false"), std::string::npos);
  EXPECT_NE(j.find("\"over_bound\":0"), std::string::npos);
  // With a bound below what scalar achieves, the inputs over it are listed.
  const auto tight = run("--exhaustive --kernels scalar --bound-scale 0.2 --json '" + json + "'",
                         "FOCAL_VERIFY_STRIDE=4096");
  EXPECT_EQ(tight.status, 1) << tight.out;
  EXPECT_NE(slurp(json).find("\"bits\":\"0x"), std::string::npos);
}

}  // namespace
