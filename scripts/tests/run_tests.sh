#!/usr/bin/env bash
# Runs the tests of the result scripts (test_results.py: the reader and bad files;
# test_commands.py: compare, choose-kernel, summary, run/test/device-check, the peers) with the
# interpreter the scripts use. Registered in CTest as "scripts" (the tests find that build's
# focal-bench and focal-verify from CTest's working directory, or FOCAL_BUILD_DIR).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/deps.sh"
py=$(focal_python)
cd_back=$PWD
export FOCAL_BUILD_DIR=${FOCAL_BUILD_DIR:-$(d=$cd_back; while [ "$d" != / ] && [ ! -f "$d/CMakeCache.txt" ]; do d=$(dirname "$d"); done; [ -f "$d/CMakeCache.txt" ] && echo "$d" || echo "$here/../../build")}
exec "$py" -m unittest discover -s "$here" -p 'test_*.py' "$@"
