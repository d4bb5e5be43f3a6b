/* test_forward.c — the forward pass on synthetic random models of every
 * mixer kind: prefill equals token-by-token decode, chunked prefill equals
 * one prefill, a row's logits do not depend on the batch, a forked state
 * continues like the original, the Llama path matches a naive dense
 * double-precision implementation, and packed projections (the CUDA
 * backend's) with tts_decode give exactly the plain forward's results. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "forward.h"
#include "synth.h"
#include "tap.h"

#define L_PROMPT 21

static const char *kind_name[] = { "llama", "mamba2", "mil-mamba2", "mil-mamba1", "bamba" };

/* run q tokens of one sequence; copies logits (all rows or last) to out */
static int
run(tts_engine *e, const int32_t *ids, int q, int ctx, int slot, const int32_t *blocks,
    int all, float *out)
{
	int32_t ql = q, cl = ctx, sl = slot;
	const int32_t *bl[1] = { blocks };
	tts_step st = { .n_seqs = 1, .ids = ids, .q_len = &ql, .ctx_len = &cl, .slot = &sl,
			.blocks = bl };
	int n = tts_forward(e, &st, all);
	memcpy(out, e->logits, (size_t)n * e->m->vocab * sizeof(float));
	return n;
}

static double
maxdiff(const float *a, const float *b, size_t n)
{
	double d = 0;
	for (size_t i = 0; i < n; i++)
		d = fmax(d, fabs((double)a[i] - b[i]));
	return d;
}

