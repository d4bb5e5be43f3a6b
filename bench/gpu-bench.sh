#!/bin/sh
# bench/gpu-bench.sh — on the GPU machine: the device's copy bandwidth and
# bf16 matmul rate, and the CUDA ops' times at the shapes of an 8B decode
# step (tests/gpu/bench_ops.c), at batch 128 and 1, then the engine's decode
# step end to end on random-weight 8B-shaped Llama, Mamba2InLlama_1 and
# MambaInLlama_0_50 models (tests/gpu/bench_step.c); log in $OUT/bench.log.
# Builds like bench/gpu-check.sh (static Debian libraries from SYSROOT).
set -u
cd "$(dirname "$0")/.." || exit 2
OUT=${OUT:-out}
SYSROOT=${SYSROOT:-.dev/sysroot}
mkdir -p "$OUT"
make -j"$(nproc)" STATIC=1 SYSROOT="$SYSROOT" BUILD=build/gpu check-gpu-build \
	>"$OUT/build-bench.log" 2>&1 || { tail -40 "$OUT/build-bench.log"; exit 1; }
{
	nvidia-smi --query-gpu=name,clocks.sm,clocks.mem,memory.total --format=csv
	build/gpu/tests/gpu/bench_ops 128
	if [ -n "${QUICK:-}" ]; then
		build/gpu/tests/gpu/bench_step 128 34 llama mil2
	else
		build/gpu/tests/gpu/bench_ops 1
		build/gpu/tests/gpu/bench_step 128 34
		build/gpu/tests/gpu/bench_step 1 34 llama
		TTS_SSM_STATE=bf16 build/gpu/tests/gpu/bench_step 128 34 mil2 mil1
	fi
} >"$OUT/bench.log" 2>&1
rc=$?
cat "$OUT/bench.log"
exit "$rc"
