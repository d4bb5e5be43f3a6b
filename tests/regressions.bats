#!/usr/bin/env bats
# Behaviour behind the fuzzing finds (tests/fixtures/fuzz-regressions/;
# the crashes themselves are re-run by test_fuzz, under ASan by make
# test-asan).  Each input there starts with the harness's mode byte.
load test_helper
bats_require_minimum_version 1.5.0

R="$FIXTURES/fuzz-regressions"

@test "regressions: a msgpack map cut after a whole element is a truncated map" {
	run --separate-stderr bash -c "tail -c +2 '$R/record-msgpack-map-cut-after-element' | tts-cat"
	assert_failure 1
	[ "$stderr" = "tts-cat: <stdin>: record 1: truncated msgpack map" ]
}

@test "regressions: a msgpack map32 claiming 175 million entries in 5 bytes is an error" {
	run bash -c "tail -c +2 '$R/record-msgpack-map32-huge-count' | tts-cat"
	assert_failure 1
}

@test "regressions: empty msgpack keys and strings are kept" {
	run bash -c "printf '\x83\xa0\x01\xa1a\xa0\xa1b\x91\xa0' | tts-cat"
	assert_output '{"":1,"a":"","b":[""]}'
	run bash -c "echo '{\"\":1,\"b\":[\"\",\"\"]}' | tts-cat -f msgpack | tts-cat"
	assert_output '{"":1,"b":["",""]}'
}

@test "regressions: torch zips whose sizes or zip64 locator lie are refused" {
	for f in torchzip-usize-past-end torchzip-zip64-locator-short-file; do
		mkdir "$BATS_TEST_TMPDIR/$f"
		cp "$FIXTURES/bad/bin-good/config.json" "$BATS_TEST_TMPDIR/$f/"
		cp "$R/$f" "$BATS_TEST_TMPDIR/$f/pytorch_model.bin"
		run tts-generate -m "$BATS_TEST_TMPDIR/$f" --inspect
		assert_failure 1
		assert_output --partial "pytorch_model.bin"
	done
}