/* naive dense Llama forward in double: logits of the last position */
static void
naive_llama(const tts_model *m, const int32_t *ids, int n, const float *inv_freq, double *out)
{
	int D = m->d_model, hd = m->head_dim, Hq = m->n_heads, Hk = m->n_kv_heads, F = m->d_ff;
	double *h = calloc((size_t)n * D, 8), *x = calloc((size_t)n * D, 8);
	double *q = calloc((size_t)n * Hq * hd, 8), *k = calloc((size_t)n * Hk * hd, 8);
	double *v = calloc((size_t)n * Hk * hd, 8), *a = calloc((size_t)n * Hq * hd, 8);
	double *g = calloc(F, 8);
#define W(t, o, i) ((double)((const float *)(t).data)[(size_t)(o) * (t).shape[1] + (i)])
#define V1(t, i) ((double)((const float *)(t).data)[i])
	for (int t = 0; t < n; t++)
		for (int i = 0; i < D; i++)
			h[t * D + i] = W(m->embed, ids[t], i);
	for (int li = 0; li < m->n_layers; li++) {
		const tts_layer *l = &m->layers[li];
		for (int pass = 0; pass < 2; pass++) {
			const tts_tensor *nw = pass ? &l->post_norm : &l->in_norm;
			for (int t = 0; t < n; t++) {
				double ss = 0;
				for (int i = 0; i < D; i++)
					ss += h[t * D + i] * h[t * D + i];
				double r = 1 / sqrt(ss / D + m->norm_eps);
				for (int i = 0; i < D; i++)
					x[t * D + i] = h[t * D + i] * r * V1(*nw, i);
			}
			if (pass == 1) {
				for (int t = 0; t < n; t++) {
					for (int f = 0; f < F; f++) {
						double gg = 0, uu = 0;
						for (int i = 0; i < D; i++) {
							gg += W(l->gate, f, i) * x[t * D + i];
							uu += W(l->up, f, i) * x[t * D + i];
						}
						g[f] = gg / (1 + exp(-gg)) * uu;
					}
					for (int o = 0; o < D; o++) {
						double s = 0;
						for (int f = 0; f < F; f++)
							s += W(l->down, o, f) * g[f];
						h[t * D + o] += s;
					}
				}
				continue;
			}
			for (int t = 0; t < n; t++) {
				for (int o = 0; o < Hq * hd; o++) {
					double s = 0;
					for (int i = 0; i < D; i++)
						s += W(l->wq, o, i) * x[t * D + i];
					q[t * Hq * hd + o] = s;
				}
				for (int o = 0; o < Hk * hd; o++) {
					double s = 0, s2 = 0;
					for (int i = 0; i < D; i++) {
						s += W(l->wk, o, i) * x[t * D + i];
						s2 += W(l->wv, o, i) * x[t * D + i];
					}
					k[t * Hk * hd + o] = s;
					v[t * Hk * hd + o] = s2;
				}
				for (int pass2 = 0; pass2 < 2; pass2++) {
					int H = pass2 ? Hk : Hq;
					double *z = pass2 ? k : q;
					for (int hh = 0; hh < H; hh++)
						for (int i = 0; i < m->rope_dim / 2; i++) {
							double c = cos((float)t * inv_freq[i]), s = sin((float)t * inv_freq[i]);
							double *p = z + (size_t)t * H * hd + hh * hd;
							double a0 = p[i], b0 = p[i + m->rope_dim / 2];
							p[i] = a0 * c - b0 * s;
							p[i + m->rope_dim / 2] = b0 * c + a0 * s;
						}
				}
			}
			for (int t = 0; t < n; t++)
				for (int hh = 0; hh < Hq; hh++) {
					int kh = hh / (Hq / Hk);
					double sc[L_PROMPT], mx = -1e300, sum = 0;
					for (int j = 0; j <= t; j++) {
						double s = 0;
						for (int d = 0; d < hd; d++)
							s += q[(t * Hq + hh) * hd + d] * k[(j * Hk + kh) * hd + d];
						sc[j] = s / sqrt(hd);
						mx = fmax(mx, sc[j]);
					}
					for (int j = 0; j <= t; j++)
						sum += (sc[j] = exp(sc[j] - mx));
					for (int d = 0; d < hd; d++) {
						double o = 0;
						for (int j = 0; j <= t; j++)
							o += sc[j] / sum * v[(j * Hk + kh) * hd + d];
						a[(t * Hq + hh) * hd + d] = o;
					}
				}
			for (int t = 0; t < n; t++)
				for (int o = 0; o < D; o++) {
					double s = 0;
					for (int i = 0; i < Hq * hd; i++)
						s += W(l->wo, o, i) * a[t * Hq * hd + i];
					h[t * D + o] += s;
				}
		}
	}
	double ss = 0, *hl = h + (size_t)(n - 1) * D;
	for (int i = 0; i < D; i++)
		ss += hl[i] * hl[i];
	double r = 1 / sqrt(ss / D + m->norm_eps);
	for (int o = 0; o < m->vocab; o++) {
		double s = 0;
		for (int i = 0; i < D; i++)
			s += W(m->lm_head, o, i) * hl[i] * r * V1(m->final_norm, i);
		out[o] = s;
	}
	free(h); free(x); free(q); free(k); free(v); free(a); free(g);
}

