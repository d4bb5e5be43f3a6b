/* check_ops.c — `make check-gpu`: every op of the CUDA backend against its
 * kernels/cpu twin (the oracle) on fresh random inputs, at the 8B shapes
 * (d_model 4096, 32/8 heads of 128, ff 14336, Mamba2InLlama H 32 P 128
 * N 128 with 8 x/B groups, Mamba-1 E 4096 N 16, vocab 128256) and at
 * awkward sizes that are not multiples of any tile; GPU outputs are
 * poisoned with NaN before each run.  Then the forward pass end to end on
 * synthetic models of every mixer kind, and the sampler token for token.
 *
 * Error: max |gpu - cpu| / max |cpu| over the output.  Tolerances, per op:
 * - Inputs the GPU stores in bf16 (weights, the KV cache, matmul inputs)
 *   are made bf16-representable first, so both sides compute on the same
 *   numbers and only the float32 summation order and the exp/sin
 *   implementations differ: 1e-5 for exact-arithmetic ops (norms, rope,
 *   elementwise), 1e-4 where long sums or exp chains run (matmul over
 *   14336 terms, attention softmax, the SSD/Mamba-1 recurrences over tens
 *   of tokens), 0 for pure copies.
 * - matmul with raw float32 x (rounded to bf16 by the backend: relative
 *   error 2^-9 per element, random in sign, so about 2^-9 of the result's
 *   scale): 1e-2.
 * - the forward pass with bf16 weights but float32 activations rounded at
 *   every projection input: 3e-2 over a 3-layer model, and the greedy
 *   token must agree wherever the CPU's top-2 margin exceeds 1 % of the
 *   largest logit.
 * - sampling: the same token for every (seed, id, sample, step), logprob
 *   within 1e-4 (it is computed in double on both sides).
 * Exit: 0 all pass, 1 a failure, 77 no CUDA device (or not built). */
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cpu/cpu.h"     /* struct tts_w of the CPU backend, for the bf16 emulation */
#include "forward.h"
#include "ops.h"
#include "philox.h"
#include "synth.h"
#include "tts.h"
#include "../fixtures_util.h"

static float
bf16_to_f(uint16_t h)
{
	uint32_t u = (uint32_t)h << 16;
	float f;
	memcpy(&f, &u, 4);
	return f;
}

/* ---- random inputs, bf16 rounding ---- */

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static float
uni(void)   /* U(-1, 1) */
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (float)((rng >> 11) * 0x1p-52) - 1.0f;
}

static uint16_t
f_to_bf16(float f)   /* round to nearest even */
{
	uint32_t u;
	memcpy(&u, &f, 4);
	u += 0x7fff + ((u >> 16) & 1);
	return (uint16_t)(u >> 16);
}

static float
round_bf16(float f)
{
	return bf16_to_f(f_to_bf16(f));
}

static float *
rnd(size_t n, float center, float scale, int bf)
{
	float *a = emalloc(n * sizeof(float) + 4);
	for (size_t i = 0; i < n; i++) {
		a[i] = center + scale * uni();
		if (bf)
			a[i] = round_bf16(a[i]);
	}
	return a;
}

/* ---- the two backends ---- */

static const tts_ops *C, *G;
static int n_fail, n_pass;

static void *
gdup(const void *h, size_t bytes)
{
	void *d = G->alloc(bytes);
	G->upload(d, h, bytes);
	return d;
}

static void *
cdup(const void *h, size_t bytes)
{
	void *d = C->alloc(bytes);
	memcpy(d, h, bytes);
	return d;
}

/* a GPU buffer of n floats, NaN-filled */
static float *
gpoison(size_t n)
{
	float *h = emalloc(n * sizeof(float) + 4);
	for (size_t i = 0; i < n; i++)
		h[i] = NAN;
	float *d = gdup(h, n * sizeof(float));
	free(h);
	return d;
}

static void
gpoison_into(void *d, size_t n)
{
	float *h = emalloc(n * sizeof(float) + 4);
	for (size_t i = 0; i < n; i++)
		h[i] = NAN;
	G->upload(d, h, n * sizeof(float));
	free(h);
}

static float *
fetch(const void *d, size_t n)
{
	float *h = emalloc(n * sizeof(float) + 4);
	G->download(h, d, n * sizeof(float));
	return h;
}

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* GPU time of a statement: 3 runs after a warm one, in microseconds */
#define GTIME(us, stmt) do { stmt; G->sync(); double t0_ = now(); \
	for (int k_ = 0; k_ < 3; k_++) { stmt; } G->sync(); (us) = (now() - t0_) / 3 * 1e6; } while (0)

/* one table row; counts the result */
static void
verdict(const char *op, const char *shape, double err, double tol, double us, int ok)
{
	ok ? n_pass++ : n_fail++;
	printf("%-14s %-44s %10.3e %8.0e %10.1f  %s\n", op, shape, err, tol, us, ok ? "ok" : "FAIL");
	fflush(stdout);
}

static void
report(const char *op, const char *shape, const float *ref, const float *got, size_t n,
       double tol, double us)
{
	double d = 0, mx = 0;
	int bad = 0;
	for (size_t i = 0; i < n; i++) {
		if (isnan(got[i]) != isnan(ref[i])) {
			bad = 1;
			continue;
		}
		if (isnan(ref[i]))
			continue;
		d = fmax(d, fabs((double)got[i] - ref[i]));
		mx = fmax(mx, fabs((double)ref[i]));
	}
	double err = bad ? INFINITY : mx > 0 ? d / mx : d;
	verdict(op, shape, err, tol, us, err <= tol);
}

/* compare a GPU buffer against a CPU one */
static void
cmp(const char *op, const char *shape, const float *cref, const void *g, size_t n, double tol,
    double us)
{
	float *h = fetch(g, n);
	report(op, shape, cref, h, n, tol, us);
	free(h);
}

/* ---- weights: a host tensor in bf16, f16 or f32 holding bf16 values ---- */

static tts_tensor
tensor(const float *v, int out, int in, enum tts_dtype dt)
{
	size_t n = (size_t)out * in;
	tts_tensor t = { .name = "test", .dtype = dt, .ndim = 2, .shape = { out, in } };
	if (dt == TTS_F32) {
		t.data = cdup(v, n * sizeof(float));
	} else {
		uint16_t *h = emalloc(n * 2 + 2);
		for (size_t i = 0; i < n; i++) {
			if (dt == TTS_BF16) {
				h[i] = f_to_bf16(v[i]);
			} else {   /* f16: exact for bf16 values of moderate size */
				float f = v[i];
				uint32_t u;
				memcpy(&u, &f, 4);
				int e = (int)((u >> 23) & 255) - 127;
				uint16_t s = (u >> 16) & 0x8000;
				if (f == 0 || e < -14)
					h[i] = s;
				else
					h[i] = s | (uint16_t)((e + 15) << 10) | (uint16_t)((u >> 13) & 1023);
			}
		}
		t.data = h;
	}
	return t;
}

static void
check_matmul(int out, int in, int rows, enum tts_dtype dt, int bf_x, double tol)
{
	float *W = rnd((size_t)out * in, 0, 0.05f, 1), *x = rnd((size_t)rows * in, 0, 1, bf_x);
	tts_tensor t = tensor(W, out, in, dt);
	tts_w *wc = C->weight(&t), *wg = G->weight(&t);
	float *yc = C->alloc((size_t)rows * out * 4), *xg = gdup(x, (size_t)rows * in * 4);
	float *yg = gpoison((size_t)rows * out);
	C->matmul(yc, wc, x, rows);
	G->matmul(yg, wg, xg, rows);
	double us;
	GTIME(us, G->matmul(yg, wg, xg, rows));
	char sh[96];
	snprintf(sh, sizeof sh, "%dx%d rows %d %s%s", out, in, rows,
		 dt == TTS_BF16 ? "bf16" : dt == TTS_F16 ? "f16" : "f32", bf_x ? "" : " raw-x");
	cmp("matmul", sh, yc, yg, (size_t)rows * out, tol, us);
	C->weight_free(wc); G->weight_free(wg);
	free((void *)t.data); free(W); free(x); C->free(yc); G->free(xg); G->free(yg);
}

static void
check_embed(int V, int D, int rows)
{
	float *E = rnd((size_t)V * D, 0, 1, 1);
	tts_tensor t = tensor(E, V, D, TTS_BF16);
	tts_w *ec = C->weight(&t), *eg = G->weight(&t);
	int32_t *ids = emalloc(rows * 4);
	for (int r = 0; r < rows; r++)
		ids[r] = r == 0 ? V - 1 : (int32_t)((uni() + 1) / 2 * (V - 1));
	int32_t *idg = gdup(ids, rows * 4);
	float *yc = C->alloc((size_t)rows * D * 4), *yg = gpoison((size_t)rows * D);
	C->embed(yc, ec, ids, rows);
	G->embed(yg, eg, idg, rows);
	char sh[64];
	snprintf(sh, sizeof sh, "V %d D %d rows %d", V, D, rows);
	cmp("embed", sh, yc, yg, (size_t)rows * D, 0, 0);
	C->weight_free(ec); G->weight_free(eg);
	free((void *)t.data); free(E); free(ids); G->free(idg); C->free(yc); G->free(yg);
}

