/* synth_model.h — tiny tts_model descriptions with random float32 weights,
 * filled by hand, for the engine's unit tests (no loader needed). */
#ifndef SYNTH_MODEL_H
#define SYNTH_MODEL_H

#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "tts.h"

/* The loader provides these; weak float32-only stand-ins let the unit
 * tests link whether or not it is in the library. */
__attribute__((weak)) size_t
tts_tensor_numel(const tts_tensor *t)
{
	size_t n = 1;
	for (int i = 0; i < t->ndim; i++)
		n *= t->shape[i];
	return n;
}

__attribute__((weak)) void
tts_tensor_to_f32(const tts_tensor *t, float *dst)
{
	memcpy(dst, t->data, tts_tensor_numel(t) * sizeof(float));
}

static uint64_t synth_rng = 88172645463325252ull;

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
	float *d = malloc(n * sizeof(float));
	for (size_t i = 0; i < n; i++)
		d[i] = center + scale * (2 * synth_uniform() - 1);
	t.data = d;
	return t;
}

enum synth_kind { SYN_LLAMA, SYN_MAMBA2, SYN_MIL2, SYN_MIL1, SYN_BAMBA };

/* D 32, vocab 64; attention 4 heads / 2 kv heads of 8; MLP 48 */
static tts_model *
synth_model(enum synth_kind kind)
{
	tts_model *m = calloc(1, sizeof *m);
	int D = 32, V = 64, F = 48;
	m->n_layers = 3; m->d_model = D; m->vocab = V; m->d_ff = F; m->norm_eps = 1e-5f;
	m->n_heads = 4; m->n_kv_heads = 2; m->head_dim = 8; m->rope_dim = 8;
	m->rope = ROPE_LLAMA3; m->rope_theta = 10000; m->rope_factor = 8;
	m->rope_low_freq = 1; m->rope_high_freq = 4; m->rope_orig_max_pos = 16;
	m->max_pos = 256; m->bos_id = 1; m->eos_ids[0] = 2; m->n_eos = 1;
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
	m->layers = calloc(m->n_layers, sizeof *m->layers);
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

#endif
