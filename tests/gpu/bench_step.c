/* bench_step.c — the engine's decode step end to end (kernels/forward.c on
 * the CUDA backend) on random-weight 8B-shaped models built in memory:
 * one 208-token prompt prefilled once, forked into B samples (the prompt's
 * 13 KV blocks shared, Mamba states copied), then decode steps of B rows,
 * each followed by sampling (T 0.8, top-p 0.95) on the GPU; tokens/s of
 * the steps, against the bytes a step must read at the device's copy
 * bandwidth.  No scheduler.  `steps` steps with the ops launched one by
 * one (tts_forward, then sample), then `steps` more through tts_decode, as
 * tts-generate runs them: recorded as a CUDA graph and replayed (unless
 * TTS_CUDA_GRAPHS=0).  Each timing is the mean of its steps but the first
 * 2 (and for tts_decode the 2 after a context bucket changes).
 * Usage: bench_step [B [steps [llama|mil2|mil1 ...]]] */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "forward.h"
#include "philox.h"
#include "tts.h"

#define PROMPT 208     /* 13 full KV blocks */

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint16_t *wbuf;     /* one bf16 pattern behind every matrix */

static tts_tensor
mat(int out, int in)
{
	tts_tensor t = { .name = "bench", .data = wbuf, .dtype = TTS_BF16, .ndim = 2,
			 .shape = { out, in } };
	return t;
}

static tts_tensor
vec(int n, float v)
{
	float *d = malloc((size_t)n * sizeof(float));
	for (int i = 0; i < n; i++)
		d[i] = v;
	tts_tensor t = { .name = "bench", .data = d, .dtype = TTS_F32, .ndim = 1, .shape = { n } };
	return t;
}

/* Llama-3-8B; Mamba2InLlama_1 (32 Mamba2 layers); MambaInLlama_0_50 (Mamba-1
 * on even layers) — shapes from checkpoints.md */
static tts_model *
model_8b(const char *kind)
{
	tts_model *m = calloc(1, sizeof *m);
	int D = 4096, F = 14336, V = 128256;
	snprintf(m->arch, sizeof m->arch, "bench-%s", kind);
	snprintf(m->name, sizeof m->name, "bench-%s", kind);
	m->n_layers = 32, m->d_model = D, m->vocab = V, m->d_ff = F, m->norm_eps = 1e-5f;
	m->n_heads = 32, m->n_kv_heads = 8, m->head_dim = 128, m->rope_dim = 128;
	m->rope = ROPE_PLAIN, m->rope_theta = 500000, m->max_pos = 8192, m->bos_id = -1;
	m->m2_dt_min = 0, m->m2_dt_max = INFINITY;
	m->m2_heads = 32, m->m2_headdim = 128, m->m2_state = 128, m->m2_conv = 4;
	m->m2_d_inner = 4096, m->m2_x_groups = 8, m->m2_b_groups = 8, m->m2_c_groups = 32;
	m->m2_norm_group = 128, m->m2_conv_dim = 6144;
	m->m2_z_off = 0, m->m2_xbc_off = 4096, m->m2_dt_off = 4096 + 6144;
	m->m1_d_inner = 4096, m->m1_d_xb = 1024, m->m1_state = 16, m->m1_dt_rank = 256, m->m1_conv = 4;
	m->embed = mat(V, D);
	m->lm_head = mat(V, D);
	m->final_norm = vec(D, 1);
	m->layers = calloc(32, sizeof *m->layers);
	for (int i = 0; i < 32; i++) {
		tts_layer *l = &m->layers[i];
		int attn = !strcmp(kind, "llama") || (!strcmp(kind, "mil1") && i % 2);
		l->mixer = attn ? MIXER_ATTN : !strcmp(kind, "mil1") ? MIXER_MAMBA1 : MIXER_MAMBA2;
		l->in_norm = vec(D, 1);
		if (attn) {
			l->wq = mat(4096, D), l->wk = mat(1024, D), l->wv = mat(1024, D), l->wo = mat(D, 4096);
		} else if (l->mixer == MIXER_MAMBA2) {
			l->in_proj = mat(10240 + 32, D);
			l->conv_w = vec(6144 * 4, 0.1f);
			l->conv_w.ndim = 3, l->conv_w.shape[0] = 6144, l->conv_w.shape[1] = 1;
			l->conv_w.shape[2] = 4;
			l->conv_b = vec(6144, 0), l->dt_bias = vec(32, -2), l->A_log = vec(32, 0.5f);
			l->Dskip = vec(32, 1), l->gnorm = vec(4096, 1), l->out_proj = mat(D, 4096);
		} else {
			l->m1_x = mat(1024, D), l->m1_z = mat(4096, D), l->m1_B = mat(1024, D);
			l->m1_C = mat(4096, D), l->m1_dt_down = mat(256, D), l->m1_dt_w = mat(4096, 256);
			l->m1_dt_b = vec(4096, -2);
			l->conv_w = vec(4096 * 4, 0.1f);
			l->conv_w.ndim = 3, l->conv_w.shape[0] = 4096, l->conv_w.shape[1] = 1;
			l->conv_w.shape[2] = 4;
			l->conv_b = vec(4096, 0), l->A_log = vec(4096 * 16, 0.5f);
			l->A_log.ndim = 2, l->A_log.shape[0] = 4096, l->A_log.shape[1] = 16;
			l->Dskip = vec(4096, 1), l->out_proj = mat(D, 4096);
		}
		l->has_mlp = 1;
		l->post_norm = vec(D, 1);
		l->gate = mat(F, D), l->up = mat(F, D), l->down = mat(D, F);
	}
	return m;
}

