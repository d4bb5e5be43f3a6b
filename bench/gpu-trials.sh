#!/bin/sh
# bench/gpu-trials.sh — one GPU call that checks every kernel variant on
# trial and measures each on issue 8's Llama-3-8B workload against the
# defaults, in the same process tree and on the same card:
#  1. bench/gpu-check.sh (GEN=1 BENCH=0): build, check_ops with the defaults,
#     then with each variant that has a check of its own there (the cascade,
#     TTS_ATTN_OCC=3, TTS_ROPE_KV=1, TTS_CUBLASLT=1 and 2, the older
#     sampler), tts-generate cuda
#     against cpu;
#  2. bench_ops 128 (every op alone: projections, small ops, attention at
#     context 584, the sampler) with the defaults and with each of OPS_KNOBS;
#  3. bench_ops 128 proj (Llama-3-8B's four projections alone) with the
#     defaults and each of PROJ_KNOBS, then bench_ops 128 attn (decode
#     attention alone at contexts 328, 584, 968, blocks distinct and the
#     first 208 tokens shared) with the defaults and each of ATTN_KNOBS;
#  4. bench/gpu-e2.sh on the Llama shape (E2_MODELS, default llama) with the
#     defaults and then, as llama_k1, llama_k2, ..., with each of E2_KNOBS
#     (VAR=V, several joined by commas): engine tokens/s and the fraction of
#     the roofline for each, in one table.
# Every part runs under timeout within BUDGET seconds (default 560); what
# would not fit is skipped and says so.  Summary: $OUT/trials.log; all logs
# in $OUT/trials.tgz.
# Usage (the run tool, kind nvidia-h200, carry [".dev/sysroot"]):
#     OUT=$OUT SYSROOT=.dev/sysroot sh bench/gpu-trials.sh
set -u
cd "$(dirname "$0")/.." || exit 2
OUT=${OUT:-out}
SYSROOT=${SYSROOT:-.dev/sysroot}
BUDGET=${BUDGET:-560}
OPS_KNOBS=${OPS_KNOBS-TTS_VEC=0 TTS_SAMPLE_FAST=0 TTS_ROPE_KV=1}
PROJ_KNOBS=${PROJ_KNOBS-TTS_CUBLASLT=1 TTS_CUBLASLT=2}
ATTN_KNOBS=${ATTN_KNOBS-TTS_ATTN_CASCADE=1 TTS_ATTN_OCC=3 TTS_ATTN_CASCADE=1,TTS_ATTN_OCC=3}
E2_KNOBS=${E2_KNOBS-TTS_VEC=0,TTS_SAMPLE_FAST=0 TTS_ATTN_CASCADE=1 TTS_ATTN_OCC=3 TTS_ROPE_KV=1 \
TTS_CUBLASLT=2 TTS_ATTN_CASCADE=1,TTS_ROPE_KV=1}
T0=$(date +%s)
L=$OUT/t
mkdir -p "$L"
left() { echo $((BUDGET - ($(date +%s) - T0))); }
say() { echo "trials: $* (at $(($(date +%s) - T0)) s)" | tee -a "$OUT/trials.log"; }
B=build/gpu/tests/gpu

GEN=1 BENCH=0 OUT=$L/check SYSROOT=$SYSROOT timeout -k 5 300 sh bench/gpu-check.sh \
	>"$L/gpu-check.out" 2>&1
say "gpu-check exit $?"
grep -E '^gpu-check|FAIL|passed, ' "$L/gpu-check.out" | tee -a "$OUT/trials.log"
[ -x $B/bench_ops ] || { say "no build: stopping"; exit 1; }

# ops KNOB|- MODE: bench_ops 128 [MODE] with KNOB (VAR=V[,VAR=V]) or none
ops() {
	kn=$1 mode=$2 f=$(echo "$1-$2" | tr '=,' '-+')
	if [ "$(left)" -lt 100 ]; then say "bench_ops $mode $kn: skipped (time budget)"; return; fi
	# shellcheck disable=SC2046
	env $(echo "${kn#-}" | tr ',' ' ') timeout -k 5 60 $B/bench_ops 128 ${mode:+"$mode"} \
		>"$L/ops-$f.log" 2>&1
	say "bench_ops 128 $mode with $kn: exit $?"
	grep -E '^(copy|attention|small|fused|projection|sample|llama)' "$L/ops-$f.log" |
		tee -a "$OUT/trials.log"
}
for kn in - $OPS_KNOBS; do ops "$kn" ""; done
for kn in - $PROJ_KNOBS; do ops "$kn" proj; done
for kn in - $ATTN_KNOBS; do ops "$kn" attn; done

b=$(($(left) - 5))
if [ "$b" -gt 60 ]; then
	E2_KNOBS=$E2_KNOBS E2_MODELS=${E2_MODELS:-llama} E2_HF=0 E2_TINY_ACC=0 E2_BUDGET=$b \
		OUT=$L/e2 SYSROOT=$SYSROOT timeout -k 5 $((b + 3)) sh bench/gpu-e2.sh \
		>"$L/e2.out" 2>&1
	say "gpu-e2 exit $?"
	grep -E '^e2: [a-z0-9_]+: [0-9]+ s$|skipped|FAILED|TIMED' "$L/e2.out" | tee -a "$OUT/trials.log"
	sed -n '/^e2: ---- results/,$p' "$L/e2.out" | tee -a "$OUT/trials.log"
else
	say "gpu-e2 skipped: $b s left"
fi
tar -C "$L" -czf "$OUT/trials.tgz" .
