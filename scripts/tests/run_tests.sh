#!/usr/bin/env bash
# Runs the tests of the result scripts (compare, choose-kernel, summary, run/peer argument checks)
# with the interpreter the scripts use. Registered in CTest as "scripts".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/deps.sh"
py=$(focal_python)
exec "$py" "$here/test_scripts.py" "$@"
