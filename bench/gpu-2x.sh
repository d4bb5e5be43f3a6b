#!/bin/sh
# bench/gpu-2x.sh — issue 11's 2-GPU speed-up, on the nvidia-h200-x2 machine: one
# tts-generate workload (E2X_PROMPTS prompts of 200 ids x E2X_N samples x E2X_TOKENS
# tokens, --ignore-eos, T 0.8, --max-batch 128) on a random-weight Llama-3-8B-shaped
# checkpoint (bench/gpu_8b_models.py llama), run through pipelines/shard.sh with
# -k 1 -g 1 and then -k 2 -g 2; reports each run's wall time (model loading included),
# each shard's engine time (the sum of its records' ms), the speed-up of 2 GPUs over
# 1, and how many samples came out the same text both ways.  Lines "e2x: ..." (also in
# $OUT/2x.log); the summary last.
#
# Run on the GPU machine (the `run` tool, kind nvidia-h200-x2, carry .dev/sysroot):
#     OUT=$OUT SYSROOT=.dev/sysroot sh bench/gpu-2x.sh
#     E2X_MODEL=fixture OUT=$OUT SYSROOT=.dev/sysroot sh bench/gpu-2x.sh   # the tiny
#         fixture model instead (checks the path only; no meaningful speed-up)
# Knobs: E2X_PROMPTS (32), E2X_N (32), E2X_TOKENS (512), E2X_BUDGET (s, 540), WORK.
# shard.sh runs the shards with GNU parallel when the machine has it; without it the
# shards run as shard.sh -i I (the cluster-array path), one per GPU through
# CUDA_VISIBLE_DEVICES, then shard.sh -M merges them; the log says which.
# Checked off the GPU: sh -n; the shard stage (bench/gpu_e2.py shard-stage).
set -u
cd "$(dirname "$0")/.." || exit 2
OUT=${OUT:-out}
SYSROOT=${SYSROOT:-.dev/sysroot}
W=${WORK:-/tmp/tts-2x}
NP=${E2X_PROMPTS:-32} NS=${E2X_N:-32} NT=${E2X_TOKENS:-512}
BUDGET=${E2X_BUDGET:-540}
mkdir -p "$OUT" "$W"
log="$OUT/2x.log" js="$OUT/2x.json"
: >"$log"; : >"$js"
T0=$(date +%s)
say() { echo "e2x: $*" | tee -a "$log"; }
left() { echo $((BUDGET - ($(date +%s) - T0))); }
PY="python3 bench/gpu_e2.py --json $js"
{
	date -u
	echo "commit: $(git rev-parse HEAD 2>/dev/null || cat .commit 2>/dev/null || echo unknown)"
	nproc; grep -m1 'model name' /proc/cpuinfo
	nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv
	command -v parallel || echo "no GNU parallel"
} 2>&1 | tee -a "$log"

timeout $(($(left) - 30)) make -j"$(nproc)" STATIC=1 SYSROOT="$SYSROOT" BUILD=build/gpu \
	build/gpu/tts-generate >"$OUT/build-2x.log" 2>&1 || { tail -20 "$OUT/build-2x.log"; say "build failed"; exit 1; }
say "built in $(($(date +%s) - T0)) s"
PATH=$(pwd)/build/gpu:$PATH
export PATH

if [ "${E2X_MODEL:-llama}" = fixture ]; then
	model=tests/fixtures/models/llama3-untied
else
	model=$W/llama
	t0=$(date +%s)
	timeout $(($(left) - 60)) python3 bench/gpu_8b_models.py llama "$model" >>"$log" 2>&1 ||
		{ say "the random 8B checkpoint was not built (see $log)"; exit 1; }
	say "llama built in $(($(date +%s) - t0)) s"
fi
$PY prompts "$W/prompts.jsonl" "$NP" 200
stage="python3 bench/gpu_e2.py shard-stage"
args="-m $model -n $NS --max-tokens $NT --ignore-eos --temperature 0.8 --max-batch 128"