static void
check_rows_ops(int rows, int dim)
{
	size_t n = (size_t)rows * dim;
	char sh[64];
	snprintf(sh, sizeof sh, "rows %d dim %d", rows, dim);
	float *x = rnd(n, 0, 2, 0), *u = rnd(n, 0, 3, 0), *w = rnd(dim, 1, 0.3f, 0);
	float *xg = gdup(x, n * 4), *ug = gdup(u, n * 4), *wg = gdup(w, dim * 4);
	float *yc = emalloc(n * 4), *yg = gpoison(n);
	double us;

	C->rmsnorm(yc, x, w, rows, dim, 1e-5f);
	G->rmsnorm(yg, xg, wg, rows, dim, 1e-5f);
	GTIME(us, G->rmsnorm(yg, xg, wg, rows, dim, 1e-5f));
	cmp("rmsnorm", sh, yc, yg, n, 1e-5, us);
	/* in place */
	float *xc = cdup(x, n * 4), *xg2 = gdup(x, n * 4);
	C->rmsnorm(xc, xc, w, rows, dim, 1e-5f);
	G->rmsnorm(xg2, xg2, wg, rows, dim, 1e-5f);
	cmp("rmsnorm y=x", sh, xc, xg2, n, 1e-5, 0);

	memcpy(xc, x, n * 4);
	G->upload(xg2, x, n * 4);
	C->add(xc, u, n);
	G->add(xg2, ug, n);
	GTIME(us, G->add(yg, ug, n));
	cmp("add", sh, xc, xg2, n, 1e-6, us);

	memcpy(xc, x, n * 4);
	G->upload(xg2, x, n * 4);
	C->add_bias(xc, w, rows, dim);
	G->add_bias(xg2, wg, rows, dim);
	cmp("add_bias", sh, xc, xg2, n, 1e-6, 0);

	gpoison_into(yg, n);
	C->swiglu(yc, x, u, rows, dim);
	G->swiglu(yg, xg, ug, rows, dim);
	GTIME(us, G->swiglu(yg, xg, ug, rows, dim));
	cmp("swiglu", sh, yc, yg, n, 1e-5, us);
	/* y = g in place */
	memcpy(xc, x, n * 4);
	G->upload(xg2, x, n * 4);
	C->swiglu(xc, xc, u, rows, dim);
	G->swiglu(xg2, xg2, ug, rows, dim);
	cmp("swiglu y=g", sh, xc, xg2, n, 1e-5, 0);

	/* SwiGLU of packed [gate | up] rows: x as the gate, u as the up half */
	float *gu = emalloc(2 * n * 4);
	for (int r = 0; r < rows; r++) {
		memcpy(gu + (size_t)r * 2 * dim, x + (size_t)r * dim, dim * 4);
		memcpy(gu + (size_t)r * 2 * dim + dim, u + (size_t)r * dim, dim * 4);
	}
	float *gug = gdup(gu, 2 * n * 4);
	gpoison_into(yg, n);
	C->swiglu_gu(yc, gu, rows, dim);
	G->swiglu_gu(yg, gug, rows, dim);
	GTIME(us, G->swiglu_gu(yg, gug, rows, dim));
	cmp("swiglu_gu", sh, yc, yg, n, 1e-5, us);
	free(gu);
	G->free(gug);

	/* the residual add and the next norm in one pass */
	float *hc = cdup(x, n * 4), *hg = gdup(x, n * 4);
	gpoison_into(yg, n);
	C->add_rmsnorm(hc, u, yc, w, rows, dim, 1e-5f);
	G->add_rmsnorm(hg, ug, yg, wg, rows, dim, 1e-5f);
	cmp("add_rmsnorm h", sh, hc, hg, n, 1e-6, 0);
	cmp("add_rmsnorm", sh, yc, yg, n, 1e-5, 0);
	float *tg = gpoison(n);
	GTIME(us, G->add_rmsnorm(xg2, ug, tg, wg, rows, dim, 1e-5f));
	verdict("add_rmsnorm", "time", 0, 0, us, 1);
	G->free(tg);

	free(x); free(u); free(w); free(yc); C->free(xc); C->free(hc);
	G->free(xg); G->free(ug); G->free(wg); G->free(yg); G->free(xg2); G->free(hg);
}

static void
check_gather_repeat(int rows, int groups, int width, int rep)
{
	int dim = groups * width;
	size_t n = (size_t)rows * dim, no = n * rep;
	float *x = rnd(n, 0, 1, 0), *xg = gdup(x, n * 4);
	float *yc = emalloc(no * 4), *yg = gpoison(no);
	char sh[64];
	snprintf(sh, sizeof sh, "rows %d groups %d width %d rep %d", rows, groups, width, rep);
	C->repeat_groups(yc, x, rows, groups, width, rep);
	G->repeat_groups(yg, xg, rows, groups, width, rep);
	cmp("repeat_groups", sh, yc, yg, no, 0, 0);

	int n_idx = rows / 2 + 1;
	int32_t *idx = emalloc(n_idx * 4);
	for (int i = 0; i < n_idx; i++)
		idx[i] = (i * 7 + 3) % rows;
	int32_t *idg = gdup(idx, n_idx * 4);
	gpoison_into(yg, (size_t)n_idx * dim);
	C->gather_rows(yc, x, idx, n_idx, dim);
	G->gather_rows(yg, xg, idg, n_idx, dim);
	snprintf(sh, sizeof sh, "%d of %d rows, dim %d", n_idx, rows, dim);
	cmp("gather_rows", sh, yc, yg, (size_t)n_idx * dim, 0, 0);
	/* in place, as the forward pass uses it (idx[i] >= i: the CPU's row by
	 * row memmove then never reads a row it has overwritten) */
	for (int i = 0; i < n_idx; i++)
		idx[i] = i + (i * 5 + 1) % (rows - n_idx + 1);
	G->upload(idg, idx, n_idx * 4);
	float *xc = cdup(x, n * 4);
	C->gather_rows(xc, xc, idx, n_idx, dim);
	G->gather_rows(xg, xg, idg, n_idx, dim);
	cmp("gather y=x", sh, xc, xg, (size_t)n_idx * dim, 0, 0);
	free(x); free(yc); free(idx); C->free(xc); G->free(xg); G->free(yg); G->free(idg);
}

static void
check_rope(int rows, int heads, int hd, int rot, double theta, int maxpos)
{
	size_t n = (size_t)rows * heads * hd;
	float *x = rnd(n, 0, 1, 0), *inv = emalloc(rot / 2 * 4 + 4);
	for (int i = 0; i < rot / 2; i++)
		inv[i] = (float)pow(theta, -2.0 * i / rot);
	int32_t *pos = emalloc(rows * 4);
	for (int r = 0; r < rows; r++)
		pos[r] = r == 0 ? maxpos : (int32_t)((uni() + 1) / 2 * maxpos);
	float *xg = gdup(x, n * 4), *ig = gdup(inv, rot / 2 * 4);
	int32_t *pg = gdup(pos, rows * 4);
	C->rope(x, pos, rows, heads, hd, rot, inv);
	G->rope(xg, pg, rows, heads, hd, rot, ig);
	char sh[96];
	snprintf(sh, sizeof sh, "rows %d heads %d hd %d rot %d pos<=%d", rows, heads, hd, rot, maxpos);
	cmp("rope", sh, x, xg, n, 1e-5, 0);

	/* split_rope: packed q|k|v rows (heads q heads, heads/4 + 1 kv heads) */
	int hk = heads / 4 + 1;
	size_t w = (size_t)(heads + 2 * hk) * hd, qn = (size_t)rows * heads * hd;
	size_t kn = (size_t)rows * hk * hd;
	float *pk = rnd(rows * w, 0, 1, 0), *pkg = gdup(pk, rows * w * 4);
	float *qc = emalloc(qn * 4), *kc = emalloc(kn * 4), *vc = emalloc(kn * 4);
	float *qg = gpoison(qn), *kg = gpoison(kn), *vg = gpoison(kn);
	for (int with = 1; with >= 0; with--) {
		C->split_rope(qc, kc, vc, pk, pos, rows, heads, hk, hd, rot, with ? inv : NULL);
		G->split_rope(qg, kg, vg, pkg, pg, rows, heads, hk, hd, rot, with ? ig : NULL);
		snprintf(sh, sizeof sh, "rows %d heads %d+%d hd %d rot %d%s", rows, heads, hk, hd, rot,
			 with ? "" : " no rope");
		cmp("split_rope q", sh, qc, qg, qn, 1e-5, 0);
		cmp("split_rope k", sh, kc, kg, kn, 1e-5, 0);
		cmp("split_rope v", sh, vc, vg, kn, 0, 0);
	}
	free(pk); free(qc); free(kc); free(vc);
	G->free(pkg); G->free(qg); G->free(kg); G->free(vg);
	free(x); free(inv); free(pos); G->free(xg); G->free(ig); G->free(pg);
}

