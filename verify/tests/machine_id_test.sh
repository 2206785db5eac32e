#!/usr/bin/env bash
# focal-verify --machine-id (focal::support::machine, the one implementation) gives the same id
# as scripts/lib/machine-id while that script still exists, and honours FOCAL_MACHINE_ID.
# usage: machine_id_test.sh FOCAL_VERIFY SOURCE_DIR
set -u
verify=$1 src=$2
fail=0
id=$(env -u FOCAL_MACHINE_ID "$verify" --machine-id) || { echo "FAIL: --machine-id exited $?"; exit 1; }
[[ $id =~ ^[a-z0-9.]+(-[a-z0-9.]+)*$ ]] || { echo "FAIL: '$id' is not a slug"; fail=1; }
script=$src/scripts/lib/machine-id
if [ -f "$script" ]; then
  # (the script's nproc honours OMP_NUM_THREADS; the tool names the machine, not the run)
  want=$(env -u FOCAL_MACHINE_ID -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT bash "$script")
  [ "$id" = "$want" ] || { echo "FAIL: focal-verify says '$id', $script says '$want'"; fail=1; }
else
  echo "note: $script is gone; only the tool's own id is checked"
fi
forced=$(FOCAL_MACHINE_ID=my-box-4c "$verify" --machine-id)
[ "$forced" = my-box-4c ] || { echo "FAIL: FOCAL_MACHINE_ID=my-box-4c gave '$forced'"; fail=1; }
[ $fail = 0 ] && echo "PASS: machine id '$id'"
exit $fail
