#!/bin/sh
# shellcheck disable=SC2154  # the settings come from make models-data-vars, by eval
# models/gen-data.sh — the training data made on the machine that trains,
# for sets larger than a GPU call can carry: the pipeline of `make
# models-data` (tts-synth-ar | tts-prompt | jq -c -f models/cot.jq) with
# the same seeds, lengths and flags (read from mk/models.mk and
# models/task.mk by `make models-data-vars`), COUNT problems of each task a
# length instead of TRAIN_COUNT (12000).  tts-synth-ar's stream
# for a seed does not depend on -n, so COUNT = 12000 gives exactly the
# records of models/data and a larger COUNT a superset of them.  The
# lengths run in parallel; tts-synth-ar and tts-prompt are built first
# (STATIC=1 with SYSROOT, as bench/gpu-check.sh builds, unless BUILD holds
# them already).  jq: JQ (default jq; on the GPU machine carry a jq binary
# with its libraries and set JQ and LD_LIBRARY_PATH).
# KV=1 then rewrites both files for the key-adjacent format
# (models/kv-format.py) in OUT_DIR/kv.
# Usage: sh models/gen-data.sh OUT_DIR [COUNT]
set -eu
cd "$(dirname "$0")/.."
out=${1:?usage: models/gen-data.sh OUT_DIR [COUNT]}
B=${BUILD:-build/gpu}
JQ=${JQ:-jq}
SYSROOT=${SYSROOT:-.dev/sysroot}
eval "$(make -s --no-print-directory models-data-vars)"
count=${2:-$train_count}
if [ ! -x "$B/tts-synth-ar" ] || [ ! -x "$B/tts-prompt" ]; then
	if [ -d "$SYSROOT" ]; then
		make -j"$(nproc)" STATIC=1 SYSROOT="$SYSROOT" BUILD="$B" "$B/tts-synth-ar" "$B/tts-prompt" >&2
	else
		make -j"$(nproc)" BUILD="$B" "$B/tts-synth-ar" "$B/tts-prompt" >&2
	fi
fi
mkdir -p "$out/parts"
# part NAME L N SEED: one length's records, in a file of its own
part() {
	# shellcheck disable=SC2086
	"$B/tts-synth-ar" $synth_flags --task both -L "$2" -n "$3" -s "$4" |
		"$B/tts-prompt" $prompt_flags |
		"$JQ" -c -f models/cot.jq >"$out/parts/$1-$2.jsonl"
}
t0=$(date +%s)
for L in $train_pairs; do part train "$L" "$count" $((train_seed + L)) & done
for L in $held_pairs; do part heldout "$L" "$held_count" $((held_seed + L)) & done
wait
for f in train heldout; do
	pairs=$train_pairs
	[ $f = heldout ] && pairs=$held_pairs
	for L in $pairs; do
		[ -s "$out/parts/$f-$L.jsonl" ] || { echo "gen-data: $f at $L pairs is empty" >&2; exit 1; }
		cat "$out/parts/$f-$L.jsonl"
	done | gzip -1n >"$out/$f.jsonl.gz"
done
rm -rf "$out/parts"
echo "gen-data: $out: $(gzip -dc "$out/train.jsonl.gz" | wc -l) training and" \
	"$(gzip -dc "$out/heldout.jsonl.gz" | wc -l) held-out records in $(($(date +%s) - t0)) s" >&2
if [ "${KV:-0}" = 1 ]; then
	python3 models/kv-format.py "$out" "$out/kv" >&2
fi
