/* ops.h — the model ops behind one interface.  The forward pass
 * (kernels/forward.c) is written once as a sequence of calls through a
 * tts_ops table; kernels/cpu implements it in plain float32 C (the
 * reference), kernels/cuda in CUDA C with bf16 weights and cuBLAS.
 *
 * Memory: every float* / int32_t* / void* argument below lives in the
 * backend's address space (host memory for cpu, device memory for cuda),
 * allocated with ops->alloc.  Activations are float32 row-major
 * [rows][width]; "ld" is a row stride in elements where an op reads a
 * slice of a wider row (e.g. the z / xBC / dt parts of in_proj's output).
 * Ops are asynchronous on the backend's stream; ops->sync() waits.
 *
 * Batches are ragged: a step processes n_seqs sequences, sequence s having
 * q_len[s] new tokens (a prompt's prefill, or 1 in decode) at rows
 * [q_start[s], q_start[s]+q_len[s]) of the activations.
 */
#ifndef TTS_OPS_H
#define TTS_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

#define TTS_KV_BLOCK 16          /* tokens per paged-KV block */

typedef struct tts_w tts_w;      /* a weight matrix in the backend's format */

typedef struct {
	int n_seqs, rows;        /* sequences, total new tokens */
	const int32_t *q_start;  /* [n_seqs] */
	const int32_t *q_len;    /* [n_seqs] */
	const int32_t *ctx_len;  /* [n_seqs] tokens in context after this step */
	const int32_t *slot;     /* [n_seqs] Mamba state slot of the sequence */
	const int32_t *block_table; /* [n_seqs][max_blocks] KV block ids */
	int max_blocks;
	const int32_t *pos;      /* [rows] position of each new token */
	const int32_t *kv_slot;  /* [rows] block*TTS_KV_BLOCK + offset to write k, v */
	const int32_t *seq_of_row; /* [rows] which sequence a row belongs to */
	int max_q_len, max_ctx;  /* host-side bounds, for launch shapes */
} tts_batch;

/* Per-row sampling parameters.  The exact algorithm (filters, uniform,
 * draw, logprob) is specified in lib/philox.h so that every backend
 * reproduces it; lib/sample.c is its reference implementation. */
typedef struct {
	float temperature;       /* 0: greedy */
	int top_k;               /* 0: off */
	float top_p;             /* 1: off */
	float min_p;             /* 0: off */
	uint32_t key[2];         /* Philox key: k = seed ^ FNV-1a-64(id);
				    key[0] = low 32 bits of k, key[1] = high 32 */
	uint32_t sample, step;   /* Philox counter words 0, 1 (words 2, 3 = 0) */
} tts_sample_params;

