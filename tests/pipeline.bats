#!/usr/bin/env bats
# From sample records with completions, through tts-extract, tts-vote and
# tts-score, to a table and a plot (issue [C]'s pipeline test).
load test_helper

setup() { S="$FIXTURES/samples-mini.jsonl"; }

@test "pipeline: samples -> extract -> vote -> score table" {
	run bash -c 'tts-extract "$1" | tts-vote -m majority,pass | tts-score -t' _ "$S"
	assert_success
	assert_output --partial "majority"
	assert_output --partial "demo"
}

@test "pipeline: the extracted answers decide the votes (gsm8k-0 is 31 by majority)" {
	run bash -c 'tts-extract "$1" | tts-vote -m majority | jq -e -s "map(select(.id == \"gsm8k-0\" and .k == .n)) | .[0].vote == \"31\" and .[0].correct == 1"' _ "$S"
	assert_success
}

@test "pipeline: the plot is well-formed SVG with one line per model" {
	run bash -c 'tts-extract "$1" | tts-vote -m majority | tts-score -p "$2" >/dev/null && xmllint --noout "$2" && grep -c "<g id=\"gnuplot_plot_" "$2"' _ "$S" "$BATS_TEST_TMPDIR/fig.svg"
	assert_success
	[ "${lines[-1]}" -eq 1 ]
}
