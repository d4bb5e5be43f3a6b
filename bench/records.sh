#!/bin/bash
# bench/records.sh — throughput of the record layer, one process on one
# core: records/s and MB/s of tts-cat passing a stream of realistic sample
# records (a ~1.5 kB chain of thought each, with the keys tts-generate
# writes) JSONL -> msgpack -> JSONL, and each encoding through unchanged;
# then the largest resident set of a 1 GB stream piped through.
# Prints a Markdown section for bench/RESULTS.md.
# Usage: bench/records.sh [MB] (default 200; the RSS check uses 5 x MB)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cat=$top/${BUILD:-build}/tts-cat
mb=${1:-200}
[ -x "$cat" ] || { echo "records.sh: build tts-cat first (make)" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pin=""; command -v taskset >/dev/null && pin="taskset -c 0"

# Sample records: deterministic (awk srand(1)), text with escapes, LaTeX
# and non-ASCII, reals at full precision as a model run writes them.
gen() { # $1: megabytes
	awk -v mb="$1" 'BEGIN {
	srand(1)
	n = split("Let us compute the total number of apples so first we find " \
		"that each box holds 12 and there are 7 boxes then 12 \\\\times 7 = 84 " \
		"which means \\\\frac{84}{2} = 42 remain since half were sold " \
		"therefore the answer is π ≈ 3.14159 times r² − 1 and we check it", w, " ")
	limit = mb * 1000000; bytes = 0
	for (i = 0; bytes < limit; i++) {
		t = ""; len = 1000 + int(rand() * 1000)
		while (length(t) < len) {
			t = t w[1 + int(rand() * n)] ((rand() < 0.05) ? "\\n" : " ")
		}
		t = t "\\n\\nThe answer is \\\\boxed{" int(rand() * 1000) "}."
		line = sprintf("{\"id\":\"gsm8k-%d\",\"dataset\":\"gsm8k\",\"model\":\"Mamba2InLlama_0_50\"," \
			"\"sample\":%d,\"prompt_tokens\":%d,\"text\":\"%s\",\"tokens\":%d," \
			"\"finish\":\"stop\",\"logprob\":%.17g,\"ms\":%.17g,\"flops\":%.17g," \
			"\"seed\":1,\"temperature\":0.8,\"top_p\":0.95,\"max_tokens\":768,\"answer\":\"%d\"}",
			int(i / 64), i % 64, 150 + int(rand() * 100), t, 200 + int(rand() * 500),
			-rand() * 300, rand() * 5000, rand() * 1e13, int(rand() * 1000))
		print line
		bytes += length(line) + 1
	}}'
}

# run LABEL IN OUT ARGS...: one timed tts-cat, a table row.  MB/s counts
# the bytes of IN, or $size when set (the uncompressed size of zstd input).
run() {
	label=$1 in=$2 out=$3; shift 3
	t=$( { TIMEFORMAT='%R %U %S'; time $pin "$cat" "$@" "$in" > "$out"; } 2>&1 )
	wall=$(echo "$t" | awk '{print $1}')
	cpu=$(echo "$t" | awk '{print $2 + $3}')
	bytes=${size:-$(wc -c < "$in")}
	printf '| %s | %s | %.0f | %.0f | %.2f | %.2f |\n' "$label" \
		"$(echo "$bytes" | awk '{printf "%.0f", $1 / 1e6}')" \
		"$(echo "$bytes $cpu" | awk '{print $1 / 1e6 / $2}')" \
		"$(echo "$recs $cpu" | awk '{print $1 / $2}')" "$cpu" "$wall"
}

gen "$mb" > "$tmp/in.jsonl"
recs=$(wc -l < "$tmp/in.jsonl")
echo "## Record layer: tts-cat pass-through ($(date -u +%Y-%m-%d))"
echo
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'); load average $(cut -d' ' -f1-3 /proc/loadavg)."
echo "Command: \`bench/records.sh $mb\` ($recs sample records of ~1.5 kB; one process pinned to one core; MB/s is input bytes per CPU second, user + sys)."
echo
echo "| pass | input MB | MB/s | records/s | CPU s | wall s |"
echo "|---|---|---|---|---|---|"
run "JSONL -> msgpack" "$tmp/in.jsonl" "$tmp/mid.msgpack" -f msgpack
run "msgpack -> JSONL" "$tmp/mid.msgpack" "$tmp/out.jsonl"
run "JSONL -> JSONL" "$tmp/in.jsonl" "$tmp/out2.jsonl"
run "msgpack -> msgpack" "$tmp/mid.msgpack" "$tmp/out.msgpack" -f msgpack
run "msgpack -> msgpack+zstd" "$tmp/mid.msgpack" "$tmp/mid.msgpack.zst" -f msgpack -z
size=$(wc -c < "$tmp/mid.msgpack") run "msgpack+zstd -> msgpack (MB uncompressed)" "$tmp/mid.msgpack.zst" /dev/null -f msgpack
echo
# awk's %.17g reals are not the shortest form tts-cat prints, so compare
# with a JSONL -> JSONL pass, not with the input.
same=$(cmp -s "$tmp/out2.jsonl" "$tmp/out.jsonl" && cmp -s "$tmp/mid.msgpack" "$tmp/out.msgpack" && echo yes || echo NO)
echo "JSONL -> msgpack -> JSONL gives the same bytes as JSONL -> JSONL, and msgpack -> msgpack the same bytes: $same."

# Constant memory: 5 x MB of records through a pipe, max RSS of the reader.
if [ -x /usr/bin/time ]; then
	rm -f "$tmp"/mid* "$tmp"/out*
	big=$((mb * 5))
	rss=$( { for i in 1 2 3 4 5; do cat "$tmp/in.jsonl"; done |
		/usr/bin/time -f '%M' "$cat" -f msgpack | /usr/bin/time -f '%M' "$cat" > /dev/null; } 2>&1 | tr '\n' ' ')
	small=$( { head -1000 "$tmp/in.jsonl" | /usr/bin/time -f '%M' "$cat" -f msgpack |
		/usr/bin/time -f '%M' "$cat" > /dev/null; } 2>&1 | tr '\n' ' ')
	echo "Memory: $big MB of JSONL through \`tts-cat -f msgpack | tts-cat\`: max RSS $rss kB (JSONL reader, msgpack reader); 1000 records: $small kB."
fi
echo
