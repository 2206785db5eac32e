#!/usr/bin/env bash
# End-to-end checks of focal-eval: listing, evaluation against the MPFR oracle on random inputs
# (drawn here, not chosen by the code under test), --sum, and clear errors on bad input.
set -u
bin=${1:?usage: cli_test.sh BINDIR}
pass=0 fail=0
ok()   { pass=$((pass + 1)); echo "ok   - $1"; }
bad()  { fail=$((fail + 1)); echo "FAIL - $1"; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# --list: NAME available|unavailable BACKEND ISA BOUND
"$bin/focal-eval" --list > "$tmp/list" && grep -Eq '^scalar +available +scalar ' "$tmp/list" \
  && ok "--list shows scalar" || bad "--list shows scalar: $(cat "$tmp/list")"

# Random inputs (fresh each run; awk's srand uses the clock) over many magnitudes, t in {0,1}
# and soft; plus hex floats. Every available kernel must meet its bound on them.
awk 'BEGIN { srand(); for (i = 0; i < 3000; i++) { m = exp((rand() * 2 - 1) * 12); s = rand() < 0.5 ? -1 : 1;
       r = rand(); t = r < 0.4 ? 0 : (r < 0.8 ? 1 : rand()); printf "%.9g %.9g\n", s * m, t } }' > "$tmp/in"
printf '0x1.1p4 1\n-0x1.9p6 1\n-30 0\n' >> "$tmp/in"
while read -r name avail _ _ bounds _; do
  [ "$avail" = available ] || continue
  ulp=${bounds#ulp=}; ulp=${ulp%%,*}; rel=${bounds#*rel=}
  for g in 2 0 0.5; do
    bound=$ulp
    [ "$g" = 0.5 ] && bound=$rel
    if "$bin/focal-eval" --kernel "$name" --gamma "$g" < "$tmp/in" > "$tmp/out" 2> "$tmp/err" &&
       paste -d' ' "$tmp/in" "$tmp/out" | "$bin/focal-reference" --check "$bound" --gamma "$g" > "$tmp/chk"; then
      ok "$name gamma=$g within its bound ($bound) on random inputs"
    else
      bad "$name gamma=$g: $(cat "$tmp/err" "$tmp/chk")"
    fi
  done
done < "$tmp/list"

# The extreme-p_t headline: x = 17, t = 1 gives 1.77e-23, not 0.
out=$(echo "17 1" | "$bin/focal-eval" --kernel scalar 2>/dev/null)
awk -v o="$out" 'BEGIN { split(o, a, " "); exit !(a[1] > 1.76e-23 && a[1] < 1.78e-23) }' \
  && ok "x=17 t=1 loss 1.77e-23 ($out)" || bad "x=17 t=1: got '$out'"

# --sum prints 'sum count'
out=$(printf '1 1\n-2 0\n# comment\n\n3 1\n' | "$bin/focal-eval" --kernel scalar --sum 2>/dev/null)
[ "$(echo "$out" | awk '{print $2}')" = 3 ] && ok "--sum counts 3 ($out)" || bad "--sum: '$out'"

# The kernel that ran is reported
printf '1 1\n' | FOCAL_KERNEL=scalar "$bin/focal-eval" 2>&1 >/dev/null | grep -q 'kernel scalar' \
  && ok "reports the kernel that ran" || bad "kernel not reported"

# Errors: non-zero exit and a message naming the problem
expect_error() {  # description, expected text, command...
  local what=$1 needle=$2; shift 2
  if "$@" > "$tmp/o" 2> "$tmp/e"; then bad "$what: exit 0"; 
  elif grep -q -- "$needle" "$tmp/e"; then ok "$what"; else bad "$what: $(cat "$tmp/e")"; fi
}
expect_error "unparsable line names its number" "line 2" sh -c "printf '1 1\nabc 1\n' | '$bin/focal-eval' --kernel scalar"
expect_error "missing target" "line 1" sh -c "printf '1\n' | '$bin/focal-eval' --kernel scalar"
expect_error "target out of range" "line 1" sh -c "printf '1 1.5\n' | '$bin/focal-eval' --kernel scalar"
expect_error "unknown kernel" "expected one of" sh -c "echo '1 1' | '$bin/focal-eval' --kernel nope"
expect_error "gamma < 0" "'gamma'" sh -c "echo '1 1' | '$bin/focal-eval' --gamma -1"
expect_error "alpha > 1" "'alpha'" sh -c "echo '1 1' | '$bin/focal-eval' --alpha 2"
expect_error "unparsable gamma" "expected a number" "$bin/focal-eval" --gamma two
expect_error "unknown flag" "unknown argument" "$bin/focal-eval" --frobnicate

expect_error "gamma above the verified range" "'gamma'" sh -c "echo '1 1' | '$bin/focal-eval' --gamma 9"

# --layout: dense and labels reach the dense and class-label paths (and the fast tiers); every
# available kernel within its bound there too. Labels: rows of 7, at most one positive per row.
awk 'BEGIN { srand(); for (i = 0; i < 2000; i++) { m = exp((rand() * 2 - 1) * 12); s = rand() < 0.5 ? -1 : 1;
       printf "%.9g %d\n", s * m, rand() < 0.5 } }' > "$tmp/dense"
