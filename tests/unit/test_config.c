/* test_config.c — the paper's hub configurations (checkpoints.md §1.2,
 * §1.3, §7, §5.3) give the geometry checkpoints.md derives for them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "tap.h"
#include "tts.h"

static const char *llama3 =
	"{\"_name_or_path\": \"meta-llama/Meta-Llama-3-8B-Instruct\", \"architectures\": [\"LlamaForCausalLM\"],"
	" \"attention_bias\": false, \"attention_dropout\": 0.0, \"bos_token_id\": 128000, \"eos_token_id\": 128009,"
	" \"hidden_act\": \"silu\", \"hidden_size\": 4096, \"initializer_range\": 0.02, \"intermediate_size\": 14336,"
	" \"max_position_embeddings\": 8192, \"mlp_bias\": false, \"model_type\": \"llama\", \"num_attention_heads\": 32,"
	" \"num_hidden_layers\": 32, \"num_key_value_heads\": 8, \"pretraining_tp\": 1, \"rms_norm_eps\": 1e-05,"
	" \"rope_scaling\": null, \"rope_theta\": 500000.0, \"tie_word_embeddings\": false, \"torch_dtype\": \"bfloat16\","
	" \"transformers_version\": \"4.43.1\", \"use_cache\": true, \"vocab_size\": 128256}";

static char dir[64];

static void
put(const char *name, const char *text)
{
	char p[128];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	fputs(text, f);
	fclose(f);
}

static void
clear(void)
{
	char p[128];
	const char *names[] = {"config.json", "mamba_config.json", "generation_config.json"};
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, names[i]);
		unlink(p);
	}
}

static tts_model *
read_cfg(int kind)
{
	char err[512];
	enum tts_family fam;
	tts_model *m = ecalloc(1, sizeof *m);
	if (tts_config_read(dir, m, kind, &fam, err, sizeof err)) {
		printf("# %s\n", err);
		free(m);
		return NULL;
	}
	return m;
}

int
main(void)
{
	snprintf(dir, sizeof dir, "/tmp/tts-cfg-XXXXXX");
	ok(mkdtemp(dir) != NULL, "temp dir");

	/* Mamba2InLlama_0_75: mamba_config.json as on the hub. */
	put("config.json", llama3);
	put("mamba_config.json", "{\"d_model\": 4096, \"ssm_cfg\": {\"expand\": 1, \"ngroups\": 32, \"d_state\": 128},"
	    " \"rms_norm_eps\": 1e-05, \"vocab_size\": null, \"d_inner\": 4096, \"d_xb\": 1024, \"intermediate_size\": 14336,"
	    " \"hidden_act\": \"silu\", \"n_layer\": 32, \"attn_layers\": [3, 7, 11, 15, 19, 23, 27, 31]}");
	put("generation_config.json", "{\"bos_token_id\": 128000, \"eos_token_id\": [128001, 128009], \"temperature\": 0.6,"
	    " \"top_p\": 0.9}");
	tts_model *m = read_cfg(-1);
	ok(m && strcmp(m->arch, "Mamba2InLlama") == 0, "Mamba2InLlama_0_75 config reads");
	if (m) {
		int attn = 0;
		for (int i = 0; i < m->n_layers; i++)
			attn += m->layers[i].mixer == MIXER_ATTN;
		ok(attn == 8 && m->layers[3].mixer == MIXER_ATTN && m->layers[0].mixer == MIXER_MAMBA2, "8 attention layers");
		ok(m->m2_heads == 32 && m->m2_headdim == 128 && m->m2_state == 128, "H 32, P 128, N 128");
		ok(m->m2_x_groups == 8 && m->m2_b_groups == 8 && m->m2_c_groups == 32, "x, B in 8 groups, C per head");
		ok(m->m2_norm_group == 128 && m->m2_conv_dim == 6144 && m->m2_conv == 4, "norm group 128, conv 6144 x 4");
		ok(m->m2_dt_off + m->m2_heads == 10272 && m->m2_xbc_off == 4096, "in_proj rows 10272 = z 4096 + xBC 6144 + dt 32");
		ok(m->rope == ROPE_PLAIN && m->rope_theta == 500000 && m->rope_dim == 128 && m->n_kv_heads == 8,
		   "attention: theta 500000 over all 128 dims, 8 kv heads");
		ok(m->n_eos == 2 && m->eos_ids[1] == 128009 && m->bos_id == 128000 && m->gen_top_p == 0.9,
		   "stop tokens and sampling defaults from generation_config.json");
		free(m->layers);
		free(m);
	}

	/* MambaInLlama (Mamba-1), d_inner null. */
	clear();
	put("config.json", llama3);
	put("mamba_config.json", "{\"d_model\": 4096, \"ssm_cfg\": {\"expand\": 1}, \"rms_norm_eps\": 1e-05,"
	    " \"vocab_size\": null, \"d_inner\": null, \"d_xb\": 1024, \"intermediate_size\": 14336, \"hidden_act\": \"silu\","
	    " \"n_layer\": 32, \"attn_layers\": [7, 15, 23, 31]}");
	m = read_cfg(-1);
	ok(m && strcmp(m->arch, "MambaInLlama") == 0 && m->layers[0].mixer == MIXER_MAMBA1, "MambaInLlama_0_875 config reads");
	if (m) {
		ok(m->m1_d_inner == 4096 && m->m1_d_xb == 1024 && m->m1_state == 16 && m->m1_dt_rank == 256 && m->m1_conv == 4,
		   "E 4096, d_xb 1024, N 16, dt_rank 256, conv 4");
		ok(m->n_eos == 1 && m->eos_ids[0] == 128009, "eos from config.json when generation_config.json is absent");
		free(m->layers);
		free(m);
	}

	/* Bamba-9B (partial rope from attn_rotary_emb). */
	clear();
	put("config.json", "{\"architectures\": [\"BambaForCausalLM\"], \"attn_layer_indices\": [9, 18, 27],"
	    " \"attn_rotary_emb\": 64, \"hidden_size\": 4096, \"intermediate_size\": 14336, \"mamba_d_head\": 64,"
	    " \"mamba_d_state\": 128, \"mamba_n_heads\": 128, \"mamba_n_groups\": 1, \"mamba_expand\": 2,"
	    " \"num_attention_heads\": 32, \"num_key_value_heads\": 8, \"num_hidden_layers\": 32, \"vocab_size\": 128256,"
	    " \"tie_word_embeddings\": false, \"rms_norm_eps\": 1e-05, \"rope_theta\": 10000.0}");
	m = read_cfg(-1);
	ok(m && m->rope_dim == 64 && m->head_dim == 128 && m->layers[9].mixer == MIXER_ATTN && m->layers[8].mixer == MIXER_MAMBA2,
	   "Bamba-9B: rope over 64 of 128 dims, attention at 9, 18, 27");
	if (m) {
		ok(m->m2_d_inner == 8192 && m->m2_conv_dim == 8192 + 2 * 128 && m->m2_norm_group == 8192,
		   "Bamba-9B: d_inner 8192, conv 8448, gated norm over all of d_inner");
		free(m->layers);
		free(m);
	}

	/* Llama-3.1 with llama3 rope scaling, older schema. */
	clear();
	put("config.json", "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 4096, \"num_attention_heads\": 32,"
	    " \"num_key_value_heads\": 8, \"num_hidden_layers\": 32, \"vocab_size\": 128256, \"rope_theta\": 500000.0,"
	    " \"rope_scaling\": {\"factor\": 8.0, \"high_freq_factor\": 4.0, \"low_freq_factor\": 1.0,"
	    " \"original_max_position_embeddings\": 8192, \"rope_type\": \"llama3\"}}");
	m = read_cfg(-1);
	ok(m && m->rope == ROPE_LLAMA3 && m->rope_factor == 8 && m->rope_orig_max_pos == 8192 && m->rope_high_freq == 4,
	   "Llama-3.1: llama3 rope scaling from rope_scaling");
	if (m) {
		free(m->layers);
		free(m);
	}
	clear();
	put("config.json", "{\"architectures\": [\"LlamaForCausalLM\"], \"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4}}");
	m = read_cfg(-1);
	ok(m == NULL, "an unsupported rope type is refused");
	clear();
	rmdir(dir);
	return tap_done();
}
