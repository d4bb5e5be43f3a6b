#!/usr/bin/env bats
# pipelines/shard.sh: a run split over processes, merged with cat, gives
# the single-process samples, votes and scores (timing keys aside).
load test_helper

SHARD="$TTS_TOP/pipelines/shard.sh"
GEN=(-m "$FIXTURES/models/llama-tied" -n 4 --seed 7 --max-tokens 16)
DATA="$FIXTURES/gsm8k-mini.jsonl"

needs() {
	command -v parallel >/dev/null || skip "needs GNU parallel (make deps)"
	command -v tts-prompt >/dev/null || skip "needs tts-prompt (branch ans, not merged yet)"
	tts-generate -h | grep -q -- '--seed' || skip "tts-generate cannot generate yet (branch cpu)"
}
notime() { jq -c 'del(.ms)' "$@" | sort; }

setup() {
	O="$BATS_TEST_TMPDIR"
	export -f notime
}

# Stand-ins in $O/bin: a prompt stage that emits its --shard, and a
# tts-generate that writes the prompt and its --device to its -o file.
stand_ins() {
	mkdir -p "$O/bin"
	cat >"$O/bin/stage" <<'EOF'
#!/bin/sh
while [ "$1" != --shard ]; do shift; done
echo "{\"shard\":\"$2\"}"
EOF
	cat >"$O/bin/tts-generate" <<'EOF'
#!/bin/sh
read -r l
dev=none
while [ $# -gt 0 ]; do
	case $1 in --device) dev=$2 ;; -o) out=$2 ;; esac
	shift
done
sleep 0.2
echo "${l%?},\"device\":\"$dev\"}" >"$out"
EOF
	chmod +x "$O/bin/stage" "$O/bin/tts-generate"
}

single() { tts-prompt "$DATA" | tts-generate "${GEN[@]}"; }

@test "shard: 3 shards, 2 at a time, merge to the single-process samples" {
	needs
	single | notime >"$O/want"
	"$SHARD" -k 3 -j 2 -o "$O/run.jsonl" "$DATA" -- "${GEN[@]}"
	run bash -c "jq -c 'del(.ms)' '$O/run.jsonl' | sort | cmp - '$O/want'"
	assert_success
}

@test "shard: votes and scores of the merged run equal the single-process ones" {
	needs
	command -v tts-extract >/dev/null || skip "needs tts-extract (branch ans, not merged yet)"
	single | tts-extract | tts-vote | tee "$O/v1" | tts-score >"$O/s1"
	"$SHARD" -k 2 -o "$O/run.jsonl" "$DATA" -- "${GEN[@]}"
	tts-extract <"$O/run.jsonl" | tts-vote | tee "$O/v2" | tts-score >"$O/s2"
	run bash -c "cmp <(jq -c 'del(.ms)' '$O/v1') <(jq -c 'del(.ms)' '$O/v2') && cmp <(jq -c 'del(.ms)' '$O/s1') <(jq -c 'del(.ms)' '$O/s2')"
	assert_success
}

@test "shard: zstd msgpack shards merge with cat" {
	needs
	single | notime >"$O/want"
	"$SHARD" -k 2 -o "$O/run.msgpack.zst" "$DATA" -- "${GEN[@]}"
	[ -f "$O/run.shard-1-of-2.msgpack.zst" ]
	run bash -c "tts-cat '$O/run.msgpack.zst' | notime | cmp - '$O/want'"
	assert_success
}

@test "shard: running again after a shard was cut off completes the same output" {
	needs
	"$SHARD" -k 2 -o "$O/run.jsonl" "$DATA" -- "${GEN[@]}"
	notime "$O/run.jsonl" >"$O/want"
	head -c 700 "$O/run.jsonl" >"$O/cut" && mv "$O/cut" "$O/run.shard-0-of-2.jsonl"
	"$SHARD" -k 2 -o "$O/run.jsonl" "$DATA" -- "${GEN[@]}"
	run bash -c "notime '$O/run.jsonl' | cmp - '$O/want'"
	assert_success
}

@test "shard: a failing shard exits 1 and leaves no merged output" {
	needs
	run "$SHARD" -k 2 -o "$O/run.jsonl" "$DATA" -- -m "$O/no-such-model"
	assert_failure 1
	assert_output --partial "run the same command again"
	[ ! -e "$O/run.jsonl" ]
}

@test "shard: -g 2 gives each running shard its own GPU" {
	command -v parallel >/dev/null || skip "needs GNU parallel (make deps)"
	stand_ins
	PATH="$O/bin:$PATH" "$SHARD" -k 4 -g 2 -s stage -o "$O/run.jsonl" data -- x
	run bash -c "jq -r '.device' '$O/run.jsonl' | sort -u"
	assert_output "$(printf 'cuda:0\ncuda:1')"
	run jq -s 'map(.shard) | sort' -c "$O/run.jsonl"
	assert_output '["0/4","1/4","2/4","3/4"]'
}

@test "slurm.sbatch: submit runs every array task, then merges" {
	stand_ins
	cat >"$O/bin/sbatch" <<'EOF'
#!/bin/bash
# stand-in sbatch: runs the job at once, each array task in turn
while [[ $1 == -* ]]; do [[ $1 == --array=* ]] && arr=${1#--array=}; echo "$1" >>"$(dirname "$0")/opts"; shift; done
script=$1; shift
for i in $(seq "${arr%-*}" "${arr#*-}"); do SLURM_ARRAY_TASK_ID=$i bash "$script" "$@" >&2 || exit 1; done
echo 42
EOF
	chmod +x "$O/bin/sbatch"
	PATH="$O/bin:$PATH" TTS_STAGE=stage run "$TTS_TOP/pipelines/slurm.sbatch" submit 3 "$O/run.jsonl" data -- x
	assert_success
	run jq -s -c 'map([.shard, .device])' "$O/run.jsonl"
	assert_output '[["0/3","cuda:0"],["1/3","cuda:0"],["2/3","cuda:0"]]'
	grep -qx -- "--gres=gpu:1" "$O/bin/opts" && grep -qx -- "--dependency=afterok:42" "$O/bin/opts"
}

@test "shard: a failing prompt stage fails its shard" {
	needs
	run "$SHARD" -k 2 -o "$O/run.jsonl" "$O/no-such-data.jsonl" -- "${GEN[@]}"
	assert_failure 1
	[ ! -e "$O/run.jsonl" ]
}

@test "shard: usage errors exit 2" {
	run "$SHARD" -o x data -- -m m
	assert_failure 2
	run "$SHARD" -k 2 -o x data
	assert_failure 2
	run "$SHARD" -k 2 data -- -m m
	assert_failure 2
}
