/* synth.c — tiny models with random float32 weights, described by hand
 * (no files): the engine's unit tests and tts-generate --synthetic use
 * them to exercise every mixer kind without a checkpoint. */
#include "synth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tts.h"

const char *synth_kind_name[] = { "llama", "mamba2", "mil2", "mil1", "bamba" };

int
synth_kind_parse(const char *s)
{
	for (int k = 0; k < 5; k++)
		if (!strcmp(s, synth_kind_name[k]))
			return k;
	return -1;
}

static uint64_t synth_rng;

static float
synth_uniform(void)
{
	synth_rng ^= synth_rng << 13;
	synth_rng ^= synth_rng >> 7;
	synth_rng ^= synth_rng << 17;
	return (float)((synth_rng >> 11) * 0x1p-53);
}

/* a tensor of shape (a, b) (b = 0: a vector) with values center + scale*U(-1,1) */
static tts_tensor
synth_t(int a, int b, float center, float scale)
{
	tts_tensor t = { .name = "synth", .dtype = TTS_F32, .ndim = b ? 2 : 1,
			 .shape = { a, b } };
	size_t n = (size_t)a * (b ? b : 1);
	float *d = emalloc(n * sizeof(float));
	for (size_t i = 0; i < n; i++)
		d[i] = center + scale * (2 * synth_uniform() - 1);
	t.data = d;
	return t;
}

