#!/bin/sh
# bench/gpu-e2.sh — issue 8's benchmarks in one call on the GPU machine (one H200):
#  0. (E2_TINY_ACC=1, the default) bench/gpu-tiny-acc.sh: the bundled tiny model's
#     answer accuracy on --device cpu and cuda, PASS when every cell is within noise;
#  1. the device's copy bandwidth and bf16 matmul rate (torch, bench/gpu_e2.py device);
#  2. a random-weight Llama-3-8B-shaped checkpoint (bench/gpu_8b_models.py llama, bf16
#     safetensors) and a 200-token prompt_ids record;
#  3. tts-generate --device cuda -n 128 --max-batch 128 --max-tokens 768 --ignore-eos
#     --temperature 0.8 on it: tokens/s from wall time (load included) and from the
#     records' ms (engine time);
#  4. the design's roofline for that configuration (prompt read once, context growing,
#     with 1.'s figures) and the fraction achieved;
#  5. transformers generate on the same weights and prompt, 128 copies, 768 new tokens:
#     static cache + torch.compile (reduce-overhead) under E2_HF_COMPILE_S seconds,
#     else the eager dynamic-cache path; which one ran is printed (hf_config);
#  6. batch 1, 768 tokens: tts tokens/s and the fraction of the bandwidth roofline;
#  7. (E2_MODELS containing mil2) the same as 3.-4. on a Mamba2InLlama_1-shaped
#     checkpoint, 32 layers, all Mamba2 (state --ssm-state $E2_SSM_STATE, default f32);
#  8. (E2_MODELS containing early) early stops through the real eos path: the
#     Llama checkpoint of 2. (built here when llama is not in E2_MODELS) gets a
#     list of eos ids in generation_config.json and those ids' lm_head rows
#     scaled (bench/gpu_8b_models.py eos DIR $E2_EARLY_MEAN: a per-token stop
#     probability of about 1/E2_EARLY_MEAN, default 300, at temperature 0.8; the
#     other workloads ran before, with --ignore-eos), then 8 prompts (ids q0..q7)
#     x 128 samples, at most 768 tokens, --max-batch 128, WITHOUT --ignore-eos:
#     tokens/s, the stopped fraction, the lengths, the measured stop rate and the
#     scheduler's occupancy (every tts run has TTS_SCHED_STATS=1: the decode
#     steps' mean batch / --max-batch, e2: NAME_occupancy) against the occupancy
#     an ideal refilling batcher would keep on the same lengths (gpu_e2.py stops);
#  9. (mil2h) as 7. on a Mamba2InLlama_0_50-shaped checkpoint: attention at the
#     odd layers (Llama self_attn tensors), Mamba2 at the even ones;
# 10. (mil1) as 7. on a MambaInLlama_0_50-shaped checkpoint (the Mamba-1 hybrid:
#     attention at the odd layers, Mamba-1 mixers, state 16, at the even ones).
# Every step runs under `timeout`, within E2_BUDGET seconds overall (default 540);
# a step that would not fit is skipped and says so.  Order is priority: Llama, the
# batch-1 run, transformers, early, then mil2, mil2h, mil1 with what is left (each
# needs up to ~200 s: when one is skipped, run a second call with E2_MODELS naming
# it, e.g. E2_MODELS="mil2h mil1").  Every figure is a line "e2: ..."
# (also in $OUT/e2.log, and as JSON lines in $OUT/e2.json); the table comes last.
#
# Run on the GPU machine (the `run` tool, kind nvidia-h200, carry .dev/sysroot):
#     OUT=$OUT SYSROOT=.dev/sysroot sh bench/gpu-e2.sh                 # all, llama first
#     E2_MODELS=llama OUT=$OUT SYSROOT=.dev/sysroot sh bench/gpu-e2.sh # steps 1-6
#     E2_MODELS=mil2 OUT=$OUT SYSROOT=.dev/sysroot sh bench/gpu-e2.sh  # 1 and 7 only
#     E2_MODELS="mil2h mil1" ...                                        # 0, 1, 9 and 10
#     E2_HF=0 E2_MODELS="early mil2h mil1" ...   # what GPU runs 7 and 8 left: 0, 1, 2
#         (for early), 8, 9, 10; from run 7's step times about 250 s + the build
# Checked on the CPU (no GPU here): a copy of the tree with build/gpu/tts-generate a
# shim to the CPU build (cuda -> cpu), a no-op make, python3 = a torch-CPU venv,
# GPU8B_SMALL=1 E2_N=16 E2_G=128 E2_HF=0 COUNT=20: every step ran, 52 s.
# E2_KNOBS="K1 K2 ...": after the Llama B 128 run, the same run once per knob set K
# (VAR=VALUE, several joined by commas), as llama_k1, llama_k2, ... in the table.
# Knobs: E2_MODELS (default "llama early mil2 mil2h mil1"), E2_BUDGET (s), E2_HF_COMPILE_S
# (240), E2_HF (0: no transformers run), E2_SSM_STATE (f32|bf16), E2_EARLY_MEAN (300),
# E2_N and E2_G (128 samples, 768 tokens: smaller only to test the plumbing),
# WORK (/tmp/tts-e2), E2_TINY_ACC (1: bench/gpu-tiny-acc.sh first, the bundled tiny
# model's answer accuracy, --device cpu against cuda, 100 + 100 problems at 10 and 20
# pairs x 16 samples, under 150 s; its "tiny-acc:" lines land in the log; 0: skip it).
# The tts runs add --max-batch 128 (the default is 64) so the 128 samples run together.
# Checked off the GPU: sh -n bench/gpu-e2.sh; python3 bench/gpu_e2.py selftest
# (the roofline reproduces DESIGN.md's ~24k tok/s and ~260 tok/s).
set -u
cd "$(dirname "$0")/.." || exit 2
OUT=${OUT:-out}
SYSROOT=${SYSROOT:-.dev/sysroot}
W=${WORK:-/tmp/tts-e2}
MODELS=${E2_MODELS:-llama early mil2 mil2h mil1}
BUDGET=${E2_BUDGET:-540}
SSM=${E2_SSM_STATE:-f32}
P=200 N=${E2_N:-128} G=${E2_G:-768}
mkdir -p "$OUT" "$W"
log="$OUT/e2.log" js="$OUT/e2.json"
T0=$(date +%s)
say() { echo "e2: $*" | tee -a "$log"; }
left() { echo $((BUDGET - ($(date +%s) - T0))); }
# step CAP NAME CMD...: run CMD (a program) under timeout min(CAP, time left - 5);
# its whole output into the log, its "e2:" lines and errors shown; CMD's status
step() {
	cap=$1 name=$2; shift 2
	l=$(($(left) - 5))
	[ "$cap" -lt "$l" ] || cap=$l
	if [ "$cap" -lt 10 ]; then say "$name: skipped (time budget)"; return 1; fi
	s0=$(date +%s)
	timeout -k 5 "$cap" "$@" >"$W/step.out" 2>&1
	rc=$?
	cat "$W/step.out" >>"$log"
	grep '^e2:\|rror\|failed' "$W/step.out" | tail -15
	case $rc in
	0) say "$name: $(($(date +%s) - s0)) s" ;;
	124|137) say "$name: TIMED OUT after $cap s" ;;
	*) say "$name: FAILED, exit $rc, after $(($(date +%s) - s0)) s (log: $log)" ;;
	esac
	return $rc
}
PY="python3 bench/gpu_e2.py --json $js"
# sh bench/gpu-e2.sh --gen NAME MODEL INPUT ARGS...: one tts-generate run, tallied
if [ "${1:-}" = --gen ]; then
	name=$2 model=$3 input=$4; shift 4
	t0=$(date +%s.%N)
	eos=--ignore-eos
	[ "$name" = early ] && eos=
	TTS_SCHED_STATS=1 build/gpu/tts-generate -m "$model" --device cuda --temperature 0.8 $eos \
		--max-tokens $G "$@" <"$input" >"$W/$name.jsonl" 2>"$W/$name.err" ||
		{ echo "e2: $name: tts-generate failed: $(tail -2 "$W/$name.err")"; exit 1; }
	t1=$(date +%s.%N)
	[ "$name" = early ] && $PY stops early "$W/early.jsonl" $N
	exec $PY tally "$name" "$W/$name.jsonl" "$(python3 -c "print($t1 - $t0)")" "$W/$name.err"
