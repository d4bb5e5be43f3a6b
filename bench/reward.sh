#!/bin/sh
# bench/reward.sh — tts-generate --reward with and without prefix sharing:
# P problems, each a long prompt (~L tokens) and N samples of ~T tokens,
# scored by the fixture ORM (tests/fixtures/reward/orm, 2 layers, D 64)
# once grouped by id (the prompt runs once per problem) and once with a
# distinct id per sample (every sample runs its whole prompt).  Prints
# tokens run per sample record and the CPU time of each run.
# Usage: bench/reward.sh [P [N]]      (defaults 8 problems, 32 samples)
set -eu
cd "$(dirname "$0")/.."
P=${1:-8} N=${2:-32}
RM=tests/fixtures/reward/orm
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
jq -n -c --argjson P "$P" --argjson N "$N" '
	range($P) as $p | range($N) as $s |
	{id: "q\($p)", sample: $s,
	 prompt: ("<|begin_of_text|>Question: " + ([range(25)] | map("what is 17 + \(. + $p)?") | join(" ")) + "\n\nAnswer:"),
	 text: (" Step 1: add 17 and \($s).\n\n" * 4 + "The answer is \\boxed{\($s + 17)}.")}' >"$tmp/shared.jsonl"
jq -c '.id += "-\(.sample)"' "$tmp/shared.jsonl" >"$tmp/alone.jsonl"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "records: $P problems x $N samples; tokens per record (prompt + text): $(head -1 "$tmp/shared.jsonl" |
	build/tts-generate -m $RM --tokenize --key prompt | jq '.ids | length') + $(head -1 "$tmp/shared.jsonl" |
	build/tts-generate -m $RM --tokenize --key text --no-bos | jq '.ids | length')"
for f in shared alone; do
	/usr/bin/time -f "$f: %U s user, %S s sys, %e s wall" \
		build/tts-generate --reward -m $RM --threads 1 <"$tmp/$f.jsonl" >"$tmp/$f.out"
done
jq -c .reward "$tmp/shared.out" >"$tmp/a"
jq -c .reward "$tmp/alone.out" >"$tmp/b"
cmp -s "$tmp/a" "$tmp/b" && echo "rewards: identical with and without sharing"