/* ---- batches: host arrays for the CPU, uploaded copies for the GPU ---- */

typedef struct {
	tts_batch c, g;
	int32_t *h, *d;
} bpair;

/* block ids: sequence s's j-th block is a scrambled unique id < n_blocks */
static bpair
mk_batch(int n, const int *q_len, const int *ctx_len, const int *slot, int max_blocks,
	 const int32_t *bt)
{
	int rows = 0, maxq = 0, maxc = 0;
	for (int s = 0; s < n; s++) {
		rows += q_len[s];
		maxq = q_len[s] > maxq ? q_len[s] : maxq;
		maxc = ctx_len[s] > maxc ? ctx_len[s] : maxc;
	}
	size_t nh = 4 * (size_t)n + 3 * (size_t)rows + (size_t)n * max_blocks;
	int32_t *h = ecalloc(nh + 1, 4);
	int32_t *qs = h, *ql = h + n, *cl = h + 2 * n, *sl = h + 3 * n, *pos = h + 4 * n;
	int32_t *kv = pos + rows, *sor = kv + rows, *btab = sor + rows;
	int r = 0;
	for (int s = 0; s < n; s++) {
		qs[s] = r, ql[s] = q_len[s], cl[s] = ctx_len[s], sl[s] = slot ? slot[s] : s;
		for (int i = 0; i < q_len[s]; i++, r++) {
			int p = ctx_len[s] - q_len[s] + i;
			pos[r] = p;
			sor[r] = s;
			kv[r] = bt ? bt[(size_t)s * max_blocks + p / TTS_KV_BLOCK] * TTS_KV_BLOCK +
				p % TTS_KV_BLOCK : 0;
		}
	}
	if (bt)
		memcpy(btab, bt, (size_t)n * max_blocks * 4);
	bpair b;
	b.h = h;
	b.d = gdup(h, nh * 4 + 4);
	tts_batch t = { .n_seqs = n, .rows = rows, .max_blocks = max_blocks, .max_q_len = maxq,
			.max_ctx = maxc };
	b.c = b.g = t;
	int32_t *base[2] = { h, b.d };
	tts_batch *o[2] = { &b.c, &b.g };
	for (int k = 0; k < 2; k++) {
		int32_t *B = base[k];
		o[k]->q_start = B, o[k]->q_len = B + n, o[k]->ctx_len = B + 2 * n;
		o[k]->slot = B + 3 * n, o[k]->pos = B + 4 * n, o[k]->kv_slot = B + 4 * n + rows;
		o[k]->seq_of_row = B + 4 * n + 2 * rows, o[k]->block_table = B + 4 * n + 3 * rows;
	}
	return b;
}

static void
free_batch(bpair *b)
{
	free(b->h);
	G->free(b->d);
}

static float *
bf16_cache_to_f(const void *g, size_t n)
{
	uint16_t *h = emalloc(n * 2 + 2);
	G->download(h, g, n * 2);
	float *f = emalloc(n * 4 + 4);
	for (size_t i = 0; i < n; i++)
		f[i] = bf16_to_f(h[i]);
	free(h);
	return f;
}

/* n sequences with q_len/ctx_len; KV for positions before the step written
 * by a first kv_write of the earlier tokens */
static void
check_attention_shared(const char *what, int n, const int *q_len, const int *ctx_len, int Hq,
		       int Hk, int hd, int shared, int n_share);

static void
check_attention(const char *what, int n, const int *q_len, const int *ctx_len, int Hq, int Hk,
		int hd)
{
	check_attention_shared(what, n, q_len, ctx_len, Hq, Hk, hd, 0, 0);
}

/* shared > 0: the first `shared` blocks of sequences 1 .. n_share-1 are
 * sequence 0's (a prompt's samples after the fork), written once; the
 * sequences from n_share on have their own */
static void
check_attention_shared(const char *what, int n, const int *q_len, const int *ctx_len, int Hq,
		       int Hk, int hd, int shared, int n_share)
{
	int mb = 0, total_blocks = 0;
	for (int s = 0; s < n; s++) {
		int nb = (ctx_len[s] + TTS_KV_BLOCK - 1) / TTS_KV_BLOCK;
		mb = nb > mb ? nb : mb;
		total_blocks += nb;
	}
	int n_blocks = total_blocks + 3;
	int32_t *bt = ecalloc((size_t)n * mb + 1, 4);
	/* a scrambled permutation of the blocks */
	int b = 0;
	for (int s = 0; s < n; s++)
		for (int j = 0; j < (ctx_len[s] + TTS_KV_BLOCK - 1) / TTS_KV_BLOCK; j++, b++)
			bt[(size_t)s * mb + j] = (int32_t)(((long)b * 7919 + 5) % n_blocks);
	/* 7919 is prime and n_blocks is not a multiple of it: a permutation */
	for (int s = 1; s < n_share; s++)
		for (int j = 0; j < shared; j++)
			bt[(size_t)s * mb + j] = bt[j];
	void *kcc = C->kv_alloc(n_blocks, Hk, hd), *vcc = C->kv_alloc(n_blocks, Hk, hd);
	void *kcg = G->kv_alloc(n_blocks, Hk, hd), *vcg = G->kv_alloc(n_blocks, Hk, hd);
	size_t cache_n = (size_t)n_blocks * Hk * TTS_KV_BLOCK * hd;

	/* write the whole context (as a prefill of every sequence would); the
	 * shared blocks only once, by sequence 0 */
	int *wq = emalloc(n * sizeof(int));
	for (int s = 0; s < n; s++)
		wq[s] = s && s < n_share ? ctx_len[s] - shared * TTS_KV_BLOCK : ctx_len[s];
	bpair full = mk_batch(n, wq, ctx_len, NULL, mb, bt);
	free(wq);
	int R = full.c.rows;
	float *k = rnd((size_t)R * Hk * hd, 0, 1, 1), *v = rnd((size_t)R * Hk * hd, 0, 1, 1);
	float *kg = gdup(k, (size_t)R * Hk * hd * 4), *vg = gdup(v, (size_t)R * Hk * hd * 4);
	C->kv_write(kcc, vcc, k, v, &full.c, Hk, hd);
	G->kv_write(kcg, vcg, kg, vg, &full.g, Hk, hd);
	char sh[128];
	snprintf(sh, sizeof sh, "%s %d/%d hd %d, %d rows", what, Hq, Hk, hd, R);
	float *kf = bf16_cache_to_f(kcg, cache_n), *vf = bf16_cache_to_f(vcg, cache_n);
	report("kv_write k", sh, kcc, kf, cache_n, 0, 0);
	report("kv_write v", sh, vcc, vf, cache_n, 0, 0);
	free(kf); free(vf);

	/* the step: the last q_len tokens of each sequence */
	bpair st = mk_batch(n, q_len, ctx_len, NULL, mb, bt);
	int rows = st.c.rows;
	size_t qn = (size_t)rows * Hq * hd;
	float *q = rnd(qn, 0, 1, 0), *qg = gdup(q, qn * 4);
	float *oc = emalloc(qn * 4), *og = gpoison(qn);
	C->attention(oc, q, kcc, vcc, &st.c, Hq, Hk, hd);
	G->attention(og, qg, kcg, vcg, &st.g, Hq, Hk, hd);
	double us;
	GTIME(us, G->attention(og, qg, kcg, vcg, &st.g, Hq, Hk, hd));
	snprintf(sh, sizeof sh, "%s %d/%d hd %d rows %d ctx<=%d", what, Hq, Hk, hd, rows,
		 st.c.max_ctx);
	cmp("attention", sh, oc, og, qn, 1e-4, us);

	/* copy-on-write of a block */
	C->kv_copy_block(kcc, vcc, n_blocks - 1, bt[0], Hk, hd);
	G->kv_copy_block(kcg, vcg, n_blocks - 1, bt[0], Hk, hd);
	kf = bf16_cache_to_f(kcg, cache_n), vf = bf16_cache_to_f(vcg, cache_n);
	report("kv_copy_block", what, kcc, kf, cache_n, 0, 0);
	report("kv_copy_block", what, vcc, vf, cache_n, 0, 0);
	free(kf); free(vf);

	free_batch(&full); free_batch(&st);
	free(bt); free(k); free(v); free(q); free(oc);
	G->free(kg); G->free(vg); G->free(qg); G->free(og);
	C->free(kcc); C->free(vcc); G->free(kcg); G->free(vcg);
}