fi
self="$(pwd)/bench/gpu-e2.sh"
: >"$log"; : >"$js"
{
	date -u
	echo "commit: $(git rev-parse HEAD 2>/dev/null || cat .commit 2>/dev/null || echo unknown)"
	nproc; grep -m1 'model name' /proc/cpuinfo
	nvidia-smi --query-gpu=name,clocks.sm,clocks.mem,memory.total,driver_version --format=csv
	python3 -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__)'
} 2>&1 | tee -a "$log"

step 240 build make -j"$(nproc)" STATIC=1 SYSROOT="$SYSROOT" BUILD=build/gpu build/gpu/tts-generate \
	build/gpu/tts-synth-ar build/gpu/tts-prompt build/gpu/tts-extract build/gpu/tts-vote
[ -x build/gpu/tts-generate ] || { say "tts-generate did not build"; exit 1; }
step 60 device $PY device
bw=$(python3 -c "import json;print(next(json.loads(l)['value'] for l in open('$js') if '\"copy_GBps\"' in l))" 2>/dev/null)
rate=$(python3 -c "import json;print(next(json.loads(l)['value'] for l in open('$js') if '\"matmul_TFLOPs\"' in l))" 2>/dev/null)
[ -n "$bw" ] && [ -n "$rate" ] || {
	say "no device figures: ASSUMING 4200 GB/s, 780 TFLOP/s"; bw=4200 rate=780
	printf '{"key": "copy_GBps", "value": 4200}\n{"key": "matmul_TFLOPs", "value": 780}\n{"key": "device_assumed", "value": 1}\n' >>"$js"
}
$PY prompt "$W/prompt.jsonl" $P p
if [ "${E2_TINY_ACC:-1}" = 1 ]; then
	step 150 tiny-acc env BUILD=build/gpu OUT="$W/tiny" sh bench/gpu-tiny-acc.sh
	sed -n 's/^tiny-acc:/e2: tiny-acc:/p' "$W/step.out" | tee -a "$log"
