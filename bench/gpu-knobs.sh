#!/bin/sh
# bench/gpu-knobs.sh — one GPU call that checks and times a kernel change
# against the path it replaces, then runs issue 8's E2 workloads with it:
#  1. QUICK=1 GEN=0 BENCH=0 bench/gpu-check.sh: build, check_ops (every op
#     against the CPU backend), the decode steps with CUDA graphs;
#  2. bench_ops 1 with and without TTS_GEMV (the one-row matrix-vector path
#     against cuBLAS): the matmul lines;
#  3. bench_step 1 llama with TTS_GEMV=1 and 0; bench_step 128 mil2;
#  4. bench/gpu-e2.sh with E2_MODELS (default "llama mil2"), E2_HF=0,
#     E2_TINY_ACC=0, in what is left of BUDGET (default 520 s).
# GPU run 9 ran it with two more A/B pairs since removed with their knobs
# (TTS_SSD_PR=8, and the GEMV path over 2-4 rows): bench/RESULTS.md.
# Every part runs under timeout.  Logs: $OUT/knobs.log (the summary),
# $OUT/logs.tgz (everything).
# Usage (kind nvidia-h200, carry .dev/sysroot): OUT=$OUT SYSROOT=.dev/sysroot sh bench/gpu-knobs.sh
set -u
cd "$(dirname "$0")/.." || exit 2
OUT=${OUT:-out}
SYSROOT=${SYSROOT:-.dev/sysroot}
BUDGET=${BUDGET:-520}
T0=$(date +%s)
L=$OUT/k
mkdir -p "$L"
left() { echo $((BUDGET - ($(date +%s) - T0))); }
say() { echo "knobs: $* (at $(($(date +%s) - T0)) s)" | tee -a "$OUT/knobs.log"; }
B=build/gpu/tests/gpu

QUICK=1 GEN=0 BENCH=0 OUT=$L SYSROOT=$SYSROOT timeout -k 5 240 sh bench/gpu-check.sh >"$L/gpu-check.out" 2>&1
say "gpu-check exit $?"
grep -E '^gpu-check|check-gpu:|FAIL|passed|^matmul' "$L/gpu-check.out" | tee -a "$OUT/knobs.log"
for g in 1 0; do
	TTS_GEMV=$g timeout -k 5 90 $B/bench_ops 1 >"$L/bench-ops-gemv$g.log" 2>&1
	say "bench_ops 1, TTS_GEMV=$g: exit $?"
	grep -E '^matmul|^copy|^projections' "$L/bench-ops-gemv$g.log" | tee -a "$OUT/knobs.log"
done
for g in 1 0; do
	TTS_GEMV=$g timeout -k 5 60 $B/bench_step 1 34 llama >"$L/bench-step1-gemv$g.log" 2>&1
	say "bench_step 1 llama, TTS_GEMV=$g: exit $?"
	grep '^step' "$L/bench-step1-gemv$g.log" | tee -a "$OUT/knobs.log"
done
timeout -k 5 90 $B/bench_step 128 34 mil2 >"$L/bench-step128.log" 2>&1
say "bench_step 128 mil2: exit $?"
grep '^step' "$L/bench-step128.log" | tee -a "$OUT/knobs.log"
b=$(($(left) - 5))
if [ "$b" -gt 60 ]; then
	E2_MODELS=${E2_MODELS:-llama mil2} E2_HF=0 E2_TINY_ACC=0 E2_BUDGET=$b OUT=$L SYSROOT=$SYSROOT \
		timeout -k 5 $((b + 3)) sh bench/gpu-e2.sh >"$L/e2.out" 2>&1
	say "gpu-e2 exit $?"
	grep '^e2:' "$L/e2.out" | tail -40 | tee -a "$OUT/knobs.log"
else
	say "gpu-e2 skipped: $b s left"
fi
tar -C "$L" -czf "$OUT/logs.tgz" .
