#!/bin/bash
# bench/extract.sh — tts-extract on 1319 x 128 synthetic GSM8K-length
# completions (about 1 kB each, mostly ending in \boxed{}, some with ####,
# "The answer is", truncated, or degenerate repetition), on one core.
# Usage: bench/extract.sh [PROBLEMS [SAMPLES]]   (defaults 1319 128)
# Prints the seconds tts-extract took (reading, extracting, canonicalising,
# writing JSONL), wall clock and CPU.
set -eu
cd "$(dirname "$0")/.."
P=${1:-1319} K=${2:-128}
BIN=${BUILD:-build}/tts-extract
[ -x "$BIN" ] || { echo "bench/extract.sh: build $BIN first (make)" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

awk -v P="$P" -v K="$K" 'BEGIN {
	srand(12345)
	names[0] = "Mia"; names[1] = "Omar"; names[2] = "Lena"; names[3] = "Kofi"
	items[0] = "apples"; items[1] = "pencils"; items[2] = "tickets"; items[3] = "eggs"
	for (p = 0; p < P; p++) {
		gold = int(rand() * 5000) + 2
		for (s = 0; s < K; s++) {
			who = names[int(rand() * 4)]; what = items[int(rand() * 4)]
			a = int(rand() * 90) + 10; b = int(rand() * 40) + 2; c = a * b
			t = "Let us work through this step by step.\\n\\n"
			for (i = 0; i < 6; i++) {
				x = int(rand() * 300) + 1; y = int(rand() * 30) + 1
				t = t sprintf("Step %d: %s has %d %s and buys %d more packs of %d, so %s now has $%d + %d \\\\times %d = %d$ %s.\\n\\n", \
					i + 1, who, x, what, y, b, who, x, y, b, x + y * b, what)
			}
			t = t sprintf("Each costs \\\\$%d, so the total is \\\\$%d,%03d. ", a, int(c / 1000), c % 1000)
			ans = (rand() < 0.7) ? gold : gold + int(rand() * 7) - 3
			r = rand()
			if (r < 0.80)
				t = t sprintf("Therefore, the final answer is: $\\\\boxed{%d}$. I hope it is correct.", ans)
			else if (r < 0.85)
				t = t sprintf("\\n#### %d", ans)
			else if (r < 0.90)
				t = t sprintf("The answer is %d %s.", ans, what)
			else if (r < 0.95)
				t = t sprintf("So the answer is \\\\boxed{\\\\dfrac{%d}{", ans)
			else
				for (i = 0; i < 40; i++) t = t "\\\\boxed{} "
			printf "{\"id\":\"gsm8k-%d\",\"model\":\"bench\",\"sample\":%d,\"text\":\"%s\"}\n", p, s, t
		}
	}
}' > "$tmp/samples.jsonl"

bytes=$(wc -c < "$tmp/samples.jsonl")
n=$(wc -l < "$tmp/samples.jsonl")
pin=""; command -v taskset >/dev/null 2>&1 && pin="taskset -c 0"
TIMEFORMAT='%R %U %S'
t=$( { time OMP_NUM_THREADS=1 $pin "$BIN" "$tmp/samples.jsonl" > "$tmp/out.jsonl"; } 2>&1 )
set -- $t
found=$(grep -c '"pred_rule":"boxed"' "$tmp/out.jsonl" || true)
echo "samples $n, bytes $bytes, boxed answers $found"
echo "tts-extract: wall $1 s, cpu $(echo "$2 + $3" | bc) s (user $2, sys $3)"