/* split_rope_kv (TTS_ROPE_KV=1): one new token a sequence, at a random
 * position, its k and v stored to a paged cache, against the CPU's
 * split_rope then kv_write */
static void
check_split_rope_kv(int rows, int heads, int hd, int rot, double theta, int maxpos)
{
	if (!G->split_rope_kv) return;
	int hk = heads / 4 + 1, mb = (maxpos + TTS_KV_BLOCK) / TTS_KV_BLOCK, nblk = rows * mb + 1;
	size_t w = (size_t)(heads + 2 * hk) * hd, qn = (size_t)rows * heads * hd;
	size_t kn = (size_t)rows * hk * hd, cn = (size_t)nblk * hk * TTS_KV_BLOCK * hd;
	float *inv = emalloc(rot / 2 * 4 + 4);
	for (int i = 0; i < rot / 2; i++)
		inv[i] = (float)pow(theta, -2.0 * i / rot);
	int *ql = emalloc(rows * sizeof(int)), *cl = emalloc(rows * sizeof(int));
	int32_t *bt = emalloc((size_t)rows * mb * 4);
	for (int r = 0; r < rows; r++) {
		ql[r] = 1, cl[r] = 1 + (r == 0 ? maxpos : (int)((uni() + 1) / 2 * maxpos));
		for (int j = 0; j < mb; j++)   /* a permutation of the blocks */
			bt[(size_t)r * mb + j] = (int32_t)(((long)(r * mb + j) * 7919 + 3) % nblk);
	}
	bpair b = mk_batch(rows, ql, cl, NULL, mb, bt);
	float *pk = rnd(rows * w, 0, 1, 0), *pkg = gdup(pk, rows * w * 4), *ig = gdup(inv, rot / 2 * 4);
	float *qc = emalloc(qn * 4), *kc = emalloc(kn * 4), *vc = emalloc(kn * 4), *qg = gpoison(qn);
	void *ccc = C->kv_alloc(nblk, hk, hd), *cvc = C->kv_alloc(nblk, hk, hd);
	void *gcc = G->kv_alloc(nblk, hk, hd), *gvc = G->kv_alloc(nblk, hk, hd);
	C->split_rope(qc, kc, vc, pk, b.c.pos, rows, heads, hk, hd, rot, inv);
	C->kv_write(ccc, cvc, kc, vc, &b.c, hk, hd);
	G->split_rope_kv(qg, gcc, gvc, pkg, &b.g, heads, hk, hd, rot, ig);
	char sh[96];
	snprintf(sh, sizeof sh, "rows %d heads %d+%d hd %d rot %d pos<=%d", rows, heads, hk, hd, rot,
		 maxpos);
	cmp("split_rope_kv q", sh, qc, qg, qn, 1e-5, 0);
	/* k is rotated in float32 on either side, then rounded to bf16: a
	 * value within 1e-5 of a rounding boundary may land one bf16 step away */
	float *kf = bf16_cache_to_f(gcc, cn), *vf = bf16_cache_to_f(gvc, cn);
	report("split_rope_kv k", sh, ccc, kf, cn, 1e-2, 0);
	report("split_rope_kv v", sh, cvc, vf, cn, 0, 0);
	free(kf); free(vf); free(ql); free(cl); free(bt); free(inv); free(pk);
	free(qc); free(kc); free(vc); free_batch(&b);
	G->free(pkg); G->free(ig); G->free(qg);
	C->free(ccc); C->free(cvc); G->free(gcc); G->free(gvc);
}

/* ---- Mamba ops ---- */

/* TTS_SSM_STATE=bf16: the backend keeps SSM states in bf16 in the first
 * half of each float32-sized slot; these move states in that layout */
static int
ssm_bf16(void)
{
	const char *e = getenv("TTS_SSM_STATE");
	return e && strcmp(e, "bf16") == 0;
}

/* upload host states; in bf16 mode h is first rounded to bf16 in place, so
 * the CPU starts from the same values */
static void
gstate_put(void *g, float *h, int slots, size_t per)
{
	size_t n = (size_t)slots * per;
	if (!ssm_bf16()) {
		G->upload(g, h, n * 4);
		return;
	}
	uint16_t *b = ecalloc(n * 2 + 1, 2);
	for (size_t s = 0; s < (size_t)slots; s++)
		for (size_t i = 0; i < per; i++) {
			h[s * per + i] = round_bf16(h[s * per + i]);
			b[s * per * 2 + i] = f_to_bf16(h[s * per + i]);
		}
	G->upload(g, b, n * 4);
	free(b);
}

static float *
gstate_get(const void *g, int slots, size_t per)
{
	size_t n = (size_t)slots * per;
	if (!ssm_bf16())
		return fetch(g, n);
	uint16_t *b = emalloc(n * 4 + 4);
	G->download(b, g, n * 4);
	float *f = emalloc(n * 4 + 4);
	for (size_t s = 0; s < (size_t)slots; s++)
		for (size_t i = 0; i < per; i++)
			f[s * per + i] = bf16_to_f(b[s * per * 2 + i]);
	free(b);
	return f;
}

static void
cmp_state(const char *op, const char *shape, const float *ref, const void *g, int slots,
	  size_t per, double tol)
{
	float *h = gstate_get(g, slots, per);
	report(op, shape, ref, h, (size_t)slots * per, ssm_bf16() ? 3e-2 : tol, 0);
	free(h);
}

/* run the op on a prefill batch then a decode batch; compare y and state */
static void
check_conv1d(const char *what, int n, const int *q_len, int channels, int K, int ldx)
{
	int slots = n + 2, *slot = emalloc(n * sizeof(int)), *ctx = emalloc(n * sizeof(int));
	for (int s = 0; s < n; s++)   /* distinct slots, not the sequence's own index */
		slot[s] = (s + 1) % slots, ctx[s] = q_len[s] + 3;
	size_t per = (size_t)channels * (K - 1);
	float *st0 = rnd(slots * per, 0, 1, 0);
	float *stc = C->state_alloc(slots, per), *stg = G->state_alloc(slots, per);
	memcpy(stc, st0, slots * per * 4);
	G->upload(stg, st0, slots * per * 4);
	float *w = rnd((size_t)channels * K, 0, 0.5f, 0), *bias = rnd(channels, 0, 0.2f, 0);
	float *wg = gdup(w, (size_t)channels * K * 4), *bg = gdup(bias, channels * 4);
	for (int pass = 0; pass < 2; pass++) {
		int ones[64];
		for (int s = 0; s < n; s++)
			ones[s] = 1;
		bpair b = mk_batch(n, pass ? ones : q_len, ctx, slot, 1, NULL);
		int rows = b.c.rows;
		float *x = rnd((size_t)rows * ldx, 0, 1, 0), *xg = gdup(x, (size_t)rows * ldx * 4);
		float *yc = emalloc((size_t)rows * channels * 4), *yg = gpoison((size_t)rows * channels);
		C->conv1d(yc, x + 7, ldx, stc, w, bias, &b.c, channels, K);
		G->conv1d(yg, xg + 7, ldx, stg, wg, bg, &b.g, channels, K);
		char sh[96];
		snprintf(sh, sizeof sh, "%s %s C %d K %d rows %d", what, pass ? "decode" : "prefill",
			 channels, K, rows);
		cmp("conv1d y", sh, yc, yg, (size_t)rows * channels, 1e-5, 0);
		cmp("conv1d state", sh, stc, stg, slots * per, 1e-6, 0);
		free(x); free(yc); G->free(xg); G->free(yg); free_batch(&b);
	}
	free(st0); free(w); free(bias); free(slot); free(ctx);
	C->free(stc); G->free(stg); G->free(wg); G->free(bg);
}