awk 'BEGIN { srand(); for (r = 0; r < 300; r++) { lab = int(rand() * 8); for (k = 0; k < 7; k++) {
       m = exp((rand() * 2 - 1) * 12); s = rand() < 0.5 ? -1 : 1; printf "%.9g %d\n", s * m, k == lab } } }' > "$tmp/labels"
while read -r name avail _ _ bounds _; do
  [ "$avail" = available ] || continue
  ulp=${bounds#ulp=}; ulp=${ulp%%,*}
  for layout in dense labels; do
    extra=; [ $layout = labels ] && extra="--classes 7"
    if "$bin/focal-eval" --kernel "$name" --layout $layout $extra < "$tmp/$layout" > "$tmp/out" 2> "$tmp/err" &&
       paste -d' ' "$tmp/$layout" "$tmp/out" | "$bin/focal-reference" --check "$ulp" > "$tmp/chk"; then
      ok "$name --layout $layout within its bound ($ulp)"
    else
      bad "$name --layout $layout: $(cat "$tmp/err" "$tmp/chk")"
    fi
  done
  # Special values through every layout: an underflowed weight times an infinite CE is inf;
  # alpha 0 / 1 with +-inf give 0 and NaN stays NaN.
  printf -- '-inf 0x1p-149\ninf 0x1.fffffep-1\n-inf 0.5\n' > "$tmp/sp"
  rel=${bounds#*rel=}
  "$bin/focal-eval" --kernel "$name" --gamma 8 < "$tmp/sp" 2>/dev/null | paste -d' ' "$tmp/sp" - |
    "$bin/focal-reference" --check "$rel" --gamma 8 > "$tmp/chk" && grep -q '^inf ' <("$bin/focal-eval" --kernel "$name" --gamma 8 < "$tmp/sp" 2>/dev/null) \
    && ok "$name: -inf with t = 2^-149 at gamma 8 is inf" || bad "$name gamma 8 inf: $(cat "$tmp/chk")"
  printf 'nan 1\nnan 0\ninf 1\n-inf 1\ninf 0\n-inf 0\n' > "$tmp/sp"
  for alpha in 0 1; do for layout in soft dense; do
    "$bin/focal-eval" --kernel "$name" --gamma 0 --alpha $alpha --layout $layout < "$tmp/sp" 2>/dev/null |
      paste -d' ' "$tmp/sp" - | "$bin/focal-reference" --check "$ulp" --gamma 0 --alpha $alpha > "$tmp/chk" \
      && ok "$name alpha=$alpha $layout: +-inf and NaN" || bad "$name alpha=$alpha $layout: $(cat "$tmp/chk")"
  done; done
done < "$tmp/list"

# Input focal-eval must refuse (each a message and exit 1 or 2), and input it must take whole.
long=$(printf '0.1%0200d' 0)
expect_error "a long token is not cut in two" "got 1 fields" sh -c "echo '$long' | '$bin/focal-eval' --kernel scalar"
a=$(echo "$long 1" | "$bin/focal-eval" --kernel scalar 2>/dev/null); b=$(echo "0.1 1" | "$bin/focal-eval" --kernel scalar 2>/dev/null)
[ -n "$a" ] && [ "$a" = "$b" ] && ok "a valid 203-character number reads whole" || bad "203-character number: '$a' vs '$b'"
expect_error "embedded NUL" "NUL" sh -c "printf '1 1\0junk\n' | '$bin/focal-eval' --kernel scalar"
expect_error "1e999 is not silently inf" "out of float range" sh -c "echo '1e999 1' | '$bin/focal-eval' --kernel scalar"
expect_error "1e-999 is not silently 0" "would read as 0" sh -c "echo '1e-999 1' | '$bin/focal-eval' --kernel scalar"
expect_error "target 1e-999" "target t" sh -c "echo '1 1e-999' | '$bin/focal-eval' --kernel scalar"
out=$(echo '1e-45 1' | "$bin/focal-eval" --kernel scalar 2>/dev/null) && ok "a subnormal 1e-45 is taken ($out)" || bad "1e-45 refused"
expect_error "stdout on /dev/full" "writing the results" sh -c "echo '1 1' | '$bin/focal-eval' --kernel scalar > /dev/full"
expect_error "stdout closed" "writing the results" sh -c "echo '1 1' | '$bin/focal-eval' --kernel scalar >&-"
expect_error "--list on /dev/full" "writing the results" sh -c "'$bin/focal-eval' --list > /dev/full"
# A read error on stdin (a directory) is not an empty input: exit 1 with a message.
expect_error "stdin that cannot be read" "reading stdin failed" sh -c "'$bin/focal-eval' --sum < /"
expect_error "reference: stdin that cannot be read" "reading stdin failed" sh -c "'$bin/focal-reference' < /"
# A developer setting that is not a count is said and ignored, not read as 0.
printf '1 1\n' | FOCAL_OPENMP_MIN_ELEMENTS=abc "$bin/focal-eval" --kernel openmp > "$tmp/o" 2> "$tmp/e" &&
  grep -q "FOCAL_OPENMP_MIN_ELEMENTS='abc' is not a count" "$tmp/e" && ok "FOCAL_OPENMP_MIN_ELEMENTS=abc said" ||
  { grep -q "openmp.*unavailable" "$tmp/e" && ok "openmp unavailable here" || bad "FOCAL_OPENMP_MIN_ELEMENTS=abc: $(cat "$tmp/e")"; }
expect_error "empty kernel name" "kernel name" sh -c "echo '1 1' | '$bin/focal-eval' --kernel ''"
expect_error "unknown layout" "dense, soft or labels" sh -c "echo '1 1' | '$bin/focal-eval' --layout sparse"
expect_error "dense needs 0/1 targets" "expected 0 or 1" sh -c "printf '1 1\n2 0.5\n' | '$bin/focal-eval' --layout dense"
expect_error "labels: one positive per row" "at most one positive" sh -c "printf '1 1\n2 1\n' | '$bin/focal-eval' --layout labels --classes 2"
expect_error "labels: whole rows" "whole number of rows" sh -c "printf '1 1\n2 0\n3 0\n' | '$bin/focal-eval' --layout labels --classes 2"
expect_error "labels need --classes" "--classes" sh -c "printf '1 1\n' | '$bin/focal-eval' --layout labels"
expect_error "bad --classes" "number of classes" sh -c "printf '1 1\n' | '$bin/focal-eval' --layout labels --classes 0"

# --version: '<tool> <version> (git <rev>)', exit 0, on both tools.
for tool in focal-eval focal-reference; do
  v=$("$bin/$tool" --version) && echo "$v" | grep -Eq "^$tool [0-9][^ ]* \(git [^)]+\)$" \
    && ok "$tool --version ($v)" || bad "$tool --version: '$v'"
done
expect_error "--version on /dev/full" "writing the results" sh -c "'$bin/focal-eval' --version > /dev/full"

# focal-reference: the same strictness, and a checker that cannot be fooled.
ref=$bin/focal-reference
expect_error "reference: t outside [0, 1]" "line 1" sh -c "echo '1 1.5' | '$ref'"
expect_error "reference: t NaN" "line 1" sh -c "echo '1 nan' | '$ref'"
expect_error "reference: alpha > 1" "'alpha'" sh -c "echo '1 1' | '$ref' --alpha 2"
expect_error "reference: gamma < 0" "'gamma'" sh -c "echo '1 1' | '$ref' --gamma -1"
expect_error "reference: gamma nan" "'gamma'" sh -c "echo '1 1' | '$ref' --gamma nan"
expect_error "reference: gamma > 8" "'gamma'" sh -c "echo '1 1' | '$ref' --gamma 9"
expect_error "reference: negative bound" "--check" sh -c "echo '1 1 0 0' | '$ref' --check -1"
expect_error "reference: nothing to check is no PASS" "no 'x t loss grad' lines" sh -c "'$ref' --check 0 < /dev/null"
expect_error "reference: /dev/full" "writing the results" sh -c "echo '1 1' | '$ref' > /dev/full"
expect_error "reference --check: /dev/full" "writing the results" sh -c "echo '1 1 0.1 0.1' | '$ref' --check 1 > /dev/full"
expect_error "reference: NUL" "NUL" sh -c "printf '1 1\0x\n' | '$ref'"
expect_error "reference: 1e999" "out of float range" sh -c "echo '1e999 1' | '$ref'"
# A gradient of 0 where the truth is a normal number is a failure, named as one.
truth=$(echo '3 0.9' | "$ref")
if echo "3 0.9 ${truth% *} 0" | "$ref" --check 1 > "$tmp/o"; then bad "reference: 0 gradient for a nonzero truth passes"
elif grep -q 'flushed to 0' "$tmp/o"; then ok "reference: a 0 gradient for a nonzero truth fails, named"
else bad "reference: 0 gradient not named: $(cat "$tmp/o")"; fi
# Relative mode below FLT_MIN: a loss 10 subnormal ULPs off (4.57e-41 + 1.4e-44) fails a 2e-5
# bound (dividing by FLT_MIN called that 1.2e-6); the correctly rounded truth passes 1.2e-7.
truth=$(echo '61 1' | "$ref" --gamma 0.5)
echo "61 1 $truth" | "$ref" --check 1.2e-7 --gamma 0.5 > /dev/null && ok "reference: subnormal truth passes" || bad "subnormal truth fails"
off=$(awk -v l="${truth% *}" 'BEGIN { printf "%.9g", l + 10 * 1.40129846e-45 }')
echo "61 1 $off ${truth#* }" | "$ref" --check 2e-5 --gamma 0.5 > "$tmp/o" \
  && bad "reference: a subnormal result 10 ULP off passes a relative bound: $(cat "$tmp/o")" \
  || ok "reference: a subnormal result 10 ULP off fails a relative bound"

# focal-verify's outputs (adversarial pass): a report or line that cannot reach stdout is exit 2
# with a message, not exit 0; --json naming a FIFO (or /dev/stdout, a device) is written through,
# not replaced by a regular file renamed over it (as root that replaced /dev/full itself).
fv=("$bin/focal-verify" --quick --kernels scalar_ff --gamma 2 --alpha 0.25)
for args in "--version" "--machine-id" "--help"; do
  "$bin/focal-verify" $args > /dev/full 2> "$tmp/e"; rc=$?
  [ $rc = 2 ] && grep -q "writing the results" "$tmp/e" && ok "focal-verify $args on /dev/full: exit 2" \
    || bad "focal-verify $args on /dev/full: exit $rc $(cat "$tmp/e")"
done
"${fv[@]}" > /dev/full 2> "$tmp/e"; rc=$?
[ $rc = 2 ] && grep -q "writing the results" "$tmp/e" && ok "focal-verify report on /dev/full: exit 2" \
  || bad "focal-verify report on /dev/full: exit $rc $(tail -2 "$tmp/e")"
mkfifo "$tmp/fifo"
timeout 120 cat "$tmp/fifo" > "$tmp/fifo.json" & reader=$!
"${fv[@]}" --json "$tmp/fifo" > /dev/null 2> "$tmp/e"; rc=$?
[ -p "$tmp/fifo" ] || kill "$reader" 2>/dev/null  # replaced: the reader would wait for nothing
wait "$reader" 2>/dev/null
if [ $rc = 0 ] && [ -p "$tmp/fifo" ] && grep -q '"kernels"' "$tmp/fifo.json"; then
  ok "focal-verify --json FIFO: written through, the FIFO kept"
else
  bad "focal-verify --json FIFO: exit $rc, fifo kept: $([ -p "$tmp/fifo" ] && echo yes || echo no), $(tail -1 "$tmp/e")"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
