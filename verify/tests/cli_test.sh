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

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
