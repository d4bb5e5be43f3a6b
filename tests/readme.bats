#!/usr/bin/env bats
# README.md's examples run as tests: the ```sh block under "## A pipeline".
load test_helper

readme_block() { # the first ```sh block after the heading $1
	awk -v h="$1" '$0 == h {s = 1} s && /^```sh$/ {b = 1; next} b && /^```$/ {exit} b {print}' \
		"$TTS_TOP/README.md"
}

@test "README: the pipeline example is there" {
	run readme_block "## A pipeline"
	assert_success
	assert_output --partial "tts-generate -m models/llama"
}

@test "README: the pipeline example runs and prints an accuracy table" {
	[ -f "$TTS_TOP/models/llama/config.json" ] || skip "models/llama not bundled"
	readme_block "## A pipeline" > "$BATS_TEST_TMPDIR/ex.sh"
	cd "$TTS_TOP"
	run bash -eo pipefail "$BATS_TEST_TMPDIR/ex.sh"
	assert_success
	assert_output --partial "majority"
	assert_output --partial "pass"
}

@test "README: the answer-checking example runs" {
	readme_block "## Checking answers" > "$BATS_TEST_TMPDIR/ex.sh"
	cd "$TTS_TOP"
	run bash -eo pipefail "$BATS_TEST_TMPDIR/ex.sh"
	assert_success
	assert_line --index 0 '["gsm8k-0",0,"31","boxed"]'
	assert_line --partial "same"
}
