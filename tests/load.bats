#!/usr/bin/env bats
# tts-generate's loading: --inspect on good and broken model directories.
load test_helper
bats_require_minimum_version 1.5.0

BAD="$FIXTURES/bad"
MODELS="$FIXTURES/models"

@test "inspect: a tiny safetensors Llama as one record" {
	run --separate-stderr tts-generate -m "$BAD/st-good" --inspect
	assert_success
	echo "$output" | jq -e '.arch == "LlamaForCausalLM" and .params == 728 and .layer_kinds == ["attention"]'
}

@test "inspect: geometry and tied embedding" {
	run --separate-stderr tts-generate -m "$BAD/st-good" --inspect
	echo "$output" | jq -e '.tied and .attention.heads == 2 and .attention.kv_heads == 1 and .attention.rope == "plain"'
}

@test "inspect: bf16 and f16 weights are counted by dtype" {
	run --separate-stderr tts-generate -m "$BAD/st-good-bf16" --inspect
	echo "$output" | jq -e '.dtypes == {"BF16": 11}'
}

@test "inspect: sharded safetensors with an index" {
	run --separate-stderr tts-generate -m "$BAD/st-shard-good" --inspect
	echo "$output" | jq -e '.params == 728 and .format == "safetensors"'
}

@test "inspect: pytorch_model.bin through the restricted pickle reader" {
	run --separate-stderr tts-generate -m "$BAD/bin-good" --inspect
	echo "$output" | jq -e '.format == "pytorch" and .params == 728'
}

@test "inspect: zip64 pytorch_model.bin" {
	run --separate-stderr tts-generate -m "$BAD/bin-good-zip64" --inspect
	echo "$output" | jq -e '.params == 728'
}

@test "inspect --tensors lists every tensor with dtype and shape" {
	run --separate-stderr tts-generate -m "$BAD/st-good" --inspect --tensors
	echo "$output" | jq -e '.tensors["model.layers.0.self_attn.k_proj.weight"] == {"dtype": "F32", "shape": [4, 8]}'
}

@test "inspect: a hostile pickle is refused, naming the global" {
	run --separate-stderr tts-generate -m "$BAD/bin-evil-os-system" --inspect
	assert_failure 1
	[[ "$stderr" == *"data.pkl: refusing global os.system"* ]]
	[ -z "$output" ]
}

@test "inspect: a pickle calling builtins.eval is refused" {
	run --separate-stderr tts-generate -m "$BAD/bin-evil-builtins-eval" --inspect
	assert_failure 1
	[[ "$stderr" == *"refusing global builtins.eval"* ]]
}

@test "inspect: truncated safetensors is refused" {
	run --separate-stderr tts-generate -m "$BAD/st-truncated" --inspect
	assert_failure 1
	[[ "$stderr" == *"model.safetensors: "*"outside the"*"data bytes of the file"* ]]
}

@test "inspect: header length past the end of the file" {
	run --separate-stderr tts-generate -m "$BAD/st-hdrlen-huge" --inspect
	assert_failure 1
	[[ "$stderr" == *"header length 1099511627776 runs past the end of the file"* ]]
}

@test "inspect: dtype x shape disagreeing with the byte length" {
	run --separate-stderr tts-generate -m "$BAD/st-shape-mismatch" --inspect
	assert_failure 1
	[[ "$stderr" == *"F32 [16, 9] is 144 elements = 576 bytes"* ]]
}

@test "inspect: overlapping tensors" {
	run --separate-stderr tts-generate -m "$BAD/st-overlap" --inspect
	assert_failure 1
	[[ "$stderr" == *"overlap"* ]]
}

@test "inspect: a shape that disagrees with config.json" {
	run --separate-stderr tts-generate -m "$BAD/st-wrong-shape" --inspect
	assert_failure 1
	[[ "$stderr" == *"k_proj.weight: shape [8, 8], but config.json implies [4, 8]"* ]]
}

@test "inspect: a missing tensor is named" {
	run --separate-stderr tts-generate -m "$BAD/st-missing-tensor" --inspect
	assert_failure 1
	[[ "$stderr" == *"tensor model.layers.0.mlp.up_proj.weight [16, 8] is missing"* ]]
}

@test "inspect: an unknown architecture is named" {
	run --separate-stderr tts-generate -m "$BAD/cfg-unknown-arch" --inspect
	assert_failure 1
	[[ "$stderr" == *"architecture GPT2LMHeadModel is not supported"* ]]
}