fi

case " $MODELS " in *" llama "*)
	if step 150 llama-build python3 bench/gpu_8b_models.py llama "$W/llama"; then
		step 150 tts-llama sh "$self" --gen llama "$W/llama" "$W/prompt.jsonl" -n $N --max-batch $N
		$PY roofline llama "$W/llama" $P $N $G --bw "$bw" --rate "$rate" | tee -a "$log"
		# the same workload with each knob set of E2_KNOBS (VAR=V[,VAR=V...])
		i=0
		for kn in ${E2_KNOBS:-}; do
			i=$((i + 1))
			# shellcheck disable=SC2046
			step 150 tts-llama-k$i env $(echo "$kn" | tr ',' ' ') sh "$self" --gen llama_k$i \
				"$W/llama" "$W/prompt.jsonl" -n $N --max-batch $N
			$PY knob llama_k$i "$kn"
			$PY roofline llama_k$i "$W/llama" $P $N $G --bw "$bw" --rate "$rate" | tee -a "$log"
		done
		step 90 tts-llama-b1 sh "$self" --gen llama_b1 "$W/llama" "$W/prompt.jsonl" -n 1 --max-batch 1
		$PY roofline llama_b1 "$W/llama" $P 1 $G --bw "$bw" --rate "$rate" | tee -a "$log"
		# the peer: static cache + torch.compile when it finishes within
		# E2_HF_COMPILE_S (and leaves 90 s), else the eager dynamic-cache path
		# (E2_HF=0: neither)
		cap=${E2_HF_COMPILE_S:-240}
		[ $(($(left) - 90)) -lt "$cap" ] && cap=$(($(left) - 90))
		if [ "${E2_HF:-1}" = 0 ]; then
			say "hf: skipped (E2_HF=0)"
		else
			step "$cap" hf-compile $PY hf "$W/llama" $P $N $G compile
			grep -q '"hf_compile_tps"' "$js" || {
				say "hf: the compiled run did not finish; the eager dynamic-cache path instead"
				step 150 hf-eager $PY hf "$W/llama" $P $N $G eager
			}
		fi
	fi
	;;
esac

# early stops, on the Llama weights (built here if step 2 did not run)
case " $MODELS " in *" early "*)
	[ -f "$W/llama/config.json" ] ||
		step 150 llama-build python3 bench/gpu_8b_models.py llama "$W/llama"
	if [ -f "$W/llama/config.json" ] &&
		step 30 early-eos python3 bench/gpu_8b_models.py eos "$W/llama" "${E2_EARLY_MEAN:-300}"; then
		$PY prompts "$W/prompts8.jsonl" 8 $P
		step 240 tts-early sh "$self" --gen early "$W/llama" "$W/prompts8.jsonl" -n $N --max-batch $N
	fi
	;;
esac
rm -rf "$W/llama"

case " $MODELS " in *" mil2 "*)
	sb=4; [ "$SSM" = bf16 ] && sb=2
	if step 150 mil2-build python3 bench/gpu_8b_models.py mil2 "$W/mil2" 32; then
		step 150 tts-mil2 sh "$self" --gen mil2 "$W/mil2" "$W/prompt.jsonl" -n $N --max-batch $N --ssm-state "$SSM"
		$PY roofline mil2 "$W/mil2" $P $N $G --bw "$bw" --rate "$rate" --ssm-bytes $sb | tee -a "$log"
	fi
	rm -rf "$W/mil2"
	;;
esac

# the hybrids: Mamba2InLlama_0_50 (mil2h) and MambaInLlama_0_50 (mil1, Mamba-1)
for m in mil2h mil1; do
	case " $MODELS " in *" $m "*) ;; *) continue ;; esac
	sb=4; [ "$SSM" = bf16 ] && sb=2
	if [ $m = mil2h ]; then b="mil2 $W/$m 32 odd"; else b="mil1 $W/$m 32"; fi
	# shellcheck disable=SC2086
	if step 150 $m-build python3 bench/gpu_8b_models.py $b; then
		step 150 tts-$m sh "$self" --gen $m "$W/$m" "$W/prompt.jsonl" -n $N --max-batch $N --ssm-state "$SSM"
		$PY roofline $m "$W/$m" $P $N $G --bw "$bw" --rate "$rate" --ssm-bytes $sb | tee -a "$log"
	fi
	rm -rf "$W/$m"
done

say "total $(($(date +%s) - T0)) s"
$PY table "$js" | tee -a "$log"