static void
check_ssd(const char *what, int n, const int *q_len, int H, int P, int N, int xg_, int bg_,
	  int cg_)
{
	tts_model m;
	memset(&m, 0, sizeof m);
	m.m2_heads = H, m.m2_headdim = P, m.m2_state = N;
	m.m2_x_groups = xg_, m.m2_b_groups = bg_, m.m2_c_groups = cg_;
	m.m2_conv_dim = xg_ * P + (bg_ + cg_) * N;
	m.m2_dt_min = 0, m.m2_dt_max = INFINITY;
	int slots = n + 1, *slot = emalloc(n * sizeof(int)), *ctx = emalloc(n * sizeof(int));
	for (int s = 0; s < n; s++)
		slot[s] = (s + 2) % slots, ctx[s] = q_len[s];
	size_t per = (size_t)H * P * N;
	float *st0 = rnd(slots * per, 0, 0.5f, 0);
	float *stc = C->state_alloc(slots, per), *stg = G->state_alloc(slots, per);
	gstate_put(stg, st0, slots, per);
	memcpy(stc, st0, slots * per * 4);
	float *dtb = rnd(H, -1, 1, 0), *alog = rnd(H, 0.7f, 0.7f, 0), *D = rnd(H, 1, 0.3f, 0);
	float *dtbg = gdup(dtb, H * 4), *alg = gdup(alog, H * 4), *Dg = gdup(D, H * 4);
	int lddt = m.m2_conv_dim + H + 5;
	for (int pass = 0; pass < 2; pass++) {
		int ones[64];
		for (int s = 0; s < n; s++)
			ones[s] = 1;
		bpair b = mk_batch(n, pass ? ones : q_len, ctx, slot, 1, NULL);
		int rows = b.c.rows;
		size_t ny = (size_t)rows * H * P;
		float *xbc = rnd((size_t)rows * m.m2_conv_dim, 0, 1, 0);
		float *dt = rnd((size_t)rows * lddt, -1, 2, 0);
		float *xbcg = gdup(xbc, (size_t)rows * m.m2_conv_dim * 4);
		float *dtg = gdup(dt, (size_t)rows * lddt * 4);
		float *yc = emalloc(ny * 4), *yg = gpoison(ny);
		C->ssd(yc, xbc, dt + 3, lddt, stc, dtb, alog, D, &m, &b.c);
		double us = 0;
		if (pass) {   /* time on a copy of the state: the op updates it */
			float *tmp = G->alloc(slots * per * 4);
			G->copy(tmp, stg, slots * per * 4);
			GTIME(us, G->ssd(yg, xbcg, dtg + 3, lddt, tmp, dtbg, alg, Dg, &m, &b.g));
			G->free(tmp);
			gpoison_into(yg, ny);
		}
		G->ssd(yg, xbcg, dtg + 3, lddt, stg, dtbg, alg, Dg, &m, &b.g);
		char sh[128];
		snprintf(sh, sizeof sh, "%s %s H%d P%d N%d g%d/%d/%d rows %d", what,
			 pass ? "decode" : "prefill", H, P, N, xg_, bg_, cg_, rows);
		cmp("ssd y", sh, yc, yg, ny, ssm_bf16() ? 3e-2 : 1e-4, us);
		cmp_state("ssd state", sh, stc, stg, slots, per, 1e-4);
		free(xbc); free(dt); free(yc); G->free(xbcg); G->free(dtg); G->free(yg);
		free_batch(&b);
	}
	/* state slots: copy and zero */
	C->state_copy(stc, 0, slot[0], per);
	G->state_copy(stg, 0, slot[0], per);
	C->state_zero(stc, slot[n - 1], per);
	G->state_zero(stg, slot[n - 1], per);
	/* the states already differ by the recurrence's rounding: its tolerance */
	cmp_state("state_copy/zero", what, stc, stg, slots, per, 1e-4);
	free(st0); free(dtb); free(alog); free(D); free(slot); free(ctx);
	C->free(stc); G->free(stg); G->free(dtbg); G->free(alg); G->free(Dg);
}

static void
check_gated(int rows, int dim, int group, int ldz)
{
	size_t n = (size_t)rows * dim;
	float *x = rnd(n, 0, 1, 0), *z = rnd((size_t)rows * ldz, 0, 2, 0), *w = rnd(dim, 1, 0.3f, 0);
	float *xg = gdup(x, n * 4), *zg = gdup(z, (size_t)rows * ldz * 4), *wg = gdup(w, dim * 4);
	float *yc = emalloc(n * 4), *yg = gpoison(n);
	C->gated_rmsnorm(yc, x, z + 1, ldz, w, rows, dim, group, 1e-5f);
	G->gated_rmsnorm(yg, xg, zg + 1, ldz, wg, rows, dim, group, 1e-5f);
	double us;
	GTIME(us, G->gated_rmsnorm(yg, xg, zg + 1, ldz, wg, rows, dim, group, 1e-5f));
	char sh[64];
	snprintf(sh, sizeof sh, "rows %d dim %d group %d ldz %d", rows, dim, group, ldz);
	cmp("gated_rmsnorm", sh, yc, yg, n, 1e-5, us);
	free(x); free(z); free(w); free(yc); G->free(xg); G->free(zg); G->free(wg); G->free(yg);
}

static void
check_m1(const char *what, int n, const int *q_len, int E, int X, int N)
{
	tts_model m;
	memset(&m, 0, sizeof m);
	m.m1_d_inner = E, m.m1_d_xb = X, m.m1_state = N;
	int slots = n + 1, *slot = emalloc(n * sizeof(int)), *ctx = emalloc(n * sizeof(int));
	for (int s = 0; s < n; s++)
		slot[s] = (s + 1) % slots, ctx[s] = q_len[s];
	size_t per = (size_t)E * N;
	float *st0 = rnd(slots * per, 0, 0.5f, 0);
	float *stc = C->state_alloc(slots, per), *stg = G->state_alloc(slots, per);
	gstate_put(stg, st0, slots, per);
	memcpy(stc, st0, slots * per * 4);
	float *dtb = rnd(E, -1, 0.5f, 0), *alog = rnd(per, 0.7f, 0.7f, 0), *D = rnd(E, 1, 0.3f, 0);
	float *dtbg = gdup(dtb, E * 4), *alg = gdup(alog, per * 4), *Dg = gdup(D, E * 4);
	for (int pass = 0; pass < 2; pass++) {
		int ones[64];
		for (int s = 0; s < n; s++)
			ones[s] = 1;
		bpair b = mk_batch(n, pass ? ones : q_len, ctx, slot, 1, NULL);
		int rows = b.c.rows;
		size_t ne = (size_t)rows * E;
		float *u = rnd(ne, 0, 1, 0), *dt = rnd(ne, -1, 1.5f, 0), *Bx = rnd((size_t)rows * X, 0, 1, 0);
		float *Cx = rnd(ne, 0, 1, 0), *z = rnd(ne, 0, 2, 0);
		float *ug = gdup(u, ne * 4), *dtg = gdup(dt, ne * 4), *Bg = gdup(Bx, (size_t)rows * X * 4);
		float *Cg = gdup(Cx, ne * 4), *zg = gdup(z, ne * 4);
		float *yc = emalloc(ne * 4), *yg = gpoison(ne);
		C->m1_scan(yc, u, dt, dtb, Bx, Cx, z, stc, alog, D, &m, &b.c);
		double us = 0;
		if (pass) {
			float *tmp = G->alloc(slots * per * 4);
			G->copy(tmp, stg, slots * per * 4);
			GTIME(us, G->m1_scan(yg, ug, dtg, dtbg, Bg, Cg, zg, tmp, alg, Dg, &m, &b.g));
			G->free(tmp);
			gpoison_into(yg, ne);
		}
		G->m1_scan(yg, ug, dtg, dtbg, Bg, Cg, zg, stg, alg, Dg, &m, &b.g);
		char sh[96];
		snprintf(sh, sizeof sh, "%s %s E%d X%d N%d rows %d", what, pass ? "decode" : "prefill",
			 E, X, N, rows);
		cmp("m1_scan y", sh, yc, yg, ne, ssm_bf16() ? 3e-2 : 1e-4, us);
		cmp_state("m1_scan state", sh, stc, stg, slots, per, 1e-4);
		free(u); free(dt); free(Bx); free(Cx); free(z); free(yc);
		G->free(ug); G->free(dtg); G->free(Bg); G->free(Cg); G->free(zg); G->free(yg);
		free_batch(&b);
	}
	free(st0); free(dtb); free(alog); free(D); free(slot); free(ctx);
	C->free(stc); G->free(stg); G->free(dtbg); G->free(alg); G->free(Dg);
}

/* ---- sampling: the same token for every (key, sample, step) ---- */

