#!/usr/bin/env bats
# tts-extract: extraction rules on sample records, --equal, --canon.
load test_helper
bats_require_minimum_version 1.5.0

@test "extract: -h prints usage and exits 0" {
	run tts-extract -h
	assert_success
	assert_output --partial "usage: tts-extract"
}

@test "extract: an unknown option exits 2" {
	run tts-extract --bogus
	assert_failure 2
}

@test "extract: an unknown rule exits 2" {
	run --separate-stderr tts-extract -r boxed,nope
	assert_failure 2
	[[ "$stderr" == *"unknown rule"* ]]
}

@test "extract: --equal exits 0 for the same answer" {
	run tts-extract --equal '\dfrac{1}{2}' 0.5
	assert_success
}

@test "extract: --equal exits 1 for different answers" {
	run tts-extract --equal 10001 10000
	assert_failure 1
}

@test "extract: --equal with one answer exits 2" {
	run tts-extract --equal 5
	assert_failure 2
}

@test "extract: --canon prints canonical forms" {
	run tts-extract --canon '\$1,000.00' '\left( 3, \dfrac{\pi}{2} \right)'
	assert_success
	assert_line -n 0 '1000'
	assert_line -n 1 '(3, \frac{\pi}{2})'
}

@test "extract: the last complete \\boxed{} wins" {
	run bash -c 'echo "{\"text\":\"\\\\boxed{1} then \\\\boxed{\\\\dfrac{3}{4}} and \\\\boxed{9\"}" | tts-extract'
	assert_success
	echo "$output" | jq -e '.pred == "\\dfrac{3}{4}" and .pred_canon == "\\frac{3}{4}" and .pred_rule == "boxed"'
}

@test "extract: nothing found gives nulls" {
	run bash -c 'echo "{\"text\":\"no idea\"}" | tts-extract'
	assert_success
	echo "$output" | jq -e '.pred == null and .pred_canon == null and .pred_rule == null'
}

@test "extract: -r hash ignores a boxed answer" {
	run bash -c 'printf "%s\n" "{\"text\":\"\\\\boxed{3}\\n#### 4\"}" | tts-extract -r hash'
	assert_success
	echo "$output" | jq -e '.pred == "4" and .pred_rule == "hash"'
}

@test "extract: other keys pass through" {
	run bash -c 'echo "{\"id\":\"p1\",\"sample\":3,\"reward\":0.5,\"text\":\"The answer is 7.\"}" | tts-extract'
	assert_success
	echo "$output" | jq -e '.id == "p1" and .sample == 3 and .reward == 0.5 and .pred == "7" and .pred_rule == "answer_is"'
}

@test "extract: README example on samples-mini.jsonl" {
	run bash -c "tts-extract $FIXTURES/samples-mini.jsonl | jq -c '[.sample, .pred_canon, .pred_rule]'"
	assert_success
	assert_output - <<'OUT'
[0,"31","boxed"]
[1,"31","hash"]
[2,"31","answer_is"]
[0,"2500","boxed"]
[1,"2500","last_number"]
[2,"2500","boxed"]
[3,null,null]
OUT
}

@test "extract: degenerate repetition of a megabyte is handled" {
	run bash -c 'awk "BEGIN { printf \"{\\\"text\\\":\\\"\"; for (i = 0; i < 100000; i++) printf \"\\\\\\\\boxed{\"; printf \"5\\\"}\\n\" }" | tts-extract'
	assert_success
	echo "$output" | jq -e '.pred == "5" and .pred_rule == "last_number"'
}

@test "extract: a record without text gets a null pred" {
	run bash -c 'echo "{\"id\":\"x\"}" | tts-extract'
	assert_success
	echo "$output" | jq -e '.pred == null'
}

@test "extract: malformed input names the line and exits 1" {
	run --separate-stderr bash -c 'printf "{\"text\":\"1\"}\nnot json\n" | tts-extract'
	assert_failure 1
	[[ "$stderr" == *":2"* ]]
}

@test "extract: text of the wrong type exits 1" {
	run --separate-stderr bash -c 'echo "{\"text\":5}" | tts-extract'
	assert_failure 1
}

@test "extract: a full disk is an error" {
	run bash -c "tts-extract $FIXTURES/samples-mini.jsonl > /dev/full"
	assert_failure 1
}

@test "extract: msgpack output reads back" {
	run bash -c "tts-extract -f msgpack $FIXTURES/samples-mini.jsonl | tts-extract | jq -s 'length'"
	assert_success
	assert_output 7
}

@test "extract: --equal -- takes negative answers" {
	run tts-extract --equal -- -4 '-\frac{8}{2}'
	assert_success
}

@test "extract: in the pipeline from tts-synth-ar to tts-vote" {
	run bash -c "tts-synth-ar -n 2 -L 3 | tts-prompt -t plain | tts-generate --synthetic llama -n 4 --max-tokens 16 | tts-extract > $BATS_TEST_TMPDIR/s.jsonl"
	assert_success
	jq -e -s 'length == 16 and all(has("pred") and has("pred_canon") and has("pred_rule"))' "$BATS_TEST_TMPDIR/s.jsonl"
	run bash -c "tts-vote < $BATS_TEST_TMPDIR/s.jsonl | jq -e -s 'length > 0'"
	assert_success
}
