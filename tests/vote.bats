#!/usr/bin/env bats
# tts-vote: grouping, the methods on hand-worked problems, ordering, errors.
# The fixture: 2 models x 4 problems x 4 samples, shuffled, with pred and
# pred_canon already extracted (see tests/fixtures/samples-vote.jsonl).
load test_helper
bats_require_minimum_version 1.5.0

setup() {
	S="$FIXTURES/samples-vote.jsonl"
}

# The correct value of one vote record: model, id, method, k.
cv() { jq -r --arg m "$1" --arg id "$2" --arg meth "$3" --argjson k "$4" \
	'select(.model==$m and .id==$id and .method==$meth and .k==$k) | .correct'; }
export -f cv

@test "-h prints usage and exits 0" {
	run tts-vote -h
	assert_success
	assert_output --partial "usage: tts-vote"
}

@test "a bad option or method is a usage error" {
	run -2 tts-vote --nope
	run -2 tts-vote -m majority,nope "$S"
	run -2 tts-vote -k 1,0 "$S"
}

@test "one record per (problem, method, k): 2 models x 4 problems x 5 methods x 3 k" {
	run bash -c 'tts-vote "$1" | jq -s length' _ "$S"
	assert_output 120
}

@test "output does not depend on input order (shuffled shards merge with cat)" {
	run bash -c 'diff <(tts-vote "$1") <(tac "$1" | tts-vote)' _ "$S"
	assert_success
	run bash -c 'diff <(tts-vote "$1") <(grep mamba "$1" > "$2/b"; grep attn "$1" > "$2/a"; cat "$2/b" "$2/a" | tts-vote)' _ "$S" "$BATS_TEST_TMPDIR"
	assert_success
}

@test "sorted by model, id, then method in order majority weighted best pass first, then k" {
	run bash -c 'tts-vote "$1" | jq -r "[.model,.id,.method,.k]|@tsv" | head -7 | cut -f1-4 | tr "\t" " "' _ "$S"
	assert_line -n 0 "attn ar-0 majority 1"
	assert_line -n 2 "attn ar-0 majority 4"
	assert_line -n 3 "attn ar-0 weighted 1"
	assert_line -n 6 "attn ar-0 best 1"
}

@test "two models with the same ids are kept apart" {
	# attn ar-0: 12 12 7 12 -> 1; mamba ar-0: 7 9 12 null, a three-way tie -> 1/3.
	run bash -c 'tts-vote -m majority -k 4 "$1" | jq -c "[.model,.id,.correct]" | head -5' _ "$S"
	assert_line -n 0 '["attn","ar-0",1]'
	assert_line -n 4 '["mamba","ar-0",0.3333333333333333]'
}

@test "majority over random subsets: A A B A at k=2 is 3/4, first-k is 1" {
	# attn ar-0: 12 12 7 12, gold 12: pairs with the 7 tie (1/2).
	run bash -c 'tts-vote -m majority "$1" | cv attn ar-0 majority 2' _ "$S"
	assert_output 0.75
	run bash -c 'tts-vote --first-k -m majority "$1" | cv attn ar-0 majority 2' _ "$S"
	assert_output 1
}

@test "a tie at k = n splits evenly" {
	# attn noar-1: 18 17 18 17, gold 18.
	run bash -c 'tts-vote -m majority -k 4 "$1" | cv attn noar-1 majority 4' _ "$S"
	assert_output 0.5
}

@test "null predictions count in n and never win" {
	# mamba ar-1: null null 2 3, gold 30.
	run bash -c 'tts-vote -m majority,pass -k 4 "$1" | jq -c "select(.model==\"mamba\" and .id==\"ar-1\") | [.n,.correct]"' _ "$S"
	assert_output $'[4,0]\n[4,0]'
	run bash -c 'tts-vote -m majority -k 1 "$1" | cv attn ar-1 majority 1' _ "$S"
	assert_output 0.5
}

@test "pred_canon is voted on when present; vote and votes at k = n" {
	# attn ar-1: pred 30.0 / pred_canon 30, 30, 31, null.
	run bash -c 'tts-vote -m majority -k 4 "$1" | jq -c "select(.model==\"attn\" and .id==\"ar-1\") | [.vote,.votes]"' _ "$S"
	assert_output '["30",{"30":2,"31":1}]'
}

@test "best-of-N and pass@k by hand" {
	# mamba ar-0: 7 9 12 null, rewards .8 .3 .5 .1, gold 12: best@1 = 1/4,
	# best@2: the 12 wins in {9,12} and {12,null}: 2/6; pass@2 = 1 - C(3,2)/C(4,2).
	run bash -c 'tts-vote -m best,pass "$1" | cv mamba ar-0 best 2; tts-vote -m pass "$1" | cv mamba ar-0 pass 2' _ "$S"
	assert_output $'0.3333333333333333\n0.5'
}

