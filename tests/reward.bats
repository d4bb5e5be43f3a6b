#!/usr/bin/env bats
# tts-generate --reward against transformers (tests/fixtures/reward, made by
# make_reward_fixtures.py there): a tiny LlamaForSequenceClassification
# (orm/) and a tiny causal LM read as a process reward model (prm/).
# Tolerance: max|got - want| / max|want| <= 1e-4 (float32 on both sides).
load test_helper
bats_require_minimum_version 1.5.0

RW="$FIXTURES/reward"
# got and want (arrays of numbers, from --slurpfile) agree within 1e-4
CLOSE='($got[0] | length) == ($want[0] | length) and
	([$got[0], $want[0]] | transpose | map(.[0] - .[1] | fabs) | max) /
	($want[0] | map(fabs) | max) <= 1e-4'
# The PRM is read at the token that ends each step: the tokens ending in
# "\n\n" and the text's last token (positions found from the tokenizer's
# byte mapping, independently of tts-generate).
STEPS='[[38, 48, 57], [35, 45], [41], [25]]'

setup() {
	IN="$BATS_TEST_TMPDIR/in.jsonl"
	jq -c '.cases | to_entries[] | {id: "p1", sample: .key, prompt: .value.prompt, text: .value.text}' \
		"$RW/cases.json" >"$IN"
}

# close GOT_JQ WANT_JQ: compare tts-generate's output ($BATS_TEST_TMPDIR/out) with cases.json
close() {
	jq -s "$1" "$BATS_TEST_TMPDIR/out" >"$BATS_TEST_TMPDIR/got"
	jq "$2" "$RW/cases.json" >"$BATS_TEST_TMPDIR/want"
	jq -n -e --slurpfile got "$BATS_TEST_TMPDIR/got" --slurpfile want "$BATS_TEST_TMPDIR/want" "$CLOSE"
}

@test "reward: ORM rewards equal transformers' pooled score" {
	tts-generate --reward -m "$RW/orm" <"$IN" >"$BATS_TEST_TMPDIR/out"
	close 'map(.reward)' '[.cases[].orm_reward]'
}

@test "reward: PRM step probabilities (softmax over + and -) equal transformers'" {
	tts-generate --reward -m "$RW/prm" --step-scores <"$IN" >"$BATS_TEST_TMPDIR/out"
	close 'map(.step_rewards[])' "$STEPS as \$s | [range(4) as \$k | .cases[\$k] as \$c | \$s[\$k][] |
		1 / (1 + ((\$c.prm_minus_logit[.] - \$c.prm_plus_logit[.]) | exp))]"
}

@test "reward: PRM --prm-softmax vocab equals transformers' log-softmax of +" {
	tts-generate --reward -m "$RW/prm" --step-scores --prm-softmax vocab <"$IN" >"$BATS_TEST_TMPDIR/out"
	close 'map(.step_rewards[])' "$STEPS as \$s | [range(4) as \$k | .cases[\$k] as \$c | \$s[\$k][] |
		\$c.prm_plus_logprob[.] | exp]"
}

@test "reward: --aggregate last (default), min and prod of the step scores" {
	for a in last min prod; do
		tts-generate --reward -m "$RW/prm" --step-scores --aggregate $a <"$IN" >"$BATS_TEST_TMPDIR/$a"
	done
	jq -s -e 'all(.reward == .step_rewards[-1])' "$BATS_TEST_TMPDIR/last"
	jq -s -e 'all(.reward == (.step_rewards | min))' "$BATS_TEST_TMPDIR/min"
	jq -s -e 'all((.reward - (.step_rewards | reduce .[] as $x (1; . * $x))) | fabs < 1e-12)' "$BATS_TEST_TMPDIR/prod"
}

@test "reward: the same rewards whatever the batch, KV size and prefix sharing" {
	tts-generate --reward -m "$RW/prm" <"$IN" | jq -c .reward >"$BATS_TEST_TMPDIR/a"
	tts-generate --reward -m "$RW/prm" --max-batch 1 <"$IN" | jq -c .reward >"$BATS_TEST_TMPDIR/b"
	tts-generate --reward -m "$RW/prm" --kv-blocks 8 <"$IN" | jq -c .reward >"$BATS_TEST_TMPDIR/c"
	jq -c '.id += (.sample | tostring)' "$IN" | tts-generate --reward -m "$RW/prm" | jq -c .reward >"$BATS_TEST_TMPDIR/d"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/c"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/d"
}

