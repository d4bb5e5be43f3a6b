#!/bin/sh
# models/sweep-gpu.sh — train several variants of one recipe at once on the
# GPU machine, to find out what a model needs to learn the task (a diagnostic,
# not how the bundled models are made: those all train with one recipe,
# models/train-gpu.sh).
#
#     OUT=$OUT sh models/sweep-gpu.sh                 (kind nvidia-h200-x2, carry ["models/data"])
#
# VARIANTS holds one variant a line, "NAME train.py-options" (or VARIANTS_FILE
# names a file of such lines, e.g. models/sweep2.variants); each runs as its
# own `python3 models/train.py --data models/data --out WORK/NAME --steps STEPS
# --deadline DEADLINE --probe-every PROBE OPTIONS` on GPU (its index mod the
# number of GPUs), all at once.  Everything comes back in $OUT/sweep-out.tar.gz,
# with the probe curves of every variant side by side in $OUT/sweep.txt
# (STEP:AR-10%/non-AR-10%, the held-out greedy exact match at 10 pairs),
# then each trained model's value accuracy on the 100 held-out AR-10 problems
# (models/value-acc.py).
set -u
cd "$(dirname "$0")/.." || exit 2
OUT=${OUT:-out}
W=${WORK:-/tmp/tts-sweep}
STEPS=${STEPS:-6000}
DEADLINE=${DEADLINE:-480}
PROBE=${PROBE:-250}
LIMIT=${SWEEP_LIMIT:-560}
[ -z "${VARIANTS_FILE:-}" ] || VARIANTS=$(cat "$VARIANTS_FILE") || exit 2
VARIANTS=${VARIANTS:-"control --models llama
loss-all --models llama --loss-on all
lr-6e-3 --models llama --lr 6e-3
lr-6e-4 --models llama --lr 6e-4
head64 --models llama --shape heads=1,kv_heads=1,head_dim=64
l2-head64 --models llama --shape layers=2,heads=1,kv_heads=1,head_dim=64
loss-all-lr-6e-3 --models llama --loss-on all --lr 6e-3
loss-all-head64 --models llama --loss-on all --shape heads=1,kv_heads=1,head_dim=64"}
ngpu=$(nvidia-smi -L 2>/dev/null | wc -l)
[ "$ngpu" -gt 0 ] || ngpu=1
mkdir -p "$OUT"
rm -rf "$W"
mkdir -p "$W"
{
	date -u
	echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)"
	nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
	${PYTHON:-python3} -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__)'
	echo "steps $STEPS deadline $DEADLINE probe $PROBE"
	echo "$VARIANTS"
} >"$W/machine.txt" 2>&1
i=0
while read -r name opts; do
	[ -n "$name" ] || continue
	# shellcheck disable=SC2086  # the options are words
	CUDA_VISIBLE_DEVICES=$((i % ngpu)) PYTHONUNBUFFERED=1 timeout "$LIMIT" \
		${PYTHON:-python3} models/train.py --data "${DATA:-models/data}" --out "$W/$name" --steps "$STEPS" \
		--deadline "$DEADLINE" --probe-every "$PROBE" $opts >"$W/$name.log" 2>&1 &
	i=$((i + 1))
done <<EOF
$VARIANTS
EOF
wait
# the value accuracy of each variant on the held-out AR problems at 10 pairs
# (models/value-acc.py: ~0.3 is the no-lookup guess, 1.0 a perfect lookup)
${PYTHON:-python3} -c 'import gzip, json, sys
for line in gzip.open(sys.argv[1], "rt"):
    r = json.loads(line)
    if r["task"] == "ar" and r["pairs"] == 10:
        print(line, end="")' "${DATA:-models/data}/heldout.jsonl.gz" >"$W/ar10.jsonl"
for d in "$W"/*/*/; do
	[ -f "$d/config.json" ] || continue
	timeout 60 ${PYTHON:-python3} models/value-acc.py "$d" "$W/ar10.jsonl" 100 2>&1 |
		grep -v 'Loading weights\|falling back' >>"$W/value-acc.txt"
done
for d in "$W"/*/; do
	n=$(basename "$d")
	printf '%s\t' "$n"
	grep -h 'probe step' "$W/$n.log" |
		sed 's/.*probe step \([0-9]*\): .* ar-10 \([0-9]*\)%, noar-10 \([0-9]*\)%.*/\1:\2\/\3/' | tr '\n' ' '
	echo
	grep -A3 '^model ' "$W/$n.log" | sed 1d
done | tee "$OUT/sweep.txt"
[ ! -f "$W/value-acc.txt" ] || tee -a "$OUT/sweep.txt" <"$W/value-acc.txt"
tar -C "$W" --exclude='*.safetensors' -czf "$OUT/sweep-out.tar.gz" .
