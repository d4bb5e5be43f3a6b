#!/usr/bin/env bats
# The record layer, through tts-cat: round trips, detection, bad input,
# full disk.
load test_helper
bats_require_minimum_version 1.5.0

setup() {
	R="$FIXTURES/records.jsonl"
}

# First bytes of a file, as hex.
head_hex() { od -An -tx1 -N"$2" "$1" | tr -d ' \n'; }

@test "JSONL passes through byte for byte" {
	run tts-cat "$R"
	assert_success
	assert_output "$(cat "$R")"
}

@test "JSONL -> msgpack -> JSONL round trip is lossless" {
	run bash -c 'tts-cat -f msgpack "$1" | tts-cat' _ "$R"
	assert_success
	assert_output "$(cat "$R")"
}

@test "JSONL -> zstd -> JSONL round trip is lossless" {
	run bash -c 'tts-cat -z "$1" | tts-cat' _ "$R"
	assert_output "$(cat "$R")"
}

@test "msgpack+zstd round trip is lossless" {
	run bash -c 'tts-cat -z -f msgpack "$1" | tts-cat -f msgpack | tts-cat' _ "$R"
	assert_output "$(cat "$R")"
}

@test "integers stay integers and reals stay reals through msgpack" {
	run bash -c 'tts-cat -f msgpack "$1" | tts-cat | head -1' _ "$R"
	assert_output --partial '"int":42,'
	assert_output --partial '"real":1.0,'
}

@test "embedded NUL survives msgpack" {
	run bash -c 'tts-cat -f msgpack "$1" | tts-cat | sed -n 2p | jq -e ".nul == \"a\u0000b\""' _ "$R"
	assert_success
}

@test "output suffix picks the encoding: .msgpack is a map per record" {
	tts-cat -o "$BATS_TEST_TMPDIR/r.msgpack" "$R"
	[ "$(head_hex "$BATS_TEST_TMPDIR/r.msgpack" 1)" = 8a ]
}

@test "output suffix .zst compresses" {
	tts-cat -o "$BATS_TEST_TMPDIR/r.jsonl.zst" "$R"
	[ "$(head_hex "$BATS_TEST_TMPDIR/r.jsonl.zst" 4)" = 28b52ffd ]
}

@test "-f overrides the suffix" {
	tts-cat -f jsonl -o "$BATS_TEST_TMPDIR/r.msgpack" "$R"
	run cat "$BATS_TEST_TMPDIR/r.msgpack"
	assert_output "$(cat "$R")"
}

@test "files of different encodings concatenate" {
	tts-cat -o "$BATS_TEST_TMPDIR/a.mpk.zst" "$R"
	run bash -c 'tts-cat "$1" - "$2" < "$2" | jq -r .id | tr "\n" " "' _ "$BATS_TEST_TMPDIR/a.mpk.zst" "$R"
	assert_output "p-0 p-1 p-2 p-0 p-1 p-2 p-0 p-1 p-2 "
}

@test "empty input is an empty stream" {
	run tts-cat </dev/null
	assert_success
	assert_output ""
}

@test "blank lines are skipped" {
	run bash -c 'printf "\n{\"a\":1}\n\n" | tts-cat'
	assert_output '{"a":1}'
}

@test "a line that is not an object: file:line, exit 1" {
	printf '{"a":1}\n[1]\n' >"$BATS_TEST_TMPDIR/x.jsonl"
	run --separate-stderr tts-cat "$BATS_TEST_TMPDIR/x.jsonl"
	assert_failure 1
	[ "$stderr" = "tts-cat: $BATS_TEST_TMPDIR/x.jsonl:2: expected an object" ]
}

@test "invalid JSON names the line" {
	run --separate-stderr bash -c 'printf "{\"a\":1}\n{\"a\":\n" | tts-cat'
	assert_failure 1
	[[ "$stderr" == "tts-cat: <stdin>:2: invalid JSON: "* ]]
}

@test "truncated msgpack names the record" {
	run --separate-stderr bash -c 'tts-cat -f msgpack "$1" | head -c -2 | tts-cat' _ "$R"
	assert_failure 1
	[ "$stderr" = "tts-cat: <stdin>: record 3: truncated msgpack map" ]
}

@test "truncated zstd frame is an error, not a short stream" {
	run --separate-stderr bash -c 'tts-cat -z "$1" | head -c -4 | tts-cat' _ "$R"
	assert_failure 1
	[ "$stderr" = "tts-cat: <stdin>: truncated zstd frame" ]
}

@test "bytes that are no record stream" {
	run --separate-stderr bash -c 'printf "\001\002" | tts-cat'
	assert_failure 1
	[ "$stderr" = "tts-cat: <stdin>: not a record stream (expected JSONL, msgpack or zstd)" ]
}

@test "a missing file names it" {
	run --separate-stderr tts-cat "$BATS_TEST_TMPDIR/nope"
	assert_failure 1
	[ "$stderr" = "tts-cat: $BATS_TEST_TMPDIR/nope: No such file or directory" ]
}

@test "a full disk is an error" {
	run --separate-stderr bash -c 'tts-cat "$1" >/dev/full' _ "$R"
	assert_failure 1
	[ "$stderr" = "tts-cat: <stdout>: write error: No space left on device" ]
}

@test "a full disk is an error for zstd msgpack too" {
	run bash -c 'tts-cat -z -f msgpack "$1" >/dev/full' _ "$R"
	assert_failure 1
}

@test "msgpack is not written to a terminal" {
	run bash -c 'script -qec "tts-cat -f msgpack $1" /dev/null' _ "$R"
	assert_failure 1
	assert_output --partial "refusing to write msgpack to a terminal"
}

@test "-h prints usage on stdout" {
	run --separate-stderr tts-cat -h
	assert_success
	assert_output "usage: tts-cat [-f jsonl|msgpack] [-z] [-o FILE] [FILE...]"
}

@test "a bad option exits 2" {
	run tts-cat -q
	assert_failure 2
}

@test "a bad -f exits 2" {
	run --separate-stderr tts-cat -f yaml "$R"
	assert_failure 2
	[ "$stderr" = "tts-cat: -f: expected jsonl or msgpack, got 'yaml'" ]
}

@test "man tts-cat example: to msgpack.zst and back" {
	cd "$BATS_TEST_TMPDIR"
	cp "$R" run.jsonl
	tts-cat -o run.msgpack.zst run.jsonl
	run bash -c 'tts-cat run.msgpack.zst | jq -r .id | tr "\n" " "'
	assert_output "p-0 p-1 p-2 "
}

@test "man tts-cat example: join shards" {
	cd "$BATS_TEST_TMPDIR"
	tts-cat -o shard-0.msgpack.zst "$R"
	tts-cat -o shard-1.msgpack.zst "$R"
	tts-cat shard-*.msgpack.zst > all.jsonl
	[ "$(wc -l < all.jsonl)" -eq 6 ]
}

@test "msgpack nests 32 levels, the record included" {
	run bash -c 'jq -nc "{a: (reduce range(31) as \$i (1; [.]))}" | tts-cat -f msgpack | tts-cat | jq -e ".a | flatten == [1]"'
	assert_success
}

@test "a record nested deeper is refused as msgpack, with a reason" {
	run --separate-stderr bash -c 'jq -nc "{a: (reduce range(32) as \$i (1; [.]))}" | tts-cat -f msgpack'
	assert_failure 1
	[ "$stderr" = "tts-cat: <stdout>: a record nested deeper than 32 levels cannot be written as msgpack" ]
}