tts_model *
tts_model_synthetic(enum synth_kind kind, int vocab, uint64_t seed)
{
	tts_model *m = ecalloc(1, sizeof *m);
	int D = 32, V = vocab, F = 48;
	synth_rng = seed * 0x9E3779B97F4A7C15ull + 88172645463325252ull;
	snprintf(m->arch, sizeof m->arch, "synthetic-%s", synth_kind_name[kind]);
	snprintf(m->name, sizeof m->name, "synthetic-%s", synth_kind_name[kind]);
	m->n_layers = 3; m->d_model = D; m->vocab = V; m->d_ff = F; m->norm_eps = 1e-5f;
	m->n_heads = 4; m->n_kv_heads = 2; m->head_dim = 8; m->rope_dim = 8;
	m->rope = ROPE_LLAMA3; m->rope_theta = 10000; m->rope_factor = 8;
	m->rope_low_freq = 1; m->rope_high_freq = 4; m->rope_orig_max_pos = 16;
	m->max_pos = 256; m->bos_id = 1; m->eos_ids[0] = 2; m->n_eos = 1;
	m->gen_temperature = -1; m->gen_top_p = -1; m->gen_top_k = -1;
	if (kind == SYN_BAMBA) { m->rope = ROPE_PLAIN; m->rope_dim = 4; }
	m->m2_dt_min = 0; m->m2_dt_max = INFINITY;
	if (kind == SYN_MAMBA2 || kind == SYN_BAMBA) {      /* HF: x per head, 2 B/C groups */
		m->m2_heads = 4; m->m2_headdim = 8; m->m2_state = 8; m->m2_conv = 4;
		m->m2_d_inner = 32; m->m2_x_groups = 4; m->m2_b_groups = 2; m->m2_c_groups = 2;
		m->m2_norm_group = 32;
	} else if (kind == SYN_MIL2) {                     /* MambaInLlama: d_xb 16 */
		m->m2_heads = 4; m->m2_headdim = 8; m->m2_state = 8; m->m2_conv = 4;
		m->m2_d_inner = 32; m->m2_x_groups = 2; m->m2_b_groups = 2; m->m2_c_groups = 4;
		m->m2_norm_group = 8;
	} else if (kind == SYN_MIL1) {
		m->m1_d_inner = 32; m->m1_d_xb = 16; m->m1_state = 4; m->m1_dt_rank = 4;
		m->m1_conv = 4;
	}
	int xd = m->m2_x_groups * m->m2_headdim, bd = m->m2_b_groups * m->m2_state;
	int cd = m->m2_c_groups * m->m2_state;
	m->m2_conv_dim = xd + bd + cd;
	m->m2_z_off = 0; m->m2_xbc_off = m->m2_d_inner;
	m->m2_dt_off = m->m2_d_inner + m->m2_conv_dim;
	m->embed = synth_t(V, D, 0, 1);
	m->final_norm = synth_t(D, 0, 1, 0.2f);
	m->lm_head = synth_t(V, D, 0, 0.3f);
	m->layers = ecalloc(m->n_layers, sizeof *m->layers);
	for (int i = 0; i < m->n_layers; i++) {
		tts_layer *l = &m->layers[i];
		int attn = kind == SYN_LLAMA || (kind != SYN_MAMBA2 && i == 1);
		l->mixer = attn ? MIXER_ATTN : kind == SYN_MIL1 ? MIXER_MAMBA1 : MIXER_MAMBA2;
		l->in_norm = synth_t(D, 0, 1, 0.2f);
		if (attn) {
			l->wq = synth_t(32, D, 0, 0.3f);
			l->wk = synth_t(16, D, 0, 0.3f);
			l->wv = synth_t(16, D, 0, 0.3f);
			l->wo = synth_t(D, 32, 0, 0.2f);
		} else if (l->mixer == MIXER_MAMBA2) {
			int H = m->m2_heads;
			l->in_proj = synth_t(m->m2_dt_off + H, D, 0, 0.3f);
			l->conv_w = synth_t(m->m2_conv_dim, m->m2_conv, 0, 0.5f);
			l->conv_w.ndim = 3; l->conv_w.shape[1] = 1; l->conv_w.shape[2] = m->m2_conv;
			l->conv_b = synth_t(m->m2_conv_dim, 0, 0, 0.1f);
			l->dt_bias = synth_t(H, 0, -1, 0.5f);
			l->A_log = synth_t(H, 0, 0.5f, 0.5f);
			l->Dskip = synth_t(H, 0, 1, 0.2f);
			l->gnorm = synth_t(m->m2_d_inner, 0, 1, 0.2f);
			l->out_proj = synth_t(D, m->m2_d_inner, 0, 0.2f);
		} else {
			int E = m->m1_d_inner, X = m->m1_d_xb, N = m->m1_state, R = m->m1_dt_rank;
			l->m1_x = synth_t(X, D, 0, 0.3f);
			l->m1_z = synth_t(E, D, 0, 0.3f);
			l->m1_B = synth_t(X, D, 0, 0.3f);
			l->m1_C = synth_t(E, D, 0, 0.3f);
			l->m1_dt_down = synth_t(R, D, 0, 0.3f);
			l->m1_dt_w = synth_t(E, R, 0, 0.3f);
			l->m1_dt_b = synth_t(E, 0, -1, 0.3f);
			l->conv_w = synth_t(E, m->m1_conv, 0, 0.5f);
			l->conv_b = synth_t(E, 0, 0, 0.1f);
			l->A_log = synth_t(E, N, 0.5f, 0.5f);
			l->Dskip = synth_t(E, 0, 1, 0.2f);
			l->out_proj = synth_t(D, E, 0, 0.2f);
		}
		l->has_mlp = kind != SYN_MAMBA2;
		if (l->has_mlp) {
			l->post_norm = synth_t(D, 0, 1, 0.2f);
			l->gate = synth_t(F, D, 0, 0.3f);
			l->up = synth_t(F, D, 0, 0.3f);
			l->down = synth_t(D, F, 0, 0.2f);
		}
	}
	return m;
}


void
tts_model_synthetic_free(tts_model *m)
{
	const tts_tensor *g[] = { &m->embed, &m->final_norm, &m->lm_head };
	for (int i = 0; i < 3; i++)
		free((void *)g[i]->data);
	for (int i = 0; i < m->n_layers; i++) {
		tts_layer *l = &m->layers[i];
		tts_tensor *all[] = { &l->in_norm, &l->wq, &l->wk, &l->wv, &l->wo, &l->in_proj,
			&l->conv_w, &l->conv_b, &l->dt_bias, &l->A_log, &l->Dskip, &l->gnorm,
			&l->out_proj, &l->m1_x, &l->m1_z, &l->m1_B, &l->m1_C, &l->m1_dt_down,
			&l->m1_dt_w, &l->m1_dt_b, &l->post_norm, &l->gate, &l->up, &l->down };
		for (size_t j = 0; j < sizeof all / sizeof all[0]; j++)
			free((void *)all[j]->data);
	}
	free(m->layers);
	free(m);
}
