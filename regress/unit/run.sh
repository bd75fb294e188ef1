#!/bin/sh
# Run every cmocka test binary given, show its output, and end with one
# summary line counting the individual tests.  Exit non-zero when any
# binary fails or dies.
pass=0
fail=0
bad=""
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for t in "$@"; do
	echo "== $t"
	"$t" >"$out" 2>&1
	rc=$?
	cat "$out"
	p=$(sed -n 's/.*\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out")
	f=$(sed -n 's/.*\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out")
	pass=$((pass + ${p:-0}))
	fail=$((fail + ${f:-0}))
	if [ "$rc" -ne 0 ] && [ -z "$f" ]; then
		fail=$((fail + 1))	# died before cmocka could report
	fi
	[ "$rc" -ne 0 ] && bad="$bad $t"
done
[ -n "$bad" ] && echo "failing binaries:$bad"
echo "unit: $pass passed, $fail failed"
[ -z "$bad" ]
