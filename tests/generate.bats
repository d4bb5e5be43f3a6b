#!/usr/bin/env bats
# tts-generate: sampling, scheduling, determinism, resume (synthetic models).
load test_helper

prompts() { # $1: count
	for i in $(seq 1 "$1"); do
		printf '{"id":"p%d","prompt":"question %d: what is %d+%d?","answer":"%d"}\n' \
			"$i" "$i" "$i" "$((i * 7))" "$((i * 8))"
	done
}

gen() { tts-generate --synthetic llama --max-tokens 12 "$@"; }
notime() { jq -c 'del(.ms)'; }

setup() {
	prompts 6 >"$BATS_TEST_TMPDIR/p.jsonl"
	P="$BATS_TEST_TMPDIR/p.jsonl"
	export -f gen notime
}

@test "generate: -h prints usage and exits 0" {
	run tts-generate -h
	assert_success
	assert_output --partial "usage: tts-generate -m DIR"
}

@test "generate: a bad option exits 2" {
	run tts-generate --synthetic llama --bogus
	assert_failure 2
}

@test "generate: -m DIR is required" {
	run tts-generate -n 2
	assert_failure 2
	assert_output --partial "-m DIR is required"
}

@test "generate: -n N gives N samples per prompt, in order, with the design's keys" {
	run bash -c "gen -n 3 <'$P' | jq -c '[.id, .sample]' | head -4"
	assert_success
	assert_output $'["p1",0]\n["p1",1]\n["p1",2]\n["p2",0]'
	run bash -c "gen -n 3 <'$P' | jq -e 'has(\"text\") and has(\"tokens\") and has(\"prompt_tokens\") and has(\"finish\") and has(\"logprob\") and has(\"ms\") and has(\"flops\") and has(\"seed\") and .temperature == 1 and .top_p == 1 and .top_k == 0 and .min_p == 0 and .max_tokens == 12 and .model == \"synthetic-llama\"' | sort -u"
	assert_output "true"
}

@test "generate: other keys pass through, prompt only with --keep-prompt" {
	run bash -c "gen <'$P' | jq -e 'has(\"prompt\") | not' | sort -u"
	assert_output "true"
	run bash -c "gen --keep-prompt <'$P' | jq -e '.prompt and .answer' | sort -u"
	assert_output "true"
}

@test "generate: the same command twice gives the same samples" {
	a=$(gen -n 4 --temperature 0.8 --top-p 0.9 <"$P" | notime)
	b=$(gen -n 4 --temperature 0.8 --top-p 0.9 <"$P" | notime)
	[ "$a" = "$b" ]
}

@test "generate: --max-batch 1 and a large batch give the same samples" {
	for k in llama mamba2 mil2 mil1 bamba; do
		a=$(tts-generate --synthetic $k -n 4 --max-tokens 16 --max-batch 1 <"$P" | notime)
		b=$(tts-generate --synthetic $k -n 4 --max-tokens 16 --max-batch 64 <"$P" | notime)
		[ "$a" = "$b" ]
	done
}

@test "generate: shuffled prompts give the same samples" {
	a=$(gen -n 4 --max-batch 5 <"$P" | notime | sort)
	b=$(tac "$P" | gen -n 4 --max-batch 3 | notime | sort)
	[ "$a" = "$b" ]
}

@test "generate: a small KV cache gives the same samples" {
	a=$(gen -n 4 <"$P" | notime)
	b=$(gen -n 4 --kv-blocks 6 <"$P" | notime)
	[ "$a" = "$b" ]
}

@test "generate: the seed changes the samples" {
	a=$(gen -n 2 --seed 1 <"$P" | jq -c .text)
	b=$(gen -n 2 --seed 2 <"$P" | jq -c .text)
	[ "$a" != "$b" ]
}

@test "generate: --temperature 0 is greedy: every sample the same" {
	run bash -c "gen -n 4 --temperature 0 <'$P' | jq -c '[.id, .text]' | sort -u | wc -l"
	assert_output "6"
}

