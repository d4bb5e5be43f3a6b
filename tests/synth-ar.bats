#!/usr/bin/env bats
# tts-synth-ar: determinism, matched AR / non-AR pairs, gold answers
# checked independently (jq and shell arithmetic), --vocab, bad options.
load test_helper
bats_require_minimum_version 1.5.0

@test "the same arguments give the same bytes" {
	a=$(tts-synth-ar -n 20 -L 20 --seed 7 --ops +,-,* --hops 1 | cksum)
	b=$(tts-synth-ar -n 20 -L 20 --seed 7 --ops +,-,* --hops 1 | cksum)
	[ "$a" = "$b" ]
}

@test "a known problem: seed 1, L 5 (guards against drift across machines)" {
	run bash -c 'tts-synth-ar -n 1 -L 5 --task ar | jq -r "[.id, .answer, (.idx|tostring), .question] | join(\" \")"'
	assert_output "synth-ar-L5-s1-0 114 [4,3,0] List: jacket: 64, lawn: 87, room: 52, mill: 15, wolf: 35.
What is wolf + mill + jacket? Put the final answer in \\boxed{}."
}

@test "different seeds give different problems" {
	a=$(tts-synth-ar -n 5 --seed 1 | jq -c .kv | head -1)
	b=$(tts-synth-ar -n 5 --seed 2 | jq -c .kv | head -1)
	[ "$a" != "$b" ]
}

@test "--count N is a prefix of --count M > N" {
	run bash -c 'diff <(tts-synth-ar -n 3) <(tts-synth-ar -n 10 | head -6)'
	assert_success
}

@test "--task both: each pair shares list text, kv and idx" {
	run bash -c 'tts-synth-ar -n 50 -L 20 | jq -s -e "group_by(.pair) | length == 50 and all(length == 2 and .[0].task == \"ar\" and .[1].task == \"noar\" and .[0].kv == .[1].kv and .[0].idx == .[1].idx and (.[0].question | split(\"\n\")[0]) == (.[1].question | split(\"\n\")[0]) and .[0].answer == .[1].answer)"'
	assert_success
}

@test "--task ar and --task noar alone make the two halves of --task both" {
	run bash -c 'diff <(tts-synth-ar -n 5 | jq -c "select(.task == \"ar\")") <(tts-synth-ar -n 5 --task ar | jq -c .) &&
		diff <(tts-synth-ar -n 5 | jq -c "select(.task == \"noar\")") <(tts-synth-ar -n 5 --task noar | jq -c .)'
	assert_success
}

@test "ids are unique and name task, pairs, seed and index" {
	run bash -c 'tts-synth-ar -n 30 -L 10 --seed 3 | jq -r .id | sort | uniq -d | wc -l'
	assert_output 0
	run bash -c 'tts-synth-ar -n 1 -L 10 --seed 3 --task noar | jq -r .id'
	assert_output "synth-noar-L10-s3-0"
}

@test "records carry the keys of the design and the settings" {
	run bash -c 'tts-synth-ar -n 1 --task ar | jq -e "(keys_unsorted) == [\"id\",\"pair\",\"dataset\",\"task\",\"pairs\",\"kv\",\"idx\",\"question\",\"answer\",\"synth_seed\",\"values\",\"terms\",\"ops\",\"hops\"] and .dataset == \"synth\" and .pairs == 10 and (.kv | length) == 10"'
	assert_success
}

@test "gold answers of the paper's task are the sum of the indexed values" {
	run bash -c 'tts-synth-ar -n 200 -L 50 | jq -e -s "all(.answer == ([.idx[] as \$i | .kv[\$i][1]] | add | tostring))"'
	assert_success
}

@test "keys are distinct, indices distinct and in range, values in --values" {
	run bash -c 'tts-synth-ar -n 100 -L 20 --values -5:5 --terms 4 | jq -e -s "all((.kv | map(.[0]) | unique | length) == 20 and (.idx | unique | length) == 4 and all(.idx[]; 0 <= . and . < 20) and all(.kv[]; -5 <= .[1] and .[1] <= 5))"'
	assert_success
}

@test "non-AR states the values the AR question's keys name" {
	run bash -c 'tts-synth-ar -n 50 -L 10 --terms 5 --hops 1 | jq -s -e "group_by(.pair) | all(.[0] as \$a | .[1] as \$n | (\$a.kv | map({(.[0]): .[1]}) | add) as \$m | ([\$a.idx[] | \$a.kv[.][0] | until(\$m[.] | type == \"number\"; \$m[.]) | \$m[.]] | map(if . < 0 then \"(\(.))\" else tostring end) | join(\" + \")) as \$want | \$n.question | contains(\"What is \" + \$want + \"?\"))"'
	assert_success
}

@test "gold answers with +, -, * follow standard precedence (checked by the shell)" {
	tts-synth-ar -n 100 -L 12 --terms 4 --ops +,-,* --values -20:20 --task noar |
		jq -r '[(.question | split("\n")[-1] | ltrimstr("What is ") | split("?")[0]), .answer] | join("\t")' >"$BATS_TEST_TMPDIR/q"
	while IFS=$'\t' read -r expr answer; do
		[ "$(( expr ))" = "$answer" ] || { echo "$expr = $(( expr )) != $answer"; false; }
	done <"$BATS_TEST_TMPDIR/q"
}

