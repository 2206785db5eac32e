// focal-bench's command line: see cli.hpp.
#include "cli.hpp"

#include <benchmark/benchmark.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <stdexcept>

#include "focal_support/lists.hpp"
#include "focal_support/version.hpp"

namespace focal::bench {
namespace {

constexpr const char* kFocalHelp =
    "focal-bench flags (besides Google Benchmark's --benchmark_* flags above):\n"
    "  [--focal_sizes=LIST]      log2 of the sizes, each in [10, 28] (default 12,16,20,24;\n"
    "                            CUDA default 16,20,24,27,28)\n"
    "  [--focal_kernels=LIST]    kernels to run (default: every available one); a named kernel\n"
    "                            that is unavailable here is an error\n"
    "  [--focal_layouts=LIST]    dense, soft, labels_c80, dense_fp16, dense_bf16,\n"
    "                            labels_c80_fp16, labels_c80_bf16 (default dense,labels_c80,\n"
    "                            dense_fp16,dense_bf16; half layouts: fp16/bf16 logits, the\n"
    "                            gradient written in their dtype)\n"
    "  [--focal_threads=LIST]    thread counts of the openmp kernels, each in [1, cores]\n"
    "                            (default 1, 2, ..., cores)\n"
    "  [--focal_scalar_max=K]    largest log2 size for the scalar-backend kernels (default 20:\n"
    "                            they are slow)\n"
    "  [--version]               print the version and exit\n"
    "Formats: console or json (--benchmark_format, --benchmark_out_format); csv is refused: its\n"
    "reporter aborts when benchmarks count different things, as probes and kernels do.\n"
    "Names: focal_sum|focal_grad/<kernel>/<layout>/n:<n>[/threads:<k>], probe_<what>/n:<n>\n"
    "(probe_read, probe_copy; CUDA: probe_cuda_read, probe_cuda_copy, probe_cuda_h2d, probe_cuda_d2h)\n"
    "Exit status: 0 ok; 1 nothing matched or --benchmark_out (or stdout) not writable; 2 bad\n"
    "argument.\n";

// A comma-separated flag value; an empty item is a usage error.
std::vector<std::string> split(const std::string& s, const char* flag) {
  try {
    return focal::support::split_list(s);
  } catch (const std::invalid_argument& e) {
    usage_error(std::string(flag) + ": " + e.what());
  }
}

int parse_log2(const std::string& s, const char* flag) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end || errno || v < 10 || v > 28)
    usage_error(std::string(flag) + ": expected integers in [10, 28], got '" + s + "'");
  return int(v);
}

int parse_threads(const std::string& s, int cores) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end || errno || v < 1 || v > cores)
    usage_error("--focal_threads: expected integers in [1, " + std::to_string(cores) +
                "] (this machine's cores), got '" + s + "'");
  return int(v);
}

// Google Benchmark answers an unknown format with its help and exit status 0, and its csv
// reporter aborts unless every benchmark has the first one's counters (probes and kernels here
// count different things).
void check_format(const char* flag, const std::string& v) {
  if (v == "csv")
    usage_error(std::string(flag) + ": csv is not supported (Google Benchmark's csv reporter needs "
                "the same counters in every benchmark); use json or console");
  if (v != "console" && v != "json")
    usage_error(std::string(flag) + ": expected console or json, got '" + v + "'");
}

}  // namespace

[[noreturn]] void usage_error(const std::string& msg) {
  std::fprintf(stderr, "focal-bench: %s\n%s", msg.c_str(), kFocalHelp);
  std::exit(2);
}
[[noreturn]] void fail(const std::string& msg) {
  std::fprintf(stderr, "focal-bench: %s\n", msg.c_str());
  std::exit(1);
}
// The console report (Google Benchmark writes it to std::cout and never checks): a full disk
// or closed stdout is an error, not exit 0 with the results lost.
void check_stdout_written() {
  std::cout.flush();
  if (!std::cout || std::fflush(stdout) != 0 || std::ferror(stdout))
    fail("writing the results to stdout failed");
}

