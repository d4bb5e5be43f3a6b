#!/bin/sh
# bench/qwen-agree.sh FILE — how often tts-extract + ans_equal agree with the
# verdicts Qwen2.5-Math's own grader stored for real completions.
# FILE is evaluation/data/eval_rm_maj_example/math_cot_100.jsonl of
# QwenLM/Qwen2.5-Math (100 MATH problems x 8 sampled completions, with
# "code" = the completions, "answer" = the gold, "score" = Qwen's verdicts).
# Prints "agree N of M" and each disagreement.  Needs jq and python3.
set -eu
cd "$(dirname "$0")/.."
[ $# -eq 1 ] || { echo "usage: bench/qwen-agree.sh math_cot_100.jsonl" >&2; exit 2; }
BIN=${BUILD:-build}
jq -c '. as $r | range(0; .code | length) as $k |
	{id: ($r.idx | tostring), sample: $k, text: $r.code[$k], answer: $r.answer, qscore: $r.score[$k]}' "$1" |
	"$BIN/tts-extract" |
	python3 -c '
import json, subprocess, sys
agree = n = 0
for line in sys.stdin:
    r = json.loads(line)
    mine = r["pred"] is not None and subprocess.run(
        [sys.argv[1], "--equal", "--", r["pred"], r["answer"]]).returncode == 0
    n += 1
    if mine == r["qscore"]:
        agree += 1
    else:
        print("differ: id %s sample %s pred %r gold %r qwen %s tts %s" % (
            r["id"], r["sample"], r["pred"], r["answer"], r["qscore"], mine))
print("agree %d of %d" % (agree, n))' "$BIN/tts-extract"
