// focal-bench's own flags (--focal_*, taken out of argv before Google Benchmark sees it) and its
// checks of what Google Benchmark writes (which reports a bad format, an unopenable output or a
// failed write with exit status 0 or not at all).
#pragma once

#include <string>
#include <vector>

#include "names.hpp"

namespace focal::bench {

struct Config {
  std::vector<int> sizes;            // empty: the defaults (CPU and CUDA differ)
  std::vector<std::string> kernels;  // empty: all available
  std::vector<Layout> layouts{std::begin(kDefaultLayouts), std::end(kDefaultLayouts)};
  std::vector<int> threads;          // empty: 1..cores
  int scalar_max = 20;
  std::string out_path;              // --benchmark_out, checked before running
  std::string out_format = "json";   // --benchmark_out_format
};


// The --focal_* flags out of argv (the rest stays for benchmark::Initialize); cores bounds
// --focal_threads. Bad flags: usage_error.
Config take_flags(int& argc, char** argv, int cores);

[[noreturn]] void usage_error(const std::string& msg);  // message and help, exit 2
[[noreturn]] void fail(const std::string& msg);         // message, exit 1
void print_help();                                      // Google Benchmark's help, then ours

// Before the run: --benchmark_out can be written (fail otherwise); returns whether it existed.
bool check_out_path(const std::string& path);
// After the run: the output file is whole, stdout took the console report (fail otherwise).
void check_out_written(const std::string& path, const std::string& format);
void check_stdout_written();

}  // namespace focal::bench
