#!/bin/sh
# bench/generate.sh — tts-generate on the CPU at the demo's scale: a
# random-weight model of the demo models' shape (bench/demo_model.py),
# PROBLEMS prompts of PROMPT tokens, 16 samples each, GEN tokens per sample.
# Prints the wall time and tokens/s; append the line to bench/RESULTS.md.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
PROBLEMS=${PROBLEMS:-100} PROMPT=${PROMPT:-250} GEN=${GEN:-32}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
python3 "$top/bench/demo_model.py" "$tmp/model"
jq -nc --argjson n "$PROBLEMS" --argjson L "$PROMPT" '
	range($n) as $i | {id: "b\($i)", prompt_ids: [range($L) | (. * 7919 + $i * 104729) % 1000]}' \
	>"$tmp/p.jsonl"
t0=$(date +%s.%N)
"$top/build/tts-generate" -m "$tmp/model" -n 16 --max-tokens "$GEN" --ignore-eos "$@" \
	<"$tmp/p.jsonl" >"$tmp/out.jsonl"
t1=$(date +%s.%N)
echo "$PROBLEMS problems x 16 samples, prompt $PROMPT, $GEN tokens: $(echo "$t1 - $t0" | bc) s," \
	"$(echo "$PROBLEMS * 16 * $GEN / ($t1 - $t0)" | bc) generated tok/s," \
	"$(echo "$PROBLEMS * $PROMPT / ($t1 - $t0)" | bc) prompt tok/s; nproc $(nproc);" \
	"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load $(cut -d' ' -f1 /proc/loadavg)"
