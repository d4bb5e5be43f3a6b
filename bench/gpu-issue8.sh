#!/bin/sh
# bench/gpu-issue8.sh — issue 8's GPU call in one go, on the GPU machine:
#  1. QUICK=1 bench/gpu-check.sh: build, check_ops (every op against the CPU,
#     sampling token for token), the decode steps with CUDA graphs, tts-generate
#     cuda vs cpu, bench_ops 128, bench_step 128 (llama, mil2);
#  2. bench/gpu-e2.sh (E2_MODELS, default llama; E2_HF, E2_HF_COMPILE_S,
#     E2_TINY_ACC passed on: by default gpu-e2.sh starts with bench/gpu-tiny-acc.sh,
#     the tiny models' accuracy on cpu against cuda) in what is left of BUDGET
#     but EXTRA_S (60) seconds;
#  3. in those: bench_step 1 (llama) and bench_step 128 llama with the
#     cuBLASLt choice (TTS_CUBLASLT=1), for batch 1 and that comparison.
# Every part runs under timeout; the whole stays within BUDGET seconds
# (default 400).  Logs: $OUT/logs.tgz (all), plus check-gpu.log, bench.log,
# bench-extra.log, e2.log and summary.txt at the top of $OUT (the `run` tool
# brings back 8 files at most).
# Usage: OUT=$OUT SYSROOT=.dev/sysroot sh bench/gpu-issue8.sh
#        (GEN=0: gpu-check.sh without its tts-generate cuda-vs-cpu runs)
set -u
cd "$(dirname "$0")/.." || exit 2
OUT=${OUT:-out}
SYSROOT=${SYSROOT:-.dev/sysroot}
BUDGET=${BUDGET:-400}
T0=$(date +%s)
L=$OUT/r
mkdir -p "$L"
left() { echo $((BUDGET - ($(date +%s) - T0))); }
say() { echo "issue8: $* (at $(($(date +%s) - T0)) s)" | tee -a "$L/summary.txt"; }

c=$(($(left) * 6 / 10)); [ "$c" -gt 230 ] && c=230
QUICK=1 GEN=${GEN:-1} OUT=$L SYSROOT=$SYSROOT timeout -k 5 $c sh bench/gpu-check.sh \
	>"$L/gpu-check.out" 2>&1
say "gpu-check exit $?"
grep -E '^gpu-check|check-gpu:|FAIL| fail$' "$L/gpu-check.out" | tee -a "$L/summary.txt"
grep -E '^sample|^decode|^add_rmsnorm' "$L/check-gpu.log" "$L/check-gpu-graphs.log" 2>/dev/null |
	tee -a "$L/summary.txt"
grep '^step\|^sample\|^projections\|^small\|^fused\|^llama' "$L/bench.log" 2>/dev/null |
	tee -a "$L/summary.txt"
# a failed check of the graphs must not cost the benchmarks
if ! grep -q '^decode .* ok$' "$L/check-gpu-graphs.log" 2>/dev/null ||
	grep -q 'FAIL' "$L/check-gpu-graphs.log"; then
	export TTS_CUDA_GRAPHS=0
	say "TTS_CUDA_GRAPHS=0 from here: their check failed or did not run"
fi
b=$(($(left) - ${EXTRA_S:-60}))
if [ "$b" -gt 60 ]; then
	E2_MODELS=${E2_MODELS:-llama} E2_BUDGET=$b E2_HF_COMPILE_S=${E2_HF_COMPILE_S:-0} OUT=$L \
		SYSROOT=$SYSROOT timeout -k 5 $((b + 5)) sh bench/gpu-e2.sh >"$L/e2.out" 2>&1
	say "gpu-e2 exit $?"
	grep '^e2:' "$L/e2.out" | tail -25 | tee -a "$L/summary.txt"
else
	say "gpu-e2 skipped: $b s left"
fi
if [ -x build/gpu/tests/gpu/bench_step ] && [ "$(left)" -gt 25 ]; then
	{
		timeout -k 5 $(($(left) / 2)) build/gpu/tests/gpu/bench_step 1 34 llama
		echo "TTS_CUBLASLT=1:"
		TTS_CUBLASLT=1 timeout -k 5 $(($(left) - 3)) build/gpu/tests/gpu/bench_step 128 34 llama
	} >"$L/bench-extra.log" 2>&1
	say "bench-extra exit $?"
	grep '^step\|^TTS' "$L/bench-extra.log" | tee -a "$L/summary.txt"
fi
for f in check-gpu.log bench.log bench-extra.log e2.log summary.txt; do
	[ -f "$L/$f" ] && cp "$L/$f" "$OUT/"
done
tar czf "$OUT/logs.tgz" -C "$OUT" r && rm -rf "$L"
echo "issue8: done (at $(($(date +%s) - T0)) s)"