static void
check_kind(enum synth_kind kind)
{
	const char *nm = kind_name[kind];
	tts_model *m = tts_model_synthetic(kind, 64, 1);
	int V = m->vocab;
	tts_engine *e = tts_engine_new(&tts_cpu_ops, m, 16, 8, 64, 128);
	int32_t ids[L_PROMPT + 1];
	for (int i = 0; i < L_PROMPT + 1; i++)
		ids[i] = (i * 37 + 11) % V;
	float *A = malloc((size_t)(L_PROMPT + 1) * V * sizeof(float));
	float *B = malloc((size_t)(L_PROMPT + 1) * V * sizeof(float));
	float *C = malloc((size_t)(L_PROMPT + 1) * V * sizeof(float));
	int32_t ba[] = { 5, 2, 9 }, bb[] = { 7, 3, 11 }, bc[] = { 0, 1, 4 };

	/* prefill all rows vs one token at a time */
	for (int s = 0; s < 3; s++)
		tts_engine_slot_zero(e, s);
	run(e, ids, L_PROMPT, L_PROMPT, 0, ba, 1, A);
	for (int t = 0; t < L_PROMPT; t++)
		run(e, ids + t, 1, t + 1, 1, bb, 0, B + (size_t)t * V);
	ok(maxdiff(A, B, (size_t)L_PROMPT * V) == 0, "%s: prefill equals token-by-token decode (max diff %g)",
	   nm, maxdiff(A, B, (size_t)L_PROMPT * V));
	/* two chunks */
	run(e, ids, 8, 8, 2, bc, 1, C);
	run(e, ids + 8, L_PROMPT - 8, L_PROMPT, 2, bc, 1, C + (size_t)8 * V);
	ok(maxdiff(A, C, (size_t)L_PROMPT * V) == 0, "%s: chunked prefill equals one prefill", nm);

	/* fork slot 0 into 4; copy the shared partial block 9 to 12 */
	int32_t bf[] = { 5, 2, 12 };
	tts_engine_slot_copy(e, 4, 0);
	tts_engine_block_copy(e, 12, 9);
	run(e, ids + L_PROMPT, 1, L_PROMPT + 1, 4, bf, 0, B);
	run(e, ids + L_PROMPT, 1, L_PROMPT + 1, 0, ba, 0, C);
	ok(maxdiff(B, C, V) == 0, "%s: forked state continues like the original", nm);

	/* batch independence: two prompts in one step vs alone */
	tts_engine_slot_zero(e, 5);
	tts_engine_slot_zero(e, 6);
	int32_t q2[2] = { 5, L_PROMPT }, c2[2] = { 5, L_PROMPT }, s2[2] = { 5, 6 };
	int32_t b5[] = { 13 }, b6[] = { 14, 15, 10 };
	const int32_t *bl[2] = { b5, b6 };
	int32_t ids2[5 + L_PROMPT];
	memcpy(ids2, ids + 3, 5 * sizeof(int32_t));
	memcpy(ids2 + 5, ids, L_PROMPT * sizeof(int32_t));
	tts_step st = { .n_seqs = 2, .ids = ids2, .q_len = q2, .ctx_len = c2, .slot = s2,
			.blocks = bl };
	tts_forward(e, &st, 0);
	ok(maxdiff(e->logits + V, A + (size_t)(L_PROMPT - 1) * V, V) == 0,
	   "%s: a sequence's logits do not depend on the batch", nm);

	if (kind == SYN_LLAMA) {
		double ref[64];
		float inv[4];
		e->ops->download(inv, e->inv_freq, sizeof inv);
		naive_llama(m, ids, L_PROMPT, inv, ref);
		double d = 0, mx = 0;
		for (int i = 0; i < V; i++) {
			d = fmax(d, fabs(A[(size_t)(L_PROMPT - 1) * V + i] - ref[i]));
			mx = fmax(mx, fabs(ref[i]));
		}
		ok(d / mx < 1e-5, "llama: matches a naive dense implementation (rel %g)", d / mx);
	}
	tts_engine_free(e);
	tts_model_synthetic_free(m);
	free(A); free(B); free(C);
}

/* A CPU backend that packs q|k|v and gate|up (as the CUDA one does): its
 * weight() copies, since forward.c frees the packed host rows; the copies
 * are freed at the end. */
static tts_ops packing;
static float *copies[256];
static int n_copies;

static tts_w *
copy_weight(const tts_tensor *t)
{
	size_t n = tts_tensor_numel(t);
	float *d = malloc(n * sizeof(float));
	tts_tensor_to_f32(t, d);
	copies[n_copies++] = d;
	tts_tensor c = *t;
	c.data = d, c.dtype = TTS_F32;
	return tts_cpu_ops.weight(&c);
}

