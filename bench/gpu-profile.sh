#!/bin/sh
# bench/gpu-profile.sh — hardware counters of the decode step's heaviest
# kernels at batch 128, on the GPU machine (ncu, Nsight Compute; it reads the
# counters on the Firecracker runtime only, device/KINDS.md): for each kernel,
# one launch from `bench_ops 128 attn` (decode attention at contexts 328 to
# 968), `bench_ops 128 proj` (the projections) or `bench_ops 128` (sampling), with the sections that say
# where its time goes: speed of light (DRAM and SM throughput against peak),
# memory workload, warp stall reasons, occupancy.  Clocks are left alone
# (--clock-control none), as device/METHOD.md asks.
# Usage (kind nvidia-h200, carry .dev/sysroot; builds first unless BUILT=1):
#     OUT=$OUT SYSROOT=.dev/sysroot sh bench/gpu-profile.sh
# PROF_ONLY="NAME ..." profiles only those (names below: attn-584, gemm-down-128, ssd-128, ...).
# Logs: $OUT/ncu-NAME.txt, one a kernel, and $OUT/profile.log (what ran).
set -u
cd "$(dirname "$0")/.." || exit 2
OUT=${OUT:-out}
SYSROOT=${SYSROOT:-.dev/sysroot}
mkdir -p "$OUT"
B=build/gpu/tests/gpu
log() { echo "profile: $*" | tee -a "$OUT/profile.log"; }
if [ -z "${BUILT:-}" ]; then
	make -j"$(nproc)" STATIC=1 SYSROOT="$SYSROOT" BUILD=build/gpu check-gpu-build >"$OUT/build.log" 2>&1 ||
		{ log "build failed"; tail -20 "$OUT/build.log"; exit 1; }
fi
command -v ncu >/dev/null 2>&1 || { log "no ncu on PATH"; exit 1; }
# NAME ENV KERNEL-REGEX SKIP PROGRAM ARGS: the (SKIP+1)-th launch of a kernel
# matching the regex, under ENV (VAR=VALUE, or - for none)
prof() {
	name=$1 e=$2 re=$3 skip=$4 prog=$5
	case " ${PROF_ONLY:-$name} " in *" $name "*) ;; *) return 0 ;; esac
	shift 5
	# shellcheck disable=SC2086  # "-" is no word at all
	env ${e#-} timeout -k 5 180 ncu --clock-control none --kernel-name "regex:$re" \
		--launch-skip "$skip" --launch-count 1 --section SpeedOfLight \
		--section MemoryWorkloadAnalysis --section WarpStateStats --section Occupancy \
		--section LaunchStats "$B/$prog" "$@" >"$OUT/ncu-$name.txt" 2>&1
	log "$name ($e, $re, launch $((skip + 1)) of $prog $*): exit $?"
	grep -E 'DRAM Throughput|Memory Throughput|Compute \(SM\) Throughput|Duration|Achieved Occupancy|Registers Per|Stall|Block Limit' \
		"$OUT/ncu-$name.txt" | head -20 | tee -a "$OUT/profile.log"
}
# bench_ops 128 attn times each case 2 + 20 times: launch 45 of the decode
# kernel is the third case's first (context 584, blocks distinct), 67 the
# fourth's (584, 208 shared)
prof attn-584 - attn_mma_kernel 44 bench_ops 128 attn
prof attn-584-shared - attn_mma_kernel 66 bench_ops 128 attn
prof attn-merge-584 - attn_merge_kernel 44 bench_ops 128 attn
prof attn-584-warp TTS_ATTN_MMA=0 attn_decode_kernel 44 bench_ops 128 attn
# bench_ops 128 proj: qkv, o, gate+up, down, 22 launches each (the first also
# converts x); the 50th GEMM is a gate+up one, the 70th a down one
prof gemm-gate-up-128 - 'gemm|xmma|cutlass|sm90' 49 bench_ops 128 proj
prof gemm-down-128 - 'gemm|xmma|cutlass|sm90' 69 bench_ops 128 proj
# sampling 128 rows of 128256 logits: the first launches are top-p 0.95, the
# 13th on plain (top-p 1, what E2 runs)
prof sample-128 - sample_kernel 12 bench_ops 128
# SSD decode at batch 128 (bench_ops 128 ssd: 2 + 20 launches), the state
# streamed (the default) and with plain loads and stores
prof ssd-128 - ssd_kernel 5 bench_ops 128 ssd
prof ssd-128-plain TTS_SSD=0 ssd_kernel 5 bench_ops 128 ssd
