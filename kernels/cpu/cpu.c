/* cpu.c — the CPU backend (float32 reference): memory, weights, matmul,
 * the small row-wise ops, Mamba state slots, sampling, and the ops table. */
#include "cpu.h"

#include <stdlib.h>

#include "philox.h"
#include "tts.h"

static void *cpu_alloc(size_t n) { return ecalloc(n ? n : 1, 1); }
static void cpu_free(void *p) { free(p); }
static void cpu_memcpy(void *d, const void *s, size_t n) { memcpy(d, s, n); }
static void cpu_zero(void *d, size_t n) { memset(d, 0, n); }
static void cpu_sync(void) {}

float *
cpu_scratch(float **buf, size_t *cap, size_t n)
{
	if (*cap < n) {
		*buf = erealloc(*buf, n * sizeof(float));
		*cap = n;
	}
	return *buf;
}

/* float32 weights are used in place (the mapping); others are converted */
static tts_w *
cpu_weight(const tts_tensor *t)
{
	tts_w *w = ecalloc(1, sizeof *w);
	w->out = (int)t->shape[0];
	w->in = t->ndim > 1 ? (int)(tts_tensor_numel(t) / t->shape[0]) : 1;
	if (t->dtype == TTS_F32 && ((uintptr_t)t->data & 3) == 0) {
		w->d = (float *)t->data;
	} else {
		w->d = emalloc(tts_tensor_numel(t) * sizeof(float));
		tts_tensor_to_f32(t, w->d);
		w->owned = 1;
	}
	return w;
}

static float *
cpu_vec(const tts_tensor *t)
{
	float *v = emalloc(tts_tensor_numel(t) * sizeof(float) + 1);
	tts_tensor_to_f32(t, v);
	return v;
}

static void
cpu_weight_free(tts_w *w)
{
	if (w && w->owned)
		free(w->d);
	free(w);
}

/* Two weight rows times four input rows at a time, each (r, o) summed
 * exactly as cpu_dot sums it (same lanes, same tree, same tail), so the
 * blocking and the batch never change a result.  Cloned for AVX2 (no FMA:
 * the same roundings as the SSE2 build). */