@test "inspect: compressed storages are refused" {
	run --separate-stderr tts-generate -m "$BAD/bin-compressed" --inspect
	assert_failure 1
	[[ "$stderr" == *"compressed"* ]]
}

@test "no mode: generation, which reads prompt records (none here: no output)" {
	run --separate-stderr tts-generate -m "$FIXTURES/models/llama-tied" </dev/null
	assert_success
	assert_output ""
}

@test "-h prints usage on stdout" {
	run --separate-stderr tts-generate -h
	assert_success
	[[ "$output" == usage:* ]]
}

@test "inspect writes msgpack with -f" {
	run bash -c 'tts-generate -m "$1" --inspect -f msgpack | od -An -c | head -1' _ "$BAD/st-good"
	assert_success
	[ -n "$output" ]
}

@test "inspect to a full disk fails" {
	run --separate-stderr tts-generate -m "$BAD/st-good" --inspect -o /dev/full
	assert_failure
}

# The checkpoints transformers wrote (tests/fixtures/models, from the GPU run).
models() {
	[ -d "$MODELS" ] || skip "no tests/fixtures/models yet (make_fixtures.py on the GPU machine)"
	for d in "$MODELS"/*/; do [ -f "$d/expected.json" ] && basename "$d"; done
}

@test "fixture checkpoints: every tensor's dtype and shape as transformers saved them" {
	for m in $(models); do
		run --separate-stderr tts-generate -m "$MODELS/$m" --inspect --tensors
		[ "$status" -eq 0 ] || { echo "$m: $stderr"; return 1; }
		echo "$output" > "$BATS_TEST_TMPDIR/got.json"
		jq -e --slurpfile e "$MODELS/$m/expected.json" '
			($e[0].tensors | to_entries | map(select(.value[0] != null)) |
			 map({key, value: .value[1]}) | from_entries) as $want
			| [.tensors | to_entries[] | select($want[.key] != null and $want[.key] != .value.shape)] == []
			and ([$want | keys[] | select(endswith("lm_head.weight") | not)] - [.tensors | keys[]] == [])
		' "$BATS_TEST_TMPDIR/got.json" || { echo "$m: tensors differ"; return 1; }
	done
}

@test "fixture checkpoints: parameter counts equal transformers'" {
	for m in $(models); do
		p=$(tts-generate -m "$MODELS/$m" --inspect | jq .params)
		e=$(jq .n_params "$MODELS/$m/expected.json")
		[ "$p" = "$e" ] || { echo "$m: $p != $e"; return 1; }
	done
}

@test "fixture checkpoints: the older config schema reads the same as the current one" {
	for m in llama3-untied llama-tied; do
		[ -f "$MODELS/$m/config.old.json" ] || skip "no $m fixture"
		cp -r "$MODELS/$m" "$BATS_TEST_TMPDIR/$m"
		cp "$MODELS/$m/config.old.json" "$BATS_TEST_TMPDIR/$m/config.json"
		a=$(tts-generate -m "$MODELS/$m" --inspect)
		b=$(tts-generate -m "$BATS_TEST_TMPDIR/$m" --inspect)
		[ "$a" = "$b" ] || { echo "$a"; echo "$b"; return 1; }
	done
}

@test "fixture checkpoints: llama3 rope scaling and Bamba's partial rope" {
	[ -d "$MODELS/bamba" ] || skip "no fixtures"
	run bash -c 'tts-generate -m "$1/llama3-untied" --inspect | jq -c .attention.rope_scaling' _ "$MODELS"
	assert_output '{"factor":8,"low_freq_factor":1,"high_freq_factor":4,"original_max_position_embeddings":32}'
	run bash -c 'tts-generate -m "$1/bamba" --inspect | jq -c "[.attention.rope_dim, .attention.head_dim, .layer_kinds]"' _ "$MODELS"
	assert_output '[8,16,["mamba2","attention","mamba2"]]'
}

@test "fixture checkpoints: Mamba2 groups and the time_step_limit clamp" {
	[ -d "$MODELS/mamba2-g2" ] || skip "no fixtures"
	run bash -c 'tts-generate -m "$1/mamba2-g2" --inspect | jq -c ".mamba2 | [.b_groups, .c_groups, .norm_group, .dt_limit]"' _ "$MODELS"
	assert_output '[2,2,128,[0,0.5]]'
}