static void
bench(const tts_ops *G, const char *kind, int B, int steps, double bw)
{
	tts_model *m = model_8b(kind);
	int gen_blocks = (2 * steps + TTS_KV_BLOCK) / TTS_KV_BLOCK + 1, pb = PROMPT / TTS_KV_BLOCK;
	int n_blocks = pb + B * gen_blocks, max_ctx = PROMPT + 2 * steps + 1;
	double t0 = now();
	tts_engine *e = tts_engine_new(G, m, n_blocks, B, PROMPT > B ? PROMPT : B, max_ctx);
	G->sync();
	double t_load = now() - t0;
	int mb = e->max_blocks;
	int32_t *blk = calloc((size_t)B * mb, 4), *ids = calloc(PROMPT > B ? PROMPT : B, 4);
	const int32_t **bl = calloc(B, sizeof *bl);
	int32_t *ql = calloc(B, 4), *cl = calloc(B, 4), *sl = calloc(B, 4);
	for (int s = 0; s < B; s++) {
		for (int j = 0; j < mb; j++)
			blk[(size_t)s * mb + j] = j < pb ? j : pb + s * gen_blocks + (j - pb);
		bl[s] = blk + (size_t)s * mb;
		sl[s] = s;
	}
	for (int i = 0; i < PROMPT; i++)
		ids[i] = (i * 7919) % m->vocab;
	/* prefill sequence 0, then fork its state into every sample */
	tts_engine_slot_zero(e, 0);
	ql[0] = cl[0] = PROMPT;
	tts_step st = { .n_seqs = 1, .ids = ids, .q_len = ql, .ctx_len = cl, .slot = sl, .blocks = bl };
	t0 = now();
	tts_forward(e, &st, 0);
	G->sync();
	double t_pre = now() - t0;
	t0 = now();
	for (int s = 1; s < B; s++)
		tts_engine_slot_copy(e, s, 0);
	G->sync();
	double t_fork = now() - t0;

	tts_sample_params *p = calloc(B, sizeof *p);
	int32_t *dtok = G->alloc(B * 4);
	float *dlp = G->alloc(B * 4);
	for (int s = 0; s < B; s++) {
		p[s].temperature = 0.8f, p[s].top_p = 0.95f, p[s].sample = s;
		philox_key(1, "bench", 5, p[s].key);
		ids[s] = 5;
	}
	tts_sample_params *dp = G->alloc(B * sizeof *p);
	/* each step ends with the token download, so per-step wall times are
	 * exact; a step's context bucket (TTS_CTX_BUCKET) decides its graph */
	double t_dec = 0, t_graph = 0;
	int n_dec = 0, n_graph = 0;
	for (int t = 0; t < 2 * steps; t++) {
		for (int s = 0; s < B; s++)
			ql[s] = 1, cl[s] = PROMPT + t + 1, p[s].step = t;
		st.n_seqs = B;
		G->sync();
		t0 = now();
		if (t < steps) {
			tts_forward(e, &st, 0);
			G->sample(dtok, dlp, e->logits, p, B, m->vocab);
		} else {
			G->upload(dp, p, B * sizeof *p);
			tts_decode(e, &st, dp, dtok, dlp);
		}
		G->download(ids, dtok, B * 4);     /* the one host synchronisation a step */
		double dt = now() - t0;
		/* skipped: the first 2 steps of each kind (cuBLAS heuristics and
		 * allocations), and for tts_decode the 2 steps after a new bucket
		 * (run once, then recorded) */
		int bk = (PROMPT + t + TTS_CTX_BUCKET) / TTS_CTX_BUCKET;
		int bk2 = (PROMPT + t - 2 + TTS_CTX_BUCKET) / TTS_CTX_BUCKET;
		if (t >= 2 && t < steps)
			t_dec += dt, n_dec++;
		else if (t >= steps + 2 && bk == bk2)
			t_graph += dt, n_graph++;
	}
	t_dec /= n_dec > 0 ? n_dec : 1;
	t_graph /= n_graph > 0 ? n_graph : 1;
	G->free(dp);
	/* bytes a step must read: weights (the embedding is gathered, not read
	 * whole), KV (the prompt once, each sample's own tokens), Mamba state
	 * read + write */
	double wbytes = 0, kv = 0, state = 0;
	int ctx_mid = steps;
	for (int i = 0; i < 32; i++) {
		const tts_layer *l = &m->layers[i];
		const tts_tensor *ts[] = { &l->wq, &l->wk, &l->wv, &l->wo, &l->in_proj, &l->out_proj,
					   &l->gate, &l->up, &l->down, &l->m1_x, &l->m1_z, &l->m1_B,
					   &l->m1_C, &l->m1_dt_down, &l->m1_dt_w };
		for (size_t j = 0; j < sizeof ts / sizeof ts[0]; j++)
			if (ts[j]->data)
				wbytes += 2.0 * ts[j]->shape[0] * ts[j]->shape[1];
		if (l->mixer == MIXER_ATTN)
			kv += 2.0 * 8 * 128 * 2 * (PROMPT + (double)B * ctx_mid);
		else if (l->mixer == MIXER_MAMBA2)
			state += 2.0 * B * 32 * 128 * 128 * 4;
		else
			state += 2.0 * B * 4096 * 16 * 4;
	}
	wbytes += 2.0 * m->vocab * m->d_model;
	double floor_s = (wbytes + kv + state) / bw;
	printf("step %-5s B %3d: load %.1f s, prefill %d tokens %.1f ms, fork %.2f ms, decode step "
	       "%.2f ms = %.0f tok/s (ops one by one, %d steps), %.2f ms = %.0f tok/s (tts_decode, graphs %s, %d steps); "
	       "bytes/step %.2f GB (weights %.1f, KV %.2f, state %.2f) -> %.2f ms at %.0f GB/s = "
	       "%.0f%% / %.0f%% of that bound\n",
	       kind, B, t_load, PROMPT, t_pre * 1e3, t_fork * 1e3, t_dec * 1e3, B / t_dec, n_dec,
	       t_graph * 1e3, B / t_graph, getenv("TTS_CUDA_GRAPHS") &&
	       !strcmp(getenv("TTS_CUDA_GRAPHS"), "0") ? "off" : "on", n_graph,
	       (wbytes + kv + state) / 1e9, wbytes / 1e9, kv / 1e9, state / 1e9, floor_s * 1e3,
	       bw / 1e9, 100 * floor_s / t_dec, 100 * floor_s / t_graph);
	fflush(stdout);
	G->free(dtok);
	G->free(dlp);
	tts_engine_free(e);
	free(blk); free(ids); free(bl); free(ql); free(cl); free(sl); free(p);
	/* the model's vectors (matrices share wbuf) */
	free((void *)m->final_norm.data);
	for (int i = 0; i < 32; i++) {
		tts_layer *l = &m->layers[i];
		const void *vs[] = { l->in_norm.data, l->post_norm.data, l->conv_w.data, l->conv_b.data,
				     l->dt_bias.data, l->A_log.data, l->Dskip.data, l->gnorm.data,
				     l->m1_dt_b.data };
		for (size_t j = 0; j < sizeof vs / sizeof vs[0]; j++)
			free((void *)vs[j]);
	}
	free(m->layers);
	free(m);
}