@test "reward: a step shared by all samples is read once from the prefix, the same" {
	p='"prompt": "Question: what is 17 + 25?\\n\\nAnswer:"'
	printf '%s\n' "{\"id\": \"s\", $p, \"text\": \" Step 1: add.\\n\\nIt is 42.\"}" \
		"{\"id\": \"s\", $p, \"text\": \" Step 1: add.\\n\\nIt is 41.\\n\\n\"}" >"$BATS_TEST_TMPDIR/s"
	tts-generate --reward -m "$RW/prm" --step-scores <"$BATS_TEST_TMPDIR/s" | jq -c .step_rewards >"$BATS_TEST_TMPDIR/a"
	jq -c '.id += .text[-3:]' "$BATS_TEST_TMPDIR/s" | tts-generate --reward -m "$RW/prm" --step-scores | jq -c .step_rewards >"$BATS_TEST_TMPDIR/b"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	jq -s -e 'length == 2 and .[0][0] == .[1][0] and (.[1] | length) == 2' "$BATS_TEST_TMPDIR/a"
}

@test "reward: keys pass through, records keep their order" {
	run bash -c 'jq -c ".x = 1" "$1" | tts-generate --reward -m "$2/orm" | jq -s -c "[map(.sample), map(.x), map(.text | length)]"' _ "$IN" "$RW"
	assert_success
	assert_output '[[0,1,2,3],[1,1,1,1],[74,41,33,0]]'
}

@test "reward: ORM pools at the last token that is not padding, as transformers" {
	jq -c '.text += "<|end_of_text|><|end_of_text|>"' "$IN" | tts-generate --reward -m "$RW/orm" >"$BATS_TEST_TMPDIR/out"
	close 'map(.reward)' '[.cases[].orm_reward]'
}

@test "reward: concat reads question when there is no prompt" {
	run bash -c 'jq -c "{id, question: .prompt, text}" "$1" | tts-generate --reward -m "$2/orm" | jq -c .reward | head -1' _ "$IN" "$RW"
	assert_success
	[ "$output" = "$(tts-generate --reward -m "$RW/orm" <"$IN" | jq -c .reward | head -1)" ]
}

@test "reward: rlhflow-prm reads P(+) where each step's label is predicted" {
	q='{"id":"a","question":"What is 2+3?","text":"2+3 = 5.\n\nSo 5."}'
	turn='<|start_header_id|>user<|end_header_id|>\n\n%s<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n'
	printf -v t1 "<|begin_of_text|>$turn" "What is 2+3? 2+3 = 5."
	printf -v t2 "+<|eot_id|>$turn" "So 5."
	run bash -c 'echo "$1" | tts-generate --reward -m "$2/prm" --rm-format rlhflow-prm --step-scores | jq -c .step_rewards' _ "$q" "$RW"
	want=$(jq -n -c --arg a "$t1" --arg b "$t1$t2" '{id: "a", prompt: $a, text: ""}, {id: "b", prompt: $b, text: ""}' |
		tts-generate --reward -m "$RW/prm" | jq -s -c 'map(.reward)')
	assert_equal "$output" "$want"
}

@test "reward: llama3 format scores the chat rendering" {
	q='{"id":"a","question":" What is 2+3? ","text":"It is 5.\n"}'
	t='<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWhat is 2+3?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nIt is 5.<|eot_id|>'
	run bash -c 'echo "$1" | tts-generate --reward -m "$2/orm" --rm-format llama3 | jq .reward' _ "$q" "$RW"
	want=$(jq -n -c --arg a "$(printf "$t")" '{prompt: $a, text: ""}' | tts-generate --reward -m "$RW/orm" | jq .reward)
	assert_equal "$output" "$want"
}

@test "reward: a record without prompt or question is named" {
	run --separate-stderr bash -c 'printf "%s\n" "{\"id\":\"a\",\"prompt\":\"x\",\"text\":\"y\"}" "{\"id\":\"a\",\"text\":\"y\"}" | tts-generate --reward -m "$1/orm"' _ "$RW"
	assert_failure 1
	[[ "$stderr" == *"<stdin>:2"*"prompt"*"question"* ]]
}

@test "reward: a record without text is refused" {
	run --separate-stderr bash -c 'echo "{\"id\":\"a\",\"prompt\":\"x\"}" | tts-generate --reward -m "$1/orm"' _ "$RW"
	assert_failure 1
	[[ "$stderr" == *'"text"'* ]]
}

@test "reward: bad choices are usage errors" {
	run -2 tts-generate --reward -m "$RW/orm" --rm-format chatml
	run -2 tts-generate --reward -m "$RW/orm" --aggregate mean
	run -2 tts-generate --reward -m "$RW/prm" --labels plus
	run -2 tts-generate --reward --synthetic llama
}

@test "reward: a label that is not one token is refused" {
	run --separate-stderr tts-generate --reward -m "$RW/prm" --labels 'good,bad' </dev/null
	assert_failure 1
	[[ "$stderr" == *"--labels"* ]]
}

@test "reward: a full disk is an error" {
	run tts-generate --reward -m "$RW/orm" -o /dev/full <"$IN"
	assert_failure 1
}

