#!/usr/bin/env bash
# focal-eval --dtype fp16|bf16 end to end: logits rounded to nearest with a note on stderr,
# binary targets only, the extreme-p_t value exact, the gradient a value of the dtype, and
# clear errors. (The accuracy contract itself is test_half's: every bit pattern against MPFR.)
set -u
bin=${1:?usage: cli_half_test.sh BINDIR}
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
eval_() { "$bin/focal-eval" --kernel scalar "$@"; }

# 0.1 is not a half: rounded to nearest (fp16 0.0999755859375, bf16 0.10009765625), and said so;
# 17 is exact in both (no note), and its loss is the extreme-p_t truth 1.77e-23, not 0.
for spec in "fp16 0.0999755859" "bf16 0.100097656"; do
  set -- $spec
  if printf '17 1\n0.1 0\n' | eval_ --dtype "$1" > "$tmp/o" 2> "$tmp/e" &&
     grep -q "line 2: x = 0.1 is not exactly representable in $1; rounded to nearest: $2" "$tmp/e" &&
     ! grep -q "line 1:" "$tmp/e" &&
     awk 'NR == 1 { exit !($1 > 1.76e-23 && $1 < 1.78e-23) }' "$tmp/o"; then
    ok "--dtype $1: 0.1 rounded to $2 with a note, 17 exact, loss(17, 1) = $(head -1 "$tmp/o")"
  else
    bad "--dtype $1: $(cat "$tmp/o" "$tmp/e")"
  fi
done

# A value halfway between two fp16 numbers (1 + 2^-11) goes to the even one (1); one just above
# it goes up (1 + 2^-10): the decimal is rounded once, not through float's nearest.
printf '1.00048828125 1\n1.000488281250001 1\n' | eval_ --dtype fp16 > /dev/null 2> "$tmp/e"
grep -q "line 1: .*rounded to nearest: 1$" "$tmp/e" && grep -q "line 2: .*rounded to nearest: 1.00097656" "$tmp/e" \
  && ok "fp16 ties to even, just above a tie rounds up" || bad "fp16 rounding: $(cat "$tmp/e")"

# The gradient printed is a value of the dtype: in units of the fp16 spacing at its magnitude it
# is an integer (up to the %.9g print).
g=$(echo "0.5 1" | eval_ --dtype fp16 2>/dev/null | awk '{print $2}')
awk -v g="$g" 'BEGIN { a = g < 0 ? -g : g; s = 2^-24; while (a / s >= 2048) s *= 2; q = a / s;
                       exit !(a > 0 && (q - int(q + 0.5)) ^ 2 < 1e-8) }' \
  && ok "fp16 gradient is an fp16 value ($g)" || bad "fp16 gradient $g is not an fp16 value"

expect_error() {  # description, expected text, command...
  local what=$1 needle=$2; shift 2
  if "$@" > "$tmp/o" 2> "$tmp/e"; then bad "$what: exit 0";
  elif grep -q -- "$needle" "$tmp/e"; then ok "$what"; else bad "$what: $(cat "$tmp/e")"; fi
}
expect_error "unknown dtype" "expected fp32, fp16 or bf16, got 'fp8'" "$bin/focal-eval" --dtype fp8
expect_error "dtype without value" "--dtype needs a value" "$bin/focal-eval" --dtype
expect_error "soft target with half" "line 1: target t = 0.5: --dtype bf16 takes targets 0 or 1" \
  sh -c "echo '1 0.5' | '$bin/focal-eval' --dtype bf16"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
