#!/bin/sh
# bench/gpu-check.sh — the whole GPU check in one go, on the GPU machine:
# record the machine, build with the Debian libraries from SYSROOT linked
# statically (that machine has no -dev packages), run tests/gpu/check_ops
# (every CUDA op against the CPU backend, then the forward pass and the
# sampler) with kernel faults attributed to their launch, then
# bench/gpu-bench.sh (BENCH=0 skips it); every log is left in $OUT
# (default out/).
# Usage: bench/gpu-check.sh            (SYSROOT defaults to .dev/sysroot)
set -u
cd "$(dirname "$0")/.." || exit 2
OUT=${OUT:-out}
SYSROOT=${SYSROOT:-.dev/sysroot}
mkdir -p "$OUT"
{
	date -u
	echo "commit: $(git rev-parse HEAD 2>/dev/null || cat .commit 2>/dev/null || echo unknown)"
	nproc; grep -m1 'model name' /proc/cpuinfo
	nvidia-smi
	nvcc --version | tail -2
} >"$OUT/env.txt" 2>&1
cat "$OUT/env.txt"
if ! make -j"$(nproc)" STATIC=1 SYSROOT="$SYSROOT" BUILD=build/gpu check-gpu-build \
	>"$OUT/build.log" 2>&1; then
	tail -40 "$OUT/build.log"
	echo "gpu-check: BUILD FAILED"
	exit 1
fi
echo "gpu-check: built"
TTS_CUDA_SYNC=1 OMP_NUM_THREADS=$(nproc) build/gpu/tests/gpu/check_ops >"$OUT/check-gpu.log" 2>&1
rc=$?
cat "$OUT/check-gpu.log"
echo "gpu-check: check_ops exit $rc"
# the first attention kernel (one sequence a block), kept to check against
TTS_CUDA_ATTN=simple CHECK_ONLY=attention TTS_CUDA_SYNC=1 build/gpu/tests/gpu/check_ops \
	>"$OUT/check-gpu-attn-simple.log" 2>&1
echo "gpu-check: simple attention kernel, exit $?"
grep -v '^kv_' "$OUT/check-gpu-attn-simple.log"
if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && command -v compute-sanitizer >/dev/null 2>&1 \
	&& [ -n "${SANITIZE:-}" ]; then
	compute-sanitizer --tool memcheck build/gpu/tests/gpu/check_ops \
		>"$OUT/memcheck.log" 2>&1
	tail -60 "$OUT/memcheck.log"
fi
# the bench in the same machine session (BENCH=0 skips it)
if [ "${BENCH:-1}" = 1 ] && [ "$rc" -ne 77 ]; then
	echo "gpu-check: bench"
	sh bench/gpu-bench.sh
fi
exit "$rc"
