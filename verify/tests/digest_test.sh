#!/usr/bin/env bash
# focal-digest end to end: the kernels declared to compute the float-float element's bits
# (scalar_ff, avx2, avx512, openmp at gamma 0..4, binary targets) give the same digests over a
# slice of x patterns around 1 and the tail (|x| > 80) and NaN; a different slice or gamma gives a
# different digest (it measures); bad command lines exit 2 with a message.
set -u
bin=${1:?usage: digest_test.sh BINDIR}
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
digest() { "$bin/focal-digest" --threads 2 "$@" | grep -v '^focal-digest'; }

for range in 0x3f700000:0x3f780000 0x42a00000:0x42a40000 0xff800000:0xff840000; do
  ref=$(digest --kernel scalar_ff --gammas 0,2,4 --range "$range") || { bad "scalar_ff $range failed"; continue; }
  for k in avx2 avx512 openmp; do
    if ! "$bin/focal-eval" --list 2>/dev/null | grep -q "^$k .*available"; then
      ok "$k unavailable here: skipped"
      continue
    fi
    got=$(digest --kernel "$k" --gammas 0,2,4 --range "$range")
    [ "$got" = "$ref" ] && ok "$k = scalar_ff bit for bit over $range" || bad "$k vs scalar_ff over $range: $got / $ref"
  done
done
a=$(digest --kernel scalar_ff --gammas 2 --range 0x3f700000:0x3f780000 | tail -1)
b=$(digest --kernel scalar_ff --gammas 2 --range 0x3f700000:0x3f780001 | tail -1)
c=$(digest --kernel scalar_ff --gammas 3 --range 0x3f700000:0x3f780000 | tail -1)
[ "$a" != "$b" ] && [ "$a" != "$c" ] && ok "the digest follows the range and gamma" || bad "digest insensitive: $a $b $c"

for args in "" "--kernel nope" "--kernel scalar --gammas 9" "--kernel scalar --range 5:5" \
            "--kernel scalar --range 0:0x100000001" "--kernel scalar --threads 0" "--kernel scalar --bogus"; do
  # shellcheck disable=SC2086
  "$bin/focal-digest" $args > "$tmp/o" 2> "$tmp/e"; rc=$?
  [ $rc = 2 ] && grep -q "focal-digest: " "$tmp/e" && ok "bad usage '$args': exit 2, $(head -1 "$tmp/e")" \
    || bad "bad usage '$args': exit $rc $(cat "$tmp/e")"
done
"$bin/focal-digest" --help | grep -q "usage: focal-digest" && ok "--help" || bad "--help"
# Results that cannot be written are an error, not a silent exit 0 (adversarial pass).
for args in "--kernel scalar --gammas 2 --range 0:0x100 --threads 1" "--help" "--version"; do
  # shellcheck disable=SC2086
  "$bin/focal-digest" $args > /dev/full 2> "$tmp/e"; rc=$?
  [ $rc = 1 ] && grep -q "writing the results" "$tmp/e" && ok "'$args' on /dev/full: exit 1" \
    || bad "'$args' on /dev/full: exit $rc $(cat "$tmp/e")"
done

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
