#!/usr/bin/env bats
# The bundled tiny models (models/NAME) against what transformers computed for
# them when they were trained (models/reference/NAME: expected.json and
# logits.f32, written by models/train.py): logits, greedy tokens, tokenizer,
# parameter count.  Skipped until the trained models are in models/.
load test_helper
bats_require_minimum_version 1.5.0

refs() {
	ls "$TTS_TOP"/models/reference/*/expected.json 2>/dev/null
}

need_models() {
	[ -n "$(refs)" ] || skip "no trained models in models/ yet"
}

# max over positions of max_v |ours - ref| / max_v |ref|, from two float32 files
relerr() {
	paste <(od -An -v -f -w4 "$1") <(od -An -v -f -w4 "$2") | awk -v V="$3" '
		{ p = int((NR - 1) / V); d = $1 - $2; if (d < 0) d = -d; if (d > md[p]) md[p] = d
		  r = $2 < 0 ? -$2 : $2; if (r > mr[p]) mr[p] = r; np = p }
		END { w = 0; for (i = 0; i <= np; i++) if (md[i] / mr[i] > w) w = md[i] / mr[i]; print w }'
}

@test "tiny models: the prompt logits match transformers' to 1e-4 of the largest" {
	need_models
	for e in $(refs); do
		m="$TTS_TOP/models/$(basename "$(dirname "$e")")"
		jq -c '{id: "x", prompt_ids}' "$e" |
			tts-generate -m "$m" --dump-logits "$BATS_TEST_TMPDIR/l.f32" --max-tokens 1 >/dev/null
		err=$(relerr "$BATS_TEST_TMPDIR/l.f32" "$(dirname "$e")/logits.f32" "$(jq '.logits_shape[1]' "$e")")
		echo "$m: $err"
		awk -v e="$err" 'BEGIN { exit !(e <= 1e-4) }'
	done
}

@test "tiny models: greedy tokens match transformers' while its margin is clear" {
	need_models
	for e in $(refs); do
		m="$TTS_TOP/models/$(basename "$(dirname "$e")")"
		n=$(jq '[.margins[] | . > 1e-3] | index(false) // length' "$e")
		ours=$(jq -c '{id: "x", prompt_ids}' "$e" | tts-generate -m "$m" --temperature 0 \
			--ignore-eos --max-tokens 16 --token-ids | jq -c ".token_ids[:$n]")
		[ "$ours" = "$(jq -c ".greedy_ids[:$n]" "$e")" ]
	done
}

@test "tiny models: the tokenizer gives transformers' prompt ids" {
	need_models
	for e in $(refs); do
		m="$TTS_TOP/models/$(basename "$(dirname "$e")")"
		[ "$(jq -c '{text: .prompt}' "$e" | tts-generate -m "$m" --tokenize | jq -c .ids)" = \
		  "$(jq -c .prompt_ids "$e")" ]
	done
}

@test "tiny models: parameter counts as transformers counted them" {
	need_models
	for e in $(refs); do
		m="$TTS_TOP/models/$(basename "$(dirname "$e")")"
		[ "$(tts-generate -m "$m" --inspect | jq .params)" = "$(jq .n_params "$e")" ]
	done
}