int
main(int argc, char **argv)
{
	char err[256];
	const tts_ops *G = tts_cuda_ops(0, err, sizeof err);
	if (!G) {
		fprintf(stderr, "bench_step: %s\n", err);
		return 77;
	}
	int B = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 128;
	int steps = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 34;
	if (B < 1 || B > 1024) B = 128;
	if (steps < 3) steps = 3;
	size_t wn = (size_t)128256 * 4096;
	wbuf = malloc(wn * 2);
	for (size_t i = 0; i < wn; i++)   /* small bf16 values of both signs */
		wbuf[i] = (uint16_t)(0x3c00 + (i * 2654435761u >> 7) % 200) | (uint16_t)((i & 1) << 15);
	/* the copy bandwidth, for the bound */
	size_t cb = (size_t)1 << 30;
	void *a = G->alloc(cb), *b = G->alloc(cb);
	G->zero(a, cb);
	G->copy(b, a, cb);
	G->sync();
	double t0 = now();
	for (int i = 0; i < 10; i++)
		G->copy(b, a, cb);
	G->sync();
	double bw = 2.0 * cb * 10 / (now() - t0);
	G->free(a);
	G->free(b);
	if (argc > 3)
		for (int i = 3; i < argc; i++)
			bench(G, argv[i], B, steps, bw);
	else {
		bench(G, "llama", B, steps, bw);
		bench(G, "mil2", B, steps, bw);
		bench(G, "mil1", B, steps, bw);
	}
	free(wbuf);
	return 0;
}
