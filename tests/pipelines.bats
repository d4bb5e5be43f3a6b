#!/usr/bin/env bats
# pipelines/demo.mk and pipelines/paper.mk end to end, on the tiny fixture
# models (tests/fixtures/models) and the GSM8K / MATH layouts in miniature;
# models/cot.jq and models/prompt.txt against the tools.
load test_helper
bats_require_minimum_version 1.5.0

TOOLS="tts-synth-ar tts-prompt tts-generate tts-extract tts-vote tts-score"

need_tools() {
	for t in $TOOLS; do
		[ -x "$TTS_TOP/${BUILD:-build}/$t" ] || skip "$t is not built yet"
	done
}

# One small run of each paper experiment, shared by the tests below.
setup_file() {
	for t in $TOOLS; do [ -x "$TTS_TOP/${BUILD:-build}/$t" ] || return 0; done
	export PP="$BATS_FILE_TMPDIR/paper"
	make -s -C "$TTS_TOP" -f pipelines/paper.mk -j2 OUT="$PP" DEVICE=cpu N=2 MAX_TOKENS=6 \
		MODELS="$FIXTURES/models/llama-tied $FIXTURES/models/bamba" \
		GSM8K="$FIXTURES/gsm8k-mini.jsonl" MATH500="$FIXTURES/math-mini.jsonl" \
		TABLE1_COUNT=2 PAIRS="10 20" fig1 fig2 fig4 table1 fig3 > "$BATS_FILE_TMPDIR/paper.log" 2>&1 || true
}

paper() {
	make -s -C "$TTS_TOP" -f pipelines/paper.mk OUT="$PP" DEVICE=cpu N=2 MAX_TOKENS=6 \
		MODELS="$FIXTURES/models/llama-tied $FIXTURES/models/bamba" \
		GSM8K="$FIXTURES/gsm8k-mini.jsonl" MATH500="$FIXTURES/math-mini.jsonl" \
		TABLE1_COUNT=2 PAIRS="10 20" "$@"
}

@test "the prompt template gives the models the question and a newline" {
	need_tools
	run bash -c 'cd "$TTS_TOP" && tts-synth-ar --vocab models/tokenizer.json --values 1:9 -n 3 |
		tts-prompt -T models/prompt.txt -c none | jq -e -s "all(.prompt == .question + \"\n\")"'
	assert_success
}

@test "the training target's \\boxed{} answer extracts to the gold, AR and non-AR" {
	need_tools
	run bash -c 'cd "$TTS_TOP" && tts-synth-ar --vocab models/tokenizer.json --values 1:9 -n 20 -L 10 |
		jq -c ". + {prompt: .question}" | jq -c -f models/cot.jq | jq -c ". + {text: .completion}" |
		tts-extract -r boxed | jq -e -s "length == 40 and all(.pred == .answer)"'
	assert_success
}

@test "the AR target states each recalled key and value" {
	run bash -c 'echo "{\"task\":\"ar\",\"kv\":[[\"ox\",4],[\"cat\",2],[\"emu\",7]],\"idx\":[2,0,1],\"answer\":\"13\"}" |
		jq -r -f "$TTS_TOP/models/cot.jq" | jq -r .completion'
	assert_output 'Recall emu=7, ox=4, cat=2. 7+4=11. 11+2=13. \boxed{13}'
}

@test "demo: the pipeline runs and prints Table 1 with a column per model" {
	need_tools
	run make -s -C "$TTS_TOP" -f pipelines/demo.mk DEMO="$BATS_TEST_TMPDIR/demo" \
		MODEL_DIR="$FIXTURES/models" MODELS="llama-tied bamba" COUNT=2 N=2 PAIRS=10 FIG3_PAIRS=10 MAX_TOKENS=4
	assert_success
	assert_line --regexp '^pairs +task +method +k +bamba +llama-tied$'
	[ -s "$BATS_TEST_TMPDIR/demo/figure3.svg" ]
}

@test "demo: no model is an error that says so" {
	need_tools
	mkdir "$BATS_TEST_TMPDIR/empty"
	run --separate-stderr make -s -C "$TTS_TOP" -f pipelines/demo.mk DEMO="$BATS_TEST_TMPDIR/demo" \
		MODEL_DIR="$BATS_TEST_TMPDIR/empty"
	assert_failure
	[[ "$stderr" == *"no model in"* ]]
}

@test "paper: fig1 writes the GSM8K table and figure" {
	need_tools
	run paper fig1
	assert_success
	assert_line --regexp '^method +k +bamba +llama-tied$'
	[ -s "$PP/figure1.svg" ]
}

@test "paper: samples are kept as msgpack + zstd" {
	need_tools
	run bash -c 'head -c 4 "$PP/gsm8k/samples-bamba.msgpack.zst" | od -An -tx1 | tr -d " "'
	assert_output 28b52ffd
	run bash -c 'tts-cat "$PP/gsm8k/samples-bamba.msgpack.zst" | jq -s "length"'
	assert_output 8
}

@test "paper: fig4 (MATH500) and fig2 (against time) are written" {
	need_tools
	[ -s "$PP/figure4.svg" ] && [ -s "$PP/figure2.svg" ]
	run jq -e -s 'length > 0 and all(has("ms"))' "$PP/gsm8k/scores-ms.jsonl"
	assert_success
}

@test "paper: table1 has AR and non-AR rows at each number of pairs" {
	need_tools
	run paper table1
	assert_success
	assert_line --regexp '^10 +ar +majority +1 '
	assert_line --regexp '^20 +noar +majority +1 '
	[ -s "$PP/figure3.svg" ]
}

@test "paper: a removed vote file is remade without sampling again" {
	need_tools
	rm "$PP/math500/votes-bamba.jsonl"
	run paper -n fig4
	assert_output --partial 'tts-vote -m majority'
	refute_output --partial 'tts-generate'
}

@test "paper: fig5 without a reward model says what it needs" {
	need_tools
	run --separate-stderr paper fig5
	assert_failure
	[[ "$stderr" == *"REWARD_MODEL"* ]]
}

@test "paper: no MODELS is an error that says so" {
	run --separate-stderr make -s -C "$TTS_TOP" -f pipelines/paper.mk OUT="$BATS_TEST_TMPDIR/p" fig1
	assert_failure
	[[ "$stderr" == *"set MODELS"* ]]
}

@test "paper: fig5 scores the samples with a reward model: majority, weighted, best" {
	need_tools
	run paper REWARD_MODEL="$FIXTURES/reward/orm" fig5
	assert_success
	assert_line --regexp '^weighted +2 '
	assert_line --regexp '^best +2 '
	[ -s "$PP/figure5.svg" ]
}