static inline float
lanes_sum(const v8f *p)
{
	v8f a = *p;
	return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

__attribute__((target_clones("avx2", "default")))
static void
matmul_2x4(float *y, int O, const float *w0, const float *w1, const float *x, int I, int r,
	   int o)
{
	v8f a[2][4] = { { { 0 } } };
	int i = 0;
	for (; i + 8 <= I; i += 8) {
		v8f u0, u1, xv;
		memcpy(&u0, w0 + i, sizeof u0);
		memcpy(&u1, w1 + i, sizeof u1);
		for (int k = 0; k < 4; k++) {
			memcpy(&xv, x + (size_t)k * I + i, sizeof xv);
			a[0][k] += u0 * xv;
			a[1][k] += u1 * xv;
		}
	}
	for (int k = 0; k < 4; k++) {
		const float *xr = x + (size_t)k * I;
		float s0 = lanes_sum(&a[0][k]), s1 = lanes_sum(&a[1][k]);
		for (int j = i; j < I; j++) {
			s0 += w0[j] * xr[j];
			s1 += w1[j] * xr[j];
		}
		y[(size_t)(r + k) * O + o] = s0;
		y[(size_t)(r + k) * O + o + 1] = s1;
	}
}

/* y[r][o] = W[o] . x[r], OpenMP over pairs of output features. */
static void
cpu_matmul(float *y, const tts_w *w, const float *x, int rows)
{
	int O = w->out, I = w->in, r4 = rows & ~3;
#pragma omp parallel for schedule(static) if ((size_t)O * I * rows > (1u << 23))
	for (int o = 0; o < O; o += 2) {
		const float *w0 = w->d + (size_t)o * I;
		if (o + 1 < O) {
			for (int r = 0; r < r4; r += 4)
				matmul_2x4(y, O, w0, w0 + I, x + (size_t)r * I, I, r, o);
			for (int r = r4; r < rows; r++) {
				y[(size_t)r * O + o] = cpu_dot(w0, x + (size_t)r * I, I);
				y[(size_t)r * O + o + 1] = cpu_dot(w0 + I, x + (size_t)r * I, I);
			}
		} else {
			for (int r = 0; r < rows; r++)
				y[(size_t)r * O + o] = cpu_dot(w0, x + (size_t)r * I, I);
		}
	}
}

static void
cpu_embed(float *y, const tts_w *e, const int32_t *ids, int rows)
{
	for (int r = 0; r < rows; r++)
		memcpy(y + (size_t)r * e->in, e->d + (size_t)ids[r] * e->in, e->in * sizeof(float));
}

static void
cpu_rmsnorm(float *y, const float *x, const float *w, int rows, int dim, float eps)
{
	for (int r = 0; r < rows; r++) {
		const float *xr = x + (size_t)r * dim;
		float *yr = y + (size_t)r * dim;
		float ss = 0;
		for (int i = 0; i < dim; i++)
			ss += xr[i] * xr[i];
		float inv = 1.0f / sqrtf(ss / dim + eps);
		for (int i = 0; i < dim; i++)
			yr[i] = xr[i] * inv * w[i];
	}
}

static void
cpu_add(float *y, const float *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		y[i] += x[i];
}

static void
cpu_add_rmsnorm(float *h, const float *x, float *y, const float *w, int rows, int dim, float eps)
{
	cpu_add(h, x, (size_t)rows * dim);
	cpu_rmsnorm(y, h, w, rows, dim, eps);
}

static void
cpu_add_bias(float *y, const float *b, int rows, int dim)
{
	for (int r = 0; r < rows; r++)
		cpu_add(y + (size_t)r * dim, b, dim);
}

static void
cpu_swiglu(float *y, const float *g, const float *u, int rows, int dim)
{
	size_t n = (size_t)rows * dim;
	for (size_t i = 0; i < n; i++)
		y[i] = silu(g[i]) * u[i];
}

static void
cpu_swiglu_gu(float *y, const float *gu, int rows, int dim)
{
	for (int r = 0; r < rows; r++)
		cpu_swiglu(y + (size_t)r * dim, gu + (size_t)r * 2 * dim, gu + (size_t)r * 2 * dim + dim,
			   1, dim);
}

static void
cpu_split_rope(float *q, float *k, float *v, const float *qkv, const int32_t *pos, int rows,
	       int n_heads, int n_kv, int head_dim, int rot_dim, const float *inv_freq)
{
	size_t qd = (size_t)n_heads * head_dim, kvd = (size_t)n_kv * head_dim, w = qd + 2 * kvd;
	for (int r = 0; r < rows; r++) {
		memcpy(q + r * qd, qkv + r * w, qd * sizeof(float));
		memcpy(k + r * kvd, qkv + r * w + qd, kvd * sizeof(float));
		memcpy(v + r * kvd, qkv + r * w + qd + kvd, kvd * sizeof(float));
	}
	if (inv_freq) {
		cpu_rope(q, pos, rows, n_heads, head_dim, rot_dim, inv_freq);
		cpu_rope(k, pos, rows, n_kv, head_dim, rot_dim, inv_freq);
	}
}

static void
cpu_gather_rows(float *y, const float *x, const int32_t *idx, int n, int dim)
{
	for (int i = 0; i < n; i++)
		memmove(y + (size_t)i * dim, x + (size_t)idx[i] * dim, dim * sizeof(float));
}

static void
cpu_repeat_groups(float *y, const float *x, int rows, int groups, int width, int rep)
{
	for (int r = 0; r < rows; r++)
		for (int g = 0; g < groups; g++)
			for (int k = 0; k < rep; k++)
				memcpy(y + ((size_t)r * groups * rep + g * rep + k) * width,
				       x + ((size_t)r * groups + g) * width, width * sizeof(float));
}

static void *
cpu_state_alloc(int n_slots, size_t per)
{
	size_t n = (size_t)n_slots * per;
	return ecalloc(n > 0 ? n : 1, sizeof(float));
}

static void
cpu_state_copy(void *st, int dst, int src, size_t per)
{
	memcpy((float *)st + dst * per, (float *)st + src * per, per * sizeof(float));
}

static void
cpu_state_zero(void *st, int slot, size_t per)
{
	memset((float *)st + slot * per, 0, per * sizeof(float));
}

static tts_sample_scratch sample_scratch;

static void
cpu_sample(int32_t *tok, float *logprob, const float *logits, const tts_sample_params *p,
	   int rows, int vocab)
{
	for (int r = 0; r < rows; r++) {
		double u = philox_uniform(p[r].key, p[r].sample, p[r].step), lp;
		tok[r] = tts_sample_row(logits + (size_t)r * vocab, vocab, p[r].temperature,
					p[r].top_k, p[r].top_p, p[r].min_p, u, &lp, &sample_scratch);
		logprob[r] = (float)lp;
	}
}

const tts_ops tts_cpu_ops = {
	.name = "cpu",
	.alloc = cpu_alloc, .free = cpu_free,
	.upload = cpu_memcpy, .download = cpu_memcpy, .copy = cpu_memcpy,
	.zero = cpu_zero, .sync = cpu_sync,
	.weight = cpu_weight, .vec = cpu_vec, .weight_free = cpu_weight_free,
	.matmul = cpu_matmul, .embed = cpu_embed, .rmsnorm = cpu_rmsnorm,
	.add_rmsnorm = cpu_add_rmsnorm,
	.add = cpu_add, .gather_rows = cpu_gather_rows, .repeat_groups = cpu_repeat_groups,
	.add_bias = cpu_add_bias, .swiglu = cpu_swiglu, .swiglu_gu = cpu_swiglu_gu,
	.split_rope = cpu_split_rope, .rope = cpu_rope,
	.kv_alloc = cpu_kv_alloc, .kv_write = cpu_kv_write, .kv_copy_block = cpu_kv_copy_block,
	.attention = cpu_attention,
	.conv1d = cpu_conv1d, .ssd = cpu_ssd, .gated_rmsnorm = cpu_gated_rmsnorm,
	.m1_scan = cpu_m1_scan,
	.state_alloc = cpu_state_alloc, .state_copy = cpu_state_copy, .state_zero = cpu_state_zero,
	.sample = cpu_sample,
};
