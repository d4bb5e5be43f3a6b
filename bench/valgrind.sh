#!/bin/sh
# bench/valgrind.sh — tts-generate (the CPU engine) under valgrind memcheck
# on every fixture model, and a resumed multi-prompt run of the synthetic
# model with a small batch (scheduler, KV blocks, resume).  Fails on any
# error or definite leak.  Slow (minutes); not part of make test.
# Usage: bench/valgrind.sh [BUILD]
set -u
cd "$(dirname "$0")/.."
b=${1:-build}
command -v valgrind >/dev/null || { echo "valgrind.sh: needs valgrind (apt-get install valgrind)" >&2; exit 2; }
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
vg() { # $1: label; rest: tts-generate arguments; stdin: prompts
	l=$1; shift
	OMP_NUM_THREADS=1 valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
		"$b/tts-generate" "$@" >"$t/out" 2>"$t/err"
	rc=$?
	printf '%-28s rc=%d %s; %s\n' "$l" $rc "$(grep -o 'ERROR SUMMARY: [0-9]* errors' "$t/err")" \
		"$(grep -o 'definitely lost: [0-9,]* bytes' "$t/err")"
	[ $rc -eq 0 ] || { fail=1; cat "$t/err" >&2; }
}
fail=0
printf '{"id":"a","prompt":"Hello world"}\n{"id":"b","prompt":"2+2="}\n' >"$t/p2"
for d in tests/fixtures/models/*/; do
	[ -f "$d/config.json" ] || continue
	vg "$(basename "$d")" -m "$d" -n 3 --max-tokens 8 --seed 1 <"$t/p2"
done
for i in $(seq 1 20); do printf '{"id":"p%d","prompt":"q %d"}\n' "$i" "$i"; done >"$t/p20"
OMP_NUM_THREADS=1 "$b/tts-generate" --synthetic llama -n 3 --max-tokens 10 <"$t/p20" | head -30 >"$t/res.jsonl"
vg "synthetic llama, resume" --synthetic llama -n 3 --max-tokens 10 --max-batch 4 -o "$t/res.jsonl" --resume <"$t/p20"
exit $fail