@test "weighted: exact by enumeration when C(n,k) <= draws, else Monte Carlo with se, draws, seed" {
	run bash -c 'tts-vote -m weighted -k 2 "$1" | jq -s "all(.se == 0 and (has(\"draws\")|not))"' _ "$S"
	assert_output true
	run bash -c 'tts-vote -m weighted -k 2 -d 3 -s 7 "$1" | jq -s "map(select(has(\"draws\"))) | length > 0 and all(.draws == 3 and .vote_seed == 7) and any(.se > 0)"' _ "$S"
	assert_output true
	run bash -c 'diff <(tts-vote -d 3 -s 7 "$1") <(tac "$1" | tts-vote -d 3 -s 7)' _ "$S"
	assert_success
}

@test "-k takes a list; budgets above n are left out" {
	run bash -c 'tts-vote -m majority -k 3,1,64 "$1" | jq -s -c "[.[0:2][] | .k]"' _ "$S"
	assert_output '[1,3]'
}

@test "a single-sample problem" {
	run bash -c 'echo "{\"id\":\"p\",\"sample\":0,\"answer\":\"4\",\"pred\":\"4\"}" | tts-vote | jq -c "[.method,.k,.n,.correct]"'
	assert_output $'["majority",1,1,1]\n["pass",1,1,1]\n["first",1,1,1]'
}

@test "keys constant across a problem's samples are kept; per-sample keys and -x keys dropped" {
	run bash -c 'tts-vote -k 1 -m majority "$1" | head -1 | jq -e "has(\"temperature\") and .pairs == 10 and (has(\"text\") or has(\"pred\") or has(\"sample\") or has(\"reward\") | not)"' _ "$S"
	assert_success
	run bash -c 'tts-vote -x temperature,seed -k 1 -m majority "$1" | head -1 | jq -e "has(\"temperature\") or has(\"seed\") | not"' _ "$S"
	assert_success
}

@test "ms, tokens, flops: the mean per sample" {
	run bash -c 'tts-vote -m majority -k 1 "$1" | head -1 | jq -c "[.ms,.tokens,.flops]"' _ "$S"
	assert_output '[89,44.5,44500000000]'
}

@test "--by keeps runs apart" {
	sed 's/"temperature": 0.7/"temperature": 1.0/' "$S" > "$BATS_TEST_TMPDIR/t1"
	run bash -c 'cat "$1" "$2" | tts-vote -b temperature -m majority -k 1 | jq -s length' _ "$S" "$BATS_TEST_TMPDIR/t1"
	assert_output 16
}

@test "a repeated sample is an error naming the file and line" {
	{ cat "$S"; head -1 "$S"; } > "$BATS_TEST_TMPDIR/dup.jsonl"
	run -1 --separate-stderr tts-vote "$BATS_TEST_TMPDIR/dup.jsonl"
	assert_equal "$stderr" "tts-vote: $BATS_TEST_TMPDIR/dup.jsonl:33: repeated sample 1 in its problem"
}

@test "a sample without pred is an error" {
	run -1 --separate-stderr bash -c 'echo "{\"id\":\"p\",\"sample\":0,\"answer\":\"4\"}" | tts-vote'
	assert_equal "$stderr" 'tts-vote: <stdin>:1: missing key "pred" (run tts-extract first)'
}

@test "best and weighted need a reward: required when asked for, left out when none has one" {
	run -1 --separate-stderr bash -c 'echo "{\"id\":\"p\",\"sample\":0,\"answer\":\"4\",\"pred\":\"4\"}" | tts-vote -m best'
	assert_equal "$stderr" 'tts-vote: <stdin>:1: missing key "reward" (needed by weighted and best)'
}

@test "samples of one problem must agree on the gold answer" {
	run -1 --separate-stderr bash -c 'printf "%s\n" "{\"id\":\"p\",\"sample\":0,\"answer\":\"4\",\"pred\":\"4\"}" "{\"id\":\"p\",\"sample\":1,\"answer\":\"5\",\"pred\":\"4\"}" | tts-vote'
	assert_equal "$stderr" 'tts-vote: <stdin>:2: answer "5" differs from "4" of another sample of the problem'
}

@test "a full disk is an error" {
	run -1 bash -c 'tts-vote "$1" > /dev/full' _ "$S"
}

@test "man page example: tts-vote -m majority -k 1,8,64 samples | jq" {
	run bash -c 'tts-vote -m majority -k 1,8,64 "$1" | jq -r "select(.k == 1) | .correct" | wc -l' _ "$S"
	assert_output 8
}

@test "msgpack and zstd input give the same votes" {
	run bash -c 'diff <(tts-vote "$1") <(tts-cat -z -f msgpack "$1" | tts-vote)' _ "$S"
	assert_success
}

@test "msgpack output" {
	run bash -c 'tts-vote -f msgpack "$1" | tts-cat | jq -s length' _ "$S"
	assert_output 120
}
