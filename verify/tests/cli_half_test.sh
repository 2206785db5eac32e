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
expect_usage() {  # description, expected text, command...: exit 2 (a bad command line)
  local what=$1 needle=$2 rc; shift 2
  "$@" > "$tmp/o" 2> "$tmp/e"; rc=$?
  if [ $rc -ne 2 ]; then bad "$what: exit $rc, expected 2: $(cat "$tmp/e")";
  elif grep -q -- "$needle" "$tmp/e"; then ok "$what"; else bad "$what: $(cat "$tmp/e")"; fi
}
expect_usage "unknown dtype is a usage error" "expected fp32, fp16 or bf16" "$bin/focal-eval" --dtype FP16
expect_usage "empty dtype is a usage error" "expected fp32, fp16 or bf16" "$bin/focal-eval" --dtype ''
expect_usage "half with --layout soft" "--dtype fp16 goes with --layout dense or labels" \
  sh -c "echo '1 1' | '$bin/focal-eval' --dtype fp16 --layout soft"
expect_usage "half with --layout soft (either order)" "--dtype bf16 goes with --layout dense or labels" \
  sh -c "echo '1 1' | '$bin/focal-eval' --layout soft --dtype bf16"

# Logits the dtype cannot hold are refused, not made inf or 0; its largest value and inf are taken.
expect_error "70000 overflows fp16" "line 1: logit x = '70000': out of fp16 range" sh -c "echo '70000 1' | '$bin/focal-eval' --dtype fp16"
expect_error "65520 rounds to inf in fp16" "out of fp16 range" sh -c "echo '-65520 0' | '$bin/focal-eval' --dtype fp16"
expect_error "3.4e38 overflows bf16" "out of bf16 range" sh -c "echo '3.4e38 1' | '$bin/focal-eval' --dtype bf16"
expect_error "1e999 with a half dtype" "out of bf16 range" sh -c "echo '1e999 1' | '$bin/focal-eval' --dtype bf16"
expect_error "1e-9 is not silently 0 in fp16" "would read as 0" sh -c "echo '1e-9 1' | '$bin/focal-eval' --dtype fp16"
expect_error "garbage logit with a half dtype" "line 2: logit x = '1.5x': not a number" sh -c "printf '1 1\n1.5x 0\n' | '$bin/focal-eval' --dtype fp16"
expect_error "NUL with a half dtype" "NUL" sh -c "printf '1 1\0x\n' | '$bin/focal-eval' --dtype fp16"
printf '65519 1\n' | eval_ --dtype fp16 > /dev/null 2> "$tmp/e" && grep -q "rounded to nearest: 65504$" "$tmp/e" \
  && ok "65519 rounds to fp16's largest, 65504" || bad "65519 in fp16: $(cat "$tmp/e")"
# Non-finite logits pass through exactly (no note) and give what the oracle gives.
printf 'nan 1\nnan 0\ninf 1\n-inf 1\ninf 0\n-inf 0\n' > "$tmp/sp"
for d in fp16 bf16; do
  if eval_ --dtype $d < "$tmp/sp" > "$tmp/o" 2> "$tmp/e" && ! grep -q "representable" "$tmp/e" &&
     paste -d' ' "$tmp/sp" <(awk '{print $1}' "$tmp/o") <("$bin/focal-reference" < "$tmp/sp" | awk '{print $2}') |
       "$bin/focal-reference" --check 0 > "$tmp/chk"; then
    ok "--dtype $d: NaN and +-inf logits give the oracle's loss"
  else
    bad "--dtype $d non-finite: $(cat "$tmp/o" "$tmp/e" "$tmp/chk")"
  fi
done

# A decimal above a tie by less than double's precision still rounds up (one rounding, not two).
printf '1.00048828125000000000001 1\n' | eval_ --dtype fp16 > /dev/null 2> "$tmp/e"
grep -q "rounded to nearest: 1.00097656" "$tmp/e" && ok "fp16: 1.00048828125000000000001 rounds up" \
  || bad "fp16 just above a tie: $(cat "$tmp/e")"

# Dense and labels (rows of 5) with random logits exact in the dtype (fresh each run): the loss
# within the kernel's bound of MPFR, the gradient within the dtype's rounding of MPFR's.
ulp=$("$bin/focal-eval" --list | awk '$1 == "scalar" { u = $5; sub(/^ulp=/, "", u); sub(/,.*/, "", u); print u }')
for spec in "fp16 64 1024 10 24" "bf16 8 255 7 133"; do
  set -- $spec
  awk -v den=$2 -v kmax=$3 'BEGIN { srand(); for (r = 0; r < 400; r++) { lab = int(rand() * 6);
         for (c = 0; c < 5; c++) printf "%.17g %d\n", int((rand() * 2 - 1) * kmax) / den, c == lab } }' > "$tmp/in"
  "$bin/focal-reference" < "$tmp/in" > "$tmp/truth"
  for layout in dense labels; do
    extra=; [ $layout = labels ] && extra="--classes 5"
    if eval_ --dtype $1 --layout $layout $extra < "$tmp/in" > "$tmp/o" 2> "$tmp/e" && ! grep -q representable "$tmp/e" &&
       paste -d' ' "$tmp/in" <(awk '{print $1}' "$tmp/o") <(awk '{print $2}' "$tmp/truth") |
         "$bin/focal-reference" --check "$ulp" > "$tmp/chk" &&
       paste -d' ' "$tmp/o" "$tmp/truth" | awk -v p=$4 -v m=$5 '{ d = $2 - $4; d = d < 0 ? -d : d; a = $4 < 0 ? -$4 : $4;
         tol = a * 2^-p; if (tol < 2^-m) tol = 2^-m; if (d > tol) { print "grad " $2 " vs " $4 " line " NR; bad = 1 } }
         END { exit bad }' > "$tmp/g"; then
      ok "--dtype $1 --layout $layout: loss within $ulp ulp, grad within $1 rounding of MPFR"
    else
      bad "--dtype $1 --layout $layout: $(cat "$tmp/e" "$tmp/chk" "$tmp/g" | head -5)"
    fi
  done
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