@test "generate: --max-tokens bounds tokens, finish length" {
	run bash -c "gen -n 2 --ignore-eos --max-tokens 5 <'$P' | jq -e '.tokens == 5 and .finish == \"length\"' | sort -u"
	assert_output "true"
}

@test "generate: --stop ends the text before the stop string" {
	run bash -c "gen -n 8 --max-tokens 40 --ignore-eos --stop a <'$P' | jq -e '(.text | contains(\"a\") | not) and (.finish == \"stop\" or .tokens == 40)' | sort -u"
	assert_output "true"
}

@test "generate: flops grow with the tokens generated" {
	run bash -c "gen --ignore-eos --max-tokens 4 <'$P' | jq -s '.[0].flops'"
	a=$output
	run bash -c "gen --ignore-eos --max-tokens 8 <'$P' | jq -s '.[0].flops'"
	[ "$(echo "$output > $a" | bc)" = 1 ]
}

@test "generate: a missing prompt is an error naming the line" {
	run bash -c "echo '{\"id\":\"x\"}' | gen"
	assert_failure 1
	assert_output --partial '<stdin>:1: missing string key "prompt"'
}

@test "generate: a full disk is an error" {
	run bash -c "gen <'$P' >/dev/full"
	assert_failure 1
}

@test "generate: --device cuda without the CUDA backend is a clear error" {
	run bash -c "gen --device cuda:0 <'$P'"
	[ "$status" -ne 0 ]
	assert_output --partial "--device cuda:0"
}

@test "generate: --dump-logits writes prompt positions x vocab floats" {
	gen --dump-logits "$BATS_TEST_TMPDIR/l.f32" <"$P" >/dev/null
	n=$(gen --keep-prompt --token-ids <"$P" | jq -s 'map(.prompt_tokens) | add')
	[ "$(stat -c %s "$BATS_TEST_TMPDIR/l.f32")" -eq $((n * 128 * 4)) ]
}

@test "generate: --resume drops a trailing partial problem and completes the run" {
	f="$BATS_TEST_TMPDIR/o.jsonl"
	gen -n 3 <"$P" | notime >"$BATS_TEST_TMPDIR/full"
	gen -n 3 <"$P" | head -7 >"$f"
	gen -n 3 -o "$f" --resume <"$P"
	run bash -c "notime <'$f' | cmp - '$BATS_TEST_TMPDIR/full'"
	assert_success
}

@test "generate: --resume of a zstd msgpack file" {
	f="$BATS_TEST_TMPDIR/o.msgpack.zst"
	gen -n 3 <"$P" | notime >"$BATS_TEST_TMPDIR/full"
	head -4 "$P" | gen -n 3 -o "$f"
	gen -n 3 -o "$f" --resume <"$P"
	run bash -c "tts-cat '$f' | notime | cmp - '$BATS_TEST_TMPDIR/full'"
	assert_success
}

@test "generate: SIGINT writes the completed problems, exits 130, and resume completes" {
	prompts 300 >"$BATS_TEST_TMPDIR/many"
	f="$BATS_TEST_TMPDIR/o.jsonl"
	tts-generate --synthetic llama -n 2 --max-tokens 40 --ignore-eos <"$BATS_TEST_TMPDIR/many" | notime >"$BATS_TEST_TMPDIR/full"
	# mid-run: once some problems are written
	signal_midway INT "$f" "$BATS_TEST_TMPDIR/many" tts-generate --synthetic llama -n 2 --max-tokens 40 --ignore-eos -o "$f"
	assert_equal "$st" 130
	[ $(( $(wc -l <"$f") % 2 )) -eq 0 ]
	tts-generate --synthetic llama -n 2 --max-tokens 40 --ignore-eos -o "$f" --resume <"$BATS_TEST_TMPDIR/many"
	run bash -c "notime <'$f' | cmp - '$BATS_TEST_TMPDIR/full'"
	assert_success
}

@test "generate: man page example: four samples of a tiny random model" {
	run bash -c "echo '{\"id\":\"q1\",\"prompt\":\"2+2=\"}' | tts-generate --synthetic llama -n 4 --max-tokens 8 | jq -r .sample | tr '\n' ' '"
	assert_output "0 1 2 3 "
}