@test "--hops: each queried key's value is a key H times before a number" {
	run bash -c 'tts-synth-ar -n 30 -L 12 --hops 2 --task ar | jq -e -s "all(.[]; . as \$r | (\$r.kv | map({(.[0]): .[1]}) | add) as \$m | all(\$r.idx[]; \$r.kv[.][0] as \$k | (\$m[\$k] | type) == \"string\" and (\$m[\$m[\$k]] | type) == \"string\" and (\$m[\$m[\$m[\$k]]] | type) == \"number\"))"'
	assert_success
}

@test "--hops says so in the question" {
	run bash -c 'tts-synth-ar -n 1 --hops 1 --task ar | jq -r .question | sed -n 2p'
	assert_output "A value that is a word stands for that word's value."
}

@test "--vocab draws keys from the tokenizer's whole-word tokens" {
	run bash -c 'tts-synth-ar -n 40 -L 5 --vocab "$FIXTURES/tokenizer.json" | jq -r ".kv[][0]" | sort -u | tr "\n" " "'
	assert_output "Zebra apple banana car cloud river stone "
}

@test "--vocab is recorded" {
	run bash -c 'tts-synth-ar -n 1 -L 5 --task ar --vocab "$FIXTURES/tokenizer.json" | jq -r .vocab'
	assert_output "$FIXTURES/tokenizer.json"
}

@test "--vocab with too few words for --pairs is an error" {
	run --separate-stderr tts-synth-ar -n 1 -L 8 --vocab "$FIXTURES/tokenizer.json"
	assert_failure 1
	[ "$stderr" = "tts-synth-ar: $FIXTURES/tokenizer.json has 7 usable words; --pairs 8 needs as many" ]
}

@test "--vocab on a file that is not JSON names it" {
	echo 'not json' >"$BATS_TEST_TMPDIR/t.json"
	run --separate-stderr tts-synth-ar -n 1 --vocab "$BATS_TEST_TMPDIR/t.json"
	assert_failure 1
	[[ "$stderr" == "tts-synth-ar: $BATS_TEST_TMPDIR/t.json:1: "* ]]
}

@test "-f msgpack -z output reads back the same" {
	run bash -c 'cmp <(tts-synth-ar -n 5 -f msgpack -z | tts-cat) <(tts-synth-ar -n 5)'
	assert_success
}

@test "a full disk is an error" {
	run tts-synth-ar -n 5 -o /dev/full
	assert_failure 1
}

@test "-h prints usage on stdout" {
	run --separate-stderr tts-synth-ar -h
	assert_success
	assert_line --index 0 --partial "usage: tts-synth-ar [--task ar|noar|both]"
}

@test "bad options exit 2" {
	for args in "--task xy" "--pairs 0" "--pairs x" "--values 5" "--values 9:1" \
		"--ops /" "--ops +,," "--terms 0" "--hops -1" "--terms 4 --hops 2 --pairs 10" "-q" "extra"; do
		run tts-synth-ar $args
		[ "$status" -eq 2 ] || { echo "$args: $status"; false; }
	done
}

@test "man tts-synth-ar example: the paper's tasks at L = 10, 20, 50" {
	run bash -c 'for L in 10 20 50; do tts-synth-ar --pairs $L --count 500; done | jq -s "length"'
	assert_output 3000
}

@test "man tts-synth-ar example: one AR question" {
	run bash -c 'tts-synth-ar -n 1 -L 5 --task ar | jq -r .question'
	assert_output 'List: jacket: 64, lawn: 87, room: 52, mill: 15, wolf: 35.
What is wolf + mill + jacket? Put the final answer in \boxed{}.'
}

@test "man tts-synth-ar example: harder variants to msgpack.zst" {
	cd "$BATS_TEST_TMPDIR"
	cp "$FIXTURES/tokenizer.json" .
	tts-synth-ar --ops +,-,* --hops 1 -L 6 -n 3 \
		--vocab tokenizer.json -o synth.msgpack.zst
	run bash -c 'tts-cat synth.msgpack.zst | jq -s -e "length == 6 and all(.ops == \"+,-,*\" and .hops == 1)"'
	assert_success
}

@test "man tts(7) example: make the paper's problems at L = 20, look at one" {
	cd "$BATS_TEST_TMPDIR"
	tts-synth-ar --pairs 20 --count 500 -o synth.jsonl
	run bash -c 'head -1 synth.jsonl | jq -r .question'
	assert_line --index 0 --regexp '^List: ([a-z]+: [0-9]+, ){19}[a-z]+: [0-9]+\.$'
	assert_line --index 1 --regexp '^What is [a-z]+ \+ [a-z]+ \+ [a-z]+\? Put the final answer in \\boxed\{\}\.$'
}

@test "--vocab reads a Unigram vocabulary ([token, score] pairs, '▁' marker)" {
	run bash -c 'tts-synth-ar -n 20 -L 3 --vocab "$FIXTURES/tokenizer-unigram.json" | jq -r ".kv[][0]" | sort -u | tr "\n" " "'
	assert_output "Lamp cloud river stone tree "
}

@test "--vocab without a vocabulary map is an error" {
	echo '{"model": {}}' >"$BATS_TEST_TMPDIR/t.json"
	run --separate-stderr tts-synth-ar -n 1 --vocab "$BATS_TEST_TMPDIR/t.json"
	assert_failure 1
	[ "$stderr" = "tts-synth-ar: $BATS_TEST_TMPDIR/t.json: no vocabulary map (model.vocab)" ]
}

@test "an answer beyond 64 bits is an error naming the problem" {
	run --separate-stderr tts-synth-ar -n 1 --values 1000000000:1000000000 --ops '*'
	assert_failure 1
	[ "$stderr" = "tts-synth-ar: problem 0: the answer overflows a 64-bit integer: use smaller --values or fewer *" ]
}