Config take_flags(int& argc, char** argv, int cores) {
  Config c;
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* name) -> const char* {
      const std::size_t len = std::strlen(name);
      return a.compare(0, len, name) == 0 ? argv[i] + len : nullptr;
    };
    if (const char* v = value("--focal_sizes=")) {
      c.sizes.clear();
      for (const auto& s : split(v, "--focal_sizes")) c.sizes.push_back(parse_log2(s, "--focal_sizes"));
    } else if (const char* v = value("--focal_kernels=")) {
      c.kernels = split(v, "--focal_kernels");
    } else if (const char* v = value("--focal_layouts=")) {
      c.layouts.clear();
      for (const auto& w : split(v, "--focal_layouts")) {
        Layout l;
        if (!parse_layout(w, &l))
          usage_error("--focal_layouts: unknown layout '" + w + "' (expected " + layout_words() + ")");
        if (std::find(c.layouts.begin(), c.layouts.end(), l) == c.layouts.end()) c.layouts.push_back(l);
      }
    } else if (const char* v = value("--focal_threads=")) {
      c.threads.clear();
      for (const auto& s : split(v, "--focal_threads")) c.threads.push_back(parse_threads(s, cores));
    } else if (const char* v = value("--focal_scalar_max=")) {
      c.scalar_max = parse_log2(v, "--focal_scalar_max");
    } else if (a == "--version") {
      std::printf("%s\n", focal::support::version_line("focal-bench").c_str());
      check_stdout_written();
      std::exit(0);
    } else if (a.rfind("--focal_", 0) == 0) {
      usage_error("unknown flag '" + a + "'");
    } else {
      if (const char* v = value("--benchmark_out=")) c.out_path = v;
      if (const char* v = value("--benchmark_out_format=")) check_format("--benchmark_out_format", c.out_format = v);
      if (const char* v = value("--benchmark_format=")) check_format("--benchmark_format", v);
      argv[out++] = argv[i];
    }
  }
  argc = out;
  for (auto* v : {&c.sizes, &c.threads}) {
    std::sort(v->begin(), v->end());
    v->erase(std::unique(v->begin(), v->end()), v->end());
  }
  return c;
}

// Google Benchmark reports an unopenable --benchmark_out but exits 0 and, past the open, never
// checks the writes; so try the path first, and check the result after the run.
// Returns whether the file existed before (so a run that writes nothing can remove it again).
bool check_out_path(const std::string& path) {
  if (path.empty()) return true;
  struct stat st{};
  const bool existed = stat(path.c_str(), &st) == 0;
  std::ofstream f(path, std::ios::app);
  if (!f) fail("--benchmark_out=" + path + ": cannot write: " + std::strerror(errno));
  // A device cannot be checked after the run (/dev/full takes the open, then fails every
  // write): one newline now tells.
  if (existed && S_ISCHR(st.st_mode) && !(f << '\n' << std::flush))
    fail("--benchmark_out=" + path + ": cannot write to it");
  return existed;
}
// A write that failed half way (a full disk, a file size limit) leaves a file cut short: JSON
// ends by closing the "benchmarks" list and the document ("]" then "}"), csv and console with a
// newline. Google Benchmark does not check its writes.
void check_out_written(const std::string& path, const std::string& format) {
  struct stat st{};
  if (path.empty() || stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return;
  if (st.st_size == 0) fail("--benchmark_out=" + path + ": nothing was written");
  std::ifstream f(path, std::ios::binary);
  const std::streamoff tail = std::min<std::streamoff>(st.st_size, 64);
  std::string end(static_cast<std::size_t>(tail), '\0');
  f.seekg(-tail, std::ios::end);
  f.read(end.data(), tail);
  if (!f) fail("--benchmark_out=" + path + ": cannot read it back");
  bool whole = end.back() == '\n';
  if (format == "json") {
    std::string ink;  // the last characters that are not blanks
    for (char c : end)
      if (!std::isspace(static_cast<unsigned char>(c))) ink += c;
    whole = ink.size() >= 2 && ink.compare(ink.size() - 2, 2, "]}") == 0;
  }
  if (!whole)
    fail("--benchmark_out=" + path + ": the file is cut short (a write failed: a full disk or a "
         "file size limit?)");
}

void print_help() {
  benchmark::PrintDefaultHelp();
  std::fputs(kFocalHelp, stdout);
}

}  // namespace focal::bench
