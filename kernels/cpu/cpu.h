/* cpu.h — internals shared by the files of the CPU backend. */
#ifndef TTS_CPU_H
#define TTS_CPU_H

#include <math.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "ops.h"

struct tts_w {
	int out, in;
	float *d;               /* [out][in] */
	int owned;              /* d was allocated (else it points into a mapping) */
};

typedef float v8f __attribute__((vector_size(32)));

/* Dot product with a fixed summation order (8 lanes, then a fixed tree,
 * then the tail), so that a row's result never depends on which other
 * rows are in the batch or on the thread that computes it. */
static inline float
cpu_dot(const float *a, const float *b, int n)
{
	v8f acc = { 0 };
	int i = 0;
	for (; i + 8 <= n; i += 8) {
		v8f x, y;
		memcpy(&x, a + i, sizeof x);
		memcpy(&y, b + i, sizeof y);
		acc += x * y;
	}
	float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
	for (; i < n; i++)
		s += a[i] * b[i];
	return s;
}

static inline float
silu(float x)
{
	return x / (1.0f + expf(-x));
}

/* softplus as in the reference kernels: identity above 20 */
static inline float
softplus(float x)
{
	return x > 20.0f ? x : log1pf(expf(x));
}

/* grow *buf to at least n floats (not thread-safe: call outside parallel regions) */
float *cpu_scratch(float **buf, size_t *cap, size_t n);

void cpu_rope(float *x, const int32_t *pos, int rows, int heads, int head_dim,
	      int rot_dim, const float *inv_freq);
void *cpu_kv_alloc(int n_blocks, int n_kv, int head_dim);
void cpu_kv_write(void *kc, void *vc, const float *k, const float *v,
		  const tts_batch *b, int n_kv, int head_dim);
void cpu_kv_copy_block(void *kc, void *vc, int dst, int src, int n_kv, int head_dim);
void cpu_attention(float *out, const float *q, const void *kc, const void *vc,
		   const tts_batch *b, int n_heads, int n_kv, int head_dim);

void cpu_conv1d(float *y, const float *x, int ldx, void *state, const float *w,
		const float *bias, const tts_batch *b, int channels, int K);
void cpu_ssd(float *y, const float *xbc, const float *dt_raw, int lddt, void *state,
	     const float *dt_bias, const float *A_log, const float *D,
	     const tts_model *m, const tts_batch *b);
void cpu_gated_rmsnorm(float *y, const float *x, const float *z, int ldz,
		       const float *w, int rows, int dim, int group, float eps);
void cpu_m1_scan(float *y, const float *u, const float *dt, const float *dt_b,
		 const float *Bx, const float *Cx, const float *z, void *state,
		 const float *A_log, const float *D, const tts_model *m, const tts_batch *b);

#endif
