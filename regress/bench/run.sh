#!/bin/sh
# make bench: run every benchmark script in this folder (bench_*.sh or
# bench_*.py), each of which measures sendgated and its peer in the same
# run and prints the ratio.  Never part of make check.
set -eu
build=${1:-build}
here=$(dirname "$0")
found=0
for b in "$here"/bench_*; do
	[ -e "$b" ] || continue
	found=1
	echo "== $b"
	case "$b" in
	*.py)	/usr/bin/python3 "$b" "$build" ;;
	*)	sh "$b" "$build" ;;
	esac
done
if [ "$found" -eq 0 ]; then
	echo "bench: no benchmarks yet (they arrive with SMTP submission," \
	    "checks, delivery and signing)"
fi
