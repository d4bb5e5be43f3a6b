#!/usr/bin/env bats
# tts-score: accuracy, intervals, compute axes, the table and the plot; and
# the pipeline from sample records through tts-vote and tts-score.
load test_helper
bats_require_minimum_version 1.5.0

setup() {
	S="$FIXTURES/samples-vote.jsonl"
	V="$BATS_TEST_TMPDIR/votes.jsonl"
	tts-vote "$S" > "$V"
}

# One field of the score record of model, task, method, k.
sv() { jq -r --arg m "$1" --arg t "$2" --arg meth "$3" --argjson k "$4" --arg f "$5" \
	'select(.model==$m and .task==$t and .method==$meth and .k==$k) | .[$f]'; }
export -f sv

@test "-h prints usage and exits 0" {
	run tts-score -h
	assert_success
	assert_output --partial "usage: tts-score"
}

@test "bad options are usage errors" {
	run -2 tts-score -l 2 "$V"
	run -2 tts-score -x joules "$V"
	run -2 tts-score -p plot.pdf "$V"
}

@test "one record per (model, task, method, k): accuracy is the mean over problems" {
	run bash -c 'tts-score "$1" | jq -s length' _ "$V"
	assert_output 60
	# majority@4: attn ar-0 1, ar-1 1; mamba ar-0 1/3, ar-1 0.
	run bash -c 'tts-score "$1" | sv attn ar majority 4 accuracy; tts-score "$1" | sv mamba ar majority 4 accuracy' _ "$V"
	assert_output $'1\n0.16666666666666666'
}

@test "a bootstrap interval around the accuracy, seeded, over the problems" {
	run bash -c 'tts-score "$1" | jq -s -e "all(.lo <= .accuracy and .accuracy <= .hi and .problems == 2 and .level == 0.95)"' _ "$V"
	assert_success
	run bash -c 'diff <(tts-score -s 3 "$1") <(tac "$1" | tts-score -s 3)' _ "$V"
	assert_success
	run bash -c 'tts-score -l 0.5 "$1" | jq -e -s "all(.level == 0.5)"' _ "$V"
	assert_success
}

@test "compute at k: k times the mean per-sample ms, tokens, flops" {
	run bash -c 'tts-score "$1" | jq -c "select(.model==\"attn\" and .task==\"ar\" and .method==\"majority\") | [.k,.ms,.tokens]"' _ "$V"
	assert_output $'[1,89,44.5]\n[2,178,89]\n[4,356,178]'
}

@test "keys constant across problems are kept, per-problem keys dropped" {
	run bash -c 'tts-score "$1" | head -1 | jq -e ".temperature == 0.7 and .n == 4 and (has(\"id\") or has(\"votes\") or has(\"answer\") | not)"' _ "$V"
	assert_success
}

@test "--by groups by other keys" {
	run bash -c 'tts-score -b model "$1" | jq -s -c "map(.problems) | unique"' _ "$V"
	assert_output '[4]'
}

@test "a problem counted twice in a group is an error" {
	run -1 --separate-stderr bash -c 'cat "$1" "$1" | tts-score'  _ "$V"
	assert_equal "$stderr" "tts-score: <stdin>:121: problem ar-0 counted twice for its method and k: add the key that tells the runs apart to --by"
}

@test "-t: an aligned table, models as columns" {
	run bash -c 'tts-score -t "$1"' _ "$V"
	assert_line -n 0 --regexp '^dataset +task +pairs +method +k +attn +mamba$'
	assert_line -n 3 --regexp '^synth +ar +10 +majority +4 +100\.0 +16\.7$'
	assert_equal "${#lines[@]}" 31
}

@test "-t -c: other keys as columns" {
	run bash -c 'tts-score -t -c task -b model,task "$1" | head -2' _ "$V"
	assert_line -n 0 --regexp '^model +method +k +ar +noar$'
	assert_line -n 1 --regexp '^attn +majority +1 +62\.5 +75\.0$'
}

@test "--plot out.png writes a PNG" {
	run tts-score -p "$BATS_TEST_TMPDIR/a.png" "$V"
	assert_success
	run bash -c 'head -c 4 "$1" | od -An -c | tr -d " "' _ "$BATS_TEST_TMPDIR/a.png"
	assert_output '211PNG'
}

@test "--plot without gnuplot is a clear error" {
	mkdir "$BATS_TEST_TMPDIR/bin"
	ln -s "$(command -v tts-score)" "$BATS_TEST_TMPDIR/bin/tts-score"
	run -1 --separate-stderr env PATH="$BATS_TEST_TMPDIR/bin" tts-score -p "$BATS_TEST_TMPDIR/a.svg" "$V"
	assert_equal "$stderr" "tts-score: --plot: gnuplot not found on PATH (Debian: apt-get install gnuplot-nox)"
}

@test "a full disk is an error" {
	run -1 bash -c 'tts-score "$1" > /dev/full' _ "$V"
	run -1 bash -c 'tts-score -t "$1" > /dev/full' _ "$V"
}

@test "pipeline: samples -> tts-vote -> tts-score -> table and SVG plot" {
	run bash -c 'tac "$1" | tts-vote -m majority,best | tts-score -b model,task -p "$2" -t' _ "$S" "$BATS_TEST_TMPDIR/fig.svg"
	assert_success
	assert_line -n 0 --regexp '^task +method +k +attn +mamba$'
	assert_line -n 1 --regexp '^ar +majority +1 +62\.5 +12\.5$'
	assert_equal "${#lines[@]}" 13
	xmllint --noout "$BATS_TEST_TMPDIR/fig.svg"
	# One line per (model, task, method) in each of the two panels.
	run grep -c '<g id="gnuplot_plot_' "$BATS_TEST_TMPDIR/fig.svg"
	assert_output 16
}

@test "man page example: tts-vote samples | tts-score -t" {
	run bash -c 'tts-vote "$1" | tts-score -t | wc -l' _ "$S"
	assert_output 31
}

@test "man page example: the paper's Table 1 layout (majority at k = 1)" {
	run bash -c 'tts-vote -m majority -k 1 "$1" | tts-score -t' _ "$S"
	assert_line -n 0 --regexp '^dataset +task +pairs +method +k +attn +mamba$'
	assert_line -n 2 --regexp '^synth +noar +10 +majority +1 +75\.0 +62\.5$'
	assert_equal "${#lines[@]}" 3
}

@test "man page example: tts-score -b model,task -p fig.svg draws a line per model and task in two panels" {
	run bash -c 'cd "$2" && tts-vote -m majority "$1" | tts-score -b model,task -p fig.svg > /dev/null && xmllint --noout fig.svg && grep -c "<g id=\"gnuplot_plot_" fig.svg' _ "$S" "$BATS_TEST_TMPDIR"
	assert_output 8
}

@test "-x picks the compute axis; one the records lack is an error" {
	run tts-score -x tokens -p "$BATS_TEST_TMPDIR/t.svg" "$V"
	assert_success
	run -1 --separate-stderr bash -c 'jq -c "del(.flops)" "$1" | tts-score -x flops -p "$2"' _ "$V" "$BATS_TEST_TMPDIR/f.svg"
	assert_equal "$stderr" "tts-score: -x flops: the vote records have no flops"
}