typedef struct tts_ops {
	const char *name;
	/* 1: the forward packs q|k|v and gate|up into one matrix each (one GEMM
	 * instead of three or two; weight() must copy the data, since the
	 * packed host copy is freed); 0: separate matrices (the CPU, whose
	 * weight() may keep a pointer to float32 data) */
	int pack;

	/* memory */
	void *(*alloc)(size_t bytes);             /* fatal when short */
	void (*free)(void *p);
	void (*upload)(void *dst, const void *src, size_t bytes);
	void (*download)(void *dst, const void *src, size_t bytes);
	void (*copy)(void *dst, const void *src, size_t bytes);  /* within the backend */
	void (*zero)(void *dst, size_t bytes);
	void (*sync)(void);

	/* weights: a matrix [out, in] in the backend's format; a vector as
	 * float32 in backend memory */
	tts_w *(*weight)(const tts_tensor *t);
	float *(*vec)(const tts_tensor *t);
	void (*weight_free)(tts_w *w);

	/* y[r][o] = sum_i x[r][i] W[o][i]      (rows x in) -> (rows x out) */
	void (*matmul)(float *y, const tts_w *w, const float *x, int rows);
	/* y[r] = emb[ids[r]] */
	void (*embed)(float *y, const tts_w *emb, const int32_t *ids, int rows);
	/* y[r][i] = x[r][i] / sqrt(mean_j x[r][j]^2 + eps) * w[i]   (y may be x) */
	void (*rmsnorm)(float *y, const float *x, const float *w, int rows, int dim, float eps);
	/* h[r][i] += x[r][i], then y = rmsnorm(h) as above (the residual add
	 * and the next norm in one pass; y must not overlap h or x) */
	void (*add_rmsnorm)(float *h, const float *x, float *y, const float *w, int rows, int dim,
			    float eps);
	/* y[i] += x[i] */
	void (*add)(float *y, const float *x, size_t n);
	/* y[i][:] = x[idx[i]][:] for i < n (rows of width dim; idx in backend
	 * memory): picks the last token of each sequence before the LM head.
	 * y and x must not overlap (the forward gathers h into another buffer). */
	void (*gather_rows)(float *y, const float *x, const int32_t *idx, int n, int dim);
	/* y[r][(g*rep + k)*width + d] = x[r][g*width + d]  for g < groups,
	 * k < rep, d < width: GQA-style repeat of x groups (Mamba-1 x before
	 * its conv, checkpoints.md section 7: xsrc(c) = (c/(width*rep))*width + c%width) */
	void (*repeat_groups)(float *y, const float *x, int rows, int groups, int width, int rep);
	/* y[r][i] += b[i] */
	void (*add_bias)(float *y, const float *b, int rows, int dim);
	/* y[r][i] = silu(g[r][i]) * u[r][i]; y may be g */
	void (*swiglu)(float *y, const float *g, const float *u, int rows, int dim);
	/* y[r][i] = silu(gu[r][i]) * gu[r][dim + i]: SwiGLU of the packed
	 * [gate | up] projection (y must not overlap gu) */
	void (*swiglu_gu)(float *y, const float *gu, int rows, int dim);
	/* q[r], k[r], v[r] = the three parts of the packed row qkv[r] (widths
	 * n_heads*head_dim, n_kv*head_dim, n_kv*head_dim), then rope as below
	 * on q and k (none when inv_freq is NULL); outputs dense */
	void (*split_rope)(float *q, float *k, float *v, const float *qkv, const int32_t *pos,
			   int rows, int n_heads, int n_kv, int head_dim, int rot_dim,
			   const float *inv_freq);
	/* optional (NULL: split_rope, then kv_write): split_rope's q, its k
	 * and v written straight into the KV cache at b->kv_slot (no dense k
	 * and v) */
	void (*split_rope_kv)(float *q, void *kc, void *vc, const float *qkv, const tts_batch *b,
			      int n_heads, int n_kv, int head_dim, int rot_dim,
			      const float *inv_freq);
	/* rotate-half RoPE on the first rot_dim dims of each head, pairs
	 * (i, i + rot_dim/2), angle pos[r] * inv_freq[i] */
	void (*rope)(float *x, const int32_t *pos, int rows, int heads, int head_dim,
		     int rot_dim, const float *inv_freq);

	/* paged KV cache of one attention layer: kc, vc are
	 * [n_blocks][n_kv][TTS_KV_BLOCK][head_dim] in the backend's KV type */
	void *(*kv_alloc)(int n_blocks, int n_kv, int head_dim);
	void (*kv_write)(void *kc, void *vc, const float *k, const float *v,
			 const tts_batch *b, int n_kv, int head_dim);
	/* copy block src to block dst (copy-on-write of a shared partial block) */
	void (*kv_copy_block)(void *kc, void *vc, int dst, int src, int n_kv, int head_dim);
	/* causal GQA attention of each sequence's new queries over its
	 * context: out[r][h*hd + d]; query head h reads kv head h / (Hq/Hkv);
	 * query at position p sees keys 0..p; scale 1/sqrt(head_dim) */
	void (*attention)(float *out, const float *q, const void *kc, const void *vc,
			  const tts_batch *b, int n_heads, int n_kv, int head_dim);

	/* causal depthwise conv1d + SiLU over `channels` channels of x (row
	 * stride ldx), continuing each sequence from its conv state
	 * state[slot][channels][K-1] (the last K-1 inputs, oldest first), which
	 * it updates.  y is [rows][channels]. */
	void (*conv1d)(float *y, const float *x, int ldx, void *state, const float *w,
		       const float *bias, const tts_batch *b, int channels, int K);
	/* Mamba2 SSD recurrence for each sequence over its new tokens,
	 * continuing from ssm state[slot][H][P][N] (float32 or bf16: the
	 * backend's choice) and updating it.  xbc is the conv output (x, B, C
	 * as in model.h), dt_raw a slice with row stride lddt.  y [rows][H*P]:
	 * y = C·S + D*x with S = exp(dt*A) S + dt x B^T,
	 * dt = clamp(softplus(dt_raw + dt_bias), dt_min, dt_max), A = -exp(A_log). */
	void (*ssd)(float *y, const float *xbc, const float *dt_raw, int lddt, void *state,
		    const float *dt_bias, const float *A_log, const float *D,
		    const tts_model *m, const tts_batch *b);
	/* y[r][i] = v / rms_group(v) * w[i], v = x[r][i] * silu(z[r][i])
	 * (z row stride ldz), RMS over consecutive groups of `group` channels */
	void (*gated_rmsnorm)(float *y, const float *x, const float *z, int ldz,
			      const float *w, int rows, int dim, int group, float eps);
	/* Mamba-1 selective scan (MambaInLlama), see checkpoints.md section 7:
	 * u [rows][E] conv output, dt [rows][E] pre-softplus (bias already
	 * added once; dt_b is added again inside), Bx [rows][d_xb], Cx [rows][E],
	 * z [rows][E]; state[slot][E][N]; y [rows][E] = (C·S + D u) * silu(z) */
	void (*m1_scan)(float *y, const float *u, const float *dt, const float *dt_b,
			const float *Bx, const float *Cx, const float *z, void *state,
			const float *A_log, const float *D, const tts_model *m, const tts_batch *b);
	/* state slots: bytes per slot for the conv and SSM states of one layer */
	void *(*state_alloc)(int n_slots, size_t floats_per_slot);
	void (*state_copy)(void *state, int dst, int src, size_t floats_per_slot);
	void (*state_zero)(void *state, int slot, size_t floats_per_slot);

	/* sample one token per row of logits [rows][vocab] with p[r]; writes
	 * the token and its log-probability under the full softmax at
	 * temperature 1 of the unmodified logits (see DESIGN: logprob).
	 * Algorithm: lib/philox.h; the CPU op calls tts_sample_row. */
	void (*sample)(int32_t *tok, float *logprob, const float *logits,
		       const tts_sample_params *p, int rows, int vocab);

	/* bytes of backend memory free now, for sizing the KV cache and the
	 * state slots (NULL: unknown, e.g. the CPU backend) */
	size_t (*mem_free)(void);

	/* Optional (NULL: none, as on the CPU): record fn(ctx) — ops on
	 * buffers and with launch shapes that stay the same from call to call —
	 * as a graph, to replay at the cost of one launch.  graph_capture
	 * returns NULL when graphs are off; graph_launch runs the graph and
	 * returns 1, or returns 0 and runs nothing when it went stale (a
	 * scratch buffer of the backend moved since): record it again. */
	void *(*graph_capture)(void (*fn)(void *), void *ctx);
	int (*graph_launch)(void *g);
	void (*graph_free)(void *g);
} tts_ops;

extern const tts_ops tts_cpu_ops;
/* NULL with a message in err when the CUDA backend is not built or no
 * device is present. */
const tts_ops *tts_cuda_ops(int device, char *err, size_t errlen);

#endif