static void
check_sample(const char *what, int vocab, int ties)
{
	static const struct { float T; int k; float p, minp; } set[] = {
		{ 0, 0, 1, 0 }, { 1, 0, 1, 0 }, { 0.7f, 0, 1, 0 }, { 1, 50, 1, 0 },
		{ 0.8f, 0, 0.9f, 0 }, { 1, 0, 1, 0.05f }, { 0.6f, 40, 0.95f, 0.02f },
		{ 1, 1, 1, 0 }, { 1.3f, 0, 1e-6f, 0 }, { 1.5f, 1000, 0.5f, 0 },
	};
	const int per = vocab > 10000 ? 24 : 48, nset = sizeof set / sizeof set[0], rows = per * nset;
	float *base = emalloc((size_t)vocab * 4);
	for (int i = 0; i < vocab; i++)   /* ties 2: nearly flat (a random-weight model's) */
		base[i] = ties == 2 ? 0.05f * uni() : 3 * uni() + 2 * uni() * uni() * uni();
	if (ties == 3)    /* all equal: the cuts fall among ties, ordered by id alone */
		for (int i = 0; i < vocab; i++)
			base[i] = 1.25f;
	if (ties == 1)    /* equal logits at the top and around the cut-offs */
		for (int i = 0; i < vocab; i += vocab / 23 + 1)
			base[i] = 4.5f;
	float *L = emalloc((size_t)rows * vocab * 4);
	tts_sample_params *p = ecalloc(rows, sizeof *p);
	for (int r = 0; r < rows; r++) {
		memcpy(L + (size_t)r * vocab, base, (size_t)vocab * 4);
		int s = r / per;
		p[r].temperature = set[s].T, p[r].top_k = set[s].k;
		p[r].top_p = set[s].p, p[r].min_p = set[s].minp;
		philox_key(1234 + s, "problem-7", 9, p[r].key);
		p[r].sample = r % per, p[r].step = (uint32_t)(r * 31 % 17);
	}
	float *Lg = gdup(L, (size_t)rows * vocab * 4);
	int32_t *tc = emalloc(rows * 4), *tg = emalloc(rows * 4), *tgd = G->alloc(rows * 4);
	float *lc = emalloc(rows * 4), *lg = emalloc(rows * 4), *lgd = gpoison(rows);
	C->sample(tc, lc, L, p, rows, vocab);
	G->sample(tgd, lgd, Lg, p, rows, vocab);
	double us;
	GTIME(us, G->sample(tgd, lgd, Lg, p, rows, vocab));
	G->download(tg, tgd, rows * 4);
	G->download(lg, lgd, rows * 4);
	for (int s = 0; s < nset; s++) {
		int same = 0, distinct = 0;
		double dl = 0;
		for (int r = s * per; r < (s + 1) * per; r++) {
			same += tc[r] == tg[r];
			dl = fmax(dl, fabs((double)lc[r] - lg[r]));
			int seen = 0;
			for (int q = s * per; q < r; q++)
				seen |= tc[q] == tc[r];
			distinct += !seen;
		}
		char sh[128];
		snprintf(sh, sizeof sh, "%s V%d T%.2g k%d p%.2g minp%.2g: %d/%d same, %d distinct",
			 what, vocab, set[s].T, set[s].k, set[s].p, set[s].minp, same, per, distinct);
		verdict("sample", sh, dl, 1e-4, s == 0 ? us : 0.0, same == per && dl <= 1e-4);
	}
	free(base); free(L); free(p); free(tc); free(tg); free(lc); free(lg);
	G->free(Lg); G->free(tgd); G->free(lgd);
}

static double
rel_err(const float *got, const float *ref, size_t n)
{
	double d = 0, mx = 0;
	for (size_t i = 0; i < n; i++) {
		d = fmax(d, isnan(got[i]) ? INFINITY : fabs((double)got[i] - ref[i]));
		mx = fmax(mx, fabs((double)ref[i]));
	}
	return mx > 0 ? d / mx : d;
}

/* ---- the CPU backend with the GPU's roundings: weights, matmul inputs and
 * the KV cache in bf16, everything else float32 as on both sides.  What
 * separates it from the GPU is only the summation order, so the forward
 * pass and the fixtures are checked against it tightly, and its distance
 * from the plain CPU backend measures what bf16 alone costs a model. ---- */

static tts_ops E;            /* tts_cpu_ops with the three overrides below */
static float *emu_buf;
static size_t emu_cap;

static const float *
emu_round(const float *x, size_t n)
{
	if (n > emu_cap) {
		emu_buf = realloc(emu_buf, n * sizeof(float));
		emu_cap = n;
	}
	for (size_t i = 0; i < n; i++)
		emu_buf[i] = round_bf16(x[i]);
	return emu_buf;
}

static tts_w *
emu_weight(const tts_tensor *t)
{
	size_t n = tts_tensor_numel(t);
	float *f = emalloc(n * sizeof(float) + 4);   /* kept: the CPU weight points into it */
	tts_tensor_to_f32(t, f);
	for (size_t i = 0; i < n; i++)
		f[i] = round_bf16(f[i]);
	tts_tensor r = *t;
	r.dtype = TTS_F32;
	r.data = f;
	return C->weight(&r);
}

static void
emu_matmul(float *y, const tts_w *w, const float *x, int rows)
{
	C->matmul(y, w, emu_round(x, (size_t)rows * w->in), rows);
}

static void
emu_kv_write(void *kc, void *vc, const float *k, const float *v, const tts_batch *b, int n_kv,
	     int hd)
{
	size_t n = (size_t)b->rows * n_kv * hd;
	float *kr = emalloc(n * sizeof(float) + 4);
	memcpy(kr, emu_round(k, n), n * sizeof(float));
	C->kv_write(kc, vc, kr, emu_round(v, n), b, n_kv, hd);
	free(kr);
}

static void
emu_init(void)
{
	E = tts_cpu_ops;
	E.name = "cpu-bf16";
	E.weight = emu_weight;
	E.matmul = emu_matmul;
	E.kv_write = emu_kv_write;
}

/* ---- the forward pass end to end on synthetic models ---- */

/* round every float32 weight of the model to bf16 values in place */
static void
round_tensor(tts_tensor *t)
{
	if (!t->data)
		return;
	float *d = (float *)t->data;
	for (size_t i = 0, n = tts_tensor_numel(t); i < n; i++)
		d[i] = round_bf16(d[i]);
}

static void
round_model(tts_model *m)
{
	round_tensor(&m->embed);
	round_tensor(&m->lm_head);
	for (int i = 0; i < m->n_layers; i++) {
		tts_layer *l = &m->layers[i];
		tts_tensor *ts[] = { &l->wq, &l->wk, &l->wv, &l->wo, &l->in_proj, &l->out_proj,
				     &l->gate, &l->up, &l->down, &l->m1_x, &l->m1_z, &l->m1_B,
				     &l->m1_C, &l->m1_dt_down, &l->m1_dt_w };
		for (size_t j = 0; j < sizeof ts / sizeof ts[0]; j++)
			round_tensor(ts[j]);
	}
}

static void
check_forward(enum synth_kind kind)
{
	tts_model *m = tts_model_synthetic(kind, 64, 88172645463325252ull);
	round_model(m);
	int V = m->vocab, L = 21, steps = 6;
	tts_engine *ec = tts_engine_new(C, m, 16, 8, 64, 128);
	tts_engine *eg = tts_engine_new(G, m, 16, 8, 64, 128);
	tts_engine *ee = tts_engine_new(&E, m, 16, 8, 64, 128);
	int32_t ids[64];
	for (int i = 0; i < L; i++)
		ids[i] = (i * 37 + 11) % V;
	float *lc = emalloc((size_t)64 * V * 4), *lg = emalloc((size_t)64 * V * 4);
	int32_t blocks[2][8] = { { 5, 2, 9, 7, 1 }, { 3, 11, 0, 4, 6 } };
	double worst = 0;
	int agree = 0, clear = 0;
	double worst_emu = 0;
	for (int e = 0; e < 3; e++) {
		tts_engine *en = e == 2 ? ee : e ? eg : ec;
		tts_engine_slot_zero(en, 0);
		tts_engine_slot_zero(en, 1);
	}
	/* prefill two prompts in one step (all rows), then decode both greedily on
	 * the CPU's tokens */
	int32_t q2[2] = { L, 9 }, c2[2] = { L, 9 }, s2[2] = { 0, 1 };
	const int32_t *bl[2] = { blocks[0], blocks[1] };
	int32_t ids2[64], cur[2];
	memcpy(ids2, ids, L * 4);
	memcpy(ids2 + L, ids + 4, 9 * 4);
	tts_step st = { .n_seqs = 2, .ids = ids2, .q_len = q2, .ctx_len = c2, .slot = s2, .blocks = bl };
	for (int t = 0; t <= steps; t++) {
		int nr = tts_forward(ec, &st, t == 0);
		tts_forward(ee, &st, t == 0);
		gpoison_into(eg->logits, (size_t)64 * V);
		int ng = tts_forward(eg, &st, t == 0);
		memcpy(lc, ec->logits, (size_t)nr * V * 4);
		G->download(lg, eg->logits, (size_t)ng * V * 4);
		double d = 0, mx = 0;
		for (size_t i = 0; i < (size_t)nr * V; i++) {
			d = fmax(d, isnan(lg[i]) ? INFINITY : fabs((double)lg[i] - lc[i]));
			mx = fmax(mx, fabs((double)lc[i]));
		}
		worst = fmax(worst, ng == nr ? d / mx : INFINITY);
		worst_emu = fmax(worst_emu, ng == nr ? rel_err(lg, ee->logits, (size_t)nr * V) : INFINITY);
		/* next tokens: the CPU's greedy choice of each sequence's last row */
		int last[2] = { t == 0 ? L - 1 : 0, t == 0 ? L + 8 : 1 };
		for (int s = 0; s < 2; s++) {
			const float *a = lc + (size_t)last[s] * V, *b = lg + (size_t)last[s] * V;
			int bc = 0, bg = 0, second = -1;
			for (int i = 1; i < V; i++) {
				if (a[i] > a[bc]) bc = i;
				if (b[i] > b[bg]) bg = i;
			}
			for (int i = 0; i < V; i++)
				if (i != bc && (second < 0 || a[i] > a[second])) second = i;
			if (a[bc] - a[second] > 0.01 * mx) {
				clear++;
				agree += bc == bg;
			}
			cur[s] = bc;
		}
		q2[0] = q2[1] = 1;
		c2[0]++, c2[1]++;
		st.ids = cur;
	}
	char sh[96];
	snprintf(sh, sizeof sh, "%s prefill+%d decode vs cpu-bf16; vs cpu %.2e (3e-2), greedy %d/%d "
		 "agree", synth_kind_name[kind], steps, worst, agree, clear);
	/* the emulation keeps float32 SSM states: with TTS_SSM_STATE=bf16 the GPU
	 * is only held to the float32 CPU's bound */
	const double tol_emu = ssm_bf16() ? 3e-2 : 5e-3;
	verdict("forward", sh, worst_emu, tol_emu, 0, worst_emu <= tol_emu && worst <= 3e-2 &&
		agree == clear);
	tts_engine_free(ec);
	tts_engine_free(ee);
	tts_engine_free(eg);
	tts_model_synthetic_free(m);
	free(lc); free(lg);
}

