#!/bin/sh
# models/train-gpu.sh — train the bundled tiny models in one call on the GPU
# machine and bring everything back as one archive.
#
# Here first:   make models-data          (models/data, from the project's tools)
# Then, with the `run` tool (kind nvidia-h200, carry ["models/data"]):
#     OUT=$OUT sh models/train-gpu.sh [train.py options]
# It runs `python3 models/train.py --data models/data --out WORK [options]` under
# a time limit (TRAIN_LIMIT seconds, default 570), records the machine, and packs
# WORK (the five models, their logs, result.json, summary.json, the reference
# logits) into $OUT/train-out.tar.gz with the whole stdout in $OUT/train-stdout.log,
# so a run cut short still returns what it finished.
#
# Longer than one call allows (a call runs at most 10 minutes): fix the steps and
# carry the training state from call to call; each call trains until --deadline,
# saves every model's state ($OUT/state-NAME.pt) and evaluates what it has:
#     OUT=$OUT sh models/train-gpu.sh --steps 12000 --deadline 520        # call 1
#     (here: mkdir -p .dev/state; cp FILES_AT/state-*.pt .dev/state/, renamed NAME.pt)
#     OUT=$OUT STATE_IN=.dev/state sh models/train-gpu.sh --deadline 520  # call 2, carry .dev/state
# A resumed model ends with exactly the weights of an uninterrupted run.
#
# DATA=DIR trains on DIR instead of models/data, e.g. a larger set made on
# the GPU machine first by models/gen-data.sh (jq carried in .dev/jq):
#     LD_LIBRARY_PATH=.dev/jq JQ=.dev/jq/jq KV=1 sh models/gen-data.sh /tmp/data 120000
#     DATA=/tmp/data/kv OUT=$OUT sh models/train-gpu.sh --tokenizer .dev/kvtok/tokenizer.json ...
set -u
cd "$(dirname "$0")/.." || exit 2
OUT=${OUT:-out}
W=${WORK:-/tmp/tts-train}
DATA=${DATA:-models/data}
LIMIT=${TRAIN_LIMIT:-570}
mkdir -p "$OUT"
rm -rf "$W"
mkdir -p "$W"
{
	date -u
	echo "commit: $(git rev-parse HEAD 2>/dev/null || cat .commit 2>/dev/null || echo unknown)"
	nproc; grep -m1 'model name' /proc/cpuinfo
	nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
	python3 -c 'import torch, transformers, tokenizers; print("torch", torch.__version__, "transformers", transformers.__version__, "tokenizers", tokenizers.__version__)'
	echo "models/train.py --data $DATA --out $W $*"
} >"$W/machine.txt" 2>&1
cat "$W/machine.txt"
set -- --state-out "$W/state" "$@"
[ -z "${STATE_IN:-}" ] || set -- --state-in "$STATE_IN" "$@"
PYTHONUNBUFFERED=1 timeout "$LIMIT" python3 models/train.py --data "$DATA" --out "$W" "$@" \
	>"$OUT/train-stdout.log" 2>&1
rc=$?
for f in "$W"/state/*.pt; do
	[ -e "$f" ] && mv "$f" "$OUT/state-$(basename "$f")"
done
rm -rf "$W/state"
tail -25 "$OUT/train-stdout.log"
echo "train.py exit $rc"
tar -C "$W" -czf "$OUT/train-out.tar.gz" .
exit $rc
