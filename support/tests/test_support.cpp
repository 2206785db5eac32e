// The tools' shared support: the machine-id slug rule (results/<id>/ folder names must not
// change), JSON files (errors name the file; nothing half-written), the version line.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include "focal/version.hpp"
#include "focal_support/json.hpp"
#include "focal_support/machine.hpp"
#include "focal_support/version.hpp"

namespace focal::support {
namespace {

TEST(MachineSlug, KnownMachines) {
  EXPECT_EQ(machine_slug("Intel(R) Xeon(R) Processor-2c"), "intel-xeon-processor-2c");
  EXPECT_EQ(machine_slug("Intel(R) Xeon(R) Platinum 8480C-16c-NVIDIA H200"),
            "intel-xeon-platinum-8480c-16c-nvidia-h200");
  EXPECT_EQ(machine_slug("AMD EPYC 7B13 64-Core Processor-8c"), "amd-epyc-7b13-64-core-processor-8c");
  EXPECT_EQ(machine_slug("Intel(R) Core(TM) i7-1185G7 @ 3.00GHz-8c"), "intel-core-i7-1185g7-3.00ghz-8c");
  EXPECT_EQ(machine_slug("aarch64-4c"), "aarch64-4c");
}

TEST(MachineSlug, EdgesAsTheScriptRule) {
  EXPECT_EQ(machine_slug("  --Foo__Bar--  "), "foo-bar");
  EXPECT_EQ(machine_slug("a(b(c)d)e"), "ad-e");  // "(...)" to the first ')', no nesting
  EXPECT_EQ(machine_slug("open (paren"), "open-paren");
  EXPECT_EQ(machine_slug(""), "");
}

TEST(Machine, DescribesThisProcess) {
  const Machine& m = machine();
  EXPECT_FALSE(m.cpu.empty());
  EXPECT_GE(m.cores, 1u);
  if (!std::getenv("FOCAL_MACHINE_ID")) {
    std::string raw = m.cpu + "-" + std::to_string(m.cores) + "c";
    if (!m.gpu.empty()) raw += "-" + m.gpu;
    EXPECT_EQ(m.id, machine_slug(raw));
  }
  EXPECT_EQ(&machine(), &m);  // computed once
}

std::string temp_dir() {
  char tmpl[] = "/tmp/focal_support_XXXXXX";
  const char* d = mkdtemp(tmpl);
  if (!d) throw std::runtime_error("mkdtemp failed");
  return d;
}

TEST(JsonFile, WritesAndReadsBackInOrder) {
  const std::string dir = temp_dir();
  const std::string path = dir + "/a.json";
  Json j;
  j["z"] = 1;
  j["a"] = "text \"quoted\"\n";
  j["nan"] = std::nan("");
  j["inf"] = INFINITY;
  j["f"] = short_float(0.1f);
  write_json_file(path, j);
  std::ifstream f(path);
  const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_LT(text.find("\"z\""), text.find("\"a\""));        // order kept
  EXPECT_NE(text.find("\"nan\": null"), std::string::npos);  // no NaN literal
  EXPECT_NE(text.find("\"inf\": null"), std::string::npos);
  EXPECT_NE(text.find("\"f\": 0.1"), std::string::npos);
  EXPECT_EQ(text.find("0.100000001"), std::string::npos);  // the float's short form
  const Json back = read_json_file(path);
  EXPECT_EQ(back["z"], 1);
  EXPECT_EQ(back["a"], "text \"quoted\"\n");
  EXPECT_TRUE(back["nan"].is_null());
  EXPECT_EQ(float(back["f"].get<double>()), 0.1f);
  std::remove(path.c_str());
  rmdir(dir.c_str());
}

TEST(JsonFile, ShortFloatRoundTripsEveryKind) {
  for (float v : {0.0f, -0.0f, 1.0f, 0.1f, 3.4028235e38f, 1.17549435e-38f, 1.4e-45f, -2.5e-7f}) {
    const double d = short_float(v);
    EXPECT_EQ(float(d), v);
    EXPECT_EQ(std::signbit(d), std::signbit(v));
  }
  EXPECT_TRUE(std::isinf(short_float(INFINITY)));
  EXPECT_TRUE(std::isnan(short_float(NAN)));
}

TEST(JsonFile, ErrorsNameTheFile) {
  const std::string dir = temp_dir();
  const std::string bad = dir + "/no/such/dir/out.json";
  try {
    write_json_file(bad, Json::object());
    ADD_FAILURE() << "writing into a missing directory succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
  }
  const std::string broken = dir + "/broken.json";
  std::ofstream(broken) << "{\"a\": [1, 2,";
  try {
    (void)read_json_file(broken);
    ADD_FAILURE() << "a truncated file parsed";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(broken), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)read_json_file(dir + "/missing.json"), std::runtime_error);
  // A failed write leaves the previous file whole.
  const std::string keep = dir + "/keep.json";
  write_json_file(keep, Json{{"v", 1}});
  EXPECT_EQ(read_json_file(keep)["v"], 1);
  std::remove(broken.c_str());
  std::remove(keep.c_str());
  rmdir(dir.c_str());
}

TEST(Version, LineNamesToolVersionAndRevision) {
  EXPECT_FALSE(focal::version().empty());
  EXPECT_NE(focal::version().find('.'), std::string_view::npos);
  const std::string line = version_line("focal-x");
  EXPECT_EQ(line.rfind("focal-x " + std::string(focal::version()) + " (git ", 0), 0u) << line;
}

}  // namespace
}  // namespace focal::support
