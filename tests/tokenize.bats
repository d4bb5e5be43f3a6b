#!/usr/bin/env bats
# tts-generate --tokenize / --detokenize against the ids `tokenizers` gave.
load test_helper
bats_require_minimum_version 1.5.0

TOK="$FIXTURES/tokenizer"

@test "tokenize: the hard corpus gives tokenizers' ids" {
	run bash -c 'jq -c "{text, want: .ids}" "$1/corpus.jsonl" | tts-generate -m "$1" --tokenize | jq -s -e "length > 80 and all(.ids == .want)"' _ "$TOK"
	assert_success
}

@test "tokenize: BOS is added once" {
	run bash -c 'echo "{\"text\": \"hi\"}" | tts-generate -m "$1" --tokenize | jq -c .ids' _ "$TOK"
	assert_output "[520,71,72]"
}

@test "tokenize: a text that starts with BOS gets no second one" {
	run bash -c 'echo "{\"text\": \"<|begin_of_text|>hi\"}" | tts-generate -m "$1" --tokenize | jq -c .ids' _ "$TOK"
	assert_output "[520,71,72]"
}

@test "tokenize --no-bos" {
	run bash -c 'echo "{\"text\": \"hi\"}" | tts-generate -m "$1" --tokenize --no-bos | jq -c .ids' _ "$TOK"
	assert_output "[71,72]"
}

@test "tokenize --no-special: special tokens in the text are plain text" {
	run bash -c 'echo "{\"text\": \"<|eot_id|>\"}" | tts-generate -m "$1" --tokenize --no-bos --no-special | jq ".ids | length"' _ "$TOK"
	[ "$output" -gt 1 ]
}

@test "tokenize --key reads another field and passes the others through" {
	run bash -c 'echo "{\"prompt\": \"hi\", \"id\": \"x\"}" | tts-generate -m "$1" --tokenize --key prompt | jq -c "[.id, .ids]"' _ "$TOK"
	assert_output '["x",[520,71,72]]'
}

@test "tokenize: -m may name a tokenizer.json" {
	run bash -c 'echo "{\"text\": \"hi\"}" | tts-generate -m "$1/tokenizer.json" --tokenize | jq -c .ids' _ "$TOK"
	assert_output "[520,71,72]"
}

@test "tokenize: a record without the key is an error naming the line" {
	run --separate-stderr bash -c 'printf "{\"text\": \"a\"}\n{\"x\": 1}\n" | tts-generate -m "$1" --tokenize' _ "$TOK"
	assert_failure 1
	[[ "$stderr" == *"<stdin>:2"*'"text"'* ]]
}

@test "detokenize: round trip, with and without special tokens" {
	run bash -c 'echo "{\"text\": \"naïve café 東京 😀\"}" | tts-generate -m "$1" --tokenize | jq -c "{ids}" | tts-generate -m "$1" --detokenize --skip-special | jq -r .text' _ "$TOK"
	assert_output "naïve café 東京 😀"
}

@test "detokenize keeps special tokens unless told" {
	run bash -c 'echo "{\"ids\": [520, 71, 72, 527]}" | tts-generate -m "$1" --detokenize | jq -r .text' _ "$TOK"
	assert_output "<|begin_of_text|>hi<|eot_id|>"
}

@test "detokenize: bytes that are not UTF-8 become U+FFFD" {
	run bash -c 'jq -c ".decode[] | select(.bytes_hex == \"e080af\") | {ids}" "$1/cases.json" | tts-generate -m "$1" --detokenize | jq -r .text' _ "$TOK"
	assert_output "���"
}

@test "detokenize: an id outside the vocabulary is an error" {
	run --separate-stderr bash -c 'echo "{\"ids\": [1, 99999]}" | tts-generate -m "$1" --detokenize' _ "$TOK"
	assert_failure 1
	[[ "$stderr" == *"<stdin>:1"*"99999"* ]]
}

@test "tokenize: a directory without tokenizer.json" {
	run --separate-stderr bash -c 'echo "{\"text\": \"a\"}" | tts-generate -m "$1" --tokenize' _ "$BATS_TEST_TMPDIR"
	assert_failure 1
	[[ "$stderr" == *"tokenizer.json"* ]]
}
