// The machine's identity, one definition for every tool and script: results/<id>/ folders,
// the "machine" block of focal-verify's JSON, focal-bench's context. Scripts read it from
// `focal-verify --machine-id`.
//
// id = slug("<cpu model>-<cores>c[-<first GPU>]"), e.g. "intel-xeon-processor-2c",
// "intel-xeon-platinum-8480c-16c-nvidia-h200"; FOCAL_MACHINE_ID overrides it verbatim.
#pragma once

#include <string>
#include <string_view>

namespace focal::support {

struct Machine {
  std::string id;    // the results folder name
  std::string cpu;   // /proc/cpuinfo "model name" (uname's machine when there is none)
  unsigned cores;    // CPUs this process may run on (as nproc; OMP_NUM_THREADS is ignored)
  std::string gpu;   // the first NVIDIA GPU's model name, empty when none is visible
};

// Read once per process.
const Machine& machine();

// The slug rule: lowercase; "(...)" removed; every run of characters other than a-z, 0-9 and
// '.' becomes one '-'; no '-' at either end.
std::string machine_slug(std::string_view raw);

}  // namespace focal::support
