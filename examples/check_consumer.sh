#!/usr/bin/env bash
# Builds and runs the examples/ consumer (CTest: example_find_package, example_add_subdirectory).
#   check_consumer.sh find_package|add_subdirectory SOURCE_DIR BUILD_DIR [CMAKE [-D... for the consumer]]
# find_package: stages `cmake --install BUILD_DIR` under BUILD_DIR/examples/stage and builds the
# consumer against it. add_subdirectory: builds the consumer with SOURCE_DIR added as a shared
# library (FOCAL_SHARED=ON), then checks the exported symbols and the consumer's cache.
set -euo pipefail
mode=${1:?mode}; src=${2:?source dir}; build=${3:?build dir}; cmake=${4:-cmake}
shift $(( $# < 4 ? $# : 4 )); flags=("$@")  # the parent build's compiler and flags
work=$build/examples/$mode
rm -rf "$work"; mkdir -p "$work"
fail() { echo "check_consumer($mode): FAIL: $*" >&2; exit 1; }
run() { "$@" > "$work/log" 2>&1 || { cat "$work/log"; fail "command failed: $*"; }; }

case $mode in
  find_package)
    stage=$build/examples/stage
    rm -rf "$stage"
    run "$cmake" --install "$build" --prefix "$stage"
    for f in include/focal/focal.hpp include/focal/cuda.hpp include/focal/export.hpp \
             lib/cmake/focal/focalConfig.cmake lib/cmake/focal/focalConfigVersion.cmake; do
      [ -f "$stage/$f" ] || fail "the install lacks $f"
    done
    run "$cmake" -S "$src/examples" -B "$work" -DCMAKE_PREFIX_PATH="$stage" -DCMAKE_BUILD_TYPE=Release "${flags[@]}"
    # The version file refuses an incompatible request (1.0) while the consumer asks for 0.1.
    mkdir -p "$work/version-check"
    printf '%s\n' 'cmake_minimum_required(VERSION 3.25)' 'project(v LANGUAGES CXX)' \
      'find_package(focal 1.0 QUIET)' 'if(focal_FOUND)' '  message(FATAL_ERROR "focal 1.0 accepted")' 'endif()' \
      > "$work/version-check/CMakeLists.txt"
    run "$cmake" -S "$work/version-check" -B "$work/version-check/b" -DCMAKE_PREFIX_PATH="$stage" "${flags[@]}"
    ;;
  add_subdirectory)
    # No CMAKE_BUILD_TYPE on purpose: the consumer's empty build type must stay empty.
    run "$cmake" -S "$src/examples" -B "$work" -DFOCAL_EXAMPLE_SOURCE="$src" -DFOCAL_SHARED=ON \
        -DFOCAL_SIMD=OFF -DFOCAL_OPENMP=OFF -DFOCAL_CUDA=OFF "${flags[@]}"
    grep -q '^CMAKE_BUILD_TYPE:STRING=$' "$work/CMakeCache.txt" \
      || fail "CMAKE_BUILD_TYPE was set in the parent's cache: $(grep '^CMAKE_BUILD_TYPE' "$work/CMakeCache.txt")"
    if grep -qE '^(MPFR_LIBRARY|GMP_LIBRARY|GTest_DIR|benchmark_DIR)[:=]' "$work/CMakeCache.txt"; then
      fail "a subproject build looked for verify/tests/bench dependencies (MPFR, GTest, benchmark)"
    fi
    ;;
  *) fail "unknown mode '$mode' (expected find_package or add_subdirectory)" ;;
esac

run "$cmake" --build "$work" -j 2
"$work/focal_example" || fail "focal_example exited non-zero"

if [ "$mode" = add_subdirectory ]; then
  lib=$(find "$work" -name 'libfocal_kernels.so*' -type f | head -n1)
  [ -n "$lib" ] || fail "no shared libfocal_kernels.so was built with FOCAL_SHARED=ON"
  exported=$(nm -DC --defined-only "$lib")
  grep -q 'focal::focal_loss' <<< "$exported" || fail "$lib does not export focal::focal_loss"
  grep -q 'typeinfo for focal::invalid_argument' <<< "$exported" \
    || fail "$lib does not export focal::invalid_argument's type info"
  if grep -q 'focal::backends::' <<< "$exported"; then
    fail "$lib exports internal symbols: $(grep 'focal::backends::' <<< "$exported" | head -3)"
  fi
  echo "exported symbols: $(wc -l <<< "$exported") (no focal::backends internals)"
fi
echo "check_consumer($mode): OK"
