#!/bin/sh
# bench/gpu-8b-check.sh — issue 7's 8B end-to-end checks, on the GPU machine:
#  1. a random-weight Llama-3-8B-shaped model built with transformers (bf16, on the
#     GPU, save_pretrained): transformers' bf16 logits of a 32-token prompt against
#     tts-generate --device cuda's (--dump-logits): max|d|/max|ref|, top-10 overlap;
#     also against the same weights in float32, beside transformers bf16 (the yardstick);
#  2. (unless LLAMA_ONLY=1) a random-weight Mamba2InLlama-shaped model (8B width, MIL8B_LAYERS layers,
#     default 4): tts-generate --device cuda against --device cpu (the machine's CPUs).
# Logs and numbers in $OUT/8b.log.  Usage: OUT=DIR SYSROOT=DIR sh bench/gpu-8b-check.sh
set -u
cd "$(dirname "$0")/.." || exit 2
OUT=${OUT:-out}
SYSROOT=${SYSROOT:-.dev/sysroot}
W=${WORK:-/tmp/tts-8b}
mkdir -p "$OUT" "$W"
log="$OUT/8b.log"
make -j"$(nproc)" STATIC=1 SYSROOT="$SYSROOT" BUILD=build/gpu build/gpu/tts-generate \
	>"$OUT/build-8b.log" 2>&1 || { tail -20 "$OUT/build-8b.log"; exit 1; }
gen() { # model device dump
	build/gpu/tts-generate -m "$1" --device "$2" --max-tokens 1 --temperature 0 \
		--dump-logits "$3" <"$1/prompt.jsonl" >/dev/null
}
mil2_check() {
	t0=$(date +%s)
	python3 bench/gpu_8b_models.py mil2 "$W/mil2" "${MIL8B_LAYERS:-4}" &&
		echo "8b-check: mil2 (${MIL8B_LAYERS:-4} layers) built in $(($(date +%s) - t0)) s"
	t0=$(date +%s)
	gen "$W/mil2" cuda "$W/mil2/cuda.f32" && echo "8b-check: mil2 cuda in $(($(date +%s) - t0)) s"
	t0=$(date +%s)
	OMP_NUM_THREADS=$(nproc) gen "$W/mil2" cpu "$W/mil2/cpu.f32" &&
		echo "8b-check: mil2 cpu in $(($(date +%s) - t0)) s"
	python3 bench/gpu_8b_compare.py "$W/mil2/cpu.f32" "$W/mil2/cuda.f32" 128256 \
		"mil2-8b-width tts cpu vs tts cuda"
	rm -rf "$W/mil2"
}
{
	t0=$(date +%s)
	python3 bench/gpu_8b_models.py llama "$W/llama" && echo "8b-check: llama built in $(($(date +%s) - t0)) s"
	t0=$(date +%s)
	gen "$W/llama" cuda "$W/llama/tts.f32" && echo "8b-check: tts-generate cuda in $(($(date +%s) - t0)) s"
	python3 bench/gpu_8b_compare.py "$W/llama/ref.f32" "$W/llama/tts.f32" 128256 \
		"llama-8b transformers bf16 vs tts cuda"
	python3 bench/gpu_8b_compare.py "$W/llama/ref32.f32" "$W/llama/ref.f32" 128256 \
		"llama-8b transformers fp32 vs transformers bf16"
	python3 bench/gpu_8b_compare.py "$W/llama/ref32.f32" "$W/llama/tts.f32" 128256 \
		"llama-8b transformers fp32 vs tts cuda"
	rm -rf "$W/llama"
	[ -n "${LLAMA_ONLY:-}" ] || mil2_check
} >"$log" 2>&1
cat "$log"
