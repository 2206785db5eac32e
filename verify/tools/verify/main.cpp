// focal-verify: how accurate is each kernel on this machine, and where does it break?
// (usage and exit status: cli.cpp's kUsage, printed by --help)
//
// cli.*               the command line
// sampled.*           --quick / --full: case families against MPFR, sums, stability, cross checks
// sampled_report.cpp  their table and JSON
// exhaustive.*        --exhaustive: every float32 x against the fast double reference, threaded
// exhaustive_report.cpp  its text, JSON and per-kernel/gamma JSON + markdown files
// report.*            what both reports share (run header, kernel header, stats as JSON)
#include <cstdio>
#include <filesystem>
#include <string>

#include "../text_io.hpp"
#include "cli.hpp"
#include "exhaustive.hpp"
#include "sampled.hpp"

namespace {

// Fails now, not after an hour of work, when an output cannot be written.
void check_writable(const fv::Config& c) {
  namespace fs = std::filesystem;
  auto probe = [](const std::string& file, const std::string& what) {
    std::FILE* f = std::fopen(file.c_str(), "a");
    if (!f) throw fv::UsageError(what + ": cannot write '" + file + "'");
    std::fclose(f);
  };
  if (!c.json.empty()) {
    if (fs::is_directory(c.json)) throw fv::UsageError("--json: '" + c.json + "' is a directory");
    const std::string p = c.json + ".probe";  // the file is written next to it, then renamed
    probe(p, "--json");
    std::remove(p.c_str());
  }
  if (!c.out_dir.empty()) {
    if (!fs::is_directory(c.out_dir))
      throw fv::UsageError("--out: '" + c.out_dir + "' is not a directory (create it first)");
    const std::string p = c.out_dir + "/.focal-verify-probe";
    probe(p, "--out");
    std::remove(p.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  fv::Config cfg;
  try {
    cfg = fv::parse(argc, argv);
    check_writable(cfg);
  } catch (const fv::UsageError& e) {
    std::fprintf(stderr, "focal-verify: %s\n(focal-verify --help for usage)\n", e.what());
    return 2;
  }
  try {
    const int rc = cfg.mode == fv::Mode::exhaustive
                       ? fv::report_exhaustive(cfg, fv::run_exhaustive(cfg))
                       : fv::report_sampled(cfg, fv::run_sampled(cfg));
    // A report that did not reach stdout (a full disk) is an error (2), not a silent verdict.
    return focal::tools::finish_output("focal-verify") ? 2 : rc;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "focal-verify: error: %s\n", e.what());
    return 2;
  }
}
