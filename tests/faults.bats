#!/usr/bin/env bats
# Faults during generation: kills, torn output, full disks, broken
# checkpoints.  (SIGINT/SIGTERM and --resume of whole problems are in
# generate.bats; these are the cases it does not cover.)
load test_helper
bats_require_minimum_version 1.5.0

prompts() { # $1: count
	for i in $(seq 1 "$1"); do
		printf '{"id":"p%d","prompt":"question %d: what is %d+%d?"}\n' "$i" "$i" "$i" "$((i * 7))"
	done
}
GEN=(--synthetic llama -n 2 --max-tokens 40 --ignore-eos)
gen() { tts-generate "${GEN[@]}" "$@"; }
notime() { jq -c 'del(.ms)' "$@"; }

setup() {
	P="$BATS_TEST_TMPDIR/p.jsonl"
	prompts 300 >"$P"
	O="$BATS_TEST_TMPDIR"
	export -f gen notime
	gen <"$P" | notime >"$O/full"
}

# Resume $1 (any encoding) and check it equals the uninterrupted run
# ($O/full, made by setup); the resume's stderr must contain $2 if given.
resumes_to_full() {
	run --separate-stderr gen -o "$1" --resume <"$P"
	assert_success
	[[ "$stderr" == *"${2:-}"* ]] || fail "stderr lacks '$2': $stderr"
	run bash -c "tts-cat '$1' | notime | cmp - '$O/full'"
	assert_success
}

# Start tts-generate (itself, not a shell around it: the signal must reach
# it) writing to $1 in the background; when $2 has data, send signal $3.
kill_midway() {
	# shellcheck disable=SC2086  # $4: optional flags
	signal_midway "$3" "$2" "$P" tts-generate "${GEN[@]}" -o "$1" ${4:-}
}

@test "faults: after SIGKILL, --resume continues to the uninterrupted output" {
	kill_midway "$O/o.jsonl" "$O/o.jsonl" KILL
	assert_equal "$st" 137
	[ "$(wc -l <"$O/o.jsonl")" -lt 600 ]
	resumes_to_full "$O/o.jsonl"
}

@test "faults: a resumed run killed with SIGKILL resumes again to the same output" {
	head -40 "$O/full" >"$O/o.jsonl"
	kill_midway "$O/o.jsonl" "$O/.resume.o.jsonl" KILL --resume
	assert_equal "$st" 137
	[ "$(wc -l <"$O/o.jsonl")" -eq 40 ]
	resumes_to_full "$O/o.jsonl"
}

@test "faults: --resume past a last record cut mid-line" {
	head -c 5000 "$O/full" >"$O/o.jsonl"
	resumes_to_full "$O/o.jsonl" "incomplete last line"
}

@test "faults: --resume past a zstd msgpack file cut mid-frame" {
	head -30 "$P" | gen -o "$O/whole.msgpack.zst"
	head -c $(($(stat -c %s "$O/whole.msgpack.zst") - 9)) "$O/whole.msgpack.zst" >"$O/o.msgpack.zst"
	resumes_to_full "$O/o.msgpack.zst" "truncated zstd frame"
}

@test "faults: SIGINT leaves only whole records in a zstd msgpack file" {
	kill_midway "$O/o.msgpack.zst" "$O/o.msgpack.zst" INT
	assert_equal "$st" 130
	run bash -c "tts-cat '$O/o.msgpack.zst' | jq -s 'length > 0 and length % 2 == 0 and (group_by(.id) | map(length == 2) | all)'"
	assert_success
	assert_output "true"
}

@test "faults: a full disk is an error for -o FILE and for msgpack, zstd" {
	run gen -o /dev/full <"$P"
	assert_failure 1
	assert_output --partial "/dev/full"
	run bash -c "head -3 '$P' | tts-generate --synthetic llama -f msgpack -z >/dev/full"
	assert_failure 1
}

@test "faults: truncated or corrupt checkpoints are refused before any work" {
	for d in st-truncated st-hdrlen-huge st-hdrlen-bad st-notjson st-offset-outside st-short bin-truncated bin-storage-short bin-not-zip; do
		run bash -c "tts-generate -m '$FIXTURES/bad/$d' -o '$O/$d.jsonl' <'$P'"
		assert_failure 1
		[ ! -e "$O/$d.jsonl" ] || fail "$d: output created"
	done
}

@test "faults: a refused checkpoint leaves the file being resumed as it was" {
	head -4 "$P" | gen -o "$O/o.jsonl"
	cp "$O/o.jsonl" "$O/before"
	run bash -c "tts-generate -m '$FIXTURES/bad/st-truncated' -n 2 -o '$O/o.jsonl' --resume <'$P'"
	assert_failure 1
	cmp "$O/o.jsonl" "$O/before"
}