/* ---- decode steps through tts_decode (run once, then recorded as a graph
 * and replayed, as tts-generate does) against tts_forward + sample with
 * every op launched on its own: the same logits but for the attention's
 * launch shape (the context bucket: 1e-5), the same tokens ---- */

static void
check_decode(enum synth_kind kind)
{
	enum { n = 5, P = 7, steps = 6 };
	tts_model *m = tts_model_synthetic(kind, 64, 88172645463325252ull);
	int V = m->vocab;
	tts_engine *ea = tts_engine_new(G, m, 64, n, 64, 128);
	tts_engine *eb = tts_engine_new(G, m, 64, n, 64, 128);
	int32_t blk[n][8], ids[n * P], q[n], c[n], sl[n], cur[n], ta[n], tb[n];
	const int32_t *bl[n];
	tts_sample_params p[n];
	for (int s = 0; s < n; s++) {
		for (int j = 0; j < 8; j++)
			blk[s][j] = s * 8 + j;
		for (int i = 0; i < P; i++)
			ids[s * P + i] = (s * 13 + i * 7 + 3) % V;
		bl[s] = blk[s], q[s] = c[s] = P, sl[s] = s;
		p[s] = (tts_sample_params){ .temperature = 0.9f, .top_p = 0.9f, .top_k = s == 2 ? 5 : 0,
					    .sample = s };
		philox_key(7, "decode", 6, p[s].key);
		tts_engine_slot_zero(ea, s);
		tts_engine_slot_zero(eb, s);
	}
	tts_step st = { .n_seqs = n, .ids = ids, .q_len = q, .ctx_len = c, .slot = sl, .blocks = bl };
	tts_forward(ea, &st, 0);
	tts_forward(eb, &st, 0);
	tts_sample_params *dp = G->alloc(sizeof p);
	int32_t *dta = G->alloc(sizeof ta), *dtb = G->alloc(sizeof tb);
	float *dla = G->alloc(n * 4), *dlb = G->alloc(n * 4);
	float *la = emalloc((size_t)n * V * 4), *lb = emalloc((size_t)n * V * 4);
	double worst = 0;
	int same = 0;
	for (int s = 0; s < n; s++)
		cur[s] = (s * 5 + 1) % V;
	for (int t = 0; t < steps; t++) {
		for (int s = 0; s < n; s++)
			q[s] = 1, c[s]++, p[s].step = t;
		st.ids = cur;
		G->upload(dp, p, sizeof p);
		gpoison_into(ea->logits, (size_t)n * V);
		tts_decode(ea, &st, dp, dta, dla);
		tts_forward(eb, &st, 0);
		G->sample(dtb, dlb, eb->logits, p, n, V);
		G->download(la, ea->logits, (size_t)n * V * 4);
		G->download(lb, eb->logits, (size_t)n * V * 4);
		G->download(ta, dta, sizeof ta);
		G->download(tb, dtb, sizeof tb);
		worst = fmax(worst, rel_err(la, lb, (size_t)n * V));
		for (int s = 0; s < n; s++) {
			same += ta[s] == tb[s];
			cur[s] = tb[s];
		}
	}
	const char *ge = getenv("TTS_CUDA_GRAPHS"), *se = getenv("TTS_CUDA_SYNC");
	int on = G->graph_capture && !(ge && !strcmp(ge, "0")) && !(se && *se && strcmp(se, "0"));
	char sh[96];
	snprintf(sh, sizeof sh, "%s %d seqs x %d steps, graphs %s: tokens %d/%d same",
		 synth_kind_name[kind], n, steps, on ? "on" : "off", same, n * steps);
	verdict("decode", sh, worst, 1e-5, 0, worst <= 1e-5 && same == n * steps);
	G->free(dp); G->free(dta); G->free(dtb); G->free(dla); G->free(dlb);
	free(la); free(lb);
	tts_engine_free(ea);
	tts_engine_free(eb);
	tts_model_synthetic_free(m);
}

/* ---- the fixtures (tests/fixtures/models/NAME): the GPU engine against the
 * CPU engine and the reference logits, and the greedy continuation ---- */

static void
check_fixture(const char *name)
{
	char dir[512], path[600];
	json_t *ex = fx_expected(name, dir, sizeof dir);
	if (!ex)
		return;
	if (!fx_loadable(dir)) {
		printf("%-14s %-44s %10s %8s %10s  %s\n", "fixture", name, "-", "-", "-", "skip (loader)");
		json_decref(ex);
		return;
	}
	json_t *pid = json_object_get(ex, "prompt_ids"), *gid = json_object_get(ex, "greedy_ids");
	json_t *mar = json_object_get(ex, "margins");
	int L = json_array_size(pid), NG = json_array_size(gid);
	tts_model *m = tts_model_load(dir);
	int V = m->vocab;
	snprintf(path, sizeof path, "%s/logits.f32", dir);
	float *ref = fx_read_f32(path, (size_t)L * V);
	int have_ref = ref != NULL;
	int R = L + NG + 1;
	tts_engine *ec = tts_engine_new(C, m, 32, 1, R, R), *eg = tts_engine_new(G, m, 32, 1, R, R);
	tts_engine *ee = tts_engine_new(&E, m, 32, 1, R, R);
	int32_t *ids = emalloc(R * 4), blocks[32];
	for (int i = 0; i < 32; i++)
		blocks[i] = 31 - i;
	for (int i = 0; i < L; i++)
		ids[i] = json_integer_value(json_array_get(pid, i));
	tts_engine_slot_zero(ec, 0);
	tts_engine_slot_zero(eg, 0);
	tts_engine_slot_zero(ee, 0);
	int32_t ql = L, cl = L, sl = 0;
	const int32_t *bl[1] = { blocks };
	tts_step st = { .n_seqs = 1, .ids = ids, .q_len = &ql, .ctx_len = &cl, .slot = &sl,
			.blocks = bl };
	tts_forward(ec, &st, 1);
	tts_forward(ee, &st, 1);
	gpoison_into(eg->logits, (size_t)L * V);
	tts_forward(eg, &st, 1);
	float *lg = fetch(eg->logits, (size_t)L * V);
	double e_cpu = rel_err(lg, ec->logits, (size_t)L * V);
	double e_emu = rel_err(lg, ee->logits, (size_t)L * V);
	double e_bf16 = rel_err(ee->logits, ec->logits, (size_t)L * V);
	double tol_cpu = fmax(3e-2, 2 * e_bf16);
	double e_ref = have_ref ? rel_err(lg, ref, (size_t)L * V) : NAN;
	double mx = 0;
	for (size_t i = 0; i < (size_t)L * V; i++)
		mx = fmax(mx, fabs(lg[i]));
	/* greedy on the GPU while the reference margin is clear of bf16 noise */
	int same = 1, compared = 0, t = fx_argmax(lg + (size_t)(L - 1) * V, V);
	for (int k = 0; k < NG; k++) {
		if (json_real_value(json_array_get(mar, k)) <= 0.03 * mx)
			break;
		compared++;
		if (t != json_integer_value(json_array_get(gid, k))) {
			same = 0;
			break;
		}
		ids[L + k] = t;
		ql = 1, cl = L + k + 1, st.ids = ids + L + k;
		tts_forward(eg, &st, 0);
		G->download(lg, eg->logits, (size_t)V * 4);
		t = fx_argmax(lg, V);
	}
	char sh[192];
	snprintf(sh, sizeof sh, "%s %d pos vs cpu-bf16; vs cpu %.2e (tol %.1e = max(3e-2, 2 x bf16's "
		 "own %.2e)), vs ref %.2e; greedy %d/%d", name, L, e_cpu, tol_cpu, e_bf16, e_ref,
		 same ? compared : compared - 1, compared);
	const double tol_emu = ssm_bf16() ? tol_cpu : 5e-3;   /* as in check_forward */
	verdict("fixture", sh, e_emu, tol_emu, 0, e_emu <= tol_emu && e_cpu <= tol_cpu &&
		(!have_ref || e_ref <= tol_cpu) && same);
	tts_engine_free(ec);
	tts_engine_free(ee);
	tts_engine_free(eg);
	tts_model_free(m);
	free(ref); free(ids); free(lg);
	json_decref(ex);
}