# run K: the workload over K GPUs, into $W/kK/run.jsonl; its wall time in e2x.json
run() {
	k=$1 d=$W/k$1
	rm -rf "$d"; mkdir -p "$d"
	cap=$(($(left) - 10))
	[ "$cap" -gt 10 ] || { say "k=$k: skipped (time budget)"; return 1; }
	t0=$(date +%s.%N)
	if command -v parallel >/dev/null 2>&1; then
		say "k=$k: shard.sh -k $k -g $k (GNU parallel)"
		# shellcheck disable=SC2086  # $args is a word list
		timeout "$cap" bash pipelines/shard.sh -k "$k" -g "$k" -s "$stage" -o "$d/run.jsonl" \
			"$W/prompts.jsonl" -- $args >>"$log" 2>&1
		rc=$?
	else
		say "k=$k: shard.sh -k $k -i I, one per GPU (CUDA_VISIBLE_DEVICES=I), then -M"
		i=0 pids=""
		while [ $i -lt "$k" ]; do
			# shellcheck disable=SC2086
			CUDA_VISIBLE_DEVICES=$i timeout "$cap" bash pipelines/shard.sh -k "$k" -i $i -g 1 \
				-s "$stage" -o "$d/run.jsonl" "$W/prompts.jsonl" -- $args >>"$log" 2>&1 &
			pids="$pids $!"
			i=$((i + 1))
		done
		rc=0
		for p in $pids; do wait "$p" || rc=1; done
		[ $rc = 0 ] && bash pipelines/shard.sh -k "$k" -M -o "$d/run.jsonl" >>"$log" 2>&1 || rc=1
	fi
	t1=$(date +%s.%N)
	[ $rc = 0 ] || { say "k=$k: FAILED (exit $rc; see $log)"; return 1; }
	wall=$(python3 -c "print($t1 - $t0)")
	$PY tally "k${k}" "$d/run.jsonl" "$wall" | sed 's/^e2:/e2x:/' | tee -a "$log"
	i=0
	while [ $i -lt "$k" ]; do
		$PY tally "k${k}_shard$i" "$d/run.shard-$i-of-$k.jsonl" "$wall" |
			grep 'engine_s\|_tps ' | sed 's/^e2:/e2x:/' | tee -a "$log"
		i=$((i + 1))
	done
}
run 1
run 2
python3 - "$js" "$W/k1/run.jsonl" "$W/k2/run.jsonl" "$NP" "$NS" "$NT" <<'PY' | tee -a "$log"
import json, sys
v = {}
for l in open(sys.argv[1]):
    r = json.loads(l)
    v[r["key"]] = r["value"]
def texts(f):
    try:
        return {(r["id"], r["sample"]): r["text"] for r in map(json.loads, open(f))}
    except OSError:
        return {}
a, b = texts(sys.argv[2]), texts(sys.argv[3])
print("e2x: ---- %s prompts x %s samples x %s tokens ----" % tuple(sys.argv[4:7]))
for k in (1, 2):
    if "k%d_wall_s" % k in v:
        eng = max(v.get("k%d_shard%d_engine_s" % (k, i), 0) for i in range(k))
        print("e2x: %d GPU(s): wall %.1f s, %.0f tok/s (wall); slowest shard's engine time %.1f s"
              % (k, v["k%d_wall_s" % k], v["k%d_tps_wall" % k], eng))
if "k1_wall_s" in v and "k2_wall_s" in v:
    e1 = v.get("k1_shard0_engine_s", 0)
    e2 = max(v.get("k2_shard0_engine_s", 0), v.get("k2_shard1_engine_s", 0))
    print("e2x: speed-up of 2 GPUs over 1: %.2fx wall (loading included), %.2fx engine time"
          % (v["k1_wall_s"] / v["k2_wall_s"], e1 / e2 if e2 else float("nan")))
if a and b:
    same = sum(a[k] == b.get(k) for k in a)
    print("e2x: samples with the same text on 1 and 2 GPUs: %d of %d (%d in the 2-GPU merge)"
          % (same, len(a), len(b)))
PY
say "total $(($(date +%s) - T0)) s"
