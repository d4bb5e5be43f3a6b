#!/usr/bin/env bats
# tts-prompt: dataset layouts, ids, templates, chat formats, shards.
load test_helper
bats_require_minimum_version 1.5.0

COT='Please reason step by step, and put your final answer within \boxed{}.'

@test "prompt: -h prints usage and exits 0" {
	run tts-prompt -h
	assert_success
	assert_output --partial "usage: tts-prompt"
}

@test "prompt: an unknown chat format exits 2" {
	run tts-prompt -c vicuna
	assert_failure 2
}

@test "prompt: GSM8K layout gives gold, solution and ids" {
	run bash -c "tts-prompt $FIXTURES/gsm8k-mini.jsonl | jq -c '[.id, .dataset, .answer]'"
	assert_success
	assert_output - <<'OUT'
["gsm8k-0","gsm8k","31"]
["gsm8k-1","gsm8k","2500"]
["gsm8k-2","gsm8k","-4"]
["3","gsm8k","1450000"]
OUT
}

@test "prompt: GSM8K worked answer moves to solution" {
	run bash -c "tts-prompt $FIXTURES/gsm8k-mini.jsonl | head -1"
	echo "$output" | jq -e '(.solution | endswith("#### 31")) and (.question | startswith("Mia buys"))'
}

@test "prompt: MATH layout: answer field, else last boxed; ids" {
	run bash -c "tts-prompt $FIXTURES/math-mini.jsonl | jq -c '[.id, .answer]'"
	assert_success
	assert_output - <<'OUT'
["test/prealgebra/1.json","\\frac{14}{3}"]
["test/algebra/2.json","\\dfrac{1}{2}"]
["test/algebra/3.json","x \\in [-2,7]"]
["7","6"]
["math-4","9"]
OUT
}

@test "prompt: MATH problem becomes question; other keys pass through" {
	run bash -c "tts-prompt $FIXTURES/math-mini.jsonl | head -1"
	echo "$output" | jq -e '.question == "What is $\\frac{7}{3} + \\frac{7}{3}$?" and (has("problem") | not) and .subject == "Prealgebra" and .level == 2 and .unique_id == "test/prealgebra/1.json"'
}

@test "prompt: unknown layout names the keys it saw" {
	run --separate-stderr bash -c 'echo "{\"foo\":1,\"bar\":2}" | tts-prompt'
	assert_failure 1
	[[ "$stderr" == *"foo, bar"* ]]
}

@test "prompt: synth records keep their keys and id" {
	run bash -c 'echo "{\"id\":\"ar-1\",\"task\":\"ar\",\"question\":\"Q?\",\"answer\":\"12\"}" | tts-prompt -t plain'
	assert_success
	echo "$output" | jq -e '.id == "ar-1" and .dataset == "synth" and .prompt == "Q?" and .answer == "12"'
}

@test "prompt: an integer id becomes a string" {
	run bash -c 'echo "{\"id\":5,\"question\":\"Q?\",\"answer\":\"1\"}" | tts-prompt -d synth'
	echo "$output" | jq -e '.id == "5"'
}

@test "prompt: default cot template, no chat format" {
	run bash -c 'echo "{\"task\":\"ar\",\"question\":\"What is 2+2?\"}" | tts-prompt | jq -r .prompt'
	assert_output "What is 2+2?
$COT"
}

@test "prompt: llama3 chat format with a system message" {
	export WANT=$'<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nQ?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n'
	run bash -c 'echo "{\"task\":\"ar\",\"question\":\"Q?\"}" | tts-prompt -t plain -c llama3 -s "Be brief." | jq -e --arg w "$WANT" ".prompt == \$w"'
	assert_success
}

@test "prompt: llama3 without a system message has no system block" {
	export WANT=$'<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nQ?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n'
	run bash -c 'echo "{\"task\":\"ar\",\"question\":\"Q?\"}" | tts-prompt -t plain -c llama3 | jq -e --arg w "$WANT" ".prompt == \$w"'
	assert_success
}

