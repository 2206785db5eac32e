// focal-digest: a digest of a kernel's output bits over every float32 x (or a range of bit
// patterns), t = 0 and 1, for each gamma: loss and gradient of every element, dense u8 layout,
// alpha 0.25, Reduction::sum. Two builds that print the same digests compute the same bits on
// every input, so a change that claims "same bits" (a new schedule of the element, an unrolled
// loop) is checked in about a minute per kernel instead of re-running the MPFR-grade exhaustive
// proof (focal-verify --exhaustive, about an hour), which then stays valid.
//   focal-digest --kernel NAME [--gammas LIST] [--threads N] [--range LO:HI]
// Exit: 0 done, 1 kernel unavailable, a bad input reported by the library or stdout not written,
// 2 bad command line.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "focal/focal.hpp"
#include "focal_support/version.hpp"
#include "text_io.hpp"

namespace {

constexpr std::uint64_t kChunk = std::uint64_t{1} << 16;

void print_usage(std::FILE* f) {
  std::fputs(
      "usage: focal-digest --kernel NAME [--gammas LIST] [--threads N] [--range LO:HI]\n"
      "  --gammas  comma-separated, each in [0, 8] (default 0,1,2,3,4)\n"
      "  --threads worker threads, 1..256 (default: the CPUs)\n"
      "  --range   x bit patterns [LO, HI), hex or decimal, LO < HI <= 2^32 (default all)\n"
      "Prints one digest per (gamma, t) of the loss and gradient bits, and one of them all.\n"
      "Exit: 0 done, 1 kernel unavailable, a library error or stdout not written, 2 bad command\n"
      "line.\n",
      f);
}

[[noreturn]] void usage_error(const std::string& msg) {
  std::fprintf(stderr, "focal-digest: %s\n", msg.c_str());
  print_usage(stderr);
  std::exit(2);
}

std::uint64_t parse_u64(const std::string& s, const char* what) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 0);
  if (s.empty() || *end || errno || s[0] == '-') usage_error(std::string(what) + ": expected a number, got '" + s + "'");
  return v;
}

// A 64-bit mix of one word into the running hash (multiply-xorshift; order-sensitive).
std::uint64_t mix(std::uint64_t h, std::uint64_t w) {
  h ^= w + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  h *= 0xff51afd7ed558ccdull;
  return h ^ (h >> 33);
}

}  // namespace

int main(int argc, char** argv) {
  std::string kernel;
  std::vector<float> gammas = {0, 1, 2, 3, 4};
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::uint64_t lo = 0, hi = std::uint64_t{1} << 32;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(a + ": expected a value");
      return argv[++i];
    };
    if (a == "--kernel") {
      kernel = value();
    } else if (a == "--gammas") {
      gammas.clear();
      const std::string list = value();
      std::size_t at = 0;
      while (at <= list.size()) {
        const std::size_t comma = std::min(list.find(',', at), list.size());
        const std::string item = list.substr(at, comma - at);
        char* end = nullptr;
        const float g = std::strtof(item.c_str(), &end);
        if (item.empty() || *end || !(g >= 0.0f && g <= 8.0f))
          usage_error("--gammas: expected numbers in [0, 8], got '" + item + "'");
        gammas.push_back(g);
        at = comma + 1;
      }
    } else if (a == "--threads") {
      const std::uint64_t t = parse_u64(value(), "--threads");
      if (t < 1 || t > 256) usage_error("--threads: expected 1..256");
      threads = unsigned(t);
    } else if (a == "--range") {
      const std::string r = value();
      const std::size_t colon = r.find(':');
      if (colon == std::string::npos) usage_error("--range: expected LO:HI, got '" + r + "'");
      lo = parse_u64(r.substr(0, colon), "--range LO");
      hi = parse_u64(r.substr(colon + 1), "--range HI");
      if (!(lo < hi && hi <= (std::uint64_t{1} << 32))) usage_error("--range: expected LO < HI <= 2^32");
    } else if (a == "--version") {
      std::printf("%s\n", focal::support::version_line("focal-digest").c_str());
      return focal::tools::finish_output("focal-digest");
    } else if (a == "--help" || a == "-h") {
      print_usage(stdout);
      return focal::tools::finish_output("focal-digest");
    } else {
      usage_error("unknown argument '" + a + "'");
    }
  }
  if (kernel.empty()) usage_error("--kernel is required");
  const focal::KernelInfo* k = nullptr;
  try {
    k = &focal::find_kernel(kernel);
  } catch (const focal::invalid_argument& e) {
    usage_error(std::string("--kernel: ") + e.what());
  }
  if (std::string why = k->unavailable_reason(); !why.empty()) {
    std::fprintf(stderr, "focal-digest: kernel %s is unavailable here: %s\n", kernel.c_str(), why.c_str());
    return 1;
  }

  // digests[g * 2 + t]: the sum over chunks of the chunk's hash seeded by its index, so the
  // result does not depend on which thread ran which chunk.
  const std::size_t nd = gammas.size() * 2;
  std::vector<std::vector<std::uint64_t>> per_thread(threads, std::vector<std::uint64_t>(nd, 0));
  std::atomic<std::uint64_t> next{lo};
  std::atomic<bool> failed{false};
  auto worker = [&](unsigned tid) {
    std::vector<float> x(kChunk), loss(kChunk), grad(kChunk);
    const std::vector<std::uint8_t> t0(kChunk, 0), t1(kChunk, 1);
    for (std::uint64_t base; (base = next.fetch_add(kChunk)) < hi && !failed;) {
      const std::uint64_t n = std::min(kChunk, hi - base);
      for (std::uint64_t i = 0; i < n; ++i) {
        const auto b = std::uint32_t(base + i);
        std::memcpy(&x[i], &b, 4);
      }
      for (std::size_t gi = 0; gi < gammas.size(); ++gi)
        for (int t = 0; t < 2; ++t) {
          try {
            focal::focal_loss(*k, focal::DenseInput{{x.data(), n}, {(t ? t1 : t0).data(), n}},
                              focal::Options{.alpha = 0.25f, .gamma = gammas[gi]},
                              focal::Outputs{{loss.data(), n}, {grad.data(), n}});
          } catch (const std::exception& e) {
            std::fprintf(stderr, "focal-digest: %s\n", e.what());
            failed = true;
            return;
          }
          std::uint64_t h = mix(0, base);
          for (std::uint64_t i = 0; i < n; ++i) {
            std::uint32_t lb, gb;
            std::memcpy(&lb, &loss[i], 4);
            std::memcpy(&gb, &grad[i], 4);
            h = mix(h, (std::uint64_t{lb} << 32) | gb);
          }
          per_thread[tid][gi * 2 + std::size_t(t)] += h;
        }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) pool.emplace_back(worker, t);
  for (auto& th : pool) th.join();
  if (failed) return 1;

  std::printf("focal-digest %s: x bit patterns [0x%" PRIx64 ", 0x%" PRIx64 "), alpha 0.25, dense\n",
              kernel.c_str(), lo, hi);
  std::uint64_t all = 0;
  for (std::size_t gi = 0; gi < gammas.size(); ++gi)
    for (int t = 0; t < 2; ++t) {
      std::uint64_t d = 0;
      for (const auto& pt : per_thread) d += pt[gi * 2 + std::size_t(t)];
      all = mix(all, d);
      std::printf("gamma %g t %d: %016" PRIx64 "\n", gammas[gi], t, d);
    }
  std::printf("all: %016" PRIx64 "\n", all);
  return focal::tools::finish_output("focal-digest");  // a full disk or closed pipe is an error
}
