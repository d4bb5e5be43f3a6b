#!/bin/sh
# bench/vote.sh — time tts-vote on GSM8K-sized input: 1319 problems x 128
# extracted samples (msgpack, no text), all methods, all k (1, 2, 4, ...
# 128), on one core.  Goal: under 2 s.  Prints the command and the time;
# append them to bench/RESULTS.md by hand (with the machine).
# Usage: bench/vote.sh [PROBLEMS [SAMPLES]]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
B=${BUILD:-$top/build}
P=${1:-1319} N=${2:-128}
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT

# Synthetic samples with the shapes real runs have: per problem an
# accuracy drawn from [0,1], so easy problems give one big correct class
# and hard ones many small wrong classes (wrong answers gold + e^U(0,5),
# small offsets more likely), 3% null predictions, rewards correlated
# with correctness, timing and token counts.
awk -v P="$P" -v N="$N" 'BEGIN {
	srand(1);
	for (p = 0; p < P; p++) {
		acc = rand() ^ 0.7; gold = int(rand() * 1000);
		for (s = 0; s < N; s++) {
			u = rand();
			if (u < 0.03) pred = "null";
			else if (u < 0.03 + 0.97 * acc) pred = "\"" gold "\"";
			else pred = "\"" (gold + int(exp(rand() * 5))) "\"";
			tok = 100 + int(rand() * 300);
			printf "{\"id\":\"gsm8k-%d\",\"dataset\":\"gsm8k\",\"model\":\"bench\",\"answer\":\"%d\",", p, gold;
			printf "\"sample\":%d,\"temperature\":0.7,\"seed\":0,\"tokens\":%d,\"ms\":%.3f,\"flops\":%.6g,", s, tok, tok * 0.04, tok * 1.6e10;
			printf "\"finish\":\"stop\",\"reward\":%.4f,\"pred\":%s,\"pred_canon\":%s,\"pred_rule\":\"boxed\"}\n", \
				rand() * 0.6 + (pred == "\"" gold "\"" ? 0.4 : 0), pred, pred;
		}
	}
}' > "$dir/samples.jsonl"
"$B/tts-cat" -f msgpack "$dir/samples.jsonl" > "$dir/samples.msgpack"
ls -l "$dir/samples.msgpack" | awk '{printf "input: %d records, %.1f MB msgpack\n", '"$P"' * '"$N"', $5 / 1e6}'

cmd="taskset -c 0 tts-vote samples.msgpack > votes.jsonl"
# Wall time is what the goal is about; CPU time (user+sys) is printed too
# because a shared machine's load inflates the wall time.
best=
for i in 1 2 3; do
	/usr/bin/time -f "%e %U %S" -o "$dir/time" taskset -c 0 "$B/tts-vote" "$dir/samples.msgpack" > "$dir/votes.jsonl"
	read -r wall user sys < "$dir/time"
	echo "run $i: wall $wall s, cpu $(echo "$user + $sys" | bc) s"
	if [ -z "$best" ] || [ "$(echo "$wall < $best" | bc)" = 1 ]; then best=$wall; fi
done
echo "output: $(wc -l < "$dir/votes.jsonl") vote records"
echo "command: $cmd"
echo "best of 3 (wall): $best s"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
