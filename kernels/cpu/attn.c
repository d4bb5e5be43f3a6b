/* attn.c — CPU RoPE, paged KV cache and causal GQA attention. */
#include "cpu.h"

#include <stdlib.h>

#include "tts.h"

/* HF Llama rotate_half on the first rot_dim dims of each head:
 * x'[i] = x[i] cos - x[i+h] sin, x'[i+h] = x[i+h] cos + x[i] sin, h = rot_dim/2,
 * angle = pos * inv_freq[i] (in float32, as transformers computes it). */
void
cpu_rope(float *x, const int32_t *pos, int rows, int heads, int head_dim, int rot_dim,
	 const float *inv_freq)
{
	int half = rot_dim / 2;
	for (int r = 0; r < rows; r++) {
		for (int i = 0; i < half; i++) {
			float ang = (float)pos[r] * inv_freq[i];
			float c = (float)cos(ang), s = (float)sin(ang);
			for (int h = 0; h < heads; h++) {
				float *v = x + ((size_t)r * heads + h) * head_dim;
				float a = v[i], bb = v[i + half];
				v[i] = a * c - bb * s;
				v[i + half] = bb * c + a * s;
			}
		}
	}
}

void *
cpu_kv_alloc(int n_blocks, int n_kv, int head_dim)
{
	return ecalloc((size_t)n_blocks * n_kv * TTS_KV_BLOCK * head_dim, sizeof(float));
}

static inline size_t
kv_off(int blk, int kvh, int off, int n_kv, int head_dim)
{
	return (((size_t)blk * n_kv + kvh) * TTS_KV_BLOCK + off) * head_dim;
}

void
cpu_kv_write(void *kc, void *vc, const float *k, const float *v, const tts_batch *b,
	     int n_kv, int head_dim)
{
	float *K = kc, *V = vc;
	for (int r = 0; r < b->rows; r++) {
		int blk = b->kv_slot[r] / TTS_KV_BLOCK, off = b->kv_slot[r] % TTS_KV_BLOCK;
		for (int h = 0; h < n_kv; h++) {
			size_t src = ((size_t)r * n_kv + h) * head_dim;
			size_t dst = kv_off(blk, h, off, n_kv, head_dim);
			memcpy(K + dst, k + src, head_dim * sizeof(float));
			memcpy(V + dst, v + src, head_dim * sizeof(float));
		}
	}
}

void
cpu_kv_copy_block(void *kc, void *vc, int dst, int src, int n_kv, int head_dim)
{
	size_t n = (size_t)n_kv * TTS_KV_BLOCK * head_dim;
	memcpy((float *)kc + dst * n, (float *)kc + src * n, n * sizeof(float));
	memcpy((float *)vc + dst * n, (float *)vc + src * n, n * sizeof(float));
}

static float *att_buf;
static size_t att_cap;

/* o[0..hd) += p * v[0..hd) */
static inline void
axpy(float *o, float p, const float *v, int hd)
{
	int d = 0;
	for (; d + 8 <= hd; d += 8) {
		v8f a, b;
		memcpy(&a, o + d, sizeof a);
		memcpy(&b, v + d, sizeof b);
		a += p * b;
		memcpy(o + d, &a, sizeof a);
	}
	for (; d < hd; d++)
		o[d] += p * v[d];
}

/* out[r][h] = sum_j softmax_j(q.k_j / sqrt(hd)) v_j over positions j <= pos[r],
 * walking the sequence's KV blocks (16 consecutive keys each) */
void
cpu_attention(float *out, const float *q, const void *kc, const void *vc, const tts_batch *b,
	      int n_heads, int n_kv, int head_dim)
{
	const float *K = kc, *V = vc;
	int rep = n_heads / n_kv, nt = 1;
#ifdef _OPENMP
	nt = omp_get_max_threads();
#endif
	size_t stride = (size_t)b->max_ctx + 1;
	float *buf = cpu_scratch(&att_buf, &att_cap, stride * nt);
	float scale = 1.0f / sqrtf((float)head_dim);
	int work = b->rows * n_heads;
#pragma omp parallel for schedule(dynamic, 1) if ((size_t)work * b->max_ctx * head_dim > (1u << 23))
	for (int rh = 0; rh < work; rh++) {
		int r = rh / n_heads, h = rh % n_heads, kvh = h / rep, tid = 0;
#ifdef _OPENMP
		tid = omp_get_thread_num();
#endif
		float *sc = buf + stride * tid;
		int s = b->seq_of_row[r], n = b->pos[r] + 1;
		const int32_t *bt = b->block_table + (size_t)s * b->max_blocks;
		const float *qr = q + ((size_t)r * n_heads + h) * head_dim;
		float mx = -INFINITY;
		for (int j0 = 0; j0 < n; j0 += TTS_KV_BLOCK) {
			const float *kb = K + kv_off(bt[j0 / TTS_KV_BLOCK], kvh, 0, n_kv, head_dim);
			int m = n - j0 < TTS_KV_BLOCK ? n - j0 : TTS_KV_BLOCK;
			for (int t = 0; t < m; t++) {
				float v = cpu_dot(qr, kb + (size_t)t * head_dim, head_dim) * scale;
				sc[j0 + t] = v;
				if (v > mx)
					mx = v;
			}
		}
		float sum = 0;
		for (int j = 0; j < n; j++) {
			sc[j] = expf(sc[j] - mx);
			sum += sc[j];
		}
		float inv = 1.0f / sum, *o = out + ((size_t)r * n_heads + h) * head_dim;
		memset(o, 0, head_dim * sizeof(float));
		for (int j0 = 0; j0 < n; j0 += TTS_KV_BLOCK) {
			const float *vb = V + kv_off(bt[j0 / TTS_KV_BLOCK], kvh, 0, n_kv, head_dim);
			int m = n - j0 < TTS_KV_BLOCK ? n - j0 : TTS_KV_BLOCK;
			for (int t = 0; t < m; t++)
				axpy(o, sc[j0 + t] * inv, vb + (size_t)t * head_dim, head_dim);
		}
	}
}