@test "generate: greedy continuations of the reference fixtures are the reference's" {
	n=0
	for d in "$FIXTURES"/models/*/; do
		[ -f "$d/expected.json" ] || continue
		tts-generate -m "$d" --inspect >/dev/null 2>&1 || continue   # loader's own tests cover refusals
		got=$(jq -c '{id: "f", prompt_ids}' "$d/expected.json" |
			tts-generate -m "$d" --temperature 0 --max-tokens 16 --ignore-eos --token-ids | jq -c .token_ids)
		want=$(jq -c .greedy_ids "$d/expected.json")
		[ "$got" = "$want" ] || { echo "$d: $got != $want"; false; }
		n=$((n + 1))
	done
	[ "$n" -gt 0 ]
}

@test "generate: a missing model directory is a clear error" {
	run bash -c "echo '{\"id\":\"a\",\"prompt\":\"x\"}' | tts-generate -m '$BATS_TEST_TMPDIR/none'"
	assert_failure 1
	assert_output --partial "$BATS_TEST_TMPDIR/none"
}

@test "generate: a hostile checkpoint is refused before any work" {
	run bash -c "echo '{\"id\":\"a\",\"prompt\":\"x\"}' | tts-generate -m '$FIXTURES/bad/bin-evil-os-system'"
	assert_failure 1
	assert_output --partial "pytorch_model.bin"
}

@test "generate: a real tokenizer round trip: prompt text in, valid text out" {
	d="$FIXTURES/models/llama-tied"
	run bash -c "echo '{\"id\":\"a\",\"prompt\":\"Hello world\"}' | tts-generate -m '$d' -n 2 --max-tokens 8 | jq -e '(.text | type == \"string\") and .prompt_tokens > 1' | sort -u"
	assert_output "true"
}

@test "generate: input FILEs are read in order, like standard input" {
	a=$(gen -n 2 <"$P" | notime)
	b=$(gen -n 2 "$P" | notime)
	[ "$a" = "$b" ]
}

@test "generate: SIGTERM exits 143 with only complete problems written" {
	prompts 300 >"$BATS_TEST_TMPDIR/many"
	f="$BATS_TEST_TMPDIR/o.jsonl"
	signal_midway TERM "$f" "$BATS_TEST_TMPDIR/many" tts-generate --synthetic mamba2 -n 3 --max-tokens 40 --ignore-eos -o "$f"
	assert_equal "$st" 143
	run bash -c "jq -s 'group_by(.id) | map(length == 3) | all' '$f'"
	assert_output "true"
}

@test "generate: an output file that cannot be created is an error" {
	run bash -c "gen -o '$BATS_TEST_TMPDIR/no/such/dir/o.jsonl' <'$P'"
	assert_failure 1
	assert_output --partial "no/such/dir"
}

@test "generate: --ssm-state takes f32 or bf16, anything else is a usage error" {
	run bash -c 'tts-generate --synthetic mamba2 --ssm-state f16 2>&1'
	assert_equal "$status" 2
	assert_output --partial "--ssm-state: expected f32 or bf16"
	run bash -c 'echo "{\"id\":\"a\",\"prompt\":\"x\"}" | tts-generate --synthetic mamba2 --ssm-state bf16 -n 1 --max-tokens 2'
	assert_success
}

@test "generate: TTS_SCHED_STATS=1 reports the decode steps' mean batch; without it stderr stays quiet" {
	# 6 prompts x 4 samples, 12 tokens, --max-batch 8: every decode step's
	# batch is at most 8, and the mean times the steps counts the decode tokens
	run bash -c "TTS_SCHED_STATS=1 gen -n 4 --max-batch 8 --ignore-eos <'$P' 2>&1 >/dev/null"
	assert_success
	assert_output --regexp '^tts-generate: scheduler: [0-9]+ decode steps, mean batch [0-9.]+ of --max-batch 8 \([0-9.]+ %\), largest 8; 6 prefills; '
	run bash -c "gen -n 4 --max-batch 8 <'$P' 2>&1 >/dev/null"
	assert_success
	assert_output ""
}
