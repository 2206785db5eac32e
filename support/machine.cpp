#include "focal_support/machine.hpp"

#include <sched.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

namespace focal::support {
namespace {

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t");
  const auto e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// The value of the first "key: value" line of a /proc file whose key starts with `key`.
std::string field(const std::string& path, std::string_view key) {
  std::ifstream f(path);
  for (std::string line; std::getline(f, line);)
    if (line.rfind(key, 0) == 0)
      if (const auto colon = line.find(':'); colon != std::string::npos)
        return trim(line.substr(colon + 1));
  return {};
}

std::string cpu_model() {
  std::string m = field("/proc/cpuinfo", "model name");
  if (m.empty()) {
    utsname u{};
    if (uname(&u) == 0) m = u.machine;
  }
  return m;
}

unsigned cpu_count() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return unsigned(n);
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

// The NVIDIA driver lists each GPU under /proc/driver/nvidia/gpus/<PCI address>/information
// with a "Model:" line (the name nvidia-smi prints); the first in PCI order is nvidia-smi's
// GPU 0. No driver, no GPU.
std::string first_gpu() {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<std::string> dirs;
  for (const auto& d : fs::directory_iterator("/proc/driver/nvidia/gpus", ec))
    dirs.push_back(d.path().string());
  std::sort(dirs.begin(), dirs.end());
  for (const auto& d : dirs)
    if (std::string m = field(d + "/information", "Model"); !m.empty()) return m;
  return {};
}

}  // namespace

std::string machine_slug(std::string_view raw) {
  std::string lower, out;
  for (char c : raw) lower += char(std::tolower(static_cast<unsigned char>(c)));
  for (std::size_t i = 0; i < lower.size(); ++i) {
    // "(...)" up to the next ')' is dropped (no nesting, as the sed rule of the old script).
    if (const auto close = lower.find(')', i); lower[i] == '(' && close != std::string::npos) {
      i = close;
      continue;
    }
    const char c = lower[i];
    const bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.';
    if (keep) out += c;
    else if (out.empty() || out.back() != '-') out += '-';
  }
  if (!out.empty() && out.front() == '-') out.erase(out.begin());
  if (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

const Machine& machine() {
  static const Machine m = [] {
    Machine r{{}, cpu_model(), cpu_count(), first_gpu()};
    if (const char* forced = std::getenv("FOCAL_MACHINE_ID"); forced && *forced) {
      r.id = forced;
    } else {
      std::string raw = r.cpu + "-" + std::to_string(r.cores) + "c";
      if (!r.gpu.empty()) raw += "-" + r.gpu;
      r.id = machine_slug(raw);
    }
    return r;
  }();
  return m;
}

}  // namespace focal::support