static void
check_fixtures(void)
{
	if (fx_each(check_fixture) < 0)
		printf("fixture        %-44s  (no %s)\n", "-", FIXDIR);
}

/* CHECK_ONLY=a,b runs only those groups (matmul rows rope attention
 * mamba sample forward fixture) */
static int
want(const char *group)
{
	const char *only = getenv("CHECK_ONLY");
	return !only || !*only || strstr(only, group);
}

int
main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	char err[256] = "";
	C = &tts_cpu_ops;
	/* CHECK_OPS_SELF=1: the CPU against itself, 2: the CPU with bf16
	 * roundings against it, to test this harness on a machine without a
	 * GPU (kv_write then differs: the cache is float) */
	const char *self = getenv("CHECK_OPS_SELF");
	emu_init();
	G = self && *self == '1' ? &tts_cpu_ops : self && *self == '2' ? &E
		: tts_cuda_ops(0, err, sizeof err);
	if (!G) {
		fprintf(stderr, "check_ops: %s: skipping the GPU checks\n", err);
		return 77;
	}
	double t_start = now();
	printf("%-14s %-44s %10s %8s %10s  %s\n", "op", "shape", "err", "tol", "gpu us", "");
	/* projections: 8B shapes (q/o, gate/up, down, LM head), then awkward */
	if (want("matmul")) {
		check_matmul(4096, 4096, 1, TTS_BF16, 1, 1e-4);
		check_matmul(14336, 4096, 128, TTS_BF16, 1, 1e-4);
		check_matmul(4096, 14336, 17, TTS_BF16, 1, 1e-4);
		check_matmul(128256, 4096, 4, TTS_BF16, 1, 1e-4);
		check_matmul(6144, 4096, 128, TTS_BF16, 0, 1e-2);
		check_matmul(1000, 333, 3, TTS_F32, 1, 1e-4);
		check_matmul(77, 129, 31, TTS_F16, 1, 1e-4);
		check_matmul(10272, 4096, 5, TTS_F32, 1, 1e-4);
		/* one row takes the GEMV path when in % 8 == 0: a row length
		 * that is no multiple of the unrolled 1024, raw float x, and
		 * (in % 8 != 0) the fall-back to cuBLAS; 2 to 4 rows, cuBLAS */
		check_matmul(14336, 4096, 2, TTS_BF16, 1, 1e-4);
		check_matmul(4096, 14336, 4, TTS_BF16, 1, 1e-4);
		check_matmul(6144, 4096, 1, TTS_BF16, 0, 1e-2);
		check_matmul(333, 1000, 1, TTS_BF16, 1, 1e-4);
		check_matmul(77, 129, 1, TTS_F16, 1, 1e-4);
		check_matmul(5, 8, 4, TTS_F32, 1, 1e-4);
	}
	if (want("rows")) {
		check_embed(128256, 4096, 9);
		check_embed(1001, 333, 5);
		check_rows_ops(7, 4096);
		check_rows_ops(128, 14336);
		check_rows_ops(3, 333);
		check_rows_ops(5, 1000);	/* the norms' vector kernel: 1 and 8 float4s a thread */
		check_rows_ops(2, 8192);
		check_gather_repeat(9, 64, 16, 4);
		check_gather_repeat(5, 8, 128, 4);
		check_gather_repeat(3, 7, 13, 3);
	}
	if (want("rope")) {
		check_rope(9, 32, 128, 128, 500000, 8191);
		check_rope(5, 8, 128, 128, 500000, 130000);
		check_rope(6, 32, 128, 64, 10000, 4000);
		check_rope(3, 3, 24, 16, 10000, 77);
		check_split_rope_kv(5, 8, 128, 128, 500000, 3000);
		check_split_rope_kv(3, 3, 24, 16, 10000, 77);
	}
	if (want("attention")) {	/* attention: prefill, decode, chunked prefill, awkward GQA */
		int q1[] = { 37, 100, 1 }, c1[] = { 37, 100, 1 };
		check_attention("prefill", 3, q1, c1, 32, 8, 128);
		int q2[8], c2[8];
		for (int s = 0; s < 8; s++)
			q2[s] = 1, c2[s] = 1 + (s * 211 + 17) % 1000;
		c2[0] = 1, c2[1] = 16, c2[2] = 17, c2[3] = 2047;
		check_attention("decode", 8, q2, c2, 32, 8, 128);
		int q3[] = { 20, 1, 33 }, c3[] = { 70, 5, 33 };
		check_attention("chunked", 3, q3, c3, 32, 8, 128);
		int q4[] = { 13, 1 }, c4[] = { 29, 40 };
		check_attention("awkward", 2, q4, c4, 10, 2, 80);
		int q5[] = { 1, 1 }, c5[] = { 3, 45 };
		check_attention("mha", 2, q5, c5, 3, 3, 24);
		int q6[128], c6[128];
		for (int s = 0; s < 128; s++)
			q6[s] = 1, c6[s] = 200 + s * 5;
		check_attention("decode-128", 128, q6, c6, 32, 8, 128);
		/* 128 samples of one 208-token prompt (13 shared blocks), and
		 * 32 samples of a 96-token one */
		for (int s = 0; s < 128; s++)
			c6[s] = 209 + (s * 37) % 500;
		check_attention_shared("siblings-128", 128, q6, c6, 32, 8, 128, 13, 128);
		for (int s = 0; s < 32; s++)
			c6[s] = 100 + s;
		check_attention_shared("siblings-32", 32, q6, c6, 32, 8, 128, 6, 32);
		/* groups of rows only partly siblings (the cascade's groups of
		 * 16 / G rows: 4 here, 2 with G = 8, 8 with G = 2) and a last
		 * group short of rows */
		check_attention_shared("siblings-mixed", 30, q6, c6, 32, 8, 128, 6, 18);
		check_attention_shared("siblings-g8", 29, q6, c6, 64, 8, 128, 6, 29);
		check_attention_shared("siblings-g2", 27, q6, c6, 8, 4, 128, 6, 21);
		int one[1] = { 1 }, c7[1] = { 3000 };
		check_attention("batch1-3000", 1, one, c7, 32, 8, 128);
		/* head_dim 128 with 8, 2 and 1 query heads a KV head (the decode
		 * kernels have an instance for each) */
		check_attention("decode-g8", 8, q2, c2, 64, 8, 128);
		check_attention("decode-g2", 8, q2, c2, 8, 4, 128);
		check_attention("decode-mha", 8, q2, c2, 4, 4, 128);
	}
	if (want("mamba")) {	/* Mamba2: MambaInLlama 8B shape (conv over x B C = 6144 channels,
		 * read out of in_proj's 10272-wide rows), HF-like awkward */
		int q1[] = { 40, 1, 9 };
		check_conv1d("mil-8b", 3, q1, 6144, 4, 10272);
		int q2[] = { 5, 3 };
		check_conv1d("awkward", 2, q2, 333, 3, 400);
		check_ssd("mil-8b", 3, q1, 32, 128, 128, 8, 8, 32);
		check_ssd("awkward", 2, q2, 6, 20, 24, 6, 2, 2);
		check_ssd("N160", 2, q2, 4, 16, 160, 2, 1, 4);
		int q3[64];
		for (int s = 0; s < 64; s++) q3[s] = 1;
		check_ssd("mil-8b-b64", 64, q3, 32, 128, 128, 8, 8, 32);
		check_gated(5, 4096, 128, 10272);
		check_gated(3, 4096, 4096, 4097);
		check_gated(4, 300, 60, 301);
		/* Mamba-1: MambaInLlama 8B, awkward */
		check_m1("mil1-8b", 3, q1, 4096, 1024, 16);
		check_m1("awkward", 2, q2, 96, 32, 8);
		check_m1("mil1-8b-b64", 64, q3, 4096, 1024, 16);
	}
	if (want("sample")) {
		check_sample("8b", 128256, 0);
		check_sample("ties", 128256, 1);
		check_sample("awkward", 1001, 1);
		check_sample("flat", 128256, 2);
		check_sample("equal", 20011, 3);
	}
	if (want("forward"))
		for (int k = SYN_LLAMA; k <= SYN_BAMBA; k++)
			check_forward(k);
	if (want("decode"))
		for (int k = SYN_LLAMA; k <= SYN_BAMBA; k++)
			check_decode(k);
	if (want("fixture"))
		check_fixtures();
	printf("check-gpu: %d passed, %d failed (%.1f s)\n", n_pass, n_fail, now() - t_start);
	return n_fail ? 1 : 0;
}