@test "prompt: cot-system with chatml is Qwen's qwen25-math-cot prompt" {
	export WANT=$'<|im_start|>system\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n<|im_start|>user\nQ?<|im_end|>\n<|im_start|>assistant\n'
	run bash -c 'echo "{\"task\":\"ar\",\"question\":\"Q?\"}" | tts-prompt -t cot-system -c chatml | jq -e --arg w "$WANT" ".prompt == \$w"'
	assert_success
}

@test "prompt: a template file fills every {question}" {
	printf 'Q: {question}\nAgain: {question}\nA:' > "$BATS_TEST_TMPDIR/t.txt"
	run bash -c "echo '{\"task\":\"ar\",\"question\":\"x?\"}' | tts-prompt -T $BATS_TEST_TMPDIR/t.txt | jq -j .prompt"
	assert_output $'Q: x?\nAgain: x?\nA:'
}

@test "prompt: a template file without {question} exits 2" {
	printf 'nothing here' > "$BATS_TEST_TMPDIR/t.txt"
	run tts-prompt -T "$BATS_TEST_TMPDIR/t.txt"
	assert_failure 2
}

@test "prompt: few-shot demos come first, question and solution each" {
	run bash -c "echo '{\"task\":\"ar\",\"question\":\"Q3?\"}' | tts-prompt -t plain -F $FIXTURES/math-mini.jsonl | jq -r .prompt | head -3"
	assert_line -n 0 'What is $\frac{7}{3} + \frac{7}{3}$?'
	assert_line -n 1 --partial 'Adding, $\frac{7}{3}'
	assert_line -n 2 ''
}

@test "prompt: shards keep unsharded ids and together make the whole" {
	run bash -c "tts-prompt --shard 1/2 $FIXTURES/gsm8k-mini.jsonl | jq -r .id"
	assert_output $'gsm8k-1\n3'
	run bash -c "diff <(tts-prompt $FIXTURES/gsm8k-mini.jsonl | sort) <( (tts-prompt --shard 0/2 $FIXTURES/gsm8k-mini.jsonl; tts-prompt --shard 1/2 $FIXTURES/gsm8k-mini.jsonl) | sort)"
	assert_success
}

@test "prompt: --shard 2/2 exits 2" {
	run tts-prompt --shard 2/2
	assert_failure 2
}

@test "prompt: the gold of each fixture equals its own solution's answer" {
	run bash -c "tts-prompt $FIXTURES/gsm8k-mini.jsonl | jq -r '[.solution, .answer] | @tsv' | while IFS=\$'\t' read -r s a; do tts-extract --equal -- \"\${s##*#### }\" \"\$a\" || exit 1; done"
	assert_success
}

@test "prompt: a full disk is an error" {
	run bash -c "tts-prompt $FIXTURES/gsm8k-mini.jsonl > /dev/full"
	assert_failure 1
}

@test "prompt: man page example (llama3 on GSM8K)" {
	run bash -c "tts-prompt -c llama3 $FIXTURES/gsm8k-mini.jsonl | jq -c '[.id, .answer]'"
	assert_success
	assert_output - <<'OUT'
["gsm8k-0","31"]
["gsm8k-1","2500"]
["gsm8k-2","-4"]
["3","1450000"]
OUT
}

@test "prompt: tts-synth-ar records go through with their ids" {
	run bash -c "tts-synth-ar -n 2 -L 3 | tts-prompt -t plain | jq -e -s 'length == 4 and all(.prompt == .question and .dataset == \"synth\" and (.id | startswith(\"synth-\")))'"
	assert_success
}

@test "prompt: a MATH record without answer or box exits 1 naming the line" {
	run --separate-stderr bash -c 'echo "{\"problem\":\"P\",\"solution\":\"no box\"}" | tts-prompt'
	assert_failure 1
	[[ "$stderr" == *"<stdin>:1"* ]]
}

@test "prompt: its own output can be prompted again another way" {
	run bash -c "tts-prompt $FIXTURES/gsm8k-mini.jsonl | tts-prompt -c chatml -t cot-system | jq -e -s 'length == 4 and .[0].id == \"gsm8k-0\" and .[0].answer == \"31\" and (.[0].prompt | startswith(\"<|im_start|>system\"))'"
	assert_success
}