/* packed projections and tts_decode against the plain forward + sample */
static void
check_packed_decode(enum synth_kind kind)
{
	const char *nm = kind_name[kind];
	tts_model *m = tts_model_synthetic(kind, 64, 3);
	int V = m->vocab, n = 3;
	packing = tts_cpu_ops;
	packing.pack = 1;
	packing.weight = copy_weight;
	tts_engine *ea = tts_engine_new(&tts_cpu_ops, m, 16, 4, 64, 128);
	tts_engine *eb = tts_engine_new(&packing, m, 16, 4, 64, 128);
	int32_t ids[3 * 6], q[3], c[3], sl[3], blk[3][4], ta[3], tb[3];
	const int32_t *bl[3];
	float lpa[3], lpb[3];
	tts_sample_params p[3];
	for (int s = 0; s < n; s++) {
		for (int i = 0; i < 6; i++)
			ids[s * 6 + i] = (s * 7 + i * 5 + 3) % V;
		for (int j = 0; j < 4; j++)
			blk[s][j] = s * 4 + j;
		bl[s] = blk[s], q[s] = c[s] = 6, sl[s] = s;
		p[s] = (tts_sample_params){ .temperature = 0.9f, .top_p = 0.9f, .sample = s };
		tts_engine_slot_zero(ea, s);
		tts_engine_slot_zero(eb, s);
	}
	tts_step st = { .n_seqs = n, .ids = ids, .q_len = q, .ctx_len = c, .slot = sl, .blocks = bl };
	tts_forward(ea, &st, 1);
	tts_forward(eb, &st, 1);
	double d = maxdiff(ea->logits, eb->logits, (size_t)n * 6 * V);
	int same = 1;
	for (int t = 0; t < 4; t++) {
		for (int s = 0; s < n; s++)
			q[s] = 1, c[s]++, p[s].step = t;
		st.ids = ta;
		if (t == 0)
			for (int s = 0; s < n; s++)
				ta[s] = (s * 11 + 2) % V;
		tts_forward(ea, &st, 0);
		tts_cpu_ops.sample(tb, lpb, ea->logits, p, n, V);
		tts_decode(eb, &st, p, ta, lpa);
		d = fmax(d, maxdiff(ea->logits, eb->logits, (size_t)n * V));
		for (int s = 0; s < n; s++)
			same &= ta[s] == tb[s] && lpa[s] == lpb[s];
	}
	ok(d == 0 && same, "%s: packed projections and tts_decode give the logits and tokens of "
	   "the plain forward and sample (max diff %g)", nm, d);
	tts_engine_free(ea);
	tts_engine_free(eb);
	tts_model_synthetic_free(m);
	while (n_copies > 0)
		free(copies[--n_copies]);
}

/* the blocked matmul sums each (row, output) exactly like a lone row */
static void
check_matmul(void)
{
	int O = 13, I = 37, R = 7;
	tts_tensor t = { .name = "w", .dtype = TTS_F32, .ndim = 2, .shape = { O, I } };
	float *w = malloc(sizeof(float) * O * I), *x = malloc(sizeof(float) * R * I);
	float *y = malloc(sizeof(float) * R * O), y1[13];
	for (int i = 0; i < O * I; i++)
		w[i] = sinf(i * 0.37f);
	for (int i = 0; i < R * I; i++)
		x[i] = cosf(i * 0.91f) * 3;
	t.data = w;
	tts_w *W = tts_cpu_ops.weight(&t);
	tts_cpu_ops.matmul(y, W, x, R);
	int same = 1;
	for (int r = 0; r < R; r++) {
		tts_cpu_ops.matmul(y1, W, x + r * I, 1);
		same &= memcmp(y1, y + r * O, sizeof y1) == 0;
	}
	ok(same, "matmul: a row's result does not depend on the other rows");
	tts_cpu_ops.weight_free(W);
	free(w); free(x); free(y);
}

int
main(void)
{
	check_matmul();
	for (int k = SYN_LLAMA; k <= SYN_BAMBA; k++)
		check_kind(k);
	for (int k = SYN_LLAMA; k <= SYN_BAMBA; k++)
		check_packed_decode(k);
	tts_model *m = tts_model_synthetic(SYN_LLAMA, 64, 1);
	double f1 = tts_flops(m, 0, 1, 1), f2 = tts_flops(m, 10, 1, 1);
	ok(f2 - f1 == 3 * 4.0 * 4 * 8 * 10, "flops: attention term grows with context");
	tts_model_synthetic_free(m);
	return tap_done();
}