@test "reward: man page example, the lowest step score of a process model" {
	run bash -c 'jq -c "{id, question: \"What is 17 + 25?\", text}" "$1" |
		tts-generate --reward -m "$2/prm" --rm-format rlhflow-prm \
		--aggregate min --step-scores | jq -c "[.reward, .step_rewards]" |
		jq -s -e "length == 4 and all(.[0] == (.[1] | min)) and (map(.[1] | length) == [3, 2, 2, 1])"' _ "$IN" "$RW"
	assert_success
}

# samples -> rewards -> (answers: the last number, standing in for
# tts-extract) -> votes -> scores.  ORM rewards 0.269 0.528 0.265 1.03 for
# answers 42 41 42 (none): weighted voting picks 42 (0.533 > 0.528),
# best-of-4 picks the single best-scored 41; best of 2 is right in 3 of
# the 6 pairs.
@test "reward: pipeline from samples to rewards to votes to scores" {
	run bash -c 'jq -c ".cases | to_entries[] | {id: \"p1\", model: \"tiny\", sample: .key, answer: \"42\",
		prompt: .value.prompt, text: .value.text}" "$1/cases.json" |
		tts-generate --reward -m "$1/orm" | jq -c ".pred = ([.text | scan(\"[0-9]+\")] | last)" |
		tts-vote -m majority,weighted,best | tts-score |
		jq -s -c "map(select(.k != 1) | [.method, .k, .accuracy])"' _ "$RW"
	assert_success
	assert_output '[["majority",2,0.6666666666666666],["majority",4,1],["weighted",2,0.5],["weighted",4,1],["best",2,0.5],["best",4,0]]'
}

@test "reward: a sample too long for the KV cache is named" {
	run --separate-stderr tts-generate --reward -m "$RW/orm" --kv-blocks 3 <"$IN"
	assert_failure 1
	[[ "$stderr" == *"id p1"*"--kv-blocks"* ]]
}

@test "reward: the ORM loads as LlamaForSequenceClassification, with transformers' parameter count" {
	run bash -c 'tts-generate -m "$1/orm" --inspect | jq -c "[.arch, .params, .unused_tensors]"' _ "$RW"
	assert_output '["LlamaForSequenceClassification",95424,0]'
}

@test "reward: a sequence-classification model does not generate" {
	run --separate-stderr bash -c 'echo "{\"id\":\"a\",\"prompt\":\"x\"}" | tts-generate -m "$1/orm"' _ "$RW"
	assert_failure 1
	[[ "$stderr" == *"--reward"* ]]
}

@test "reward: --rm-system puts a system turn first, verbatim" {
	q='{"id":"a","question":"Q?","text":"A."}'
	sys=$'Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n'
	printf -v t '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n%s<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nQ? A.<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n' "$sys"
	run bash -c 'echo "$1" | tts-generate --reward -m "$2/prm" --rm-format rlhflow-prm --rm-system "$3" | jq .reward' _ "$q" "$RW" "$sys"
	want=$(jq -n -c --arg a "$t" '{prompt: $a, text: ""}' | tts-generate --reward -m "$RW/prm" | jq .reward)
	assert_equal "$output" "$want"
}

@test "reward: Mamba and hybrid models as PRMs, the same with and without the shared prefix" {
	for m in bamba mamba2-g1 mil1-hybrid mil2-hybrid; do
		d="$FIXTURES/models/$m"
		jq -c '.prompt |= sub("<\\|begin_of_text\\|>"; "")' "$IN" >"$BATS_TEST_TMPDIR/p"
		tts-generate --reward -m "$d" --step-scores <"$BATS_TEST_TMPDIR/p" | jq -c .step_rewards >"$BATS_TEST_TMPDIR/a"
		jq -c '.id += "\(.sample)"' "$BATS_TEST_TMPDIR/p" | tts-generate --reward -m "$d" --step-scores --max-batch 1 |
			jq -c .step_rewards >"$BATS_TEST_TMPDIR/b"
		cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b" || { echo "$m differs"; return 1; }
		[ "$(wc -l <"$BATS_TEST_TMPDIR/a")" -eq 4 ]
	done
}

@test "reward: SIGINT writes whole problems, exits 130, and they equal an uninterrupted run" {
	jq -n -c '[inputs] as $rs | range(3000) as $i | $rs[] | . + {id: "p\($i)"}' "$IN" >"$BATS_TEST_TMPDIR/many"
	f="$BATS_TEST_TMPDIR/o.jsonl"
	# mid-run: once some problems are written
	signal_midway INT "$f" "$BATS_TEST_TMPDIR/many" tts-generate --reward -m "$RW/orm" -o "$f"
	assert_equal "$st" 130
	n=$(wc -l <"$f")
	[ "$n" -lt 12000 ] && [ $((n % 4)) -eq 0 ]
	head -n "$n" "$BATS_TEST_TMPDIR/many" | tts-generate --reward -m "$RW/orm" >"$BATS_TEST_TMPDIR/full"
	cmp "$f" "$BATS_TEST_TMPDIR/full"
}
