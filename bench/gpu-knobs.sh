#!/bin/sh
# bench/gpu-knobs.sh — one GPU call that checks and times kernel variants on
# trial (environment knobs) against the defaults, then runs issue 8's E2
# workloads with the ones that won:
#  1. QUICK=1 GEN=0 BENCH=0 bench/gpu-check.sh: build, check_ops (every op
#     against the CPU backend), the decode steps with CUDA graphs;
#  2. bench_ops 1 and bench_step 1 llama, then bench_step 128 llama mil2 with
#     the defaults;
#  3. for each VAR=VALUE in KNOBS (default "TTS_ATTN_MMA=1": decode attention
#     on tensor cores; GPU run 10 tried and dropped TTS_ATTN_PF=1 and
#     TTS_SSD_PR=2, run 9 TTS_SSD_PR=8):
#     check_ops with it (TTS_CUDA_SYNC=1), then bench_step 128 llama mil2 with
#     it; it is kept (exported for 4.) when check_ops passed and a step got
#     at least 1 % faster with no step 1 % slower;
#  4. bench/gpu-e2.sh with E2_MODELS (default "llama mil2 early mil2h mil1": what fits), E2_HF=0,
#     E2_TINY_ACC=0, in what is left of BUDGET (default 520 s).
# Every part runs under timeout.  Logs: $OUT/knobs.log (the summary),
# $OUT/logs.tgz (everything).  GPU run 9 ran an earlier form of it (the GEMV
# path on and off, TTS_SSD_PR=8): bench/RESULTS.md.
# Usage (kind nvidia-h200, carry .dev/sysroot): OUT=$OUT SYSROOT=.dev/sysroot sh bench/gpu-knobs.sh
set -u
cd "$(dirname "$0")/.." || exit 2
OUT=${OUT:-out}
SYSROOT=${SYSROOT:-.dev/sysroot}
BUDGET=${BUDGET:-520}
KNOBS=${KNOBS-TTS_ATTN_MMA=1}
T0=$(date +%s)
L=$OUT/k
mkdir -p "$L"
left() { echo $((BUDGET - ($(date +%s) - T0))); }
say() { echo "knobs: $* (at $(($(date +%s) - T0)) s)" | tee -a "$OUT/knobs.log"; }
B=build/gpu/tests/gpu
# the graph step time of MODEL in bench_step log FILE
ms_of() { sed -n "s/^step $1 .*, \([0-9.]*\) ms = [0-9]* tok\/s (tts_decode.*/\1/p" "$2"; }

QUICK=1 GEN=0 BENCH=0 OUT=$L SYSROOT=$SYSROOT timeout -k 5 240 sh bench/gpu-check.sh >"$L/gpu-check.out" 2>&1
say "gpu-check exit $?"
grep -E '^gpu-check|check-gpu:|FAIL' "$L/gpu-check.out" | tee -a "$OUT/knobs.log"
timeout -k 5 90 $B/bench_ops 1 >"$L/bench-ops1.log" 2>&1
say "bench_ops 1: exit $?"
grep -E '^matmul|^copy|^projections|^attention' "$L/bench-ops1.log" | tee -a "$OUT/knobs.log"
timeout -k 5 60 $B/bench_step 1 34 llama >"$L/bench-step1.log" 2>&1
say "bench_step 1 llama: exit $?"
grep '^step' "$L/bench-step1.log" | tee -a "$OUT/knobs.log"
timeout -k 5 120 $B/bench_step 128 34 llama mil2 >"$L/bench-step128.log" 2>&1
say "bench_step 128 llama mil2 (defaults): exit $?"
grep '^step' "$L/bench-step128.log" | tee -a "$OUT/knobs.log"
kept=
for kn in $KNOBS; do
	f=$(echo "$kn" | tr '=' '-')
	env "$kn" TTS_CUDA_SYNC=1 timeout -k 5 90 $B/check_ops >"$L/check-$f.log" 2>&1
	rc=$?
	say "check_ops with $kn: exit $rc"
	grep -E 'FAIL|passed' "$L/check-$f.log" | tee -a "$OUT/knobs.log"
	env "$kn" timeout -k 5 120 $B/bench_step 128 34 llama mil2 >"$L/bench-step128-$f.log" 2>&1
	say "bench_step 128 llama mil2 with $kn: exit $?"
	grep '^step' "$L/bench-step128-$f.log" | tee -a "$OUT/knobs.log"
	verdict=keep better=0
	for m in llama mil2; do
		a=$(ms_of $m "$L/bench-step128.log") b=$(ms_of $m "$L/bench-step128-$f.log")
		[ -n "$a" ] && [ -n "$b" ] || { verdict=drop; continue; }
		awk "BEGIN{exit !($b > 1.01 * $a)}" && verdict=drop
		awk "BEGIN{exit !($b < 0.99 * $a)}" && better=1
	done
	[ "$rc" -eq 0 ] && [ "$verdict" = keep ] && [ "$better" = 1 ] || verdict=drop
	say "$kn: $verdict"
	[ "$verdict" = keep ] && export "${kn?}" && kept="$kept $kn"
done
say "E2 with:${kept:- the defaults}"
b=$(($(left) - 5))
if [ "$b" -gt 60 ]; then
	E2_MODELS=${E2_MODELS:-llama mil2 early mil2h mil1} E2_HF=0 E2_TINY_ACC=0 E2_BUDGET=$b OUT=$L SYSROOT=$SYSROOT \
		timeout -k 5 $((b + 3)) sh bench/gpu-e2.sh >"$L/e2.out" 2>&1
	say "gpu-e2 exit $?"
	grep '^e2:' "$L/e2.out" | tail -40 | tee -a "$OUT/knobs.log"
else
	say "gpu-e2 skipped: $b s left"
fi
tar -C "$L" -czf "$OUT/logs.tgz" .
